/**
 * A rollout plan as the state machine uses it: the config plan with its gate
 * overrides folded into the global gates. The resolved plan is copied into the
 * rollout state when the rollout starts, so editing cutover.yaml never moves a
 * running rollout under its feet; start it again to pick up changes.
 */
import { CutoverError, ErrorCodes } from '../core/errors.ts';
import {
  gatesSchema,
  rolloutPlanSchema,
  type GateOverridesConfig,
  type GatesConfig,
  type OnFailAction,
  type RolloutPlanConfig,
} from '../config/rollout-schema.ts';
import type { RolloutStep } from './step-syntax.ts';

export interface RolloutPlan {
  steps: RolloutStep[];
  onFail: OnFailAction;
  /** ms the gates may stay undecided before the rollout pauses for a human. */
  inconclusiveDeadline: number;
  /** ms between gate evaluations. */
  interval: number;
  /** ms of telemetry each evaluation looks at. */
  window: number;
  /** Failing evaluations in a row before `onFail` acts. */
  failureThreshold: number;
  /** Global gates with this plan's overrides applied. */
  gates: GatesConfig;
}

/**
 * Folds the plan's gate overrides into the global gates.
 *
 * @example
 * const plan = resolvePlan(config.plans['policy'], config.gates);
 * plan.gates.maxP95Ms // 2 when the plan says `gates: { maxP95Ms: 2 }`
 */
export function resolvePlan(plan: RolloutPlanConfig, globalGates: GatesConfig): RolloutPlan {
  return {
    steps: plan.steps.map((s) => ({ ...s, minSamples: { ...s.minSamples } })),
    onFail: plan.onFail,
    inconclusiveDeadline: plan.inconclusiveDeadline,
    interval: plan.interval,
    window: plan.window,
    failureThreshold: plan.failureThreshold,
    gates: mergeGates(globalGates, plan.gates),
  };
}

/**
 * Global gates with overrides on top; a field absent from the overrides
 * inherits, an explicit `null` (e.g. `maxP95Ms: null`) removes a global cap.
 *
 * @example mergeGates(gates, { maxLatencyRatio: 1.5 }).maxLatencyRatio // 1.5
 */
export function mergeGates(globalGates: GatesConfig, overrides: GateOverridesConfig): GatesConfig {
  const merged: GatesConfig = { ...globalGates, require: [...globalGates.require], latencyPercentiles: [...globalGates.latencyPercentiles] };
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = Array.isArray(value) ? [...value] : value;
  }
  return merged;
}

/**
 * Validates a plan written as YAML/JSON (string or object steps) and resolves
 * it; for the admin API and tests. Throws a coded error listing every problem.
 *
 * @example
 * parsePlan({ steps: ['shadow 30m', 'canary 5% 10m', 'candidate'], onFail: 'rampdown' })
 */
export function parsePlan(input: unknown, globalGates: GatesConfig = gatesSchema.parse({})): RolloutPlan {
  const result = rolloutPlanSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
    throw new CutoverError(ErrorCodes.INPUT_INVALID, `invalid rollout plan: ${problems.join('; ')}`, {
      hint: 'see docs/rollout.md for the plan format',
      details: problems,
    });
  }
  return resolvePlan(result.data, globalGates);
}
