/**
 * Everything that can happen to a rollout. Each event carries the time and who
 * caused it (`actor`: 'driver', 'api:<token name>', 'cli', 'kill-switch:env',
 * 'kill-switch:file', …) so audit entries can name them.
 */
import type { GateEvaluation } from './evaluate-gates.ts';
import type { RolloutPlan } from './plan.ts';
import type { TelemetrySnapshot } from './telemetry-snapshot.ts';

interface EventBase {
  /** Epoch ms. */
  at: number;
  actor: string;
  /** Free text from the operator, kept in the audit entry (and as the pause/rollback reason). */
  note?: string;
}

export type RolloutEvent =
  /** Begin from step `fromStep` (default 0). Allowed when idle, rolled back or completed. `plan`/`routes` refresh the snapshot. */
  | (EventBase & { type: 'start'; fromStep?: number; plan?: RolloutPlan; routes?: string[] })
  /** A gate evaluation: pass the raw snapshot (evaluated with the plan's gates) or an evaluation made elsewhere. */
  | (EventBase & { type: 'tick'; snapshot?: TelemetrySnapshot; evaluation?: GateEvaluation })
  | (EventBase & { type: 'pause' })
  | (EventBase & { type: 'resume' })
  /** Move to the next step now, whatever the gates say. */
  | (EventBase & { type: 'promote' })
  /** Roll back to legacy now. */
  | (EventBase & { type: 'abort' })
  | (EventBase & { type: 'setStep'; step: number })
  | (EventBase & { type: 'killSwitchOn' })
  | (EventBase & { type: 'killSwitchOff' })
  /** Process start: re-apply the routes for the stored state; the step clock is untouched. */
  | (EventBase & { type: 'restart' });

export type RolloutEventType = RolloutEvent['type'];
