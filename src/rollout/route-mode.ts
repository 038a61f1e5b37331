/**
 * What a rollout tells the data plane: a mode and a canary percent. The
 * percent only matters in canary mode; it is 0 for every other mode, like
 * route percents in cutover.yaml.
 */
import type { Mode } from '../config/schema.ts';
import type { RolloutStep } from './step-syntax.ts';

export interface RouteMode {
  mode: Mode;
  percent: number;
}

/** Where rollback and the kill switch send routes. */
export const LEGACY_ROUTE: RouteMode = Object.freeze({ mode: 'legacy', percent: 0 });
/** Where a completed rollout leaves routes. */
export const CANDIDATE_ROUTE: RouteMode = Object.freeze({ mode: 'candidate', percent: 0 });

/**
 * The route mode a step runs in.
 *
 * @example stepRouteMode(parseStep('canary 10% 30m')) // { mode: 'canary', percent: 10 }
 */
export function stepRouteMode(step: RolloutStep): RouteMode {
  return { mode: step.mode, percent: step.mode === 'canary' ? step.percent : 0 };
}

export function sameRouteMode(a: RouteMode | null, b: RouteMode | null): boolean {
  if (a === null || b === null) return a === b;
  return a.mode === b.mode && a.percent === b.percent;
}
