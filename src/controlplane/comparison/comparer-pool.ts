/**
 * The proxying thread's handle on the comparer worker. Its only job on the
 * hot path is to copy a pair into one transferable buffer and post it, or,
 * when the worker is behind by more than the in-flight budget, to refuse
 * so the caller counts the pair as skipped (`comparer_busy`) instead of
 * letting memory grow without bound.
 */
import { Worker } from 'node:worker_threads';
import type { NoiseModelSnapshot } from '../../compare/index.ts';
import type { ComparisonPairEvent } from '../../dataplane/events.ts';
import type { ComparerScheduling, ComparerSettings, FromComparer, HeldOnFlush, LearnedNoiseReport, NoiseDecision, PackedPair, PairOutcome, SilenceRule, ToComparer, UnjudgedPair } from './comparer-protocol.ts';
import { packPair, packedSize } from './comparer-protocol.ts';

export interface ComparerPoolOptions {
  settings: ComparerSettings;
  /** How the comparer thread yields to the proxying thread; default `idle`. */
  scheduling?: ComparerScheduling;
  /**
   * How long a pair may wait for others before the batch is posted; default
   * 5 ms. Pairs are never urgent, and every post wakes the worker and, with
   * its reply, the proxying thread again.
   */
  batchWindowMs?: number;
  /** Pairs posted and not yet compared. */
  maxInFlight: number;
  maxInFlightBytes: number;
  onOutcomes(outcomes: PairOutcome[]): void;
  onNoise(learned: LearnedNoiseReport[], models: Record<string, NoiseModelSnapshot>): void;
  /** Held pairs a `flush('skip')` gave up without a verdict. */
  onUnjudged?(pairs: UnjudgedPair[]): void;
  /** Pairs lost because the worker failed; they were never compared. */
  onLost(lost: Array<{ route: string; endpoint: string; method: string }>, error: string): void;
}

export interface ComparerPool {
  /** False when the in-flight budget is spent: the pair was not taken. */
  submit(event: ComparisonPairEvent): boolean;
  configure(settings: ComparerSettings): void;
  setSilences(rules: SilenceRule[]): void;
  setNoiseDecisions(decisions: NoiseDecision[]): void;
  restoreNoise(models: Record<string, NoiseModelSnapshot>): void;
  /** Resolves once every pair submitted before the call has been compared; `held` says what happens to held pairs (default: they stay held). */
  flush(held?: HeldOnFlush): Promise<void>;
  close(): Promise<void>;
  readonly inFlight: number;
  readonly inFlightBytes: number;
  /** Mismatches held in the worker while noise is learned, as of its last reply. */
  readonly held: number;
  /** Whether the worker thread exists: it starts with the first pair, so a cutover that compares nothing never pays for it. */
  readonly running: boolean;
}

export const DEFAULT_BATCH_WINDOW_MS = 5;
/** A full batch goes at once: under saturation the window would only add memory. */
const MAX_BATCH_PAIRS = 64;

interface InFlight {
  route: string;
  endpoint: string;
  method: string;
  bytes: number;
}

/**
 * @example
 * const pool = createComparerPool({ settings, maxInFlight: 1024, maxInFlightBytes: 64 << 20, onOutcomes, onNoise, onLost });
 * channels.comparisonPair.subscribe((e) => { if (!pool.submit(e)) countSkip(e, 'comparer_busy'); });
 */
export function createComparerPool(options: ComparerPoolOptions): ComparerPool {
  let settings = options.settings;
  let silences: SilenceRule[] = [];
  let decisions: NoiseDecision[] = [];
  let restored: Record<string, NoiseModelSnapshot> | undefined;
  const inFlight = new Map<number, InFlight>();
  let inFlightBytes = 0;
  let nextId = 1;
  let closed = false;
  let held = 0;
  let flushWaiters: Array<() => void> = [];
  let worker: Worker | undefined;
  // Pairs of a few milliseconds go in one message. Each postMessage costs the
  // proxying thread a few microseconds, wakes the worker, and brings back a
  // reply the proxying thread must handle: at a paced load, batching per
  // event-loop turn still meant two thread wake-ups per pair on a shared core.
  const batchWindowMs = options.batchWindowMs ?? DEFAULT_BATCH_WINDOW_MS;
  let batch: PackedPair[] = [];
  let batchTimer: NodeJS.Timeout | undefined;
  const postBatch = (): void => {
    if (batchTimer !== undefined) {
      clearTimeout(batchTimer);
      batchTimer = undefined;
    }
    if (batch.length === 0 || closed) return;
    const pairs = batch;
    batch = [];
    post({ type: 'pairs', pairs }, pairs.map((p) => p.bytes));
  };

  // Before the first pair there is no worker: settings, silences, decisions and restored models are kept and sent when it starts.
  const post = (msg: ToComparer, transfer?: ArrayBuffer[]): void => worker?.postMessage(msg, transfer);

  const done = (id: number): void => {
    const entry = inFlight.get(id);
    if (entry === undefined) return;
    inFlight.delete(id);
    inFlightBytes -= entry.bytes;
  };

  const start = (): Worker => {
    const w = new Worker(new URL('./comparer-worker.ts', import.meta.url), { workerData: { settings, scheduling: options.scheduling ?? 'idle' }, name: 'cutover-comparer' });
    worker = w;
    if (silences.length > 0) post({ type: 'silences', rules: silences });
    if (decisions.length > 0) post({ type: 'noise-decisions', decisions });
    if (restored !== undefined) post({ type: 'restore-noise', models: restored });
    w.on('message', (msg: FromComparer) => {
      switch (msg.type) {
        case 'processed':
          for (const id of msg.ids) done(id);
          held = msg.held;
          if (msg.outcomes.length > 0) options.onOutcomes(msg.outcomes);
          if (msg.unjudged !== undefined) options.onUnjudged?.(msg.unjudged);
          break;
        case 'noise':
          restored = msg.models;
          options.onNoise(msg.learned, msg.models);
          break;
        case 'flushed':
          flushWaiters.shift()?.();
          if (flushWaiters.length === 0) w.unref();
          break;
        case 'error':
          if (msg.id !== undefined) {
            const entry = inFlight.get(msg.id);
            if (entry) options.onLost([entry], msg.message);
          } else options.onLost([], msg.message);
          break;
      }
    });
    w.on('error', (err) => options.onLost([], err.stack ?? String(err)));
    w.on('exit', () => {
      if (closed) return;
      // The worker died (a bug, or out of memory on a hostile body): what it
      // held is lost, the next pair goes to a fresh one.
      const lost = [...inFlight.values()];
      inFlight.clear();
      inFlightBytes = 0;
      options.onLost(lost, 'comparer worker exited');
      const waiters = flushWaiters;
      flushWaiters = [];
      start();
      for (const resolve of waiters) resolve();
    });
    w.unref();
    return w;
  };

  return {
    submit(event) {
      if (closed) return false;
      const bytes = packedSize(event);
      if (inFlight.size >= options.maxInFlight || (inFlight.size > 0 && inFlightBytes + bytes > options.maxInFlightBytes)) return false;
      if (worker === undefined) start();
      const id = nextId++;
      const pair = packPair(id, event);
      inFlight.set(id, { route: event.route, endpoint: event.endpoint, method: event.method, bytes });
      inFlightBytes += bytes;
      batch.push(pair);
      if (batch.length >= MAX_BATCH_PAIRS) postBatch();
      else if (batchTimer === undefined) batchTimer = setTimeout(postBatch, batchWindowMs).unref();
      return true;
    },
    configure(next) {
      settings = next;
      post({ type: 'settings', settings: next });
    },
    setSilences(rules) {
      silences = rules;
      post({ type: 'silences', rules });
    },
    setNoiseDecisions(next) {
      decisions = next;
      post({ type: 'noise-decisions', decisions: next });
    },
    restoreNoise(models) {
      restored = models;
      post({ type: 'restore-noise', models });
    },
    flush(held = 'keep') {
      // No worker yet: no pair was ever submitted, so there is nothing to wait for.
      const w = worker;
      if (closed || w === undefined) return Promise.resolve();
      postBatch();
      return new Promise<void>((resolve) => {
        flushWaiters.push(resolve);
        // The worker is unref'd; while someone waits on its answer it must keep the process alive.
        w.ref();
        post({ type: 'flush', held });
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(batchTimer);
      await worker?.terminate();
      for (const w of flushWaiters) w();
      flushWaiters = [];
    },
    get inFlight() {
      return inFlight.size;
    },
    get inFlightBytes() {
      return inFlightBytes;
    },
    get held() {
      return held;
    },
    get running() {
      return worker !== undefined;
    },
  };
}
