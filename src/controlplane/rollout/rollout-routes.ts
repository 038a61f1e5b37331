/**
 * Admin API for rollouts and the audit ledger:
 * `/api/v1/rollouts[/{key}[/start|pause|resume|promote|abort|step]]` and `/api/v1/audit`.
 */
import { z } from 'zod';
import { parseDuration } from '../../core/duration.ts';
import { CutoverError, ErrorCodes } from '../../core/errors.ts';
import type { Store } from '../../storage/store.ts';
import type { AdminRoute } from '../admin/admin-router.ts';
import type { ManualAction, RolloutDriver } from './rollout-driver.ts';

const noteField = z.string().max(500).optional();

export const actionBody = z.object({ note: noteField }).strict().optional();
export const startBody = z
  .object({ fromStep: z.number().int().nonnegative().optional().meta({ description: '0-based step to start at (default 0).' }), note: noteField })
  .strict()
  .optional();
export const stepBody = z.object({ step: z.number().int().nonnegative().meta({ description: '0-based step index.' }), note: noteField }).strict();

const MAX_AUDIT = 10_000;

/**
 * `since`/`until` as a duration back from now (`1h`, `30m`), epoch ms, or an ISO date.
 *
 * @example parseTimeParam('since', '1h', now) // now - 3_600_000
 */
export function parseTimeParam(name: string, value: string | null, now: number): number | undefined {
  if (value === null || value === '') return undefined;
  if (/^\d{12,}$/.test(value)) return Number(value);
  if (/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(value)) return now - parseDuration(value);
  const parsed = Date.parse(value);
  if (Number.isFinite(parsed)) return parsed;
  throw new CutoverError(ErrorCodes.BAD_REQUEST, `${name}=${value} is not a time`, { hint: `use a duration back from now (1h, 30m), epoch milliseconds, or an ISO date` });
}

function parseLimit(value: string | null): number {
  if (value === null || value === '') return 100;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_AUDIT) {
    throw new CutoverError(ErrorCodes.BAD_REQUEST, `limit=${value} is not a whole number from 1 to ${MAX_AUDIT}`, { hint: 'e.g. limit=50' });
  }
  return n;
}

/**
 * @example
 * const routes = createRolloutRoutes(driver, store);
 * // POST /api/v1/rollouts/wallet/pause {"note":"checking a report"}
 */
export function createRolloutRoutes(driver: RolloutDriver, store: Store): AdminRoute[] {
  const simple = (action: Exclude<ManualAction, 'start' | 'setStep'>, summary: string): AdminRoute => ({
    method: 'POST',
    path: `/api/v1/rollouts/{key}/${action}`,
    summary,
    tag: 'rollouts',
    body: actionBody,
    handler: async (req) => {
      const body = req.body as z.output<typeof actionBody>;
      return { body: { rollout: await driver.command(req.params.key!, { action, actor: req.actor, note: body?.note }) } };
    },
  });
  return [
    {
      method: 'GET',
      path: '/api/v1/rollouts',
      summary: 'Every rollout: status, current step, last evaluation with gate numbers',
      tag: 'rollouts',
      handler: () => ({ body: { rollouts: driver.list() } }),
    },
    {
      method: 'GET',
      path: '/api/v1/rollouts/{key}',
      summary: 'One rollout with its plan and last evaluation',
      tag: 'rollouts',
      handler: (req) => ({ body: { rollout: driver.get(req.params.key!), plan: driver.state(req.params.key!).plan } }),
    },
    {
      method: 'POST',
      path: '/api/v1/rollouts/{key}/start',
      summary: 'Start (or restart) the rollout with the plan from the current config; allowed when idle, rolled back or completed',
      tag: 'rollouts',
      body: startBody,
      handler: async (req) => {
        const body = req.body as z.output<typeof startBody>;
        return { body: { rollout: await driver.command(req.params.key!, { action: 'start', actor: req.actor, note: body?.note, step: body?.fromStep }) } };
      },
    },
    simple('pause', 'Freeze at the current step; traffic stays as it is'),
    simple('resume', 'Run a paused rollout again at the same step (its clock restarts)'),
    simple('promote', 'Move to the next step now, whatever the gates say'),
    simple('abort', 'Roll the rollout back to legacy now'),
    {
      method: 'PUT',
      path: '/api/v1/rollouts/{key}/step',
      summary: 'Jump a running or paused rollout to a step (0-based)',
      tag: 'rollouts',
      body: stepBody,
      handler: async (req) => {
        const body = req.body as z.output<typeof stepBody>;
        const steps = driver.get(req.params.key!).steps;
        if (body.step >= steps.length) {
          throw new CutoverError(ErrorCodes.BAD_REQUEST, `step ${body.step} is outside the plan`, {
            hint: `steps are 0-based: ${steps.map((s, i) => `${i}=${s}`).join(', ')}`,
          });
        }
        return { body: { rollout: await driver.command(req.params.key!, { action: 'setStep', actor: req.actor, note: body.note, step: body.step }) } };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/audit',
      summary: 'The audit ledger, newest first: rollout transitions with gate evidence, manual routing changes, the kill switch',
      tag: 'rollouts',
      query: {
        subject: 'rollout key, route id, or * for global actions',
        since: 'duration back from now (1h), epoch ms or ISO date',
        until: 'same forms as since',
        limit: `entries, 1-${MAX_AUDIT} (default 100)`,
      },
      handler: async (req) => {
        const now = Date.now();
        const from = parseTimeParam('since', req.query.get('since'), now);
        const to = parseTimeParam('until', req.query.get('until'), now);
        const subject = req.query.get('subject') ?? undefined;
        const entries = await store.listAudit({
          ...(from !== undefined ? { from } : {}),
          ...(to !== undefined ? { to } : {}),
          ...(subject ? { subject } : {}),
          limit: parseLimit(req.query.get('limit')),
        });
        return { body: { entries } };
      },
    },
  ];
}
