/**
 * One JSON line per served request, through pino to an asynchronous
 * destination (sonic-boom buffers and writes off the request path). The
 * buffer is written out at least every `flushMs`, so on a quiet endpoint a
 * line still shows up within a second instead of waiting for 4 KiB of others.
 *
 * A request on a mirroring route is answered before its comparison is done,
 * so its line waits (at most the shadow timeout plus a margin) for the
 * comparison outcome; a request that will never be compared (sampled out,
 * skipped) is written when the wait ends. Waiting lines are bounded: past
 * `maxHeld`, lines are written at once without an outcome.
 */
import pino, { type Logger } from 'pino';
import type { RequestEvent } from '../../dataplane/events.ts';
import type { ComparisonOutcome } from './comparison-counts.ts';

export interface AccessLogOptions {
  mode: 'sampled' | 'full';
  /** Fraction of requests logged in `sampled` mode. */
  sample: number;
  /** A file path; standard output when undefined. */
  file: string | undefined;
  /** How long a request's line may wait for its comparison; 0 when its route does not compare. */
  holdMs(route: string): number;
  maxHeld?: number;
  /** Longest a written line may sit in the buffer. Default 1 s. */
  flushMs?: number;
  random?: () => number;
  now?: () => number;
}

export interface AccessLog {
  onRequest(event: RequestEvent): void;
  /** Attaches an outcome to a waiting line and writes it. Unknown ids are ignored (sampled out or already written). */
  onComparison(requestId: string, outcome: ComparisonOutcome, reason: string | undefined): void;
  /** Writes waiting lines whose wait is over. */
  sweep(): void;
  /** Writes everything still waiting, flushes, and closes the file (never standard output). */
  close(): Promise<void>;
}

interface Held {
  event: RequestEvent;
  deadline: number;
}

function traceIdOf(traceparent: string | undefined): string | undefined {
  if (traceparent === undefined) return undefined;
  const parts = traceparent.split('-');
  return parts.length >= 4 && parts[1]!.length === 32 ? parts[1] : undefined;
}

const ms = (v: number): number => Math.round(v * 1000) / 1000;

/**
 * @example
 * const log = createAccessLog({ mode: 'full', sample: 1, file: '/var/log/cutover/access.log', holdMs: () => 0 });
 * channels.request.subscribe((e) => log.onRequest(e as RequestEvent));
 */
export function createAccessLog(options: AccessLogOptions): AccessLog {
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const maxHeld = options.maxHeld ?? 10_000;
  const sample = options.mode === 'full' ? 1 : options.sample;
  const destination = pino.destination({ dest: options.file ?? 1, sync: false, minLength: 4096, mkdir: options.file !== undefined });
  // The line's time is when the request started, not when the line was written (a line may wait for its comparison).
  let lineTime = 0;
  const logger: Logger = pino(
    {
      base: null,
      // An access line has no level. Without one, pino's timestamp chunk opens the object, so it carries no leading comma.
      formatters: { level: () => ({}) },
      timestamp: () => `"time":${lineTime}`,
    },
    destination,
  );
  const held = new Map<string, Held>();
  let unflushed = false;
  const flushTimer = setInterval(() => {
    if (!unflushed) return;
    unflushed = false;
    try {
      destination.flush();
    } catch {
      // Only a destination destroyed by a write error throws here; that error was already emitted.
    }
  }, options.flushMs ?? 1_000);
  flushTimer.unref();

  const write = (e: RequestEvent, outcome?: ComparisonOutcome, reason?: string): void => {
    const q = e.url.indexOf('?');
    const line: Record<string, unknown> = {
      requestId: e.requestId,
      route: e.route,
      endpoint: e.endpoint,
      method: e.method,
      path: q === -1 ? e.url : e.url.slice(0, q),
      backend: e.backend,
      status: e.status,
      ttfbMs: ms(e.ttfbMs),
      totalMs: ms(e.totalMs),
      remoteAddress: e.remoteAddress,
      traceId: traceIdOf(e.traceparent),
    };
    if (outcome !== undefined) line.comparison = reason === undefined || reason === '' ? { outcome } : { outcome, reason };
    lineTime = e.startedAt;
    logger.info(line);
    unflushed = true;
  };

  return {
    onRequest(event) {
      if (sample < 1 && random() >= sample) return;
      const hold = options.holdMs(event.route);
      if (hold > 0 && held.size < maxHeld) held.set(event.requestId, { event, deadline: now() + hold });
      else write(event);
    },
    onComparison(requestId, outcome, reason) {
      const h = held.get(requestId);
      if (h === undefined) return;
      held.delete(requestId);
      write(h.event, outcome, reason);
    },
    sweep() {
      if (held.size === 0) return;
      const t = now();
      // Map order is insertion order and every route's hold is fixed, so the oldest deadlines come first (nearly).
      for (const [id, h] of held) {
        if (h.deadline > t) continue;
        held.delete(id);
        write(h.event);
      }
    },
    async close() {
      clearInterval(flushTimer);
      for (const h of held.values()) write(h.event);
      held.clear();
      await new Promise<void>((resolve) => {
        const done = () => resolve();
        const timer = setTimeout(done, 5_000);
        timer.unref();
        destination.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        destination.once('error', () => {
          clearTimeout(timer);
          resolve();
        });
        destination.end();
      });
    },
  };
}
