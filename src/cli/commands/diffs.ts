/**
 * `cutover diffs`, `cutover diffs samples`, `cutover triage` and
 * `cutover noise`: reading and triaging comparison results of a running
 * cutover through its admin API.
 */
import type { Command } from 'commander';
import { CutoverError, ErrorCodes } from '../../core/errors.ts';
import type { AdminCall } from '../admin-client.ts';
import { renderTable } from '../table.ts';

interface GroupBody {
  id: string;
  route: string;
  method: string;
  endpoint: string;
  path: string;
  kind: string;
  count: number;
  compared: number;
  firstSeen: number;
  lastSeen: number;
  status: string;
  silenced: boolean;
  expired?: boolean;
  triage?: { status: string; reason: string; by: string; at: number; expiresAt?: number };
}

interface NoiseBody {
  route: string;
  endpoint: string;
  path: string;
  kind: string;
  status: string;
  evidence: { raw: number; rawTotal: number; noise: number; noiseTotal?: number };
  learnedNow: boolean;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

function rate(count: number, compared: number): string {
  return compared > 0 ? `${((100 * count) / compared).toFixed(1)}%` : '-';
}

/**
 * @example
 * registerDiffsCommands(program, api); // cutover diffs checkout --since 1h --json
 */
export function registerDiffsCommands(program: Command, api: () => AdminCall): void {
  const diffs = program
    .command('diffs')
    .description('Mismatch groups found by shadow comparison (route, endpoint, path, kind, count)')
    .argument('[route]', 'only this route id')
    .option('--since <when>', 'seen in the last 1h / 30m / 7d, or since an ISO time')
    .option('--until <when>', 'seen before this (same forms as --since)')
    .option('--status <status>', 'open | accepted | ignored')
    .option('--noise', 'include groups whose path is learned or confirmed noise')
    .option('--json', 'print JSON: an array of groups')
    .action(async (route: string | undefined, flags: { since?: string; until?: string; status?: string; noise?: boolean; json?: boolean }) => {
      const out = await api()<{ groups: GroupBody[]; hiddenAsNoise: number; held?: number }>(
        'GET',
        `/api/v1/diffs${query({ route, since: flags.since, until: flags.until, status: flags.status, noise: flags.noise ? 'show' : undefined })}`,
      );
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(out.groups, null, 2)}\n`);
        return;
      }
      // Pairs held while noise is learned are not in any group yet; saying so keeps "no mismatches" from reading as "all clear".
      const heldNote = (out.held ?? 0) > 0 ? `${out.held} mismatched pair(s) not reported yet: held until their endpoint's noise is learned (a minute at most)` : '';
      if (out.groups.length === 0) {
        const hidden = out.hiddenAsNoise > 0 ? ` (${out.hiddenAsNoise} noise groups hidden; --noise shows them)` : '';
        const lines = heldNote === '' ? [`no mismatches${hidden}`] : [`no mismatches reported yet${hidden}`, heldNote];
        process.stdout.write(`${lines.join('\n')}\n`);
        return;
      }
      const table = renderTable(
        ['GROUP', 'ROUTE', 'ENDPOINT', 'PATH', 'KIND', 'COUNT', 'COMPARED', 'RATE', 'LAST SEEN', 'STATUS'],
        out.groups.map((g) => [
          g.id,
          g.route,
          `${g.method} ${g.endpoint}`,
          g.path,
          g.kind,
          g.count,
          g.compared,
          rate(g.count, g.compared),
          iso(g.lastSeen),
          g.silenced ? `${g.status}${g.triage?.expiresAt ? ` until ${iso(g.triage.expiresAt)}` : ''}` : g.expired ? 'open (expired)' : g.status,
        ]),
      );
      const footer =
        (out.hiddenAsNoise > 0 ? `\n${out.hiddenAsNoise} noise groups hidden (cutover noise lists the paths; --noise shows them)` : '') + (heldNote === '' ? '' : `\n${heldNote}`);
      process.stdout.write(`${table}${footer}\n`);
    });

  diffs
    .command('samples')
    .description('Redacted samples of one group: the request, both responses, the differences')
    .argument('<group>', 'group id (first column of cutover diffs)')
    .option('--limit <n>', 'at most this many samples', '5')
    .action(async (group: string, flags: { limit: string }) => {
      const out = await api()('GET', `/api/v1/diffs/${encodeURIComponent(group)}/samples${query({ limit: flags.limit })}`);
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    });

  program
    .command('triage')
    .description('Accept or ignore a diff group (it stops counting as a mismatch), or reopen it')
    .argument('<group>', 'group id (first column of cutover diffs)')
    .argument('<decision>', 'accept | ignore | open')
    .option('--reason <text>', 'why; required for accept and ignore')
    .option('--expires <duration>', 'the decision lapses after this, e.g. 7d')
    .option('--json', 'print JSON')
    .action(async (group: string, decision: string, flags: { reason?: string; expires?: string; json?: boolean }) => {
      const status = { accept: 'accepted', accepted: 'accepted', ignore: 'ignored', ignored: 'ignored', open: 'open', reopen: 'open' }[decision];
      if (status === undefined) throw new CutoverError(ErrorCodes.INPUT_INVALID, `"${decision}" is not accept, ignore or open`, { hint: 'cutover triage GROUP accept --reason "rounding changed on purpose" --expires 7d' });
      const out = await api()<{ group: GroupBody }>('POST', `/api/v1/diffs/${encodeURIComponent(group)}/triage`, {
        status,
        ...(flags.reason !== undefined ? { reason: flags.reason } : {}),
        ...(flags.expires !== undefined ? { expiresIn: flags.expires } : {}),
      });
      if (flags.json) process.stdout.write(`${JSON.stringify(out.group, null, 2)}\n`);
      else process.stdout.write(`${out.group.id} ${out.group.route} ${out.group.method} ${out.group.endpoint} ${out.group.path}: ${out.group.status}${out.group.triage?.expiresAt ? ` until ${iso(out.group.triage.expiresAt)}` : ''}\n`);
    });

  const noise = program
    .command('noise')
    .description('Paths where two legacy answers differ (noise), with their evidence')
    .argument('[route]', 'only this route id')
    .option('--json', 'print JSON')
    .action(async (route: string | undefined, flags: { json?: boolean }) => {
      const out = await api()<{ noise: NoiseBody[] }>('GET', `/api/v1/noise${query({ route })}`);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(out.noise, null, 2)}\n`);
        return;
      }
      if (out.noise.length === 0) {
        process.stdout.write('no noise learned yet\n');
        return;
      }
      process.stdout.write(
        `${renderTable(
          ['ROUTE', 'ENDPOINT', 'PATH', 'KIND', 'RAW', 'NOISE', 'STATUS'],
          out.noise.map((n) => [
            n.route,
            n.endpoint,
            n.path,
            n.kind,
            `${n.evidence.raw}/${n.evidence.rawTotal}`,
            n.evidence.noiseTotal === undefined ? String(n.evidence.noise) : `${n.evidence.noise}/${n.evidence.noiseTotal}`,
            n.status,
          ]),
        )}\n`,
      );
    });

  for (const verb of ['confirm', 'reject'] as const) {
    noise
      .command(verb)
      .description(verb === 'confirm' ? 'Always ignore differences at this path' : 'Always report differences at this path')
      .argument('<route>', 'route id')
      .argument('<endpoint>', 'endpoint, e.g. /users/{id}')
      .argument('<path>', 'generalised path, e.g. $.meta.generated_at or headers.x-instance')
      .action(async (route: string, endpoint: string, path: string) => {
        await api()('POST', `/api/v1/noise/${verb}`, { route, endpoint, path });
        process.stdout.write(`${route} ${endpoint} ${path}: ${verb === 'confirm' ? 'confirmed noise' : 'rejected as noise'}\n`);
      });
  }
}
