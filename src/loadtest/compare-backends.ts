/**
 * Drives the same request mix against legacy and candidate in alternating
 * rounds (L C L C …). A machine's speed drifts over a run (thermal limits,
 * other tenants, caches warming); alternating spreads that drift over both
 * backends instead of handing all of it to whichever ran second. Each pair of
 * rounds starts at the same place in the mix, so both backends see the same
 * requests.
 */
import { Pool } from 'undici';
import { CutoverError, ErrorCodes } from '../core/errors.ts';
import type { BenchBackend, BenchRound } from './bench-summary.ts';
import { runRound } from './load-round.ts';
import type { MixRequest } from './request-mix.ts';

export interface BenchOptions {
  legacyUrl: string;
  candidateUrl: string;
  mix: readonly MixRequest[];
  /** Total measured time, split evenly over the rounds. */
  durationMs: number;
  /** Even, at least 2: half per backend. */
  rounds: number;
  connections: number;
  /** Unmeasured traffic per backend before the first round: opens the connections and warms both sides. */
  warmupMs: number;
  /** Called after each measured round (progress output). */
  onRound?: (round: BenchRound) => void;
}

function target(url: string, flag: string): { origin: string; basePath: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CutoverError(ErrorCodes.INPUT_INVALID, `${flag} "${url}" is not a URL`, { hint: `e.g. ${flag} http://127.0.0.1:8001` });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new CutoverError(ErrorCodes.INPUT_INVALID, `${flag} "${url}" is not http:// or https://`, { hint: `e.g. ${flag} http://127.0.0.1:8001` });
  return { origin: u.origin, basePath: u.pathname.replace(/\/+$/, '') };
}

/**
 * @example
 * const rounds = await runBench({ legacyUrl, candidateUrl, mix: singleRequestMix('/products'), durationMs: 30_000, rounds: 6, connections: 50, warmupMs: 1_000 });
 * const summary = summarizeBench(rounds, { cpuThreshold: 0.9 });
 */
export async function runBench(o: BenchOptions): Promise<BenchRound[]> {
  if (!Number.isInteger(o.rounds) || o.rounds < 2 || o.rounds % 2 !== 0) {
    throw new CutoverError(ErrorCodes.INPUT_INVALID, `--rounds ${o.rounds} must be an even number, 2 or more`, { hint: 'rounds alternate legacy and candidate: --rounds 6' });
  }
  const targets = { legacy: target(o.legacyUrl, '--legacy'), candidate: target(o.candidateUrl, '--candidate') };
  const pools = {
    legacy: new Pool(targets.legacy.origin, { connections: o.connections, keepAliveTimeout: 60_000 }),
    candidate: new Pool(targets.candidate.origin, { connections: o.connections, keepAliveTimeout: 60_000 }),
  };
  const round = (backend: BenchBackend, durationMs: number, startIndex: number) =>
    runRound({ dispatcher: pools[backend], basePath: targets[backend].basePath, mix: o.mix, durationMs, connections: o.connections, startIndex });
  try {
    if (o.warmupMs > 0) {
      await round('legacy', o.warmupMs, 0);
      await round('candidate', o.warmupMs, 0);
    }
    const roundMs = o.durationMs / o.rounds;
    const out: BenchRound[] = [];
    let offset = 0;
    for (let index = 0; index < o.rounds; index++) {
      const backend: BenchBackend = index % 2 === 0 ? 'legacy' : 'candidate';
      const m = await round(backend, roundMs, offset);
      const r: BenchRound = { ...m, index, backend };
      out.push(r);
      o.onRound?.(r);
      if (backend === 'candidate') offset += m.responses + m.failures;
    }
    return out;
  } finally {
    await Promise.all([pools.legacy.close(), pools.candidate.close()]);
  }
}
