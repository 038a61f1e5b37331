/**
 * Noise detection after Twitter's Diffy: a path that differs between legacy
 * and candidate about as often as it differs between two legacy answers is
 * noise (timestamps, random ids), not a regression.
 *
 * Per endpoint and generalised path the model counts pairs where the path
 * differed between legacy and candidate (raw) and between legacy and a
 * second legacy answer (noise). A path is signal when, with rawRate =
 * raw / rawTotal and noiseRate = noise / noiseTotal:
 *
 *   rawRate > noiseRate
 *   and (rawRate - noiseRate) / (rawRate + noiseRate) > relativeThreshold  (20%)
 *   and (rawRate - noiseRate) > absoluteThreshold                          (0.03%)
 *
 * With a replica every pair has a noise sample, rawTotal equals noiseTotal
 * and this is exactly Diffy's |raw-noise|/(raw+noise) and |raw-noise|/total.
 * Without one, legacy is asked twice for a fraction of requests: noiseTotal
 * is smaller, and comparing rates instead of counts keeps the test fair;
 * it simply needs more traffic before `minSamples` noise samples exist.
 *
 * Counts are per pair, not per difference: an array of 50 items whose
 * `$.items[*].ts` all differ counts once.
 */
import type { CompareResult, Difference } from './difference.ts';
import type { NoiseThresholds } from './rules.ts';

export type NoiseClass = 'signal' | 'noise' | 'unknown';

export interface NoiseModelOptions extends NoiseThresholds {
  /** Distinct (endpoint, path) counters kept; later paths stay `unknown`. Bounds memory on hostile traffic. */
  maxPaths: number;
}

export interface NoiseObservation {
  endpoint: string;
  /** Differences between legacy and candidate, after rules. */
  raw: readonly Difference[];
  /** Differences between legacy and a second legacy answer, when that pair had one. */
  noise?: readonly Difference[];
}

export interface LearnedNoise {
  endpoint: string;
  path: string;
  /** Pairs where legacy and candidate differed at this path. */
  raw: number;
  /** Noise samples where two legacy answers differed at this path. */
  noise: number;
  /** Pairs observed on the endpoint. */
  rawTotal: number;
  /** Noise samples observed on the endpoint. */
  noiseTotal: number;
}

export interface NoiseModelSnapshot {
  endpoints: Array<{ endpoint: string; rawTotal: number; noiseTotal: number; paths: Array<{ path: string; raw: number; noise: number }> }>;
}

interface EndpointCounts {
  rawTotal: number;
  noiseTotal: number;
  paths: Map<string, { raw: number; noise: number }>;
}

const DEFAULT_OPTIONS: NoiseModelOptions = { relativeThreshold: 0.2, absoluteThreshold: 0.0003, minSamples: 20, maxPaths: 10_000 };

/**
 * An accumulator with explicit state: observe pairs, then classify paths.
 * @example
 * const model = createNoiseModel(rules.noise);
 * model.observe({ endpoint: '/users/{id}', raw: result.differences, noise: noiseResult?.differences });
 * model.classify('/users/{id}', '$.meta.generated_at') // 'noise'
 */
export class NoiseModel {
  readonly options: NoiseModelOptions;
  #endpoints = new Map<string, EndpointCounts>();
  #pathCount = 0;

  constructor(options: Partial<NoiseModelOptions> = {}) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
  }

  observe(observation: NoiseObservation): void {
    const counts = this.#counts(observation.endpoint);
    counts.rawTotal += 1;
    for (const path of distinctPaths(observation.raw)) {
      const entry = this.#entry(counts, path);
      if (entry !== undefined) entry.raw += 1;
    }
    if (observation.noise === undefined) return;
    counts.noiseTotal += 1;
    for (const path of distinctPaths(observation.noise)) {
      const entry = this.#entry(counts, path);
      if (entry !== undefined) entry.noise += 1;
    }
  }

  /**
   * `unknown` until the endpoint has `minSamples` noise samples, and for
   * paths never seen differing; callers should treat `unknown` as signal.
   */
  classify(endpoint: string, generalPath: string, thresholds: NoiseThresholds = this.options): NoiseClass {
    const counts = this.#endpoints.get(endpoint);
    if (counts === undefined || counts.noiseTotal === 0 || counts.noiseTotal < thresholds.minSamples) return 'unknown';
    const entry = counts.paths.get(generalPath);
    if (entry === undefined || (entry.raw === 0 && entry.noise === 0)) return 'unknown';
    return isSignal(entry.raw / counts.rawTotal, entry.noise / counts.noiseTotal, thresholds) ? 'signal' : 'noise';
  }

  /** Pairs and noise samples observed on an endpoint so far. */
  totals(endpoint: string): { rawTotal: number; noiseTotal: number } | undefined {
    const counts = this.#endpoints.get(endpoint);
    return counts === undefined ? undefined : { rawTotal: counts.rawTotal, noiseTotal: counts.noiseTotal };
  }

  /** Every path currently classified as noise, with the counts that say so. */
  listLearnedNoise(thresholds: NoiseThresholds = this.options): LearnedNoise[] {
    const out: LearnedNoise[] = [];
    for (const [endpoint, counts] of this.#endpoints) {
      for (const [path, entry] of counts.paths) {
        if (this.classify(endpoint, path, thresholds) !== 'noise') continue;
        out.push({ endpoint, path, raw: entry.raw, noise: entry.noise, rawTotal: counts.rawTotal, noiseTotal: counts.noiseTotal });
      }
    }
    return out.sort((x, y) => (x.endpoint === y.endpoint ? x.path.localeCompare(y.path) : x.endpoint.localeCompare(y.endpoint)));
  }

  /** Plain data, to persist or to send from the comparer worker. */
  snapshot(): NoiseModelSnapshot {
    return {
      endpoints: [...this.#endpoints].map(([endpoint, c]) => ({
        endpoint,
        rawTotal: c.rawTotal,
        noiseTotal: c.noiseTotal,
        paths: [...c.paths].map(([path, e]) => ({ path, raw: e.raw, noise: e.noise })),
      })),
    };
  }

  static restore(snapshot: NoiseModelSnapshot, options: Partial<NoiseModelOptions> = {}): NoiseModel {
    const model = new NoiseModel(options);
    for (const e of snapshot.endpoints) {
      const counts = model.#counts(e.endpoint);
      counts.rawTotal = e.rawTotal;
      counts.noiseTotal = e.noiseTotal;
      for (const p of e.paths) {
        const entry = model.#entry(counts, p.path);
        if (entry === undefined) break;
        entry.raw = p.raw;
        entry.noise = p.noise;
      }
    }
    return model;
  }

  #counts(endpoint: string): EndpointCounts {
    let counts = this.#endpoints.get(endpoint);
    if (counts === undefined) {
      counts = { rawTotal: 0, noiseTotal: 0, paths: new Map() };
      this.#endpoints.set(endpoint, counts);
    }
    return counts;
  }

  #entry(counts: EndpointCounts, path: string): { raw: number; noise: number } | undefined {
    let entry = counts.paths.get(path);
    if (entry === undefined) {
      if (this.#pathCount >= this.options.maxPaths) return undefined;
      entry = { raw: 0, noise: 0 };
      counts.paths.set(path, entry);
      this.#pathCount += 1;
    }
    return entry;
  }
}

/**
 * @example const model = createNoiseModel({ relativeThreshold: 0.2, absoluteThreshold: 0.0003, minSamples: 20 });
 */
export function createNoiseModel(options: Partial<NoiseModelOptions> = {}): NoiseModel {
  return new NoiseModel(options);
}

/**
 * Diffy's test on rates.
 * @example isSignal(0.5, 0.1, { relativeThreshold: 0.2, absoluteThreshold: 0.0003, minSamples: 0 }) // true
 */
export function isSignal(rawRate: number, noiseRate: number, thresholds: Pick<NoiseThresholds, 'relativeThreshold' | 'absoluteThreshold'>): boolean {
  if (rawRate <= noiseRate) return false;
  const gap = rawRate - noiseRate;
  return gap / (rawRate + noiseRate) > thresholds.relativeThreshold && gap > thresholds.absoluteThreshold;
}

export interface FilteredResult extends CompareResult {
  /** Differences dropped because their path is learned noise on this endpoint. */
  suppressed: Difference[];
}

/**
 * Drops differences whose path is noise on the endpoint and recomputes the
 * verdict; `signal` and `unknown` differences stay.
 * @example
 * const filtered = filterNoise(compareResponses(a, b, rules), model, '/users/{id}', rules.noise);
 */
export function filterNoise(result: CompareResult, model: NoiseModel, endpoint: string, thresholds?: NoiseThresholds): FilteredResult {
  const kept: Difference[] = [];
  const suppressed: Difference[] = [];
  for (const diff of result.differences) {
    if (model.classify(endpoint, diff.generalPath, thresholds) === 'noise') suppressed.push(diff);
    else kept.push(diff);
  }
  return {
    verdict: kept.length > 0 || result.truncated ? 'mismatch' : 'match',
    differences: kept,
    truncated: result.truncated,
    suppressed,
  };
}

function distinctPaths(differences: readonly Difference[]): Set<string> {
  const paths = new Set<string>();
  for (const d of differences) paths.add(d.generalPath);
  return paths;
}
