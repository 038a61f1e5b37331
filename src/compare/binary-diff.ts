/**
 * Bodies with no structure the engine understands are compared by size and
 * SHA-256 digest: the difference record stays small whatever the body size.
 */
import { createHash } from 'node:crypto';
import type { DifferenceSink } from './difference.ts';

/**
 * @example
 * diffBinary(Buffer.from([1, 2]), Buffer.from([1, 2, 3]), sink)
 * // sink.items: [{ kind: 'size', path: 'body', legacy: 2, candidate: 3, detail: 'sha256 … vs …' }]
 */
export function diffBinary(legacy: Uint8Array, candidate: Uint8Array, sink: DifferenceSink): void {
  if (Buffer.from(legacy.buffer, legacy.byteOffset, legacy.byteLength).equals(candidate)) return;
  const a = sha256(legacy);
  const b = sha256(candidate);
  if (legacy.byteLength !== candidate.byteLength) {
    sink.add({ kind: 'size', path: 'body', generalPath: 'body', legacy: legacy.byteLength, candidate: candidate.byteLength, detail: `sha256 ${a} vs ${b}` });
  } else {
    sink.add({ kind: 'value', path: 'body', generalPath: 'body', legacy: `sha256:${a}`, candidate: `sha256:${b}`, detail: `same size (${legacy.byteLength} bytes), other content` });
  }
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
