/**
 * Shared pieces of the rollout integration tests: real legacy and candidate
 * servers with tunable latency, errors and bodies, a cutover started in
 * process with a real sqlite store and the default features (telemetry added
 * in front when it is not registered there yet), and a bounded load generator.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Pool } from 'undici';
import { validateConfig } from '../../../src/config/load.ts';
import type { CutoverConfigInput } from '../../../src/config/schema.ts';
import type { FeatureFactory } from '../../../src/controlplane/feature.ts';
import { defaultFeatures } from '../../../src/controlplane/features.ts';
import type { RolloutDriver, RolloutView } from '../../../src/controlplane/rollout/index.ts';
import { startCutover, type CutoverRuntime } from '../../../src/controlplane/runtime.ts';
import { createTelemetryFeature } from '../../../src/controlplane/telemetry/index.ts';
import type { AuditEntry } from '../../../src/storage/store.ts';

export interface BackendBehaviour {
  /** Added before answering, ms. */
  delayMs?: number;
  /** Answer 500 to every n-th request (20 → 5%). */
  failEvery?: number;
  /** Body for a path, instead of the default `{ ok: true, path }`. */
  body?: (path: string) => unknown;
}

export interface TestBackend {
  name: string;
  url: string;
  requests: number;
  close(): Promise<void>;
}

export async function startTestBackend(name: string, behaviour: BackendBehaviour = {}): Promise<TestBackend> {
  const backend: TestBackend = { name, url: '', requests: 0, close: async () => {} };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const n = ++backend.requests;
      const answer = () => {
        const path = (req.url ?? '/').split('?')[0]!;
        const failed = behaviour.failEvery !== undefined && n % behaviour.failEvery === 0;
        const body = JSON.stringify(failed ? { error: 'injected' } : (behaviour.body?.(path) ?? { ok: true, path }));
        res.writeHead(failed ? 500 : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-served-by': name });
        res.end(body);
      };
      if (behaviour.delayMs) setTimeout(answer, behaviour.delayMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  backend.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  backend.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return backend;
}

/** Telemetry feeds the gates; it goes first when the default list does not have it yet. */
export const rolloutFeatures: FeatureFactory[] = defaultFeatures.includes(createTelemetryFeature) ? defaultFeatures : [createTelemetryFeature, ...defaultFeatures];

export interface Harness {
  runtime: CutoverRuntime;
  rollouts: RolloutDriver;
  proxyUrl: string;
  adminUrl: string;
  dataDir: string;
  close(): Promise<void>;
}

const tempRoot = mkdtempSync(join(tmpdir(), 'cutover-rollout-'));
process.on('exit', () => rmSync(tempRoot, { recursive: true, force: true }));
let runs = 0;

export function freshDataDir(): string {
  return join(tempRoot, `run-${++runs}`);
}

export async function startHarness(config: Record<string, unknown>, options: { dataDir?: string; features?: FeatureFactory[] } = {}): Promise<Harness> {
  const dataDir = options.dataDir ?? freshDataDir();
  const cfg = validateConfig({ listen: '127.0.0.1:0', admin: { listen: '127.0.0.1:0' }, ...config, dataDir } as CutoverConfigInput);
  const runtime = await startCutover({ config: cfg, features: options.features ?? rolloutFeatures, logger: pino({ level: process.env.CUTOVER_TEST_LOG ?? 'silent' }) });
  const rollouts = runtime.feature<RolloutDriver>('rollout');
  if (rollouts === undefined) throw new Error('the rollout feature is not running');
  return {
    runtime,
    rollouts,
    proxyUrl: `http://127.0.0.1:${runtime.proxyAddress.port}`,
    adminUrl: `http://127.0.0.1:${runtime.adminAddress.port}`,
    dataDir,
    close: async () => {
      await runtime.close();
    },
  };
}

export interface LoadResult {
  sent: number;
  byBackend: Record<string, number>;
  statuses: Record<number, number>;
}

export interface Load {
  /** Resolves when the load has stopped (duration over or stop() called). */
  done: Promise<LoadResult>;
  stop(): void;
}

/**
 * Bounded load: `concurrency` loops of GETs over `paths`, until `durationMs`
 * passes or stop(); `ratePerLoop` caps each loop's requests per second.
 */
export function generateLoad(
  baseUrl: string,
  options: { concurrency: number; durationMs: number; paths: string[]; ratePerLoop?: number; headers?: () => Record<string, string> },
): Load {
  const pool = new Pool(baseUrl, { connections: options.concurrency, keepAliveTimeout: 10_000 });
  let stopped = false;
  const until = Date.now() + options.durationMs;
  const result: LoadResult = { sent: 0, byBackend: {}, statuses: {} };
  const loop = async (i: number) => {
    let n = i;
    while (!stopped && Date.now() < until) {
      const t0 = Date.now();
      const path = options.paths[n++ % options.paths.length]!;
      try {
        const res = await pool.request({ method: 'GET', path, headers: options.headers?.() ?? {} });
        await res.body.dump();
        result.sent++;
        result.statuses[res.statusCode] = (result.statuses[res.statusCode] ?? 0) + 1;
        const by = String(res.headers['x-served-by'] ?? 'none');
        result.byBackend[by] = (result.byBackend[by] ?? 0) + 1;
      } catch {
        result.statuses[0] = (result.statuses[0] ?? 0) + 1;
      }
      if (options.ratePerLoop) {
        const wait = 1000 / options.ratePerLoop - (Date.now() - t0);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }
  };
  const done = Promise.all(Array.from({ length: options.concurrency }, (_, i) => loop(i))).then(async () => {
    await pool.close();
    return result;
  });
  return {
    done,
    stop: () => {
      stopped = true;
    },
  };
}

/** Polls until `pred` holds for the rollout view, or fails with the last view. */
export async function waitForRollout(rollouts: RolloutDriver, key: string, pred: (v: RolloutView) => boolean, timeoutMs: number): Promise<RolloutView> {
  const deadline = Date.now() + timeoutMs;
  let last = rollouts.get(key);
  while (Date.now() < deadline) {
    last = rollouts.get(key);
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`rollout ${key} did not reach the expected state in ${timeoutMs} ms; last: ${JSON.stringify(last, null, 2)}`);
}

export async function auditOf(runtime: CutoverRuntime, subject: string): Promise<AuditEntry[]> {
  return (await runtime.store.listAudit({ subject })).reverse();
}

/** Plan defaults for fast tests: evaluate every 300 ms over the whole step. */
export const FAST_PLAN = { interval: '300ms', window: '1m', failureThreshold: 2 };

/** Audit entries are written right after the state changes; poll for the one a test expects. */
export async function waitForAudit(runtime: CutoverRuntime, subject: string, action: string, timeoutMs = 5_000): Promise<AuditEntry[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const entries = await auditOf(runtime, subject);
    if (entries.some((e) => e.action === action)) return entries;
    if (Date.now() > deadline) throw new Error(`no ${action} entry for ${subject}; have ${entries.map((e) => e.action).join(', ')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
