/**
 * One request sent to one upstream through undici's dispatch API, with its
 * own backpressure: when the client socket is full the upstream is paused, and
 * resumed on 'drain'. This avoids stream.pipeline's per-chunk overhead.
 */
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { BackendName } from '../config/schema.ts';
import { channels, type CapturedResponse, type ExchangeEvent, type FailureCause, type RequestEvent, type Role } from './events.ts';
import { connectionTokens, HOP_BY_HOP_RESPONSE } from './hop-by-hop.ts';
import { headersFor, type RequestContext } from './request-context.ts';
import { classifyFailure, sendUpstreamError } from './upstream-errors.ts';
import type { Upstream } from './upstream-pool.ts';

type Controller = Dispatcher.DispatchController;
type ResponseHeaders = Record<string, string | string[] | undefined>;
type Body = Dispatcher.DispatchOptions['body'];

/** Collects a body up to a cap; above it, keeps counting but drops the bytes. */
export class BodyCapture {
  readonly limit: number;
  chunks: Buffer[] = [];
  size = 0;
  truncated = false;

  constructor(limit: number) {
    this.limit = limit;
  }

  push(chunk: Buffer): void {
    if (this.truncated) return;
    if (this.size + chunk.length > this.limit) {
      this.truncated = true;
      this.chunks = [];
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  body(): Buffer {
    if (this.chunks.length === 1) return this.chunks[0]!;
    return Buffer.concat(this.chunks, this.size);
  }
}

const EMPTY = Buffer.alloc(0);

/** Called once when an exchange has finished, with what it captured (when capturing). */
export type CaptureListener = (captured: CapturedResponse) => void;

/** Decides, after a failure before any response byte, whether to retry elsewhere. Returns true when it took over. */
export type FallbackPolicy = (exchange: ClientExchange, cause: FailureCause) => boolean;

/** `timeout`: header and idle timeouts of this request's own (a route's mirror timeout), when they differ from the pool's. */
function dispatchTo(upstream: Upstream, ctx: RequestContext, body: Body, handler: Dispatcher.DispatchHandler, timeout?: number): void {
  const options: Dispatcher.DispatchOptions = {
    path: upstream.pathPrefix === '' ? ctx.url : upstream.pathPrefix + ctx.url,
    method: ctx.method as Dispatcher.HttpMethod,
    headers: headersFor(ctx, upstream),
    body,
  };
  if (timeout !== undefined && timeout !== upstream.headersTimeout) {
    options.headersTimeout = timeout;
    options.bodyTimeout = timeout;
  }
  upstream.pool.dispatch(options, handler);
}

function publishExchange(
  ctx: RequestContext,
  backend: BackendName,
  role: Role,
  status: number,
  failure: FailureCause | undefined,
  t0: number,
  ttfb: number,
  responseBytes: number,
  fallback: boolean,
  clientAborted: boolean,
): void {
  const now = performance.now();
  const event: ExchangeEvent = {
    requestId: ctx.requestId,
    route: ctx.routeId,
    endpoint: ctx.endpoint,
    method: ctx.method,
    backend,
    role,
    status,
    startedAt: ctx.startedAt + (t0 - ctx.t0),
    ttfbMs: status === 0 ? now - t0 : ttfb,
    totalMs: now - t0,
    requestBytes: ctx.requestBytes,
    responseBytes,
  };
  if (failure !== undefined) event.failure = failure;
  if (fallback) event.fallback = true;
  if (clientAborted) event.clientAborted = true;
  channels.exchange.publish(event);
}

const kExchange = Symbol('cutover.exchange');
const kAfterClose = Symbol('cutover.afterClose');
type ExchangeResponse = ServerResponse & { [kExchange]?: ClientExchange | null; [kAfterClose]?: (this: ServerResponse) => void };

function onClientClose(this: ExchangeResponse): void {
  const exchange = this[kExchange];
  const controller = exchange?.controller;
  if (exchange != null && !exchange.done && controller != null && !controller.aborted) {
    controller.abort(Object.assign(new Error('client aborted the request'), { code: 'CUTOVER_CLIENT_ABORTED' }));
  }
  this[kAfterClose]?.call(this);
}

/**
 * Gives a response its one 'close' listener up front: when the client goes
 * away first, the exchange streaming into it is aborted, then `afterClose`
 * runs (the server's in-flight count). A second listener per response would
 * cost an array on add and a copy on every emit. A ClientExchange on a
 * response nobody watched adds the listener itself.
 * @example
 * watchClientClose(res, countDone);
 */
export function watchClientClose(res: ServerResponse, afterClose: (this: ServerResponse) => void): void {
  const r = res as ExchangeResponse;
  r[kExchange] = null;
  r[kAfterClose] = afterClose;
  res.on('close', onClientClose);
}

/** Streams one upstream's response to the client. */
export class ClientExchange implements Dispatcher.DispatchHandler {
  readonly ctx: RequestContext;
  readonly res: ServerResponse;
  readonly upstream: Upstream;
  readonly fallback: boolean;
  readonly capture: BodyCapture | undefined;
  readonly onCaptured: CaptureListener | undefined;
  readonly fallbackPolicy: FallbackPolicy | undefined;
  controller: Controller | null = null;
  t0 = 0;
  ttfb = 0;
  bytes = 0;
  status = 0;
  headers: ResponseHeaders | undefined;
  done = false;

  constructor(
    ctx: RequestContext,
    res: ServerResponse,
    upstream: Upstream,
    options: { fallback?: boolean; captureLimit?: number; onCaptured?: CaptureListener; fallbackPolicy?: FallbackPolicy } = {},
  ) {
    this.ctx = ctx;
    this.res = res;
    this.upstream = upstream;
    this.fallback = options.fallback ?? false;
    this.capture = options.captureLimit ? new BodyCapture(options.captureLimit) : undefined;
    this.onCaptured = options.onCaptured;
    this.fallbackPolicy = options.fallbackPolicy;
  }

  start(body: Body): void {
    this.t0 = performance.now();
    dispatchTo(this.upstream, this.ctx, body, this);
  }

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    const res = this.res as ExchangeResponse;
    if (res.destroyed) {
      controller.abort(new Error('client aborted'));
      return;
    }
    // One shared listener per response, never removed (a response closes once); a fallback exchange takes the slot over.
    if (res[kExchange] === undefined) res.on('close', onClientClose);
    res[kExchange] = this;
  }

  private onDrain: (() => void) | undefined;

  onResponseStart(_controller: Controller, statusCode: number, headers: ResponseHeaders, statusMessage?: string): void {
    if (statusCode < 200) return;
    this.ttfb = performance.now() - this.t0;
    this.status = statusCode;
    if (this.capture !== undefined) this.headers = headers;
    const flat: string[] = [];
    const connection = headers.connection;
    const named = connectionTokens(Array.isArray(connection) ? connection.join(',') : connection);
    for (const name in headers) {
      if (HOP_BY_HOP_RESPONSE.has(name) || (named !== undefined && named.has(name))) continue;
      const value = headers[name];
      if (value === undefined) continue;
      if (typeof value === 'string') flat.push(name, value);
      else for (let i = 0; i < value.length; i++) flat.push(name, value[i]!);
    }
    if (this.res.destroyed) return;
    this.res.writeHead(statusCode, statusMessage || undefined, flat);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.capture !== undefined) this.capture.push(chunk);
    if (!this.res.write(chunk)) {
      controller.pause();
      this.onDrain ??= () => this.controller?.resume();
      this.res.once('drain', this.onDrain);
    }
  }

  onResponseEnd(): void {
    this.done = true;
    this.res.end();
    this.finish(undefined);
  }

  onResponseError(_controller: Controller, err: Error): void {
    this.done = true;
    const clientAborted = (err as { code?: string }).code === 'CUTOVER_CLIENT_ABORTED';
    const cause = clientAborted ? 'other' : classifyFailure(err);
    if (clientAborted) {
      this.finish(cause, true, false);
      return;
    }
    if (this.status === 0 && this.fallbackPolicy !== undefined && this.fallbackPolicy(this, cause)) {
      this.finish(cause, false, true);
      return;
    }
    if (!this.res.headersSent && !this.res.destroyed) {
      sendUpstreamError(this.res, this.upstream.name, this.ctx.requestId, cause);
    } else {
      // Part of the response is already on the wire: the only honest signal left is to cut the connection.
      this.res.destroy(err);
    }
    this.finish(cause);
  }

  /** `handedOver`: a fallback exchange now owns the client response and will report it. */
  private finish(failure: FailureCause | undefined, clientAborted = false, handedOver = false): void {
    const ctx = this.ctx;
    if (channels.exchange.hasSubscribers) {
      publishExchange(ctx, this.upstream.name, 'primary', this.status, failure, this.t0, this.ttfb, this.bytes, this.fallback, clientAborted);
    }
    if (channels.request.hasSubscribers && !handedOver) {
      const event: RequestEvent = {
        requestId: ctx.requestId,
        route: ctx.routeId,
        endpoint: ctx.endpoint,
        method: ctx.method,
        url: ctx.url,
        backend: this.upstream.name,
        status: this.res.statusCode,
        startedAt: ctx.startedAt,
        totalMs: performance.now() - ctx.t0,
        ttfbMs: this.ttfb,
        remoteAddress: ctx.remoteAddress,
        traceparent: ctx.traceparent,
      };
      channels.request.publish(event);
    }
    if (this.onCaptured !== undefined && !handedOver) {
      const captured: CapturedResponse = {
        backend: this.upstream.name,
        status: this.status,
        headers: this.headers ?? {},
        body: this.capture === undefined || this.capture.truncated ? EMPTY : this.capture.body(),
        truncated: this.capture?.truncated ?? false,
        ttfbMs: this.ttfb,
        totalMs: performance.now() - this.t0,
      };
      if (failure !== undefined) captured.failure = failure;
      this.onCaptured(captured);
    }
  }
}

/** Sends a copy of the request to another backend and captures its answer; nobody waits on it. */
export class MirrorExchange implements Dispatcher.DispatchHandler {
  readonly ctx: RequestContext;
  readonly upstream: Upstream;
  readonly capture: BodyCapture;
  readonly timeout: number;
  readonly onCaptured: CaptureListener;
  t0 = 0;
  ttfb = 0;
  bytes = 0;
  status = 0;
  headers: ResponseHeaders = {};

  constructor(ctx: RequestContext, upstream: Upstream, captureLimit: number, timeout: number, onCaptured: CaptureListener) {
    this.ctx = ctx;
    this.upstream = upstream;
    this.capture = new BodyCapture(captureLimit);
    this.timeout = timeout;
    this.onCaptured = onCaptured;
  }

  start(body: Buffer | null): void {
    this.t0 = performance.now();
    dispatchTo(this.upstream, this.ctx, body, this, this.timeout);
  }

  onRequestStart(): void {}

  onResponseStart(_controller: Controller, statusCode: number, headers: ResponseHeaders): void {
    if (statusCode < 200) return;
    this.ttfb = performance.now() - this.t0;
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(_controller: Controller, chunk: Buffer): void {
    this.bytes += chunk.length;
    this.capture.push(chunk);
  }

  onResponseEnd(): void {
    this.finish(undefined);
  }

  onResponseError(_controller: Controller, err: Error): void {
    this.finish(classifyFailure(err));
  }

  private finish(failure: FailureCause | undefined): void {
    if (channels.exchange.hasSubscribers) {
      publishExchange(this.ctx, this.upstream.name, 'shadow', failure === undefined ? this.status : 0, failure, this.t0, this.ttfb, this.bytes, false, false);
    }
    const captured: CapturedResponse = {
      backend: this.upstream.name,
      status: failure === undefined ? this.status : 0,
      headers: this.headers,
      body: this.capture.truncated ? EMPTY : this.capture.body(),
      truncated: this.capture.truncated,
      ttfbMs: this.ttfb,
      totalMs: performance.now() - this.t0,
    };
    if (failure !== undefined) captured.failure = failure;
    this.onCaptured(captured);
  }
}
