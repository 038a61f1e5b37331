/**
 * Backend health for `cutover status`: an active probe per backend (HTTP GET
 * of `health.path`, or a TCP connect) plus what real traffic shows (the last
 * upstream failure and the run of consecutive failures).
 */
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { request } from 'undici';
import type { BackendConfig, BackendName, CutoverConfig } from '../config/schema.ts';
import { channels, type ExchangeEvent } from '../dataplane/events.ts';

export interface BackendHealth {
  name: BackendName;
  url: string;
  healthy: boolean | undefined;
  lastProbeAt: number | undefined;
  probeLatencyMs: number | undefined;
  lastProbeError: string | undefined;
  /** From live traffic. */
  lastFailure: { at: number; cause: string } | undefined;
  consecutiveFailures: number;
}

export interface BackendHealthMonitor {
  snapshot(): BackendHealth[];
  reconfigure(config: CutoverConfig): void;
  close(): void;
}

async function probe(backend: BackendConfig): Promise<void> {
  const url = new URL(backend.url);
  const timeout = backend.health.timeout;
  if (backend.health.path !== undefined) {
    const base = url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '');
    const res = await request(`${url.origin}${base}${backend.health.path}`, {
      method: 'GET',
      headers: backend.headers,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    await res.body.dump();
    if (res.statusCode >= 500) throw new Error(`health check answered ${res.statusCode}`);
    return;
  }
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  await new Promise<void>((resolve, reject) => {
    const socket = url.protocol === 'https:' ? tlsConnect({ host: url.hostname, port, servername: url.hostname, rejectUnauthorized: false }) : connect({ host: url.hostname, port });
    const timer = setTimeout(() => socket.destroy(new Error(`no connection within ${timeout} ms`)), timeout);
    socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.end();
      resolve();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export function createBackendHealthMonitor(initial: CutoverConfig): BackendHealthMonitor {
  const states = new Map<BackendName, BackendHealth>();
  const timers: NodeJS.Timeout[] = [];

  const start = (config: CutoverConfig) => {
    for (const t of timers.splice(0)) clearInterval(t);
    const seen = new Set<BackendName>();
    for (const [name, backend] of Object.entries(config.backends) as Array<[BackendName, BackendConfig | undefined]>) {
      if (!backend) continue;
      seen.add(name);
      const prev = states.get(name);
      const state: BackendHealth =
        prev && prev.url === backend.url
          ? prev
          : { name, url: backend.url, healthy: undefined, lastProbeAt: undefined, probeLatencyMs: undefined, lastProbeError: undefined, lastFailure: undefined, consecutiveFailures: 0 };
      states.set(name, state);
      const run = async () => {
        const t0 = performance.now();
        try {
          await probe(backend);
          state.healthy = true;
          state.lastProbeError = undefined;
        } catch (err) {
          state.healthy = false;
          state.lastProbeError = (err as Error).message;
        }
        state.lastProbeAt = Date.now();
        state.probeLatencyMs = Math.round((performance.now() - t0) * 100) / 100;
      };
      void run();
      const timer = setInterval(() => void run(), backend.health.interval);
      timer.unref();
      timers.push(timer);
    }
    for (const name of [...states.keys()]) if (!seen.has(name)) states.delete(name);
  };

  const onExchange = (message: unknown) => {
    const e = message as ExchangeEvent;
    const state = states.get(e.backend);
    if (!state || e.clientAborted) return;
    if (e.failure !== undefined) {
      state.consecutiveFailures++;
      state.lastFailure = { at: Date.now(), cause: e.failure };
    } else state.consecutiveFailures = 0;
  };
  // Passive health rides on the exchange events telemetry already asks for; with telemetry off they are never built.
  const passive = initial.telemetry.enabled;
  if (passive) channels.exchange.subscribe(onExchange);
  start(initial);

  return {
    snapshot: () => [...states.values()].map((s) => ({ ...s })),
    reconfigure: start,
    close() {
      for (const t of timers.splice(0)) clearInterval(t);
      if (passive) channels.exchange.unsubscribe(onExchange);
    },
  };
}
