/**
 * One measured round against one backend: a closed loop of N connections,
 * each sending its next request as soon as the previous response has been
 * read to the end, so throughput is what the backend sustains at that
 * concurrency and latency is not inflated by a queue in the generator.
 *
 * Latency is request start to last body byte, on responses only (a failed
 * request's duration says how long it took to fail). 5xx responses count as
 * errors and keep their latency, as cutover's telemetry does.
 *
 * The generator also measures itself: process CPU time over the round's wall
 * time, in cores. Near one core, the event loop is the bottleneck and the
 * numbers describe the generator, not the backend.
 */
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { createLatencySketch, recordLatency, type LatencySketch } from '../controlplane/telemetry/latency-sketch.ts';
import type { MixRequest } from './request-mix.ts';

export interface RoundOptions {
  /** A keep-alive pool to the backend's origin, reused across rounds. */
  dispatcher: Dispatcher;
  /** Path prefix of the backend URL ('' for none). */
  basePath: string;
  mix: readonly MixRequest[];
  durationMs: number;
  connections: number;
  /** Where in the mix this round starts, so alternating rounds see the same sequence. */
  startIndex?: number;
}

export interface RoundMeasurement {
  /** Requests that got a response (any status). */
  responses: number;
  /** 5xx responses plus requests that failed without one. */
  errors: number;
  failures: number;
  wallMs: number;
  /** Process CPU time (user + system) over the round. */
  cpuMs: number;
  latency: LatencySketch;
}

/**
 * @example
 * const pool = new Pool('http://127.0.0.1:8001', { connections: 50 });
 * const m = await runRound({ dispatcher: pool, basePath: '', mix, durationMs: 5_000, connections: 50 });
 * m.responses / (m.wallMs / 1000); // requests per second
 */
export async function runRound(o: RoundOptions): Promise<RoundMeasurement> {
  const latency = createLatencySketch();
  let next = o.startIndex ?? 0;
  let responses = 0;
  let errors = 0;
  let failures = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + o.durationMs;

  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const r = o.mix[next++ % o.mix.length]!;
      const start = performance.now();
      try {
        const res = await o.dispatcher.request({ method: r.method as Dispatcher.HttpMethod, path: o.basePath + r.path, headers: r.headers, body: r.body });
        for await (const _chunk of res.body) {
          // Read to the end: the last byte is when the response is complete.
        }
        recordLatency(latency, performance.now() - start);
        responses++;
        if (res.statusCode >= 500) errors++;
      } catch {
        failures++;
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: o.connections }, worker));
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { responses, errors, failures, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, latency };
}
