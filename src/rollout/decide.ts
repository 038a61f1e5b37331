/**
 * The decision for one evaluation of a running rollout. Pure: the state's
 * counters and clock plus the gate evaluation in, the action out.
 *
 * Order of judgement:
 * 1. Any gate failed → count it; at `failureThreshold` in a row, apply onFail.
 * 2. All passed and the step's sample minimums are met → reset the counters;
 *    advance once the step's minimum duration is over (after a rampdown:
 *    pause instead, so a human decides whether to climb again).
 * 3. Otherwise undecided; undecided for `inconclusiveDeadline` → pause, needs a human.
 *
 * A passing evaluation resets the failure count; an inconclusive one leaves it
 * as is, so failures separated only by "not sure" still add up.
 */
import type { GateEvaluation } from './evaluate-gates.ts';
import type { DecisionAction, RolloutState } from './state.ts';
import { formatStep } from './step-syntax.ts';
import { approxDuration } from './text-format.ts';

export interface Decision {
  action: DecisionAction;
  /** Target step for advance and rampdown. */
  toStep: number | null;
  reason: string;
  /** Counters to store with the state after this evaluation. */
  consecutiveFailures: number;
  inconclusiveSince: number | null;
  /** True for pauses that need someone to look (deadline passed, rampdown settled). */
  needsHuman: boolean;
  /** The rampdown found a healthy step: it ends here, and a resume climbs again. */
  rampdownSettled?: boolean;
}

/**
 * @example
 * const d = decide(state, evaluateGates(snapshot, state.plan.gates), Date.now());
 * if (d.action === 'advance') … // d.toStep
 */
export function decide(state: RolloutState, evaluation: GateEvaluation, now: number): Decision {
  const keep = { consecutiveFailures: state.consecutiveFailures, inconclusiveSince: state.inconclusiveSince };
  if (state.status !== 'running') {
    return { action: 'wait', toStep: null, reason: `rollout is ${state.status}, not running`, needsHuman: false, ...keep };
  }
  const { plan } = state;
  const index = state.step;
  const step = plan.steps[index]!;
  const stepText = `step ${index + 1}/${plan.steps.length} (${formatStep(step)})`;

  let undecided: string;
  let failures = state.consecutiveFailures;

  if (evaluation.outcome === 'fail') {
    failures += 1;
    const failed = evaluation.results.filter((r) => r.outcome === 'fail');
    const why = failed.map((r) => `${r.gate}: ${r.reason}`).join('; ');
    if (failures >= plan.failureThreshold) {
      const base = { consecutiveFailures: failures, inconclusiveSince: null, needsHuman: false };
      const counted = `${failures} failing evaluation${failures === 1 ? '' : 's'} in a row at ${stepText}`;
      if (plan.onFail === 'pause') {
        return { ...base, action: 'pause', toStep: null, needsHuman: true, reason: `${counted}; paused as the plan says (onFail: pause). ${why}` };
      }
      if (plan.onFail === 'rampdown' && index > 0) {
        return { ...base, action: 'rampdown', toStep: index - 1, reason: `${counted}; ramping down to step ${index}/${plan.steps.length} (${formatStep(plan.steps[index - 1]!)}). ${why}` };
      }
      const tail = plan.onFail === 'rampdown' ? '; no lower step left, rolling back' : '; rolling back';
      return { ...base, action: 'rollback', toStep: null, reason: `${counted}${tail}. ${why}` };
    }
    undecided = `gate failed (${failures} of ${plan.failureThreshold} in a row before acting): ${why}`;
  } else if (evaluation.outcome === 'pass') {
    failures = 0;
    const short = samplesShort(step.minSamples, evaluation.samples);
    if (short) {
      undecided = `gates pass but ${short}`;
    } else {
      const elapsed = Math.max(0, now - (state.stepStartedAt ?? now));
      const base = { consecutiveFailures: 0, inconclusiveSince: null };
      if (elapsed < step.duration) {
        return { ...base, action: 'wait', toStep: null, needsHuman: false, reason: `gates pass; ${approxDuration(step.duration - elapsed)} left of ${stepText}` };
      }
      if (state.rampdown) {
        return {
          ...base,
          action: 'pause',
          toStep: null,
          needsHuman: true,
          rampdownSettled: true,
          reason: `healthy at ${stepText} after ramping down from step ${state.rampdown.from + 1}; needs a human to resume (climb again) or abort`,
        };
      }
      if (index + 1 >= plan.steps.length || plan.steps[index + 1]!.mode === 'candidate') {
        return { ...base, action: 'complete', toStep: null, needsHuman: false, reason: `gates pass and ${stepText} is done; rollout complete` };
      }
      return {
        ...base,
        action: 'advance',
        toStep: index + 1,
        needsHuman: false,
        reason: `gates pass and ${stepText} is done; advancing to step ${index + 2}/${plan.steps.length} (${formatStep(plan.steps[index + 1]!)})`,
      };
    }
  } else {
    const open = evaluation.results.filter((r) => r.outcome === 'inconclusive');
    undecided = `gates inconclusive: ${open.map((r) => `${r.gate}: ${r.reason}`).join('; ')}`;
  }

  const since = state.inconclusiveSince ?? now;
  const undecidedFor = now - since;
  if (undecidedFor >= plan.inconclusiveDeadline) {
    return {
      action: 'pause',
      toStep: null,
      consecutiveFailures: failures,
      inconclusiveSince: since,
      needsHuman: true,
      reason: `needs a human: no decision at ${stepText} for ${approxDuration(undecidedFor)} (deadline ${approxDuration(plan.inconclusiveDeadline)}); ${undecided}`,
    };
  }
  return { action: 'wait', toStep: null, consecutiveFailures: failures, inconclusiveSince: since, needsHuman: false, reason: undecided };
}

function samplesShort(
  min: { legacy: number; candidate: number; compared: number },
  have: { legacy: number; candidate: number; compared: number },
): string | undefined {
  const missing: string[] = [];
  for (const side of ['legacy', 'candidate', 'compared'] as const) {
    if (have[side] < min[side]) missing.push(`${side} ${have[side]}/${min[side]}`);
  }
  return missing.length ? `the step needs more samples (${missing.join(', ')})` : undefined;
}
