/**
 * What `cutover bench` does, loaded only when the command runs so the other
 * commands start fast.
 */
import { tryParseDuration } from '../../core/duration.ts';
import { CutoverError, ErrorCodes } from '../../core/errors.ts';
import { summarizeBench, type BenchRound } from '../../loadtest/bench-summary.ts';
import { runBench } from '../../loadtest/compare-backends.ts';
import { renderBench, renderRoundLine } from '../../loadtest/render-bench.ts';
import { readRequestMix, singleRequestMix, type MixRequest } from '../../loadtest/request-mix.ts';

export interface BenchFlags {
  legacy: string;
  candidate: string;
  from?: string;
  path?: string;
  method: string;
  duration: string;
  connections: string;
  rounds: string;
  warmup: string;
  maxGeneratorCpu: string;
  json?: boolean;
}

function bad(message: string, hint: string): CutoverError {
  return new CutoverError(ErrorCodes.INPUT_INVALID, message, { hint });
}

function duration(value: string, flag: string): number {
  const ms = tryParseDuration(value);
  if (ms === undefined) throw bad(`${flag} "${value}" is not a duration`, `e.g. ${flag} 30s`);
  return ms;
}

function integer(value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw bad(`${flag} "${value}" must be an integer from ${min} to ${max}`, `e.g. ${flag} ${min}`);
  return n;
}

export async function runBenchCommand(flags: BenchFlags): Promise<void> {
  if ((flags.from === undefined) === (flags.path === undefined)) throw bad('give exactly one of --from FILE and --path PATH', 'e.g. --path /products or --from traffic.ndjson');
  let mix: MixRequest[];
  if (flags.from !== undefined) {
    const read = readRequestMix(flags.from);
    mix = read.requests;
    if (read.skipped > 0) process.stderr.write(`warning: ${read.skipped} request${read.skipped === 1 ? '' : 's'} in ${flags.from} recorded without their body are left out of the mix\n`);
  } else mix = singleRequestMix(flags.path!, flags.method);
  const durationMs = duration(flags.duration, '--duration');
  const warmupMs = duration(flags.warmup, '--warmup');
  const connections = integer(flags.connections, '--connections', 1, 10_000);
  const rounds = integer(flags.rounds, '--rounds', 2, 1000);
  const cpuThreshold = Number(flags.maxGeneratorCpu);
  if (!(cpuThreshold > 0)) throw bad(`--max-generator-cpu "${flags.maxGeneratorCpu}" must be a positive fraction`, 'e.g. --max-generator-cpu 0.9');
  if (durationMs <= 0) throw bad('--duration must be more than 0', 'e.g. --duration 30s');
  const progress = flags.json ? undefined : (r: BenchRound) => {
    const row = summarizeBench([r], { cpuThreshold }).rounds[0]!;
    process.stderr.write(`${renderRoundLine(row, rounds)}\n`);
  };
  const measured = await runBench({ legacyUrl: flags.legacy, candidateUrl: flags.candidate, mix, durationMs, rounds, connections, warmupMs, ...(progress ? { onRound: progress } : {}) });
  const summary = summarizeBench(measured, { cpuThreshold });
  if (flags.json) process.stdout.write(`${JSON.stringify({ connections, durationMs, requests: mix.length, ...summary }, null, 2)}\n`);
  else process.stdout.write(renderBench(summary, { connections, durationMs, requests: mix.length }));
}
