/**
 * Triage turns a person's verdict on a diff group into a comparison rule:
 * an accepted (intended change) or ignored (not worth fixing) group silences
 * its route, endpoint, path and kind in future comparisons until it expires.
 * The store keeps the decision but has no clock, so expiry is applied here.
 */
import { z } from 'zod';
import { tryParseDuration } from '../../core/duration.ts';
import { CutoverError, ErrorCodes } from '../../core/errors.ts';
import type { DiffGroupRow, DiffGroupStatus, Store } from '../../storage/store.ts';
import type { SilenceRule } from './comparer-protocol.ts';

export const triageBody = z
  .object({
    status: z.enum(['accepted', 'ignored', 'open']),
    reason: z.string().trim().max(2000).optional(),
    expiresIn: z
      .string()
      .optional()
      .meta({ description: 'How long the decision holds, e.g. 7d or 12h; omit for no expiry.' }),
  })
  .strict();

export type TriageInput = z.output<typeof triageBody>;

/** A group as the API shows it: an expired accept/ignore is `open` again. */
export interface EffectiveGroup extends DiffGroupRow {
  /** True while this group silences its path in new comparisons. */
  silenced: boolean;
  expired?: boolean;
}

/**
 * @example effectiveGroup(row, Date.now()).status // 'open' once row.triage.expiresAt has passed
 */
export function effectiveGroup(row: DiffGroupRow, now: number): EffectiveGroup {
  const t = row.triage;
  const triaged = row.status === 'accepted' || row.status === 'ignored';
  if (triaged && t?.expiresAt !== undefined && t.expiresAt <= now) {
    return { ...row, status: 'open', silenced: false, expired: true };
  }
  return { ...row, silenced: triaged };
}

/** Validates the parts zod cannot: a reason for silencing decisions and a readable expiry. */
export function checkTriage(input: TriageInput, now: number): { status: DiffGroupStatus; reason: string; expiresAt?: number } {
  const reason = input.reason ?? '';
  if (input.status !== 'open' && reason === '') {
    throw new CutoverError(ErrorCodes.BAD_REQUEST, `a reason is required to mark a group ${input.status}`, {
      hint: '{"status": "accepted", "reason": "prices are rounded on purpose in v2", "expiresIn": "7d"}',
    });
  }
  if (input.expiresIn === undefined) return { status: input.status, reason };
  if (input.status === 'open') {
    throw new CutoverError(ErrorCodes.BAD_REQUEST, 'expiresIn applies to accepted or ignored groups only', { hint: 'drop expiresIn when reopening a group' });
  }
  const ms = tryParseDuration(input.expiresIn);
  if (ms === undefined || ms <= 0) {
    throw new CutoverError(ErrorCodes.BAD_REQUEST, `expiresIn "${input.expiresIn}" is not a duration`, { hint: 'write e.g. 12h, 7d or 30m' });
  }
  return { status: input.status, reason, expiresAt: now + ms };
}

/** The silences every triaged, unexpired group imposes. */
export async function loadSilences(store: Store, now: number): Promise<SilenceRule[]> {
  const rows = [...(await store.listDiffGroups({ status: 'accepted' })), ...(await store.listDiffGroups({ status: 'ignored' }))];
  const out: SilenceRule[] = [];
  for (const row of rows) {
    const g = effectiveGroup(row, now);
    if (!g.silenced) continue;
    const rule: SilenceRule = { route: row.route, endpoint: row.endpoint, path: row.path, kind: row.kind, status: row.status as 'accepted' | 'ignored' };
    if (row.triage?.expiresAt !== undefined) rule.expiresAt = row.triage.expiresAt;
    out.push(rule);
  }
  return out;
}
