/**
 * `cutover record`: start, stop and watch traffic recordings on a running
 * cutover through its admin API. The output path is resolved here, against
 * the directory the command runs in, and written by the cutover process.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CutoverError, ErrorCodes } from '../../core/errors.ts';
import type { RecordingStatus } from '../../controlplane/record/record-feature.ts';
import type { AdminCall } from '../admin-client.ts';
import { renderTable } from '../table.ts';

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function mb(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)}MB` : `${(bytes / 1024).toFixed(1)}KB`;
}

function describe(r: RecordingStatus): string {
  const parts = [`${r.route}: ${r.state}`, `${r.requests} requests`, mb(r.bytes), `→ ${r.files.join(', ')}`];
  if (r.truncatedBodies > 0) parts.push(`${r.truncatedBodies} without body (over the cap)`);
  if (r.dropped > 0) parts.push(`${r.dropped} dropped (disk behind)`);
  if (r.error) parts.push(`error: ${r.error}`);
  return parts.join(', ');
}

/**
 * @example
 * registerRecordCommands(program, api); // cutover record --route checkout --rate 5% --out traffic.ndjson --duration 10m
 */
export function registerRecordCommands(program: Command, api: () => AdminCall): void {
  const record = program
    .command('record')
    .description('Record a route’s live traffic to NDJSON on a running cutover (see also: record stop, record status)')
    .option('--route <route>', 'route id to record')
    .option('--rate <rate>', 'share of requests recorded: 5% or 0.05', '100%')
    .option('--out <file>', 'NDJSON file (rotated files get .1, .2… before the extension)')
    .option('--with-response', 'also record the response the client got')
    .option('--duration <duration>', 'stop by itself after this long, e.g. 10m')
    .option('--max-size <size>', 'rotate after this many bytes per file, e.g. 100MB', '100MB')
    .option('--json', 'print JSON')
    .action(async (flags: { route?: string; rate: string; out?: string; withResponse?: boolean; duration?: string; maxSize: string; json?: boolean }) => {
      if (flags.route === undefined || flags.out === undefined) {
        throw new CutoverError(ErrorCodes.INPUT_INVALID, 'cutover record needs --route and --out', { hint: 'cutover record --route checkout --rate 5% --out traffic.ndjson' });
      }
      // Checked here too so a typo fails before reaching the server, with the same words.
      const { parseRate, parseRecordDuration, parseSize } = await import('../../controlplane/record/record-request.ts');
      parseRate(flags.rate);
      parseSize(flags.maxSize);
      parseRecordDuration(flags.duration);
      const out = await api()<{ recording: RecordingStatus }>('POST', '/api/v1/record', {
        route: flags.route,
        rate: flags.rate,
        out: resolve(flags.out),
        withResponse: flags.withResponse ?? false,
        maxSize: flags.maxSize,
        ...(flags.duration !== undefined ? { duration: flags.duration } : {}),
      });
      const r = out.recording;
      if (flags.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else process.stdout.write(`recording ${r.route} at ${(r.rate * 100).toFixed(2).replace(/\.?0+$/, '')}% to ${r.out}${r.endsAt ? ` until ${iso(r.endsAt)}` : ''}; stop with: cutover record stop ${r.route}\n`);
    });

  record
    .command('stop')
    .description('Stop recording a route and flush its file')
    .argument('<route>', 'route id')
    .option('--json', 'print JSON')
    .action(async (route: string, flags: { json?: boolean }) => {
      const out = await api()<{ recording: RecordingStatus }>('DELETE', `/api/v1/record/${encodeURIComponent(route)}`);
      // `record` has its own --json, which commander hands to the parent whatever its position.
      if (flags.json || record.opts().json) process.stdout.write(`${JSON.stringify(out.recording, null, 2)}\n`);
      else process.stdout.write(`${describe(out.recording)}\n`);
    });

  record
    .command('status')
    .description('Recordings in progress and recently stopped')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const out = await api()<{ recordings: RecordingStatus[] }>('GET', '/api/v1/record');
      if (flags.json || record.opts().json) {
        process.stdout.write(`${JSON.stringify(out.recordings, null, 2)}\n`);
        return;
      }
      if (out.recordings.length === 0) {
        process.stdout.write('no recordings\n');
        return;
      }
      process.stdout.write(
        `${renderTable(
          ['ROUTE', 'STATE', 'RATE', 'REQUESTS', 'BYTES', 'NO BODY', 'DROPPED', 'STARTED', 'FILES'],
          out.recordings.map((r) => [r.route, r.state, `${+(r.rate * 100).toFixed(2)}%`, r.requests, mb(r.bytes), r.truncatedBodies, r.dropped, iso(r.startedAt), r.files.join(' ')]),
        )}\n`,
      );
    });
}
