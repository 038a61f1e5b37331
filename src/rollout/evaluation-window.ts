/**
 * The telemetry window the next evaluation should query: the plan's window,
 * clipped so it never reaches back before the current step began. Without the
 * clip, a step's first evaluations would judge traffic from the previous step
 * (a 1% canary's numbers deciding the 10% step).
 */
import type { RolloutState } from './state.ts';

/**
 * @example
 * const { from, to } = evaluationWindow(state, Date.now()) ?? skip;
 * const snapshot = await buildSnapshot(state.routes, from, to);
 */
export function evaluationWindow(state: RolloutState, now: number): { from: number; to: number } | null {
  if (state.status !== 'running' && state.status !== 'paused') return null;
  const from = Math.max(now - state.plan.window, state.stepStartedAt ?? now);
  return { from: Math.min(from, now), to: now };
}
