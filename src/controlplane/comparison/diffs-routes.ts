/**
 * The admin API over comparison results: diff groups with per-endpoint
 * totals, their samples, triage, and learned noise with its evidence.
 */
import { z } from 'zod';
import { tryParseDuration } from '../../core/duration.ts';
import { CutoverError, ErrorCodes } from '../../core/errors.ts';
import type { DiffGroupStatus, NoiseRow, NoiseStatus, Store } from '../../storage/store.ts';
import type { AdminRoute } from '../admin/admin-router.ts';
import type { LearnedNoiseReport } from './comparer-protocol.ts';
import type { EndpointTotals } from './results-writer.ts';
import { checkTriage, effectiveGroup, triageBody, type TriageInput } from './triage.ts';

export const noiseDecisionBody = z
  .object({
    route: z.string().min(1),
    endpoint: z.string().min(1),
    path: z.string().min(1),
    kind: z.string().min(1).optional().meta({ description: 'Defaults to every kind learned at this path.' }),
  })
  .strict();

export interface DiffsRoutesDeps {
  store: Store;
  totals(): EndpointTotals[];
  /** What the comparer's noise models call noise right now. */
  learnedNoise(): readonly LearnedNoiseReport[];
  /** Mismatched pairs not reported yet: held until their endpoint's noise can be judged. */
  held(): number;
  /** After a triage or noise decision: the comparer must see it at once. */
  changed(): Promise<void>;
  /** Settles pending results so a read right after traffic sees them (tests, `?flush=1`). */
  flush(): Promise<void>;
}

const STATUSES: readonly DiffGroupStatus[] = ['open', 'accepted', 'ignored'];

/**
 * `1h` means one hour ago; an ISO date or epoch milliseconds are taken as they are.
 * @example parseInstant('since', '1h', now) // now - 3_600_000
 */
export function parseInstant(name: string, value: string | null, now: number): number | undefined {
  if (value === null || value === '') return undefined;
  const ago = tryParseDuration(value);
  if (ago !== undefined && !/^\d+$/.test(value.trim())) return now - ago;
  if (/^\d{10,}$/.test(value.trim())) return Number(value);
  const t = Date.parse(value);
  if (Number.isFinite(t)) return t;
  throw new CutoverError(ErrorCodes.BAD_REQUEST, `${name}="${value}" is neither a duration nor a time`, {
    hint: `${name}=1h (one hour ago), ${name}=2026-11-21T10:00:00Z or epoch milliseconds`,
  });
}

function parseLimit(value: string | null, fallback: number, max: number): number {
  if (value === null || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new CutoverError(ErrorCodes.BAD_REQUEST, `limit="${value}" must be a whole number from 1 to ${max}`, { hint: `e.g. limit=${fallback}` });
  }
  return n;
}

const noiseKey = (route: string, endpoint: string, path: string) => `${route}\n${endpoint}\n${path}`;

/**
 * @example
 * const routes = createDiffsRoutes({ store, totals: () => writer.totals(), learnedNoise: () => latest, changed, flush });
 */
export function createDiffsRoutes(deps: DiffsRoutesDeps): AdminRoute[] {
  const { store } = deps;

  // A group is hidden when its path is noise: confirmed by a person, or
  // learned by the model and not rejected. The comparer already drops such
  // differences; this also hides groups recorded before the model knew.
  const noiseFilter = async (): Promise<(route: string, endpoint: string, path: string) => boolean> => {
    const rows = await store.listNoise({});
    const confirmed = new Set<string>();
    const rejected = new Set<string>();
    for (const r of rows) {
      if (r.status === 'confirmed') confirmed.add(noiseKey(r.route, r.endpoint, r.path));
      else if (r.status === 'rejected') rejected.add(noiseKey(r.route, r.endpoint, r.path));
    }
    const learned = new Set(deps.learnedNoise().map((n) => noiseKey(n.route, n.endpoint, n.path)));
    return (route, endpoint, path) => {
      const k = noiseKey(route, endpoint, path);
      return confirmed.has(k) || (learned.has(k) && !rejected.has(k));
    };
  };

  return [
    {
      method: 'GET',
      path: '/api/v1/diffs',
      summary:
        'Mismatch groups (route, method, endpoint, path, kind) with counts, first/last seen, triage and the pairs compared on their endpoint; with since/until, count and compared cover the whole minutes that start inside the window, and total is every occurrence; endpoints lists the running totals of every endpoint (match, mismatch, skipped by reason), never windowed',
      tag: 'comparison',
      query: {
        route: 'only this route id',
        since: 'count minutes starting at or after: 1h (ago), an ISO time or epoch ms',
        until: 'count minutes starting before: same forms as since',
        status: 'open | accepted | ignored (expired decisions count as open)',
        limit: 'at most this many groups (1-10000, default 1000)',
        noise: 'show: include groups whose path is learned or confirmed noise',
        flush: '1: write pending results first',
      },
      handler: async (req) => {
        const now = Date.now();
        const q = req.query;
        const since = parseInstant('since', q.get('since'), now);
        const until = parseInstant('until', q.get('until'), now);
        if (since !== undefined && until !== undefined && since >= until) {
          throw new CutoverError(ErrorCodes.BAD_REQUEST, 'since must be before until', { hint: 'e.g. since=2h&until=1h' });
        }
        const status = q.get('status');
        if (status !== null && !STATUSES.includes(status as DiffGroupStatus)) {
          throw new CutoverError(ErrorCodes.BAD_REQUEST, `status="${status}" is not one of ${STATUSES.join(', ')}`, { hint: 'status=open' });
        }
        const noise = q.get('noise');
        if (noise !== null && noise !== 'show' && noise !== 'hide') {
          throw new CutoverError(ErrorCodes.BAD_REQUEST, `noise="${noise}" must be show or hide`);
        }
        const limit = parseLimit(q.get('limit'), 1000, 10_000);
        const route = q.get('route') ?? undefined;
        if (q.get('flush') === '1') await deps.flush();
        const rows = await store.listDiffGroups({ route, from: since, to: until });
        const isNoise = noise === 'show' ? () => false : await noiseFilter();
        const totals = deps.totals().filter((t) => route === undefined || t.route === route);
        const windowed = since !== undefined || until !== undefined;
        // In a window, a group's `compared` is its endpoint's pairs of the same minutes as its `count`.
        const comparedByEndpoint = new Map<string, number>();
        if (windowed) {
          for (const m of await store.listComparedMinutes({ route, from: since, to: until })) {
            const key = `${m.route}\n${m.method}\n${m.endpoint}`;
            comparedByEndpoint.set(key, (comparedByEndpoint.get(key) ?? 0) + m.match + m.mismatch);
          }
        } else {
          for (const t of totals) comparedByEndpoint.set(`${t.route}\n${t.method}\n${t.endpoint}`, t.compared);
        }
        let hiddenAsNoise = 0;
        const groups = [];
        for (const row of rows) {
          if (isNoise(row.route, row.endpoint, row.path)) {
            hiddenAsNoise += 1;
            continue;
          }
          const g = effectiveGroup(row, now);
          if (status !== null && g.status !== status) continue;
          groups.push({ ...g, compared: comparedByEndpoint.get(`${row.route}\n${row.method}\n${row.endpoint}`) ?? 0 });
          if (groups.length >= limit) break;
        }
        return { body: { groups, endpoints: totals, hiddenAsNoise, held: deps.held() } };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/diffs/{group}/samples',
      summary: 'Redacted samples of one diff group: the request, both responses and the differences',
      tag: 'comparison',
      query: { limit: 'at most this many samples (1-100, default 5)' },
      handler: async (req) => {
        const limit = parseLimit(req.query.get('limit'), 5, 100);
        const id = req.params.group!;
        const group = await store.getDiffGroup(id);
        if (group === undefined) throw new CutoverError(ErrorCodes.NOT_FOUND, `diff group "${id}" does not exist`, { hint: 'list groups with GET /api/v1/diffs or `cutover diffs`' });
        const samples = await store.listDiffSamples(id, limit);
        return { body: { group: effectiveGroup(group, Date.now()), samples } };
      },
    },
    {
      method: 'POST',
      path: '/api/v1/diffs/{group}/triage',
      summary: 'Accept or ignore a diff group (it then silences its path in new comparisons until expiry), or reopen it',
      tag: 'comparison',
      body: triageBody,
      handler: async (req) => {
        const now = Date.now();
        const input = checkTriage(req.body as TriageInput, now);
        const id = req.params.group!;
        const triage = { status: input.status, reason: input.reason, by: req.actor, at: now, ...(input.expiresAt !== undefined ? { expiresAt: input.expiresAt } : {}) };
        const row = await store.triageDiffGroup(id, triage);
        if (row === undefined) throw new CutoverError(ErrorCodes.NOT_FOUND, `diff group "${id}" does not exist`, { hint: 'list groups with GET /api/v1/diffs or `cutover diffs`' });
        await store.appendAudit({ time: now, subject: row.route, action: 'diff-triage', actor: req.actor, to: { group: id, ...triage } });
        await deps.changed();
        return { body: { group: effectiveGroup(row, now) } };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/noise',
      summary: 'Paths where two legacy answers differ (noise), with evidence counts and status learned | confirmed | rejected',
      tag: 'comparison',
      query: { route: 'only this route id', status: 'learned | confirmed | rejected' },
      handler: async (req) => {
        const status = req.query.get('status');
        if (status !== null && !['learned', 'confirmed', 'rejected'].includes(status)) {
          throw new CutoverError(ErrorCodes.BAD_REQUEST, `status="${status}" is not one of learned, confirmed, rejected`);
        }
        const rows = await store.listNoise({ route: req.query.get('route') ?? undefined, status: (status ?? undefined) as NoiseStatus | undefined });
        const current = new Map(deps.learnedNoise().map((n) => [noiseKey(n.route, n.endpoint, n.path), n]));
        const noise = rows.map((r) => {
          const live = current.get(noiseKey(r.route, r.endpoint, r.path));
          return {
            ...r,
            // Evidence: pairs where legacy and candidate differed here, and second legacy answers that differed here.
            evidence: live
              ? { raw: live.raw, rawTotal: live.rawTotal, noise: live.noise, noiseTotal: live.noiseTotal }
              : { raw: r.rawCount, rawTotal: r.total, noise: r.noiseCount, noiseTotal: undefined },
            learnedNow: live !== undefined,
          };
        });
        return { body: { noise } };
      },
    },
    noiseDecisionRoute('confirm', 'confirmed', deps),
    noiseDecisionRoute('reject', 'rejected', deps),
  ];
}

function noiseDecisionRoute(verb: 'confirm' | 'reject', status: NoiseStatus, deps: DiffsRoutesDeps): AdminRoute {
  return {
    method: 'POST',
    path: `/api/v1/noise/${verb}`,
    summary:
      verb === 'confirm'
        ? 'Confirm a noise path: its differences are always ignored on that endpoint'
        : 'Reject a noise path: its differences are always reported on that endpoint, whatever the model learns',
    tag: 'comparison',
    body: noiseDecisionBody,
    handler: async (req) => {
      const body = req.body as z.output<typeof noiseDecisionBody>;
      const { store } = deps;
      const rows = (await store.listNoise({ route: body.route })).filter(
        (r) => r.endpoint === body.endpoint && r.path === body.path && (body.kind === undefined || r.kind === body.kind),
      );
      const now = Date.now();
      if (rows.length === 0) {
        // A person may know a path is noise before the model does.
        const row: NoiseRow = { route: body.route, endpoint: body.endpoint, path: body.path, kind: body.kind ?? 'value', rawCount: 0, noiseCount: 0, total: 0, status, updatedAt: now };
        await store.upsertNoise([row]);
        await store.setNoiseStatus(row.route, row.endpoint, row.path, row.kind, status);
        rows.push(row);
      } else {
        for (const r of rows) await store.setNoiseStatus(r.route, r.endpoint, r.path, r.kind, status);
      }
      await store.appendAudit({ time: now, subject: body.route, action: `noise-${verb}`, actor: req.actor, to: { endpoint: body.endpoint, path: body.path, kind: body.kind } });
      await deps.changed();
      return { body: { noise: rows.map((r) => ({ ...r, status })) } };
    },
  };
}
