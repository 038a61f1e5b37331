/**
 * Messages between the proxying thread and the mirror thread. Bodies of one
 * batch travel packed in one transferred ArrayBuffer (offset and length per
 * item), so a batch costs one copy and no structured clone of byte data.
 */
import type { FailureCause } from './events.ts';
import type { ThreadScheduling } from './thread-priority.ts';
import type { UpstreamSpec } from './upstream-pool.ts';

export interface MirrorWorkerData {
  scheduling: ThreadScheduling;
}

export interface MirrorJob {
  id: number;
  upstream: number;
  method: string;
  url: string;
  headers: string[];
  /** -1: no body. */
  bodyOffset: number;
  bodyLength: number;
  captureLimit: number;
  timeout: number;
}

export interface MirrorOutcome {
  id: number;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bodyOffset: number;
  bodyLength: number;
  truncated: boolean;
  ttfbMs: number;
  totalMs: number;
  responseBytes: number;
  failure?: FailureCause;
}

export type ToMirrorThread =
  | { type: 'upstream'; id: number; spec: UpstreamSpec }
  /** The upstream's pool closes once its mirrors in flight have finished. */
  | { type: 'retire'; ids: number[] }
  | { type: 'mirror'; jobs: MirrorJob[]; bodies: ArrayBuffer | null }
  | { type: 'close' };

export type FromMirrorThread =
  /** Its modules are loaded: mirrors sent from now on start at once. */
  | { type: 'ready' }
  | { type: 'done'; outcomes: MirrorOutcome[]; bodies: ArrayBuffer | null }
  | { type: 'closed' };

/**
 * Copies `parts` into one fresh buffer (transferable: never a view into Node's
 * shared pool) and returns each part's offset; null when every part is empty.
 * @example
 * const { buffer, offsets } = packBodies([a, b]); // offsets[1] === a.length
 */
export function packBodies(parts: ReadonlyArray<Uint8Array | null>): { buffer: ArrayBuffer | null; offsets: number[] } {
  let total = 0;
  for (const p of parts) if (p !== null) total += p.length;
  const offsets: number[] = [];
  if (total === 0) {
    for (const p of parts) offsets.push(p === null ? -1 : 0);
    return { buffer: null, offsets };
  }
  const buffer = new ArrayBuffer(total);
  const bytes = new Uint8Array(buffer);
  let at = 0;
  for (const p of parts) {
    if (p === null) {
      offsets.push(-1);
      continue;
    }
    offsets.push(at);
    bytes.set(p, at);
    at += p.length;
  }
  return { buffer, offsets };
}

const EMPTY = Buffer.alloc(0);

/** The part of a packed batch at `offset`/`length`, as a Buffer view (no copy); null for offset -1. */
export function unpackBody(buffer: ArrayBuffer | null, offset: number, length: number): Buffer | null {
  if (offset < 0) return null;
  if (length === 0 || buffer === null) return EMPTY;
  return Buffer.from(buffer, offset, length);
}
