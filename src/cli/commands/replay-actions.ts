/**
 * What `cutover replay` and `cutover import` do, loaded only when one of
 * them runs: the replay engine pulls in undici, the comparer and the store.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import pino from 'pino';
import { CutoverError, ErrorCodes } from '../../core/errors.ts';
import { createBackendClient } from '../../replay/backend-client.ts';
import { importHar, type ImportResult } from '../../replay/har-import.ts';
import { importNginx } from '../../replay/nginx-import.ts';
import { createProgressReporter } from '../../replay/replay-progress.ts';
import { runReplay } from '../../replay/replay-runner.ts';
import { loadScenarios, runScenarios } from '../../replay/scenarios.ts';
import { formatTrafficLine } from '../../replay/traffic-format.ts';
import { checkReadable, countLines, readTraffic } from '../../replay/traffic-reader.ts';
import { renderTable } from '../table.ts';
import { configFromFlags } from '../run-config.ts';

export interface ReplayFlags {
  legacy?: string;
  candidate?: string;
  replica?: string;
  config?: string;
  concurrency: string;
  rate?: string;
  dataDir?: string;
  json?: boolean;
}

/** Bad lines printed one by one before the rest are only counted. */
const BAD_LINES_SHOWN = 20;

function positiveNumber(name: string, text: string): number {
  const n = Number(text.replace(/\/s$/, ''));
  if (!Number.isFinite(n) || n <= 0) throw new CutoverError(ErrorCodes.INPUT_INVALID, `--${name} "${text}" is not a positive number`, { hint: name === 'rate' ? 'e.g. --rate 200/s' : 'e.g. --concurrency 64' });
  return n;
}

// configFromFlags words its error for `cutover run`; replay says it in its own terms first.
function replayConfig(flags: ReplayFlags) {
  if (flags.config === undefined && (flags.legacy === undefined || flags.candidate === undefined)) {
    throw new CutoverError(ErrorCodes.INPUT_INVALID, 'cutover replay needs --legacy and --candidate (or --config with both backends)', {
      hint: 'cutover replay traffic.ndjson --legacy http://127.0.0.1:8001 --candidate http://127.0.0.1:8002',
    });
  }
  return configFromFlags(flags);
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CutoverError(ErrorCodes.INPUT_INVALID, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function writeRecords(out: string, result: ImportResult): void {
  const text = result.records.map((r) => `${formatTrafficLine(r)}\n`).join('');
  try {
    writeFileSync(out, text);
  } catch (err) {
    throw new CutoverError(ErrorCodes.INPUT_INVALID, `cannot write ${out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function reportSkipped(result: ImportResult, unit: string): void {
  for (const s of result.skipped.slice(0, BAD_LINES_SHOWN)) process.stderr.write(`${unit} ${s.where}: ${s.reason} (skipped)\n`);
  if (result.skipped.length > BAD_LINES_SHOWN) process.stderr.write(`… and ${result.skipped.length - BAD_LINES_SHOWN} more skipped\n`);
}

export async function replayScenarios(file: string, flags: ReplayFlags): Promise<void> {
  const scenarios = loadScenarios(file);
  const config = replayConfig(flags);
  const legacy = createBackendClient('legacy', config.backends.legacy, { connections: 4 });
  const candidate = createBackendClient('candidate', config.backends.candidate, { connections: 4 });
  try {
    const results = await runScenarios(scenarios, { config, legacy, candidate });
    const failed = results.filter((r) => !r.legacy.ok || !r.candidate.ok);
    if (flags.json) process.stdout.write(`${JSON.stringify({ results, failed: failed.length }, null, 2)}\n`);
    else {
      const side = (s: { ok: boolean; status: number }) => `${s.ok ? 'pass' : 'FAIL'} (${s.status || '-'})`;
      const lines = [renderTable(['SCENARIO', 'LEGACY', 'CANDIDATE', 'PARITY'], results.map((r) => [r.name, side(r.legacy), side(r.candidate), r.parity ? 'same' : 'DIFFERENT']))];
      for (const r of results) {
        for (const f of r.legacy.failures) lines.push(`  ${r.name}: legacy: ${f}`);
        for (const f of r.candidate.failures) lines.push(`  ${r.name}: candidate: ${f}`);
        for (const d of r.differences.slice(0, 5)) lines.push(`  ${r.name}: differs at ${d}`);
      }
      lines.push(failed.length === 0 ? `all ${results.length} scenarios passed on both backends` : `${failed.length} of ${results.length} scenarios failed`);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    if (failed.length > 0) throw new CutoverError(ErrorCodes.INPUT_INVALID, `${failed.length} of ${results.length} scenarios failed their expectations`);
  } finally {
    await Promise.all([legacy.close(), candidate.close()]);
  }
}

export async function replayTraffic(files: string[], flags: ReplayFlags): Promise<void> {
  for (const f of files) await checkReadable(f);
  const config = replayConfig(flags);
  const concurrency = positiveNumber('concurrency', flags.concurrency);
  const rate = flags.rate === undefined ? undefined : positiveNumber('rate', flags.rate);
  const total = await countLines(files);
  const logger = pino({ name: 'cutover-replay', level: process.env.CUTOVER_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  // Loaded here: the store pulls in node:sqlite or pg, which import and other commands do not need.
  const { openStore } = await import('../../storage/index.ts');
  const store = await openStore({ kind: config.store.kind, url: config.store.url, dataDir: config.dataDir });
  const progress = createProgressReporter(process.stderr, total);
  let badShown = 0;
  try {
    const summary = await runReplay(readTraffic(files), {
      config,
      store,
      logger,
      concurrency: Math.floor(concurrency),
      ...(rate !== undefined ? { rate } : {}),
      onProgress: (p) => progress.update(p),
      onBadLine: (item) => {
        if (badShown++ < BAD_LINES_SHOWN) process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[K' : ''}${item.file}:${item.line}: ${item.error} (skipped)\n`);
      },
    });
    progress.finish(summary);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      return;
    }
    const reasons = Object.entries(summary.skippedByReason).map(([r, n]) => `${r} ${n}`).join(', ');
    const lines = [
      `replayed ${summary.done} requests in ${(summary.elapsedMs / 1000).toFixed(1)} s (${Math.round(summary.pairsPerSecond)} pairs/s): ${summary.matches} match, ${summary.mismatches} mismatch, ${summary.skipped} skipped${reasons ? ` (${reasons})` : ''}${summary.badLines > 0 ? `, ${summary.badLines} bad lines skipped` : ''}`,
    ];
    if (summary.mismatchesByEndpoint.length > 0) {
      lines.push(renderTable(['ROUTE', 'ENDPOINT', 'MISMATCHES', 'COMPARED'], summary.mismatchesByEndpoint.map((e) => [e.route, `${e.method} ${e.endpoint}`, e.mismatches, e.compared])));
    }
    lines.push(`results are in the store at ${config.store.kind === 'sqlite' ? config.dataDir : 'store.url'}: cutover diffs / cutover report show them`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await store.close();
  }
}

export function importHarFile(file: string, out: string): void {
  const result = importHar(readText(file));
  reportSkipped(result, 'entry');
  writeRecords(out, result);
  process.stdout.write(`imported ${result.records.length} requests to ${out}${result.skipped.length > 0 ? `, ${result.skipped.length} entries skipped` : ''}\n`);
}

export function importNginxFile(file: string, out: string, host: string | undefined): void {
  const result = importNginx(readText(file), host !== undefined ? { host } : {});
  reportSkipped(result, 'line');
  writeRecords(out, result);
  const methods = Object.entries(result.skippedMethods).map(([m, n]) => `${m} ${n}`).join(', ');
  process.stdout.write(
    `imported ${result.records.length} requests to ${out}${methods ? `; skipped (no body in a log): ${methods}` : ''}${result.skipped.length > 0 ? `; ${result.skipped.length} bad lines skipped` : ''}\n`,
  );
}
