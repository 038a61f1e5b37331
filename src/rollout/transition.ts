/**
 * The rollout state machine: `transition(state, event) → { state, effects }`.
 * Pure and synchronous; the driver persists the returned state, then runs the
 * effects. Events that do not apply come back with `rejected` and the state
 * unchanged, so the API can refuse them (409) with the reason.
 *
 * Safety-first asymmetry while the kill switch is on: pause and abort are
 * accepted (they change where the rollout returns on release); anything that
 * would send more traffic to the candidate is refused until release.
 */
import { decide } from './decide.ts';
import { evaluateGates, type GateEvaluation } from './evaluate-gates.ts';
import type { RolloutEffect, NotifyLevel, TransitionResult } from './rollout-effect.ts';
import type { RolloutEvent, RolloutEventType } from './rollout-event.ts';
import { CANDIDATE_ROUTE, LEGACY_ROUTE, sameRouteMode, stepRouteMode } from './route-mode.ts';
import { summarizeState, type EvaluationRecord, type RolloutState } from './state.ts';
import { formatStep } from './step-syntax.ts';

type EventOf<T extends RolloutEventType> = Extract<RolloutEvent, { type: T }>;
export type RolloutTransition = TransitionResult<RolloutState>;

/**
 * @example
 * let { state, effects } = transition(createRolloutState({ key: 'wallet', routes, plan, at: now }),
 *   { type: 'start', at: now, actor: 'cli' });
 * // effects: setRoute(shadow), audit(start), notify, scheduleEval(now + interval)
 * ({ state, effects } = transition(state, { type: 'tick', at: now + 30_000, actor: 'driver', snapshot }));
 */
export function transition(state: RolloutState, event: RolloutEvent): RolloutTransition {
  switch (event.type) {
    case 'start':
      return onStart(state, event);
    case 'tick':
      return onTick(state, event);
    case 'pause':
      return onPause(state, event);
    case 'resume':
      return onResume(state, event);
    case 'promote':
      return onPromote(state, event);
    case 'setStep':
      return onSetStep(state, event);
    case 'abort':
      return onAbort(state, event);
    case 'killSwitchOn':
      return onKillSwitchOn(state, event);
    case 'killSwitchOff':
      return onKillSwitchOff(state, event);
    case 'restart':
      return onRestart(state, event);
  }
}

function onStart(state: RolloutState, event: EventOf<'start'>): RolloutTransition {
  if (state.status === 'running' || state.status === 'paused') {
    return reject(state, event, `rollout "${state.key}" is already ${state.status}; use setStep or promote to move it`);
  }
  if (state.status === 'killed') return reject(state, event, 'the kill switch is on; release it before starting');
  const plan = event.plan ?? state.plan;
  const routes = event.routes ? [...event.routes] : state.routes;
  const from = event.fromStep ?? 0;
  if (!Number.isInteger(from) || from < 0 || from >= plan.steps.length) {
    return reject(state, event, `fromStep ${from} is outside the plan (0-${plan.steps.length - 1})`);
  }
  const base: RolloutState = {
    ...state,
    plan,
    routes,
    startedAt: event.at,
    rampdown: null,
    beforeKill: null,
    lastEvaluation: null,
    updatedAt: event.at,
  };
  const next = enterStep(base, from, event.at, `started by ${event.actor}`);
  const dropped = state.routes.filter((r) => !routes.includes(r));
  const effects: RolloutEffect[] = [];
  // Routes removed from the plan would otherwise keep the override of the previous run.
  if (dropped.length && state.route !== null) effects.push({ type: 'clearRoute', routes: dropped });
  effects.push(
    ...routeEffects(state, next),
    audit(state, next, 'start', event, { reason: `started at step ${from + 1}/${plan.steps.length} (${formatStep(plan.steps[from]!)})` }),
    notify(next, 'info', 'start', `rollout ${next.key} started at ${describeStep(next)} by ${event.actor}`),
  );
  if (next.status === 'completed') effects.push(notify(next, 'info', 'complete', `rollout ${next.key} completed: routes on candidate`));
  return { state: next, effects: withSchedule(next, event.at, effects) };
}

function onTick(state: RolloutState, event: EventOf<'tick'>): RolloutTransition {
  if (!event.snapshot && !event.evaluation) return reject(state, event, 'a tick needs a snapshot or an evaluation', false);
  if (state.status === 'paused') {
    // Keep evaluating while paused so whoever decides sees current gates; decisions wait for resume.
    const evaluation = evaluationOf(state, event);
    const lastEvaluation: EvaluationRecord = { ...evaluation, at: event.at, decision: 'wait', reason: `paused: ${state.reason ?? ''}` };
    return { state: { ...state, lastEvaluation, updatedAt: event.at }, effects: [] };
  }
  if (state.status !== 'running') {
    const why = state.status === 'killed' ? 'the kill switch is on' : `rollout is ${state.status}`;
    return reject(state, event, `${why}; nothing to evaluate`, false);
  }

  const evaluation = evaluationOf(state, event);
  const d = decide(state, evaluation, event.at);
  const record: EvaluationRecord = { ...evaluation, at: event.at, decision: d.action, reason: d.reason };
  const evidence = {
    reason: d.reason,
    gates: record,
    failures: { count: d.consecutiveFailures, threshold: state.plan.failureThreshold },
  };
  const counted: RolloutState = {
    ...state,
    updatedAt: event.at,
    lastEvaluation: record,
    consecutiveFailures: d.consecutiveFailures,
    inconclusiveSince: d.inconclusiveSince,
  };

  switch (d.action) {
    case 'wait': {
      // Waiting is not a transition; only a counted failure is worth an audit line.
      const effects: RolloutEffect[] = evaluation.outcome === 'fail' ? [audit(state, counted, 'gate-fail', event, evidence)] : [];
      return { state: counted, effects: withSchedule(counted, event.at, effects) };
    }
    case 'advance': {
      const next = enterStep(counted, d.toStep!, event.at, d.reason);
      const effects = [
        ...routeEffects(state, next),
        audit(state, next, 'advance', event, evidence),
        notify(next, 'info', 'advance', `rollout ${next.key} advanced to ${describeStep(next)}`),
      ];
      return { state: next, effects: withSchedule(next, event.at, effects) };
    }
    case 'complete': {
      const following = state.step + 1;
      const next =
        following < state.plan.steps.length
          ? enterStep(counted, following, event.at, d.reason)
          : { ...counted, ...settled, status: 'completed' as const, route: CANDIDATE_ROUTE, reason: d.reason, rampdown: null };
      const effects = [
        ...routeEffects(state, next),
        audit(state, next, 'complete', event, evidence),
        notify(next, 'info', 'complete', `rollout ${next.key} completed: routes on candidate`),
      ];
      return { state: next, effects };
    }
    case 'rollback': {
      const next: RolloutState = { ...counted, ...settled, status: 'rolledBack', route: LEGACY_ROUTE, reason: d.reason, rampdown: null };
      const effects = [
        ...routeEffects(state, next),
        audit(state, next, 'rollback', event, evidence),
        notify(next, 'critical', 'rollback', `rollout ${next.key} rolled back to legacy: ${d.reason}`),
      ];
      return { state: next, effects };
    }
    case 'rampdown': {
      const rampdown = state.rampdown ?? { from: state.step, since: event.at };
      const next = { ...enterStep(counted, d.toStep!, event.at, d.reason), rampdown };
      const effects = [
        ...routeEffects(state, next),
        audit(state, next, 'rampdown', event, evidence),
        notify(next, 'warning', 'rampdown', `rollout ${next.key} ramped down to ${describeStep(next)}: ${d.reason}`),
      ];
      return { state: next, effects: withSchedule(next, event.at, effects) };
    }
    case 'pause': {
      const next: RolloutState = {
        ...counted,
        status: 'paused',
        reason: d.reason,
        rampdown: d.rampdownSettled ? null : counted.rampdown,
      };
      const effects = [
        audit(state, next, 'pause', event, evidence),
        notify(next, 'warning', 'pause', `rollout ${next.key} paused at ${describeStep(next)}: ${d.reason}`),
      ];
      return { state: next, effects };
    }
  }
}

function onPause(state: RolloutState, event: EventOf<'pause'>): RolloutTransition {
  const reason = event.note ?? `paused by ${event.actor}`;
  if (state.status === 'running') {
    const next: RolloutState = { ...state, status: 'paused', reason, updatedAt: event.at };
    return {
      state: next,
      effects: [
        audit(state, next, 'pause', event, { reason, gates: state.lastEvaluation }),
        notify(next, 'info', 'pause', `rollout ${next.key} paused at ${describeStep(next)} by ${event.actor}`),
      ],
    };
  }
  if (state.status === 'killed' && state.beforeKill?.status === 'running') {
    const next: RolloutState = { ...state, beforeKill: { status: 'paused', reason }, updatedAt: event.at };
    return { state: next, effects: [audit(state, next, 'pause', event, { reason: `${reason}; stays paused when the kill switch is released` })] };
  }
  if (state.status === 'paused' || state.beforeKill?.status === 'paused') return reject(state, event, 'rollout is already paused');
  const status = state.status === 'killed' ? `${state.beforeKill?.status} (kill switch on)` : state.status;
  return reject(state, event, `nothing to pause: rollout is ${status}`);
}

function onResume(state: RolloutState, event: EventOf<'resume'>): RolloutTransition {
  if (state.status === 'killed') return reject(state, event, 'the kill switch is on; release it first');
  if (state.status !== 'paused') return reject(state, event, `only a paused rollout can resume; this one is ${state.status}`);
  // A fresh step clock: the gates then judge only traffic seen after the human looked.
  const next: RolloutState = {
    ...state,
    status: 'running',
    stepStartedAt: event.at,
    consecutiveFailures: 0,
    inconclusiveSince: null,
    reason: null,
    route: stepRouteMode(state.plan.steps[state.step]!),
    updatedAt: event.at,
  };
  const effects = [
    ...routeEffects(state, next),
    audit(state, next, 'resume', event, { reason: event.note ?? `resumed by ${event.actor}`, gates: state.lastEvaluation }),
    notify(next, 'info', 'resume', `rollout ${next.key} resumed at ${describeStep(next)} by ${event.actor}`),
  ];
  return { state: next, effects: withSchedule(next, event.at, effects) };
}

function onPromote(state: RolloutState, event: EventOf<'promote'>): RolloutTransition {
  if (state.status === 'killed') return reject(state, event, 'the kill switch is on; release it first');
  if (state.status !== 'running' && state.status !== 'paused') {
    return reject(state, event, `only a running or paused rollout can be promoted; this one is ${state.status}`);
  }
  const following = state.step + 1;
  const reason = event.note ?? `promoted by ${event.actor}`;
  const next =
    following < state.plan.steps.length
      ? { ...enterStep({ ...state, updatedAt: event.at }, following, event.at, reason), rampdown: null }
      : { ...state, ...settled, status: 'completed' as const, route: CANDIDATE_ROUTE, reason, rampdown: null, updatedAt: event.at };
  const effects = [
    ...routeEffects(state, next),
    // The gates at the moment of promotion go on record: promoting past inconclusive or failing gates is a human's call.
    audit(state, next, 'promote', event, { reason, gates: state.lastEvaluation }),
    notify(next, 'info', 'promote', `rollout ${next.key} promoted to ${describeStep(next)} by ${event.actor}`),
  ];
  return { state: next, effects: withSchedule(next, event.at, effects) };
}

function onSetStep(state: RolloutState, event: EventOf<'setStep'>): RolloutTransition {
  if (state.status === 'killed') return reject(state, event, 'the kill switch is on; release it first');
  if (state.status !== 'running' && state.status !== 'paused') {
    return reject(state, event, `setStep moves an active rollout; this one is ${state.status} (use start with fromStep)`);
  }
  const last = state.plan.steps.length - 1;
  if (!Number.isInteger(event.step) || event.step < 0 || event.step > last) {
    return reject(state, event, `step index ${event.step} is outside the plan (0-${last})`);
  }
  const reason = event.note ?? `set to step ${event.step + 1} by ${event.actor}`;
  const next = { ...enterStep({ ...state, updatedAt: event.at }, event.step, event.at, reason), rampdown: null };
  const effects = [
    ...routeEffects(state, next),
    audit(state, next, 'set-step', event, { reason, gates: state.lastEvaluation }),
    notify(next, 'info', 'set-step', `rollout ${next.key} set to ${describeStep(next)} by ${event.actor}`),
  ];
  return { state: next, effects: withSchedule(next, event.at, effects) };
}

function onAbort(state: RolloutState, event: EventOf<'abort'>): RolloutTransition {
  const reason = event.note ?? `aborted by ${event.actor}`;
  const abortable = (s: string) => s === 'running' || s === 'paused' || s === 'completed';
  if (state.status === 'killed') {
    if (!state.beforeKill || !abortable(state.beforeKill.status)) {
      return reject(state, event, `nothing to abort: rollout was ${state.beforeKill?.status} before the kill switch`);
    }
    const next: RolloutState = { ...state, beforeKill: { status: 'rolledBack', reason }, updatedAt: event.at };
    return { state: next, effects: [audit(state, next, 'abort', event, { reason: `${reason}; stays on legacy when the kill switch is released` })] };
  }
  if (!abortable(state.status)) {
    return reject(state, event, state.status === 'rolledBack' ? 'rollout is already rolled back' : 'rollout has not started');
  }
  const next: RolloutState = { ...state, ...settled, status: 'rolledBack', route: LEGACY_ROUTE, reason, rampdown: null, updatedAt: event.at };
  const effects = [
    ...routeEffects(state, next),
    audit(state, next, 'abort', event, { reason, gates: state.lastEvaluation }),
    notify(next, 'warning', 'abort', `rollout ${next.key} rolled back to legacy by ${event.actor}`),
  ];
  return { state: next, effects };
}

function onKillSwitchOn(state: RolloutState, event: EventOf<'killSwitchOn'>): RolloutTransition {
  if (state.status === 'killed') return reject(state, event, 'the kill switch is already on', false);
  const reason = event.note ?? `kill switch (${event.actor})`;
  const { status } = state;
  const next: RolloutState = {
    ...state,
    status: 'killed',
    beforeKill: { status, reason: state.reason },
    route: LEGACY_ROUTE,
    reason,
    updatedAt: event.at,
  };
  // Always re-sent, even when routes look like legacy already: the kill switch must not depend on our bookkeeping being right.
  const effects = [
    ...routeEffects(state, next, true),
    audit(state, next, 'kill-switch-on', event, { reason, gates: state.lastEvaluation }),
    notify(next, 'critical', 'kill-switch-on', `kill switch on: ${next.key} held on legacy (${event.actor})`),
  ];
  return { state: next, effects };
}

function onKillSwitchOff(state: RolloutState, event: EventOf<'killSwitchOff'>): RolloutTransition {
  if (state.status !== 'killed' || !state.beforeKill) return reject(state, event, 'the kill switch is not on', false);
  const { status, reason } = state.beforeKill;
  const base: RolloutState = { ...state, status, reason, beforeKill: null, updatedAt: event.at };
  let next: RolloutState;
  switch (status) {
    case 'idle':
      next = { ...base, route: null };
      break;
    case 'rolledBack':
      next = { ...base, route: LEGACY_ROUTE };
      break;
    case 'completed':
      next = { ...base, route: CANDIDATE_ROUTE };
      break;
    case 'paused':
      next = { ...base, route: stepRouteMode(state.plan.steps[state.step]!) };
      break;
    case 'running':
      // The candidate saw no traffic while killed, so the step starts over and the gates see only fresh data.
      next = {
        ...base,
        ...settled,
        stepStartedAt: event.at,
        route: stepRouteMode(state.plan.steps[state.step]!),
      };
      break;
  }
  const effects = [
    ...routeEffects(state, next),
    audit(state, next, 'kill-switch-off', event, { reason: event.note ?? `kill switch released (${event.actor}); back to ${status}` }),
    notify(next, 'info', 'kill-switch-off', `kill switch released: ${next.key} back to ${status}${status === 'running' ? ` at ${describeStep(next)}` : ''}`),
  ];
  return { state: next, effects: withSchedule(next, event.at, effects) };
}

function onRestart(state: RolloutState, event: EventOf<'restart'>): RolloutTransition {
  // Same step, same step clock, same counters: only the routes are re-asserted, because the data plane may have started from config.
  const next: RolloutState = { ...state, updatedAt: event.at };
  const effects = [
    ...(state.route === null ? [] : routeEffects(state, next, true)),
    audit(state, next, 'restart', event, { reason: `process restarted; resuming ${state.status}${isActive(state) ? ` at ${describeStep(state)}` : ''}` }),
  ];
  return { state: next, effects: withSchedule(next, event.at, effects) };
}

/** Counters cleared whenever a step starts or the rollout stops running. */
const settled = { consecutiveFailures: 0, inconclusiveSince: null } as const;

/** Running at `index`, or completed when that step is the final candidate step. */
function enterStep(state: RolloutState, index: number, at: number, reason: string): RolloutState {
  const step = state.plan.steps[index]!;
  if (step.mode === 'candidate') {
    return { ...state, ...settled, status: 'completed', step: index, stepStartedAt: at, route: CANDIDATE_ROUTE, rampdown: null, reason };
  }
  return { ...state, ...settled, status: 'running', step: index, stepStartedAt: at, route: stepRouteMode(step), reason: null };
}

function evaluationOf(state: RolloutState, event: EventOf<'tick'>): GateEvaluation {
  return event.evaluation ?? evaluateGates(event.snapshot!, state.plan.gates);
}

function isActive(state: RolloutState): boolean {
  return state.status === 'running' || state.status === 'paused';
}

function describeStep(state: RolloutState): string {
  const step = state.plan.steps[state.step]!;
  return `step ${state.step + 1}/${state.plan.steps.length} (${formatStep(step)})`;
}

function routeEffects(before: RolloutState, after: RolloutState, force = false): RolloutEffect[] {
  if (after.route === null) {
    return before.route === null && !force ? [] : [{ type: 'clearRoute', routes: [...after.routes] }];
  }
  if (!force && sameRouteMode(before.route, after.route)) return [];
  return [{ type: 'setRoute', routes: [...after.routes], mode: after.route.mode, percent: after.route.percent }];
}

function withSchedule(state: RolloutState, at: number, effects: RolloutEffect[]): RolloutEffect[] {
  if (state.status !== 'running') return effects;
  return [...effects, { type: 'scheduleEval', subject: state.key, at: at + state.plan.interval }];
}

function audit(before: RolloutState, after: RolloutState, action: string, event: RolloutEvent, evidence: Record<string, unknown>): RolloutEffect {
  return {
    type: 'audit',
    entry: {
      time: event.at,
      subject: after.key,
      action,
      actor: event.actor,
      from: summarizeState(before),
      to: summarizeState(after),
      evidence: event.note === undefined ? evidence : { ...evidence, note: event.note },
    },
  };
}

function notify(state: RolloutState, level: NotifyLevel, event: string, message: string): RolloutEffect {
  return { type: 'notify', subject: state.key, level, event, message };
}

/** Operator commands that do not apply are audited, so the log shows who tried what; driver noise (ticks, repeated kill signals) is not. */
function reject(state: RolloutState, event: RolloutEvent, reason: string, record = true): RolloutTransition {
  const effects = record ? [audit(state, state, `${kebab(event.type)}-rejected`, event, { reason })] : [];
  return { state, effects, rejected: reason };
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
