/**
 * Mirrored traffic runs beside the user's request, never in front of it: a
 * concurrency limit and a bounded queue, separate connection pools, and every
 * request that could not be compared is published with its reason.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { BackendName } from '../config/schema.ts';
import { channels, type CapturedResponse, type ComparisonPairEvent, type SkipReason } from './events.ts';
import type { MirrorBreaker } from './mirror-breaker.ts';
import { BodyCapture, ClientExchange, MirrorExchange, type FallbackPolicy } from './proxy-exchange.ts';
import { SAFE_METHODS, type RequestContext } from './request-context.ts';
import type { Upstream, UpstreamSet } from './upstream-pool.ts';

export type ExtendedSkipReason = SkipReason | 'primary_error';

export interface ShadowLimits {
  maxConcurrency: number;
  maxQueue: number;
}

export interface ShadowLimiter {
  /**
   * Runs the task now, queues it, or returns false when the queue is full.
   * The task returns true when it started work (a `release()` will follow) and
   * false when it decided not to (its slot is freed at once).
   */
  submit(task: () => boolean): boolean;
  /** A running task finished: start the next queued one. */
  release(): void;
  readonly active: number;
  readonly queued: number;
  /** Every slot runs and the queue is full: a `submit` now would be refused. */
  readonly full: boolean;
}

/**
 * @example
 * const limiter = createShadowLimiter({ maxConcurrency: 64, maxQueue: 256 });
 * if (!limiter.submit(() => { mirror.start(null); return true; })) countSkip('queue_full');
 */
export function createShadowLimiter(options: ShadowLimits): ShadowLimiter {
  let active = 0;
  // A FIFO with a moving head: Array#shift copies the whole array, which on a queue of 100k mirrors is quadratic.
  let queue: Array<() => boolean> = [];
  let head = 0;
  const take = (): (() => boolean) | undefined => {
    if (head === queue.length) return undefined;
    const task = queue[head]!;
    queue[head++] = DONE;
    if (head === queue.length) {
      queue = [];
      head = 0;
    } else if (head >= 1024 && head * 2 >= queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    return task;
  };
  return {
    submit(task) {
      if (active < options.maxConcurrency) {
        active++;
        if (!task()) active--;
        return true;
      }
      if (queue.length - head < options.maxQueue) {
        queue.push(task);
        return true;
      }
      return false;
    },
    release() {
      active--;
      // A loop, not recursion: a whole queue of tasks that decline (a breaker just opened) drains without growing the stack.
      for (let next = take(); next !== undefined; next = take()) {
        active++;
        if (next()) return;
        active--;
      }
    },
    get active() {
      return active;
    },
    get queued() {
      return queue.length - head;
    },
    get full() {
      return active >= options.maxConcurrency && queue.length - head >= options.maxQueue;
    },
  };
}

const DONE = (): boolean => false;

export function publishSkip(ctx: RequestContext, reason: ExtendedSkipReason): void {
  if (channels.comparisonSkipped.hasSubscribers) {
    channels.comparisonSkipped.publish({ requestId: ctx.requestId, route: ctx.routeId, endpoint: ctx.endpoint, method: ctx.method, reason, time: Date.now() });
  }
}

/** Serves the request as in legacy mode (nothing captured, nothing mirrored) and counts why it was not compared. */
function serveUncompared(ctx: RequestContext, req: IncomingMessage, res: ServerResponse, upstream: Upstream, fallbackPolicy: FallbackPolicy | undefined, reason: ExtendedSkipReason): void {
  publishSkip(ctx, reason);
  new ClientExchange(ctx, res, upstream, { fallbackPolicy }).start(ctx.hasBody ? req : null);
}

export interface MirroredServeSettings {
  sample: number;
  /** The route's mirror timeout (header and idle), which may differ from the shadow pools' default. */
  timeout: number;
  captureLimit: number;
  mirrorUnsafe: boolean;
  noiseSample: number;
}

export interface MirroredServeDeps {
  primary: UpstreamSet;
  shadow: UpstreamSet;
  limiter: ShadowLimiter;
  /** The circuit breaker of one shadow upstream; it outlives routing changes. */
  breakerFor: (upstream: Upstream) => MirrorBreaker;
  fallbackPolicy: FallbackPolicy | undefined;
}

/** Waits for every side of one mirrored request, then publishes the pair or the reason it was skipped. */
class ComparisonJoin {
  readonly ctx: RequestContext;
  pending: number;
  served: CapturedResponse | undefined;
  mirrored: CapturedResponse | undefined;
  noise: CapturedResponse | undefined;
  requestBody: Buffer = Buffer.alloc(0);
  requestTruncated = false;
  skipped = false;

  constructor(ctx: RequestContext, expected: number) {
    this.ctx = ctx;
    this.pending = expected;
  }

  skip(reason: ExtendedSkipReason): void {
    if (this.skipped) return;
    this.skipped = true;
    publishSkip(this.ctx, reason);
  }

  expect(n: number): void {
    this.pending += n;
  }

  arrive(slot: 'served' | 'mirrored' | 'noise', captured: CapturedResponse | undefined): void {
    if (slot === 'served') this.served = captured;
    else if (slot === 'mirrored') this.mirrored = captured;
    else this.noise = captured;
    if (--this.pending === 0) this.complete();
  }

  private complete(): void {
    if (this.skipped) return;
    const served = this.served;
    const mirrored = this.mirrored;
    if (served === undefined || mirrored === undefined) return;
    if (served.failure !== undefined) return this.skip('primary_error');
    if (mirrored.failure !== undefined) return this.skip(mirrored.failure === 'timeout' ? 'timeout' : 'candidate_error');
    if (served.truncated || mirrored.truncated || this.requestTruncated) return this.skip('body_too_large');
    if (!channels.comparisonPair.hasSubscribers) return;
    const ctx = this.ctx;
    const event: ComparisonPairEvent = {
      requestId: ctx.requestId,
      route: ctx.routeId,
      endpoint: ctx.endpoint,
      method: ctx.method,
      url: ctx.url,
      time: ctx.startedAt,
      request: { headers: headerObject(ctx.headers), body: this.requestBody, truncated: this.requestTruncated },
      served,
      mirrored,
    };
    const noise = this.noise;
    if (noise !== undefined && noise.failure === undefined && !noise.truncated) event.noise = noise;
    channels.comparisonPair.publish(event);
  }
}

function headerObject(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const k = flat[i]!.toLowerCase();
    out[k] = out[k] === undefined ? flat[i + 1]! : `${out[k]}, ${flat[i + 1]}`;
  }
  return out;
}

async function* teeRequestBody(req: IncomingMessage, capture: BodyCapture, onEnd: () => void): AsyncGenerator<Buffer> {
  for await (const chunk of req) {
    capture.push(chunk as Buffer);
    yield chunk as Buffer;
  }
  onEnd();
}

/**
 * Serves the client from `servedBy` and mirrors the request to `mirrorTo`
 * (plus a replica, or legacy a second time for noise learning).
 */
export function createMirroredServe(settings: MirroredServeSettings, deps: MirroredServeDeps) {
  const { primary, shadow, limiter, fallbackPolicy, breakerFor } = deps;
  // The shadow pools are fixed for this compiled route, so their breakers are looked up once, not per mirror.
  const breakers: Record<BackendName, MirrorBreaker | undefined> = {
    legacy: breakerFor(shadow.legacy),
    candidate: breakerFor(shadow.candidate),
    replica: shadow.replica === undefined ? undefined : breakerFor(shadow.replica),
  };

  function startMirror(join: ComparisonJoin, upstream: Upstream, slot: 'mirrored' | 'noise', body: Buffer | null): void {
    const ctx = join.ctx;
    const breaker = breakers[upstream.name]!;
    // Asked when the mirror would start, not when it was queued: queued mirrors to a backend that just went down are refused at no cost.
    const accepted = limiter.submit(() => {
      const admission = breaker.admit(performance.now());
      if (admission === 'refused') {
        if (slot === 'mirrored') join.skip('circuit_open');
        join.arrive(slot, undefined);
        return false;
      }
      new MirrorExchange(ctx, upstream, settings.captureLimit, settings.timeout, (captured) => {
        breaker.record(admission, captured.failure === undefined, performance.now());
        limiter.release();
        join.arrive(slot, captured);
      }).start(body);
      return true;
    });
    if (!accepted) {
      if (slot === 'mirrored') join.skip('queue_full');
      join.arrive(slot, undefined);
    }
  }

  return function serveMirrored(ctx: RequestContext, req: IncomingMessage, res: ServerResponse, servedBy: BackendName, mirrorTo: BackendName): void {
    const safe = SAFE_METHODS.has(ctx.method);
    const servedUpstream = primary[servedBy]!;
    if (!safe && !settings.mirrorUnsafe) {
      serveUncompared(ctx, req, res, servedUpstream, fallbackPolicy, 'unsafe_method');
      return;
    }
    if (settings.sample < 1 && Math.random() >= settings.sample) {
      serveUncompared(ctx, req, res, servedUpstream, fallbackPolicy, 'sampled_out');
      return;
    }
    const mirrorUpstream = shadow[mirrorTo]!;
    // A mirror that would be refused anyway is skipped up front, and the request served as in legacy mode,
    // without capturing a response nothing will compare: under a backlog this is most requests.
    const refusal = breakers[mirrorTo]!.refusing(performance.now()) ? 'circuit_open' : limiter.full ? 'queue_full' : undefined;
    if (refusal !== undefined) {
      serveUncompared(ctx, req, res, servedUpstream, fallbackPolicy, refusal);
      return;
    }
    let noiseUpstream: Upstream | undefined;
    // Noise samples are reads only: a replica often shares legacy's database, so a mirrored write must not reach it twice.
    if (safe && (servedBy === 'legacy' || mirrorTo === 'legacy')) {
      if (shadow.replica !== undefined) noiseUpstream = shadow.replica;
      else if (settings.noiseSample > 0 && Math.random() < settings.noiseSample) noiseUpstream = shadow.legacy;
    }
    const join = new ComparisonJoin(ctx, 2);
    const startMirrors = (body: Buffer | null): void => {
      if (noiseUpstream !== undefined) {
        join.expect(1);
        startMirror(join, noiseUpstream, 'noise', body);
      }
      startMirror(join, mirrorUpstream, 'mirrored', body);
    };
    const served = new ClientExchange(ctx, res, servedUpstream, {
      captureLimit: settings.captureLimit,
      fallbackPolicy,
      onCaptured: (captured) => join.arrive('served', captured),
    });
    if (!ctx.hasBody) {
      // The user's request goes out first; mirrors are sent after this turn's I/O, off its critical path.
      served.start(null);
      setImmediate(startMirrors, null);
      return;
    }
    const capture = new BodyCapture(settings.captureLimit);
    served.start(
      Readable.from(teeRequestBody(req, capture, () => {
        join.requestTruncated = capture.truncated;
        if (capture.truncated) {
          join.skip('body_too_large');
          join.arrive('mirrored', undefined);
          return;
        }
        join.requestBody = capture.body();
        startMirrors(join.requestBody);
      }), { objectMode: false }),
    );
  };
}
