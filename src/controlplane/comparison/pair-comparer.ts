/**
 * The comparer's state machine, run inside the comparer worker: rules
 * compiled once per route, one noise model per route, human decisions on
 * noise and triage silences, and a short hold for mismatches on endpoints
 * whose noise model has not seen enough second legacy answers yet, so a
 * timestamp is not reported as a regression in the first minute of traffic.
 *
 * Kept free of worker plumbing so it can be driven directly in tests.
 */
import {
  compareLifted,
  compileRules,
  createNoiseModel,
  liftResponse,
  NoiseModel,
  type CompareResult,
  type CompiledRules,
  type Difference,
  type NoiseModelSnapshot,
} from '../../compare/index.ts';
import type { NoiseStatus } from '../../storage/store.ts';
import type { ComparerSettings, LearnedNoiseReport, NoiseDecision, PackedPair, PairOutcome, RouteCompareSettings, SilenceRule, UnjudgedPair, UnpackedResponse } from './comparer-protocol.ts';
import { unpackBody, unpackResponse } from './comparer-protocol.ts';
import { diffGroupId } from './diff-group-id.ts';
import { buildSample, redactDifference, type DiffSample } from './sample-redaction.ts';

interface HeldPair {
  requestId: string;
  route: string;
  endpoint: string;
  method: string;
  time: number;
  heldAt: number;
  raw: CompareResult;
  sample: DiffSample | undefined;
  /** Groups this pair's sample was reserved for when it was built. */
  sampleFor: Set<string>;
}

const SAMPLE_COUNTER_LIMIT = 100_000;
const HELD_TOTAL_LIMIT = 8192;

const key = (...parts: string[]): string => parts.join('\n');

// Kinds seen on noise are not part of a model snapshot; after a restart the
// path alone tells the likely kind, so the stored noise row keeps its key.
function kindOfPath(path: string): string {
  if (path.startsWith('headers.')) return 'header';
  return path === 'status' ? 'status' : 'value';
}

export class PairComparer {
  #settings: ComparerSettings;
  #rules = new Map<string, CompiledRules>();
  #models = new Map<string, NoiseModel>();
  /** The kind of difference last seen between two legacy answers at a path, for the noise table. */
  #noiseKinds = new Map<string, string>();
  #silences = new Map<string, SilenceRule>();
  #decisions = new Map<string, NoiseStatus>();
  #held = new Map<string, HeldPair[]>();
  #heldTotal = 0;
  #sampled = new Map<string, number>();
  #noiseChanged = false;

  constructor(settings: ComparerSettings) {
    this.#settings = settings;
  }

  /** New config: rules are recompiled on next use; learned counts are kept. */
  configure(settings: ComparerSettings): void {
    this.#settings = settings;
    this.#rules.clear();
  }

  setSilences(rules: readonly SilenceRule[]): void {
    this.#silences = new Map(rules.map((r) => [key(r.route, r.endpoint, r.path, r.kind), r]));
  }

  setNoiseDecisions(decisions: readonly NoiseDecision[]): void {
    this.#decisions = new Map(decisions.filter((d) => d.status !== 'learned').map((d) => [key(d.route, d.endpoint, d.path), d.status]));
  }

  restoreNoise(models: Record<string, NoiseModelSnapshot>): void {
    for (const [route, snapshot] of Object.entries(models)) {
      const model = NoiseModel.restore(snapshot, this.rulesFor(route).noise);
      this.#models.set(route, model);
    }
  }

  rulesFor(route: string): CompiledRules {
    let rules = this.#rules.get(route);
    if (rules === undefined) {
      rules = compileRules(this.#settings.global, this.#routeSettings(route).rules);
      this.#rules.set(route, rules);
    }
    return rules;
  }

  #routeSettings(route: string): RouteCompareSettings {
    return this.#settings.routes[route] ?? this.#settings.fallback;
  }

  #model(route: string): NoiseModel {
    let model = this.#models.get(route);
    if (model === undefined) {
      model = createNoiseModel(this.rulesFor(route).noise);
      this.#models.set(route, model);
    }
    return model;
  }

  /**
   * Compares one pair. Returns the outcomes ready now: this pair's (unless
   * it is held) and any held pairs its noise sample released.
   */
  compare(pair: PackedPair, now: number): PairOutcome[] {
    const rules = this.rulesFor(pair.route);
    const served = unpackResponse(pair, pair.served);
    const mirrored = unpackResponse(pair, pair.mirrored);
    // Live mode serves the candidate; which side is which comes from the backend, never from the slot.
    const legacy = served.backend === 'legacy' ? served : mirrored.backend === 'legacy' ? mirrored : served;
    const candidate = legacy === served ? mirrored : served;
    const legacyLifted = liftResponse(legacy, rules);
    const raw = compareLifted(legacyLifted, liftResponse(candidate, rules), rules);
    const noiseSide = pair.noise === undefined ? undefined : unpackResponse(pair, pair.noise);
    const noise = noiseSide === undefined ? undefined : compareLifted(legacyLifted, liftResponse(noiseSide, rules), rules);

    const model = this.#model(pair.route);
    model.observe({ endpoint: pair.endpoint, raw: raw.differences, noise: noise?.differences });
    if (raw.differences.length > 0 || noise !== undefined) this.#noiseChanged = true;
    const endpointKey = key(pair.route, pair.endpoint);
    if (noise !== undefined) {
      for (const d of noise.differences) this.#noiseKinds.set(key(pair.route, pair.endpoint, d.generalPath), d.kind);
    }

    const out: PairOutcome[] = [];
    if (noise !== undefined) out.push(...this.#releaseEndpoint(endpointKey, now, false));

    if (raw.verdict === 'match') {
      out.push({ requestId: pair.requestId, route: pair.route, endpoint: pair.endpoint, method: pair.method, time: pair.time, verdict: 'match', groups: [], suppressed: 0 });
      return out;
    }
    const sampleFor = this.#reserveSamples(pair, raw.differences);
    const sample = sampleFor.size > 0 ? this.#sampleOf(pair, legacy, candidate) : undefined;
    const held: HeldPair = { requestId: pair.requestId, route: pair.route, endpoint: pair.endpoint, method: pair.method, time: pair.time, heldAt: now, raw, sample, sampleFor };
    if (this.#mustHold(held)) {
      this.#hold(endpointKey, held, now, out);
      return out;
    }
    out.push(this.#finish(held, now));
    return out;
  }

  /** Held pairs whose time is up; call about once a second. */
  releaseDue(now: number): PairOutcome[] {
    const out: PairOutcome[] = [];
    for (const endpointKey of [...this.#held.keys()]) out.push(...this.#releaseEndpoint(endpointKey, now, false));
    return out;
  }

  /** Everything held, now (on close). */
  releaseAll(now: number): PairOutcome[] {
    const out: PairOutcome[] = [];
    for (const endpointKey of [...this.#held.keys()]) out.push(...this.#releaseEndpoint(endpointKey, now, true));
    return out;
  }

  /** Gives up every held pair without a verdict (on stop), so the caller can count them. */
  dropHeld(): UnjudgedPair[] {
    const out: UnjudgedPair[] = [];
    for (const queue of this.#held.values()) {
      for (const h of queue) out.push({ requestId: h.requestId, route: h.route, endpoint: h.endpoint, method: h.method, time: h.time });
    }
    this.#held.clear();
    this.#heldTotal = 0;
    return out;
  }

  get heldCount(): number {
    return this.#heldTotal;
  }

  /** Paths the models call noise now, with their evidence; undefined when nothing changed since the last call. */
  learnedNoise(): LearnedNoiseReport[] | undefined {
    if (!this.#noiseChanged) return undefined;
    this.#noiseChanged = false;
    const out: LearnedNoiseReport[] = [];
    for (const [route, model] of this.#models) {
      for (const n of model.listLearnedNoise(this.rulesFor(route).noise)) {
        out.push({ route, ...n, kind: this.#noiseKinds.get(key(route, n.endpoint, n.path)) ?? kindOfPath(n.path) });
      }
    }
    return out;
  }

  snapshots(): Record<string, NoiseModelSnapshot> {
    const out: Record<string, NoiseModelSnapshot> = {};
    for (const [route, model] of this.#models) out[route] = model.snapshot();
    return out;
  }

  #noiseSamples(route: string, endpoint: string): number {
    return this.#models.get(route)?.totals(endpoint)?.noiseTotal ?? 0;
  }

  // Hold only while some difference would be reported merely because the
  // model has too few noise samples to judge it.
  #mustHold(held: HeldPair): boolean {
    if (!this.#routeSettings(held.route).learnsNoise) return false;
    const rules = this.rulesFor(held.route);
    if (this.#noiseSamples(held.route, held.endpoint) >= rules.noise.minSamples) return false;
    return held.raw.differences.some((d) => !this.#decided(held.route, held.endpoint, d, held.heldAt));
  }

  #hold(endpointKey: string, held: HeldPair, now: number, out: PairOutcome[]): void {
    let queue = this.#held.get(endpointKey);
    if (queue === undefined) this.#held.set(endpointKey, (queue = []));
    queue.push(held);
    this.#heldTotal += 1;
    while (queue.length > this.#settings.holdMax || this.#heldTotal > HELD_TOTAL_LIMIT) {
      const oldest = queue.shift();
      if (oldest === undefined) break;
      this.#heldTotal -= 1;
      out.push(this.#finish(oldest, now));
    }
  }

  #releaseEndpoint(endpointKey: string, now: number, all: boolean): PairOutcome[] {
    const queue = this.#held.get(endpointKey);
    if (queue === undefined || queue.length === 0) return [];
    const first = queue[0]!;
    const ready = all || this.#noiseSamples(first.route, first.endpoint) >= this.rulesFor(first.route).noise.minSamples;
    const out: PairOutcome[] = [];
    while (queue.length > 0 && (ready || now - queue[0]!.heldAt >= this.#settings.holdMs)) {
      out.push(this.#finish(queue.shift()!, now));
      this.#heldTotal -= 1;
    }
    if (queue.length === 0) this.#held.delete(endpointKey);
    return out;
  }

  /** A difference whose fate does not depend on the model: a human decided, or triage silences it. */
  #decided(route: string, endpoint: string, d: Difference, now: number): boolean {
    return this.#decisions.has(key(route, endpoint, d.generalPath)) || this.#silenced(route, endpoint, d, now);
  }

  #silenced(route: string, endpoint: string, d: Difference, now: number): boolean {
    const rule = this.#silences.get(key(route, endpoint, d.generalPath, d.kind));
    return rule !== undefined && (rule.expiresAt === undefined || rule.expiresAt > now);
  }

  #finish(held: HeldPair, now: number): PairOutcome {
    const model = this.#model(held.route);
    const thresholds = this.rulesFor(held.route).noise;
    const kept: Difference[] = [];
    let suppressed = 0;
    for (const d of held.raw.differences) {
      const decision = this.#decisions.get(key(held.route, held.endpoint, d.generalPath));
      const isNoise = decision === 'confirmed' || (decision !== 'rejected' && model.classify(held.endpoint, d.generalPath, thresholds) === 'noise');
      if (isNoise || this.#silenced(held.route, held.endpoint, d, now)) suppressed += 1;
      else kept.push(d);
    }
    const outcome: PairOutcome = {
      requestId: held.requestId,
      route: held.route,
      endpoint: held.endpoint,
      method: held.method,
      time: held.time,
      verdict: kept.length > 0 || held.raw.truncated ? 'mismatch' : 'match',
      groups: [],
      suppressed,
    };
    const byGroup = new Map<string, { path: string; kind: string }>();
    for (const d of kept) {
      const id = diffGroupId(held.route, held.method, held.endpoint, d.generalPath, d.kind);
      if (!byGroup.has(id)) byGroup.set(id, { path: d.generalPath, kind: d.kind });
    }
    let sample: DiffSample | undefined;
    if (held.sample !== undefined && kept.length > 0) {
      sample = { ...held.sample, differences: kept.map((d) => redactDifference(d, this.#settings.redaction)) };
    }
    for (const [id, g] of byGroup) {
      const group: PairOutcome['groups'][number] = { id, path: g.path, kind: g.kind };
      if (sample !== undefined && held.sampleFor.has(id)) group.sample = sample;
      outcome.groups.push(group);
    }
    return outcome;
  }

  // Building a redacted sample decodes and re-encodes three bodies; skip it
  // once every group this pair could land in has its samples. Slots are
  // taken when the sample is built, so held pairs do not all build one.
  #reserveSamples(pair: PackedPair, differences: readonly Difference[]): Set<string> {
    const reserved = new Set<string>();
    if (this.#settings.samplesPerGroup === 0) return reserved;
    for (const d of differences) {
      const id = diffGroupId(pair.route, pair.method, pair.endpoint, d.generalPath, d.kind);
      if (reserved.has(id)) continue;
      const taken = this.#sampled.get(id) ?? 0;
      if (taken >= this.#settings.samplesPerGroup) continue;
      if (this.#sampled.size >= SAMPLE_COUNTER_LIMIT) this.#sampled.clear();
      this.#sampled.set(id, taken + 1);
      reserved.add(id);
    }
    return reserved;
  }

  #sampleOf(pair: PackedPair, legacy: UnpackedResponse, candidate: UnpackedResponse): DiffSample {
    return buildSample(
      {
        requestId: pair.requestId,
        time: pair.time,
        method: pair.method,
        url: pair.url,
        request: { headers: pair.requestHeaders, body: unpackBody(pair, pair.request) },
        legacy,
        candidate,
        differences: [],
      },
      this.#settings.redaction,
    );
  }
}
