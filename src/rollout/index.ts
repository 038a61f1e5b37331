/**
 * The rollout engine's pure core. The driver (timers, store, telemetry
 * queries, notifications, API, CLI) builds on these exports only.
 */
export { normalQuantile } from './normal-quantile.ts';
export { betaQuantile, logGamma, regularizedIncompleteBeta } from './incomplete-beta.ts';
export { clopperPearsonBounds, differenceBounds, wilsonBounds } from './proportion-bounds.ts';
export type { Bounds, DifferenceBounds } from './proportion-bounds.ts';

export {
  STEP_MODES,
  describeModeProblem,
  formatStep,
  normalizeStepObject,
  parseStep,
  parseStepText,
} from './step-syntax.ts';
export type { RolloutStep, StepMode, StepObjectInput, StepParseResult, StepSampleMinimums } from './step-syntax.ts';
export { mergeGates, parsePlan, resolvePlan } from './plan.ts';
export type { RolloutPlan } from './plan.ts';
export { resolvePlanTargets } from './plan-targets.ts';
export type { PlanTarget, PlanTargetsResult } from './plan-targets.ts';
export { CANDIDATE_ROUTE, LEGACY_ROUTE, sameRouteMode, stepRouteMode } from './route-mode.ts';
export type { RouteMode } from './route-mode.ts';

export type { ComparisonStats, CustomCheckResult, SideStats, TelemetrySnapshot } from './telemetry-snapshot.ts';
export { combineOutcomes } from './gate-result.ts';
export type { GateName, GateOutcome, GateResult } from './gate-result.ts';
export { evaluateErrorRate } from './error-rate-gate.ts';
export { evaluateLatency } from './latency-gate.ts';
export { evaluateMismatch } from './mismatch-gate.ts';
export { evaluateCustom } from './custom-gate.ts';
export { evaluateGates } from './evaluate-gates.ts';
export type { GateEvaluation, SampleCounts } from './evaluate-gates.ts';

export { ROLLOUT_STATE_VERSION, ROLLOUT_STATUSES, createRolloutState, parseRolloutState, summarizeState } from './state.ts';
export type { DecisionAction, EvaluationRecord, RampdownInfo, RolloutState, RolloutStatus, StateSummary } from './state.ts';
export type { RolloutEvent, RolloutEventType } from './rollout-event.ts';
export type { NotifyLevel, RolloutEffect, TransitionResult } from './rollout-effect.ts';
export { evaluationWindow } from './evaluation-window.ts';
export { decide } from './decide.ts';
export type { Decision } from './decide.ts';
export { transition } from './transition.ts';
export type { RolloutTransition } from './transition.ts';

export {
  GATE_NAMES,
  LATENCY_PERCENTILES,
  ON_FAIL_ACTIONS,
  gateOverridesSchema,
  gatesSchema,
  rolloutPlanSchema,
  rolloutStepSchema,
} from '../config/rollout-schema.ts';
export type {
  BuiltinGateName,
  CustomGateConfig,
  GateOverridesConfig,
  GatesConfig,
  LatencyPercentile,
  OnFailAction,
  RolloutPlanConfig,
  RolloutPlanInput,
} from '../config/rollout-schema.ts';
