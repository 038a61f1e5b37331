/**
 * How a mirrored request reaches its backend: on the proxying thread itself,
 * or (the default) on a mirror thread of its own. Admission, joining and
 * every published event stay on the proxying thread either way; only the
 * exchange moves.
 *
 * Why a thread: a mirror is a second upstream request, response parse and
 * body capture. On the proxying thread it nearly doubled the CPU a shadowed
 * request costs there (docs/decisions.md), and clients queued behind it. On
 * the mirror thread, the proxying thread only packs a job and later unpacks
 * an outcome, and the mirror thread runs at the lowest priority: on a shared
 * core it gets only what the proxy leaves, and a mirror that waits too long
 * is refused by the limits and counted, never felt by a client.
 */
import { Worker } from 'node:worker_threads';
import type { CapturedResponse } from './events.ts';
import { packBodies, unpackBody, type FromMirrorThread, type MirrorJob, type MirrorWorkerData, type ToMirrorThread } from './mirror-protocol.ts';
import { MirrorExchange, publishMirrorExchange, type CaptureListener } from './proxy-exchange.ts';
import type { RequestContext } from './request-context.ts';
import type { ThreadScheduling } from './thread-priority.ts';
import type { Upstream } from './upstream-pool.ts';

export type MirrorThread = 'main' | 'worker';

export interface MirrorTransport {
  /** Sends one mirror; `onCaptured` runs once, on this thread, with the answer or the failure. */
  send(ctx: RequestContext, upstream: Upstream, body: Buffer | null, captureLimit: number, timeout: number, onCaptured: CaptureListener): void;
  /** These shadow pools were replaced: close them once their mirrors in flight have finished. */
  retire(upstreams: readonly Upstream[]): void;
  /** Settles once mirrors can start without waiting for the thread to load (~0.25 s after a route first mirrors). */
  readonly ready: Promise<void>;
  /** Waits for mirrors in flight (each bounded by its timeout), then stops the thread. */
  close(): Promise<void>;
}

export interface MirrorTransportOptions {
  thread: MirrorThread;
  /** The mirror thread's scheduling (Linux); ignored for `main`. */
  scheduling: ThreadScheduling;
}

/**
 * @example
 * const mirrors = createMirrorTransport({ thread: 'worker', scheduling: 'idle' });
 * mirrors.send(ctx, shadow.candidate, null, 1 << 20, 10_000, (captured) => join.arrive('mirrored', captured));
 */
export function createMirrorTransport(options: MirrorTransportOptions): MirrorTransport {
  return options.thread === 'main' ? createInThreadTransport() : createWorkerTransport(options.scheduling);
}

function createInThreadTransport(): MirrorTransport {
  return {
    send(ctx, upstream, body, captureLimit, timeout, onCaptured) {
      const exchange = new MirrorExchange(ctx, upstream, captureLimit, timeout, (captured, responseBytes) => {
        publishMirrorExchange(ctx, captured, exchange.t0, responseBytes);
        onCaptured(captured);
      });
      exchange.start(body);
    },
    ready: Promise.resolve(),
    // The pools are the data plane's own; it closes them.
    retire() {},
    async close() {},
  };
}

interface PendingMirror {
  ctx: RequestContext;
  backend: Upstream['name'];
  t0: number;
  onCaptured: CaptureListener;
}

function createWorkerTransport(scheduling: ThreadScheduling): MirrorTransport {
  let worker: Worker | undefined;
  // Upstream ids the current worker knows; a new worker (after a crash) starts over.
  let known = new WeakMap<Upstream, number>();
  let nextUpstreamId = 1;
  let nextJobId = 1;
  const pending = new Map<number, PendingMirror>();
  let jobs: MirrorJob[] = [];
  let jobBodies: Array<Buffer | null> = [];
  let scheduled = false;
  let closing: Promise<void> | undefined;
  let onClosed: (() => void) | undefined;
  let onReady: (() => void) | undefined;
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });

  const failAll = (): void => {
    for (const [id, p] of pending) {
      pending.delete(id);
      deliver(p, { backend: p.backend, status: 0, headers: {}, body: Buffer.alloc(0), truncated: false, ttfbMs: 0, totalMs: 0, failure: 'other' }, 0);
    }
  };

  const deliver = (p: PendingMirror, captured: CapturedResponse, responseBytes: number): void => {
    publishMirrorExchange(p.ctx, captured, p.t0, responseBytes);
    p.onCaptured(captured);
  };

  const onMessage = (msg: FromMirrorThread): void => {
    if (msg.type === 'ready') {
      onReady?.();
      return;
    }
    if (msg.type === 'closed') {
      onClosed?.();
      return;
    }
    for (const o of msg.outcomes) {
      const p = pending.get(o.id);
      if (p === undefined) continue;
      pending.delete(o.id);
      const captured: CapturedResponse = {
        backend: p.backend,
        status: o.status,
        headers: o.headers,
        body: unpackBody(msg.bodies, o.bodyOffset, o.bodyLength) ?? Buffer.alloc(0),
        truncated: o.truncated,
        ttfbMs: o.ttfbMs,
        totalMs: o.totalMs,
      };
      if (o.failure !== undefined) captured.failure = o.failure;
      deliver(p, captured, o.responseBytes);
    }
    // Nothing in flight: the thread must not keep a stopping process alive.
    if (pending.size === 0) worker?.unref();
  };

  const start = (): Worker => {
    const data: MirrorWorkerData = { scheduling };
    const w = new Worker(new URL('./mirror-worker.ts', import.meta.url), { workerData: data, name: 'cutover-mirror' });
    w.on('message', onMessage);
    w.on('error', (err) => process.emitWarning(`mirror thread failed: ${err.message}; mirrors in flight are counted as failed and a new thread starts with the next mirror`));
    w.on('exit', () => {
      if (worker === w) {
        worker = undefined;
        known = new WeakMap();
      }
      failAll();
      onReady?.();
      onClosed?.();
    });
    w.unref();
    return w;
  };

  const post = (msg: ToMirrorThread, transfer?: ArrayBuffer[]): void => {
    worker ??= start();
    worker.postMessage(msg, transfer);
  };

  const upstreamId = (upstream: Upstream): number => {
    let id = known.get(upstream);
    if (id === undefined) {
      id = nextUpstreamId++;
      post({ type: 'upstream', id, spec: upstream.spec });
      known.set(upstream, id);
    }
    return id;
  };

  const flush = (): void => {
    scheduled = false;
    if (jobs.length === 0) return;
    const { buffer, offsets } = packBodies(jobBodies);
    for (let i = 0; i < jobs.length; i++) jobs[i]!.bodyOffset = offsets[i]!;
    const batch = jobs;
    jobs = [];
    jobBodies = [];
    post({ type: 'mirror', jobs: batch, bodies: buffer }, buffer === null ? undefined : [buffer]);
  };

  // Started now, when a route first mirrors, not with the first mirror: loading the thread takes ~100 ms, and
  // mirrors admitted meanwhile wait in the limiter's slots.
  worker = start();

  return {
    ready,
    send(ctx, upstream, body, captureLimit, timeout, onCaptured) {
      if (closing !== undefined) {
        onCaptured({ backend: upstream.name, status: 0, headers: {}, body: Buffer.alloc(0), truncated: false, ttfbMs: 0, totalMs: 0, failure: 'other' });
        return;
      }
      const id = nextJobId++;
      const job: MirrorJob = {
        id,
        upstream: upstreamId(upstream),
        method: ctx.method,
        url: ctx.url,
        headers: ctx.headers,
        bodyOffset: -1,
        bodyLength: body === null ? 0 : body.length,
        captureLimit,
        timeout,
      };
      pending.set(id, { ctx, backend: upstream.name, t0: performance.now(), onCaptured });
      worker!.ref();
      jobs.push(job);
      jobBodies.push(body);
      // One message per turn of the event loop, however many requests this turn mirrored.
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    retire(upstreams) {
      const ids: number[] = [];
      for (const u of upstreams) {
        const id = known.get(u);
        if (id !== undefined) ids.push(id);
      }
      if (ids.length > 0 && worker !== undefined) worker.postMessage({ type: 'retire', ids } satisfies ToMirrorThread);
    },
    close() {
      closing ??= (async () => {
        flush();
        const w = worker;
        if (w === undefined) return;
        w.ref();
        await new Promise<void>((resolve) => {
          onClosed = resolve;
          w.postMessage({ type: 'close' } satisfies ToMirrorThread);
        });
        onClosed = undefined;
        await w.terminate();
        failAll();
      })();
      return closing;
    },
  };
}
