/**
 * The persisted state of one rollout (one plan key). Plain JSON, stored with
 * `Store.putRollout(key, state)` after every transition, and complete enough
 * that a restarted process carries on at the same step with the same clock.
 */
import { CutoverError, ErrorCodes } from '../core/errors.ts';
import type { GateEvaluation } from './evaluate-gates.ts';
import type { RolloutPlan } from './plan.ts';
import type { RouteMode } from './route-mode.ts';
import { formatStep } from './step-syntax.ts';

export const ROLLOUT_STATE_VERSION = 1;

export const ROLLOUT_STATUSES = ['idle', 'running', 'paused', 'rolledBack', 'completed', 'killed'] as const;
/**
 * - idle: no plan running; routes at their configured mode.
 * - running: at `step` since `stepStartedAt`, gates evaluated every interval.
 * - paused: frozen at `step` (routes keep the step's mode), waiting for a human.
 * - rolledBack: routes on legacy after a failure or an abort.
 * - completed: routes on candidate after the last step.
 * - killed: the global kill switch holds routes on legacy; `beforeKill` says where to return.
 */
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];

export type DecisionAction = 'wait' | 'advance' | 'complete' | 'rollback' | 'rampdown' | 'pause';

/** The latest gate evaluation, kept so the API can show why a rollout is waiting. */
export interface EvaluationRecord extends GateEvaluation {
  at: number;
  decision: DecisionAction;
  reason: string;
}

export interface RampdownInfo {
  /** The step that first failed. */
  from: number;
  since: number;
}

export interface RolloutState {
  version: typeof ROLLOUT_STATE_VERSION;
  key: string;
  routes: string[];
  /** Snapshot taken at start; config edits apply on the next start. */
  plan: RolloutPlan;
  status: RolloutStatus;
  /** Current step index (for rolledBack/completed: the last step it was at). */
  step: number;
  /** When the current step began; survives restarts so minimum durations do too. */
  stepStartedAt: number | null;
  startedAt: number | null;
  updatedAt: number;
  /** Failing evaluations not interrupted by a passing one. */
  consecutiveFailures: number;
  /** Start of the current run of undecided evaluations (inconclusive, sub-threshold fail, samples short). */
  inconclusiveSince: number | null;
  /** Set while walking down the schedule after failures. */
  rampdown: RampdownInfo | null;
  /** Why the rollout is paused, rolled back, killed or completed. */
  reason: string | null;
  /** What this rollout last told the routes; null = no override, routes at their configured mode. */
  route: RouteMode | null;
  /** While killed: the status to return to when the kill switch is released. */
  beforeKill: { status: Exclude<RolloutStatus, 'killed'>; reason: string | null } | null;
  lastEvaluation: EvaluationRecord | null;
}

/**
 * A rollout that has not started: routes stay at their configured mode.
 *
 * @example
 * const state = createRolloutState({ key: 'wallet', routes: ['wallet-balance', 'wallet-send'], plan, at: Date.now() });
 */
export function createRolloutState(init: { key: string; routes: string[]; plan: RolloutPlan; at: number }): RolloutState {
  return {
    version: ROLLOUT_STATE_VERSION,
    key: init.key,
    routes: [...init.routes],
    plan: init.plan,
    status: 'idle',
    step: 0,
    stepStartedAt: null,
    startedAt: null,
    updatedAt: init.at,
    consecutiveFailures: 0,
    inconclusiveSince: null,
    rampdown: null,
    reason: null,
    route: null,
    beforeKill: null,
    lastEvaluation: null,
  };
}

/**
 * Checks a value read back from the store. Catches a state written by a newer
 * version or damaged by hand before the state machine acts on it.
 *
 * @example const state = parseRolloutState(await store.getRollout('wallet'));
 */
export function parseRolloutState(value: unknown): RolloutState {
  const fail = (why: string): never => {
    throw new CutoverError(ErrorCodes.STORE, `stored rollout state is unusable: ${why}`, {
      hint: 'abort the rollout and start it again, or restore the state from a backup',
    });
  };
  if (value === null || typeof value !== 'object') return fail('not an object');
  const s = value as Partial<RolloutState>;
  if (s.version !== ROLLOUT_STATE_VERSION) return fail(`version ${String(s.version)} is not ${ROLLOUT_STATE_VERSION}`);
  if (typeof s.key !== 'string') return fail('missing key');
  if (!Array.isArray(s.routes) || !s.routes.every((r) => typeof r === 'string')) return fail('routes must be a list of route ids');
  if (!ROLLOUT_STATUSES.includes(s.status as RolloutStatus)) return fail(`unknown status ${String(s.status)}`);
  if (!s.plan || !Array.isArray(s.plan.steps) || s.plan.steps.length === 0) return fail('missing plan steps');
  if (!Number.isInteger(s.step) || s.step! < 0 || s.step! >= s.plan.steps.length) return fail(`step ${String(s.step)} is outside the plan`);
  if ((s.status === 'running' || s.status === 'paused') && typeof s.stepStartedAt !== 'number') return fail('running without a step start time');
  if (s.status === 'killed' && !s.beforeKill) return fail('killed without a status to return to');
  return s as RolloutState;
}

/** The parts of a state an audit entry's `from`/`to` records. */
export interface StateSummary {
  status: RolloutStatus;
  step: number;
  stepLabel: string;
  route: RouteMode | null;
}

/** @example summarizeState(state) // { status: 'running', step: 2, stepLabel: 'canary 10% 30m', route: { mode: 'canary', percent: 10 } } */
export function summarizeState(state: RolloutState): StateSummary {
  const step = state.plan.steps[state.step];
  return {
    status: state.status,
    step: state.step,
    stepLabel: step ? formatStep(step) : '',
    route: state.route ? { ...state.route } : null,
  };
}
