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
  return processPrefix + counter.toString(36).padStart(6, '0');
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
