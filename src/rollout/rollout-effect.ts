/**
 * What a transition asks the outside world to do. Effects are data; the driver
 * carries them out in order (set routes first, then audit, then notify).
 */
import type { Mode } from '../config/schema.ts';
import type { AuditEntry } from '../storage/store.ts';

export type NotifyLevel = 'info' | 'warning' | 'critical';

export type RolloutEffect =
  /** Put these routes in this mode (a RouteOverride per route). */
  | { type: 'setRoute'; routes: string[]; mode: Mode; percent: number }
  /** Remove this rollout's overrides so the routes return to their configured mode. */
  | { type: 'clearRoute'; routes: string[] }
  | { type: 'audit'; entry: AuditEntry }
  | { type: 'notify'; subject: string; level: NotifyLevel; event: string; message: string }
  /** Evaluate the gates again at this time (epoch ms). */
  | { type: 'scheduleEval'; subject: string; at: number };

export interface TransitionResult<S> {
  state: S;
  effects: RolloutEffect[];
  /** Set when the event does not apply in this state; `state` is then unchanged. An API should answer 409 with it. */
  rejected?: string;
}
