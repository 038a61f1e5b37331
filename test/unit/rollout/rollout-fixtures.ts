/**
 * Builders shared by the rollout tests. States are reached through real
 * transitions rather than written by hand, so a test can't start from a state
 * the machine could never produce.
 */
import {
  createRolloutState,
  parsePlan,
  transition,
  type GateEvaluation,
  type GateOutcome,
  type RolloutEffect,
  type RolloutEvent,
  type RolloutPlan,
  type RolloutState,
  type SideStats,
  type TelemetrySnapshot,
} from '../../../src/rollout/index.ts';

export const T0 = Date.UTC(2025, 0, 1);
export const MIN = 60_000;
export const HOUR = 60 * MIN;

/** shadow 30m → canary 1% 10m → canary 10% 30m → canary 50% → live 1h → candidate */
export const STEPS = ['shadow 30m', 'canary 1% 10m', 'canary 10% 30m', 'canary 50%', 'live 1h', 'candidate'];

export function plan(overrides: Record<string, unknown> = {}): RolloutPlan {
  return parsePlan({ steps: STEPS, ...overrides });
}

export function idle(p: RolloutPlan = plan()): RolloutState {
  return createRolloutState({ key: 'wallet', routes: ['wallet-balance', 'wallet-send'], plan: p, at: T0 });
}

/** Applies events in order, failing loudly if one is rejected. */
export function run(state: RolloutState, ...events: RolloutEvent[]): RolloutState {
  for (const event of events) {
    const result = transition(state, event);
    if (result.rejected) throw new Error(`fixture event ${event.type} rejected: ${result.rejected}`);
    state = result.state;
  }
  return state;
}

/** Running at `step`, entered at `at`. */
export function runningAt(step: number, at = T0, p: RolloutPlan = plan()): RolloutState {
  return run(idle(p), { type: 'start', at, actor: 'cli', fromStep: step });
}

const side = (s: Partial<SideStats>, d: SideStats): SideStats => ({ ...d, ...s });

export function snapshot(
  over: { legacy?: Partial<SideStats>; candidate?: Partial<SideStats>; compared?: number; mismatches?: number; custom?: TelemetrySnapshot['custom'] } = {},
): TelemetrySnapshot {
  const snap: TelemetrySnapshot = {
    legacy: side(over.legacy ?? {}, { requests: 10_000, errors: 10, p95Ms: 50, p99Ms: 120, latencySamples: 10_000 }),
    candidate: side(over.candidate ?? {}, { requests: 2_000, errors: 2, p95Ms: 52, p99Ms: 125, latencySamples: 2_000 }),
    comparisons: { compared: over.compared ?? 2_000, mismatches: over.mismatches ?? 0 },
  };
  if (over.custom) snap.custom = over.custom;
  return snap;
}

/** Clearly healthy, clearly failing (5% errors vs 0.1%), and too little traffic to tell. */
export const HEALTHY = snapshot();
export const FAILING = snapshot({ candidate: { errors: 100 } });
export const THIN = snapshot({ candidate: { requests: 40, errors: 0, latencySamples: 40 }, compared: 40 });

export function tick(at: number, snap: TelemetrySnapshot = HEALTHY): RolloutEvent {
  return { type: 'tick', at, actor: 'driver', snapshot: snap };
}

/** A hand-made evaluation for decide(): one gate with the given outcome. */
export function evaluation(outcome: GateOutcome, samples = { legacy: 5_000, candidate: 5_000, compared: 5_000 }): GateEvaluation {
  return {
    outcome,
    results: [{ gate: 'errorRate', outcome, observed: {}, thresholds: {}, sampleSizes: {}, reason: `it is ${outcome}` }],
    samples,
    window: null,
  };
}

export function effectTypes(effects: RolloutEffect[]): string[] {
  return effects.map((e) => e.type);
}

export function routeSets(effects: RolloutEffect[]): string[] {
  return effects.flatMap((e) =>
    e.type === 'setRoute' ? [`${e.mode}${e.mode === 'canary' ? ` ${e.percent}%` : ''}`] : e.type === 'clearRoute' ? ['clear'] : [],
  );
}

export function audits(effects: RolloutEffect[]) {
  return effects.flatMap((e) => (e.type === 'audit' ? [e.entry] : []));
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
