/**
 * What crosses between the proxying thread and the comparer worker. Bodies
 * travel packed into one fresh ArrayBuffer per pair that is transferred, not
 * cloned: the data plane's Buffers may be views into Node's shared pool (or
 * be read by other subscribers), so they are copied once and never detached.
 */
import type { CompareRulesInput } from '../../config/compare-schema.ts';
import type { CapturedResponse, ComparisonPairEvent } from '../../dataplane/events.ts';
import type { Difference, NoiseModelSnapshot } from '../../compare/index.ts';
import type { NoiseStatus } from '../../storage/store.ts';

/** How the comparer thread is scheduled next to the proxying thread (Linux only; see comparer-worker.ts). */
export type ComparerScheduling = 'normal' | 'nice' | 'idle';

export interface RouteCompareSettings {
  /** Route rules, merged over the global `compare` rules by the worker. */
  rules: CompareRulesInput | undefined;
  /** True when this route gets second legacy answers (replica, or noiseSample > 0): results wait for the noise model. */
  learnsNoise: boolean;
}

export interface ComparerSettings {
  global: CompareRulesInput;
  /** By route id; routes not listed (e.g. `default`) use `fallback`. */
  routes: Record<string, RouteCompareSettings>;
  fallback: RouteCompareSettings;
  redaction: { key: string; headers: string[]; paths: string[] };
  samplesPerGroup: number;
  /** How long and how many mismatching pairs an endpoint may hold while its noise model is still learning. */
  holdMs: number;
  holdMax: number;
}

/** A triaged group silences its (route, endpoint, path, kind) until it expires. */
export interface SilenceRule {
  route: string;
  endpoint: string;
  path: string;
  kind: string;
  status: 'accepted' | 'ignored';
  expiresAt?: number;
}

/** A human decision on a noise path; `kind` is not part of the key (the model learns per path). */
export interface NoiseDecision {
  route: string;
  endpoint: string;
  path: string;
  status: NoiseStatus;
}

interface PackedResponse {
  backend: CapturedResponse['backend'];
  status: number;
  headers: CapturedResponse['headers'];
  offset: number;
  length: number;
}

export interface PackedPair {
  id: number;
  requestId: string;
  route: string;
  endpoint: string;
  method: string;
  url: string;
  time: number;
  requestHeaders: Record<string, string | string[] | undefined>;
  request: { offset: number; length: number };
  served: PackedResponse;
  mirrored: PackedResponse;
  noise?: PackedResponse;
  bytes: ArrayBuffer;
}

export interface UnpackedResponse {
  backend: CapturedResponse['backend'];
  status: number;
  headers: CapturedResponse['headers'];
  body: Uint8Array;
}

export interface PairOutcome {
  requestId: string;
  route: string;
  endpoint: string;
  method: string;
  time: number;
  verdict: 'match' | 'mismatch';
  /** One entry per diff group this pair falls in (same path and kind counted once). */
  groups: Array<{ id: string; path: string; kind: string; sample?: unknown }>;
  /** Differences dropped as noise or by triage, for the log and debugging. */
  suppressed: number;
}

/**
 * What a flush does with mismatches held while their endpoint's noise model
 * learns: keep holding them, judge them now with what the model knows
 * (`release`, e.g. at the end of a replay), or give them up uncompared
 * (`skip`, on stop: judged early they would report noise as signal), so they
 * are counted as skipped instead of vanishing.
 */
export type HeldOnFlush = 'keep' | 'release' | 'skip';

/** A held pair given up without a verdict (see `HeldOnFlush`). */
export interface UnjudgedPair {
  requestId: string;
  route: string;
  endpoint: string;
  method: string;
  time: number;
}

export interface LearnedNoiseReport {
  route: string;
  endpoint: string;
  path: string;
  kind: string;
  raw: number;
  noise: number;
  rawTotal: number;
  noiseTotal: number;
}

export type ToComparer =
  | { type: 'settings'; settings: ComparerSettings }
  | { type: 'pairs'; pairs: PackedPair[] }
  | { type: 'silences'; rules: SilenceRule[] }
  | { type: 'noise-decisions'; decisions: NoiseDecision[] }
  | { type: 'restore-noise'; models: Record<string, NoiseModelSnapshot> }
  | { type: 'flush'; held: HeldOnFlush };

export type FromComparer =
  /** `held`: mismatches the comparer holds right now while their endpoints' noise is learned. */
  | { type: 'processed'; ids: number[]; outcomes: PairOutcome[]; held: number; unjudged?: UnjudgedPair[] }
  | { type: 'noise'; learned: LearnedNoiseReport[]; models: Record<string, NoiseModelSnapshot> }
  | { type: 'flushed' }
  | { type: 'error'; message: string; id?: number };

export type { Difference };

function sizeOf(r: CapturedResponse | undefined): number {
  return r === undefined ? 0 : r.body.byteLength;
}

/** Bytes a pair will occupy once packed; used for the in-flight budget before copying anything. */
export function packedSize(event: ComparisonPairEvent): number {
  return event.request.body.byteLength + sizeOf(event.served) + sizeOf(event.mirrored) + sizeOf(event.noise);
}

/**
 * @example
 * const packed = packPair(7, event);
 * worker.postMessage({ type: 'pair', pair: packed }, [packed.bytes]);
 */
export function packPair(id: number, event: ComparisonPairEvent): PackedPair {
  // Every byte is overwritten below, so skip the zero fill `new ArrayBuffer` pays
  // (it doubles the cost for megabyte bodies); the slow variant never uses the shared pool.
  const view = Buffer.allocUnsafeSlow(packedSize(event));
  const bytes = view.buffer as ArrayBuffer;
  let at = 0;
  const put = (body: Uint8Array): { offset: number; length: number } => {
    const offset = at;
    view.set(body, at);
    at += body.byteLength;
    return { offset, length: body.byteLength };
  };
  const response = (r: CapturedResponse): PackedResponse => ({ backend: r.backend, status: r.status, headers: r.headers, ...put(r.body) });
  const pair: PackedPair = {
    id,
    requestId: event.requestId,
    route: event.route,
    endpoint: event.endpoint,
    method: event.method,
    url: event.url,
    time: event.time,
    requestHeaders: event.request.headers,
    request: put(event.request.body),
    served: response(event.served),
    mirrored: response(event.mirrored),
    bytes,
  };
  if (event.noise !== undefined) pair.noise = response(event.noise);
  return pair;
}

export function unpackBody(pair: PackedPair, slot: { offset: number; length: number }): Uint8Array {
  return new Uint8Array(pair.bytes, slot.offset, slot.length);
}

export function unpackResponse(pair: PackedPair, r: PackedResponse): UnpackedResponse {
  return { backend: r.backend, status: r.status, headers: r.headers, body: unpackBody(pair, r) };
}
