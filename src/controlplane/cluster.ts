/**
 * `--workers N`: the primary keeps the control plane (store, admin API,
 * features) and forks N data-plane workers that share the listening socket.
 * Routing changes are pushed to every worker and acknowledged before the
 * admin call returns; workers send their events back in small batches, and
 * the primary republishes them on the same channels, so features behave the
 * same whatever the worker count.
 */
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { CutoverConfig } from '../config/schema.ts';
import { deepFreeze } from '../config/load.ts';
import { CutoverError, ErrorCodes } from '../core/errors.ts';
import { channels } from '../dataplane/events.ts';
import type { RecordSettings } from '../dataplane/recording-tap.ts';
import type { RouteState, RoutingSnapshot } from '../dataplane/routing-snapshot.ts';
import { createDataPlane, parseHostPort, type RoutingChangeInput } from '../dataplane/server.ts';
import { createEndpointResolver } from './endpoint-resolver.ts';

export interface DataPlaneHandle {
  listen(address: string): Promise<{ host: string; port: number }>;
  apply(change: RoutingChangeInput): Promise<RoutingSnapshot>;
  snapshot(): RoutingSnapshot;
  load(): { connections: number; shadowActive: number; shadowQueued: number };
  close(timeoutMs: number): Promise<{ drained: boolean }>;
}

type ToWorker =
  | { type: 'init'; config: CutoverConfig; overrides: Array<[string, RouteState]>; killSwitch: boolean; recording: Array<[string, RecordSettings]> }
  | { type: 'listen'; address: string }
  | { type: 'apply'; id: number; config?: CutoverConfig; overrides?: Array<[string, RouteState]>; killSwitch?: boolean; recording?: Array<[string, RecordSettings]> }
  | { type: 'close'; timeoutMs: number };

type FromWorker =
  | { type: 'listening'; port: number }
  | { type: 'listen-error'; message: string }
  | { type: 'applied'; id: number; error?: string }
  | { type: 'events'; batch: Array<[EventKind, unknown]>; load: WorkerLoad }
  | { type: 'closed'; drained: boolean };

type EventKind = 'exchange' | 'comparisonPair' | 'comparisonSkipped' | 'request' | 'recorded' | 'mirrorBreaker';
interface WorkerLoad {
  connections: number;
  shadowActive: number;
  shadowQueued: number;
}

const APPLY_TIMEOUT_MS = 2_000;
const FLUSH_INTERVAL_MS = 50;

export async function createClusterDataPlane(options: {
  config: CutoverConfig;
  overrides: ReadonlyMap<string, RouteState>;
  killSwitch: boolean;
  workers: number;
  logger: Logger;
}): Promise<DataPlaneHandle> {
  const { logger } = options;
  // The primary compiles the same snapshot the workers do, for status and descriptions; it never listens.
  const mirror = createDataPlane({ config: options.config, overrides: options.overrides, killSwitch: options.killSwitch });
  let state: { config: CutoverConfig; overrides: ReadonlyMap<string, RouteState>; killSwitch: boolean; recording: ReadonlyMap<string, RecordSettings> } = {
    config: options.config,
    overrides: options.overrides,
    killSwitch: options.killSwitch,
    recording: new Map(),
  };
  let listenAddress: string | undefined;
  let closing = false;
  let applySeq = 0;
  const loads = new Map<number, WorkerLoad>();
  const pending = new Map<number, { waiting: Set<number>; resolve: () => void }>();

  cluster.setupPrimary({ exec: fileURLToPath(new URL('./cluster-worker-main.ts', import.meta.url)), serialization: 'advanced' });

  const onMessage = (worker: Worker, msg: FromWorker) => {
    if (msg.type === 'events') {
      loads.set(worker.id, msg.load);
      for (const [kind, event] of msg.batch) {
        const ch = channels[kind];
        if (ch.hasSubscribers) ch.publish(event);
      }
    } else if (msg.type === 'applied') {
      if (msg.error !== undefined) logger.error({ worker: worker.id, error: msg.error }, 'a data-plane worker could not apply the routing change and keeps its previous routing');
      const p = pending.get(msg.id);
      if (p) {
        p.waiting.delete(worker.id);
        if (p.waiting.size === 0) p.resolve();
      }
    }
  };

  const send = (worker: Worker, msg: ToWorker) => {
    if (worker.isConnected()) worker.send(msg);
  };

  const fork = (): Worker => {
    const worker = cluster.fork();
    worker.on('message', (msg: FromWorker) => onMessage(worker, msg));
    send(worker, { type: 'init', config: state.config, overrides: [...state.overrides], killSwitch: state.killSwitch, recording: [...state.recording] });
    if (listenAddress !== undefined) send(worker, { type: 'listen', address: listenAddress });
    worker.on('exit', (code, signal) => {
      loads.delete(worker.id);
      for (const p of pending.values()) {
        p.waiting.delete(worker.id);
        if (p.waiting.size === 0) p.resolve();
      }
      if (!closing) {
        logger.error({ worker: worker.id, code, signal }, 'data-plane worker died; starting a new one');
        fork();
      }
    });
    return worker;
  };

  const workers: Worker[] = [];
  for (let i = 0; i < options.workers; i++) workers.push(fork());
  const live = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());

  return {
    async listen(address) {
      listenAddress = address;
      const results = await Promise.all(
        live().map(
          (worker) =>
            new Promise<number>((resolve, reject) => {
              const onMsg = (msg: FromWorker) => {
                if (msg.type === 'listening') {
                  worker.off('message', onMsg);
                  resolve(msg.port);
                } else if (msg.type === 'listen-error') {
                  worker.off('message', onMsg);
                  reject(new CutoverError(ErrorCodes.CONFIG_INVALID, `cannot listen on ${address}: ${msg.message}`, { hint: 'pick a free port with --listen' }));
                }
              };
              worker.on('message', onMsg);
              send(worker, { type: 'listen', address });
            }),
        ),
      );
      return { host: parseHostPort(address).host, port: results[0]! };
    },
    async apply(change) {
      // The primary's copy compiles first: a change it cannot apply throws here and reaches no worker,
      // and a worker started later is never handed it.
      const snapshot = mirror.update(change);
      state = {
        config: change.config ?? state.config,
        overrides: change.overrides ?? state.overrides,
        killSwitch: change.killSwitch ?? state.killSwitch,
        recording: change.recording ?? state.recording,
      };
      const id = ++applySeq;
      const targets = live();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new CutoverError(ErrorCodes.INTERNAL, `a data-plane worker did not confirm the routing change within ${APPLY_TIMEOUT_MS} ms`));
        }, APPLY_TIMEOUT_MS);
        pending.set(id, {
          waiting: new Set(targets.map((w) => w.id)),
          resolve: () => {
            clearTimeout(timer);
            pending.delete(id);
            resolve();
          },
        });
        if (targets.length === 0) pending.get(id)!.resolve();
        const msg: ToWorker = { type: 'apply', id };
        if (change.config) msg.config = change.config;
        if (change.overrides) msg.overrides = [...change.overrides];
        if (change.killSwitch !== undefined) msg.killSwitch = change.killSwitch;
        if (change.recording) msg.recording = [...change.recording];
        for (const w of targets) send(w, msg);
      });
      return snapshot;
    },
    snapshot: () => mirror.snapshot(),
    load() {
      const sum = { connections: 0, shadowActive: 0, shadowQueued: 0 };
      for (const l of loads.values()) {
        sum.connections += l.connections;
        sum.shadowActive += l.shadowActive;
        sum.shadowQueued += l.shadowQueued;
      }
      return sum;
    },
    async close(timeoutMs) {
      closing = true;
      const results = await Promise.all(
        live().map(
          (worker) =>
            new Promise<boolean>((resolve) => {
              let drained = false;
              worker.on('message', (msg: FromWorker) => {
                if (msg.type === 'closed') drained = msg.drained;
              });
              worker.once('exit', () => resolve(drained));
              send(worker, { type: 'close', timeoutMs });
              setTimeout(() => worker.kill('SIGKILL'), timeoutMs + 2_000).unref();
            }),
        ),
      );
      await mirror.close(0);
      return { drained: results.every(Boolean) };
    },
  };
}

/** Runs inside a forked worker: a data plane driven by the primary's messages. */
export function runClusterWorker(): void {
  let dataPlane: ReturnType<typeof createDataPlane> | undefined;
  const endpoints = createEndpointResolver();
  const batch: Array<[EventKind, unknown]> = [];
  const sendToPrimary = (msg: FromWorker) => {
    if (process.connected) process.send!(msg);
  };
  const flush = () => {
    if (!dataPlane) return;
    const s = dataPlane.shadowLoad();
    const load = { connections: dataPlane.connections(), shadowActive: s.active, shadowQueued: s.queued };
    sendToPrimary({ type: 'events', batch: batch.splice(0), load });
  };
  setInterval(flush, FLUSH_INTERVAL_MS).unref();
  for (const kind of ['exchange', 'comparisonPair', 'comparisonSkipped', 'request', 'recorded', 'mirrorBreaker'] as const) {
    channels[kind].subscribe((event) => {
      batch.push([kind, event]);
    });
  }

  process.on('message', async (msg: ToWorker) => {
    switch (msg.type) {
      case 'init':
        dataPlane = createDataPlane({
          config: deepFreeze(msg.config),
          overrides: new Map(msg.overrides),
          killSwitch: msg.killSwitch,
          recording: new Map(msg.recording),
          endpointOf: endpoints.endpointOf,
        });
        break;
      case 'listen':
        try {
          const addr = await dataPlane!.listen(msg.address);
          sendToPrimary({ type: 'listening', port: addr.port });
        } catch (err) {
          sendToPrimary({ type: 'listen-error', message: (err as Error).message });
        }
        break;
      case 'apply':
        try {
          dataPlane!.update({
            ...(msg.config ? { config: deepFreeze(msg.config) } : {}),
            ...(msg.overrides ? { overrides: new Map(msg.overrides) } : {}),
            ...(msg.killSwitch !== undefined ? { killSwitch: msg.killSwitch } : {}),
            ...(msg.recording ? { recording: new Map(msg.recording) } : {}),
          });
          sendToPrimary({ type: 'applied', id: msg.id });
        } catch (err) {
          // The primary applied it first, so this is a file that changed in between: this worker keeps its routing, and says so.
          sendToPrimary({ type: 'applied', id: msg.id, error: (err as Error).message });
        }
        break;
      case 'close': {
        const { drained } = await dataPlane!.close(msg.timeoutMs);
        flush();
        sendToPrimary({ type: 'closed', drained });
        process.disconnect();
        process.exit(0);
      }
    }
  });
}
