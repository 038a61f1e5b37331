import { randomBytes } from 'node:crypto';

/**
 * Request ids must be unique across workers and instances but cheap enough for
 * the hot path: a random per-process prefix plus a counter avoids a syscall per
 * request while staying globally unique in practice.
 */
const processPrefix = randomBytes(6).toString('hex');
let counter = 0;

export function createRequestId(): string {
  counter = (counter + 1) % 0x7fffffff;
  // The prefix has a fixed length, so prefix + counter is unique without padding the counter.
  return processPrefix + counter.toString(36);
}

/** W3C trace-context ids: 16-byte trace id and 8-byte span id, lowercase hex. */
export function createTraceId(): string {
  return randomBytes(16).toString('hex');
}

export function createSpanId(): string {
  return randomBytes(8).toString('hex');
}

export function createId(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

/**
 * A W3C `traceparent` for requests that arrive without one. Random bytes come
 * from a pooled buffer refilled 64 KiB at a time, so the hot path makes no
 * syscall per request.
 */
const TRACE_BYTES = 24;
// 64 KiB: one getrandom call per ~2,700 traceparents.
const POOL_BYTES = 65_536;
let randomPool = Buffer.alloc(0);
let randomOffset = 0;

export function createTraceparent(): string {
  if (randomOffset + TRACE_BYTES > randomPool.length) {
    randomPool = randomBytes(POOL_BYTES);
    randomOffset = 0;
  }
  const traceId = randomPool.toString('hex', randomOffset, randomOffset + 16);
  const spanId = randomPool.toString('hex', randomOffset + 16, randomOffset + 24);
  randomOffset += TRACE_BYTES;
  return `00-${traceId}-${spanId}-01`;
}
