/**
 * The live comparison pipeline: mirrored pairs from the data plane go to a
 * comparer worker thread, outcomes are counted per endpoint (and reported
 * to telemetry), mismatches are folded into diff groups with redacted
 * samples, and triage and noise decisions flow back into the comparer.
 */
import { randomBytes } from 'node:crypto';
import type { NoiseModelSnapshot } from '../../compare/index.ts';
import type { CutoverConfig } from '../../config/schema.ts';
import { channels, type ComparisonPairEvent, type ComparisonSkippedEvent, type MirrorBreakerEvent } from '../../dataplane/events.ts';
import type { Feature, FeatureContext, FeatureFactory } from '../feature.ts';
import type { TelemetryApi } from '../telemetry/telemetry-api.ts';
import type { ComparerScheduling, ComparerSettings, LearnedNoiseReport, NoiseDecision, RouteCompareSettings } from './comparer-protocol.ts';
import { createComparerPool } from './comparer-pool.ts';
import { createDiffsRoutes } from './diffs-routes.ts';
import { createResultsWriter, NOISE_MODELS_META_KEY, type EndpointTotals } from './results-writer.ts';
import { loadSilences } from './triage.ts';

export const REDACTION_KEY_META = 'redaction-key';
/** Skip reason of mismatches still held for noise learning when cutover stops. */
export const HELD_AT_STOP = 'held_at_stop';


export interface ComparisonOptions {
  /** Pairs handed to the worker and not yet compared; beyond it pairs are skipped as `comparer_busy`. */
  maxInFlight?: number;
  maxInFlightBytes?: number;
  /** How long an endpoint's mismatches may wait for its noise model (see docs/shadow.md). */
  holdMs?: number;
  holdMax?: number;
  flushMs?: number;
  /** How the comparer thread yields to the proxying thread on a shared core (Linux); env CUTOVER_COMPARER_SCHEDULING overrides. */
  comparerScheduling?: ComparerScheduling;
}

export interface ComparisonApi {
  /** Waits until every pair published so far is compared and written. */
  flush(): Promise<void>;
  totals(): EndpointTotals[];
  learnedNoise(): readonly LearnedNoiseReport[];
  /** Mismatched pairs held until their endpoint's noise can be judged (reported within `holdMs`). */
  held(): number;
  load(): { inFlight: number; inFlightBytes: number; busy: number };
}

const DEFAULTS: Required<ComparisonOptions> = {
  maxInFlight: 1024,
  maxInFlightBytes: 64 * 1024 * 1024,
  holdMs: 60_000,
  holdMax: 256,
  flushMs: 1000,
  comparerScheduling: schedulingFromEnv() ?? 'idle',
};

function schedulingFromEnv(): ComparerScheduling | undefined {
  const v = process.env.CUTOVER_COMPARER_SCHEDULING;
  return v === 'normal' || v === 'nice' || v === 'idle' ? v : undefined;
}

export async function redactionKey(context: FeatureContext): Promise<string> {
  const existing = await context.store.getMeta(REDACTION_KEY_META);
  if (existing !== undefined) return existing;
  const key = randomBytes(32).toString('base64url');
  await context.store.setMeta(REDACTION_KEY_META, key);
  return key;
}

function comparerSettings(config: CutoverConfig, key: string, options: Required<ComparisonOptions>): ComparerSettings {
  const hasReplica = config.backends.replica !== undefined;
  const routeSettings = (rules: RouteCompareSettings['rules'], noiseSample: number): RouteCompareSettings => ({
    rules,
    learnsNoise: hasReplica || noiseSample > 0,
  });
  const routes: Record<string, RouteCompareSettings> = {};
  for (const r of config.routes) routes[r.id] = routeSettings(r.rules, r.shadow?.noiseSample ?? config.defaults.shadow.noiseSample);
  return {
    global: config.compare,
    routes,
    fallback: routeSettings(undefined, config.defaults.shadow.noiseSample),
    redaction: { key, headers: [...config.results.redactHeaders], paths: [...config.results.redactPaths] },
    samplesPerGroup: config.results.samplesPerGroup,
    holdMs: options.holdMs,
    holdMax: options.holdMax,
  };
}

/**
 * @example
 * await startCutover({ config, features: [createTelemetryFeature, comparisonFeature({ maxInFlight: 256 })] });
 */
export function comparisonFeature(overrides: ComparisonOptions = {}): FeatureFactory {
  const options = { ...DEFAULTS, ...overrides };
  return async (context: FeatureContext): Promise<Feature> => {
    const { store, logger } = context;
    const key = await redactionKey(context);
    let learned: readonly LearnedNoiseReport[] = [];
    let busy = 0;

    let telemetry: TelemetryApi | undefined;
    const telemetryApi = (): TelemetryApi | undefined => (telemetry ??= context.feature<TelemetryApi>('telemetry'));

    const writer = await createResultsWriter({
      store,
      logger,
      samplesPerGroup: () => context.config().results.samplesPerGroup,
      retention: () => ({ olderThan: Date.now() - context.config().results.retention, maxRows: context.config().results.maxRows }),
      flushMs: options.flushMs,
    });

    /** A pair that was not compared: counted in the stored totals and in telemetry, under `reason`. */
    const countSkipped = (p: { route: string; endpoint: string; method: string; requestId?: string }, reason: string, time: number): void => {
      writer.countSkip(p.route, p.endpoint, p.method, reason, time);
      telemetryApi()?.recordComparison(p.route, p.endpoint, 'skipped', reason, { requestId: p.requestId, time });
    };

    const pool = createComparerPool({
      settings: comparerSettings(context.config(), key, options),
      scheduling: options.comparerScheduling,
      maxInFlight: options.maxInFlight,
      maxInFlightBytes: options.maxInFlightBytes,
      onOutcomes(outcomes) {
        writer.add(outcomes);
        const t = telemetryApi();
        if (t !== undefined) for (const o of outcomes) t.recordComparison(o.route, o.endpoint, o.verdict, undefined, { requestId: o.requestId, time: o.time });
      },
      onNoise(report, models) {
        learned = report;
        writer.noise(report, models);
      },
      onUnjudged(pairs) {
        // Stopping before an endpoint's noise model could judge them: counted, not reported, so no noise shows up as a difference.
        logger.warn({ pairs: pairs.length }, `${pairs.length} mismatch(es) held for noise learning were not judged before stop; counted as skipped (${HELD_AT_STOP})`);
        for (const p of pairs) countSkipped(p, HELD_AT_STOP, p.time);
      },
      onLost(lost, error) {
        logger.error({ error, lost: lost.length }, 'comparer failed; these pairs were not compared');
        const now = Date.now();
        for (const p of lost) countSkipped(p, 'comparer_error', now);
      },
    });

    let savedModels: Record<string, NoiseModelSnapshot> = {};
    const savedText = await store.getMeta(NOISE_MODELS_META_KEY);
    if (savedText !== undefined) {
      try {
        savedModels = JSON.parse(savedText) as Record<string, NoiseModelSnapshot>;
        pool.restoreNoise(savedModels);
      } catch (err) {
        logger.warn({ err }, 'saved noise models are unreadable; learning from scratch');
      }
    }
    // Until the restored models report, what the store says was learned noise stays hidden.
    const noiseTotalOf = (route: string, endpoint: string): number =>
      savedModels[route]?.endpoints.find((e) => e.endpoint === endpoint)?.noiseTotal ?? 0;
    learned = (await store.listNoise({ status: 'learned' })).map((r) => ({
      route: r.route,
      endpoint: r.endpoint,
      path: r.path,
      kind: r.kind,
      raw: r.rawCount,
      noise: r.noiseCount,
      rawTotal: r.total,
      noiseTotal: noiseTotalOf(r.route, r.endpoint),
    }));

    const pushDecisions = async (): Promise<void> => {
      pool.setSilences(await loadSilences(store, Date.now()));
      const decisions: NoiseDecision[] = (await store.listNoise({}))
        .filter((r) => r.status !== 'learned')
        .map((r) => ({ route: r.route, endpoint: r.endpoint, path: r.path, status: r.status }));
      pool.setNoiseDecisions(decisions);
    };
    await pushDecisions();

    const onPair = (message: unknown): void => {
      const event = message as ComparisonPairEvent;
      if (pool.submit(event)) return;
      busy += 1;
      countSkipped(event, 'comparer_busy', event.time);
    };
    const onSkip = (message: unknown): void => {
      const e = message as ComparisonSkippedEvent;
      writer.countSkip(e.route, e.endpoint, e.method, e.reason, e.time);
    };
    const onBreaker = (message: unknown): void => {
      const e = message as MirrorBreakerEvent;
      if (e.state === 'open') {
        logger.warn({ backend: e.backend, failures: e.failures, cooldownMs: e.cooldownMs }, `mirrors to ${e.backend} paused: ${e.failures} failed in a row; skipped as circuit_open until a trial mirror succeeds`);
      } else if (e.state === 'closed') {
        logger.info({ backend: e.backend }, `mirrors to ${e.backend} resumed: a trial mirror succeeded`);
      }
    };
    channels.comparisonPair.subscribe(onPair);
    channels.comparisonSkipped.subscribe(onSkip);
    channels.mirrorBreaker.subscribe(onBreaker);

    const flush = async (): Promise<void> => {
      await pool.flush();
      await writer.flush();
    };

    const api: ComparisonApi = {
      flush,
      totals: () => writer.totals(),
      learnedNoise: () => learned,
      held: () => pool.held,
      load: () => ({ inFlight: pool.inFlight, inFlightBytes: pool.inFlightBytes, busy }),
    };

    return {
      name: 'comparison',
      api,
      routes: createDiffsRoutes({ store, totals: api.totals, learnedNoise: api.learnedNoise, held: api.held, changed: pushDecisions, flush }),
      onConfig(config) {
        pool.configure(comparerSettings(config, key, options));
      },
      async close() {
        channels.comparisonPair.unsubscribe(onPair);
        channels.comparisonSkipped.unsubscribe(onSkip);
        channels.mirrorBreaker.unsubscribe(onBreaker);
        await pool.flush('skip');
        await pool.close();
        await writer.close();
      },
    };
  };
}

/** The comparison feature with production defaults, for `defaultFeatures`. */
export const createComparisonFeature: FeatureFactory = comparisonFeature();
