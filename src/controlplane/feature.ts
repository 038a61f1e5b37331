/**
 * Control-plane features (telemetry, comparison, rollout, record) plug into the
 * runtime the same way: they get the shared context, subscribe to data-plane
 * events, contribute admin routes, and close cleanly. The runtime owns the
 * order of start and stop; features never reach into each other except
 * through what the context exposes.
 */
import type { Logger } from 'pino';
import type { CutoverConfig } from '../config/schema.ts';
import type { RecordSettings } from '../dataplane/recording-tap.ts';
import type { RoutingSnapshot } from '../dataplane/routing-snapshot.ts';
import type { Store } from '../storage/store.ts';
import type { AdminRoute } from './admin/admin-router.ts';
import type { RoutingControl } from './routing-control.ts';

export interface FeatureContext {
  /** The current config; replaced on reload. */
  config(): CutoverConfig;
  store: Store;
  logger: Logger;
  routing: RoutingControl;
  /** The routing snapshot as last applied (route ids, modes, percents). */
  snapshot(): RoutingSnapshot;
  /** Data-plane load gauges (summed across workers). */
  dataPlaneLoad(): { connections: number; shadowActive: number; shadowQueued: number };
  /** Replaces the set of recorded routes on every data plane; resolves once each has swapped its snapshot. */
  setRecording(recording: ReadonlyMap<string, RecordSettings>): Promise<void>;
  /** Lookup of other features' public APIs by name, for the few that build on another (rollout reads telemetry). */
  feature<T>(name: string): T | undefined;
}

export interface Feature {
  name: string;
  routes?: AdminRoute[];
  /** What other features may use through `context.feature(name)`. */
  api?: unknown;
  /** Called after a successful config reload. */
  onConfig?(config: CutoverConfig): void;
  close(): Promise<void>;
}

export type FeatureFactory = (context: FeatureContext) => Feature | Promise<Feature>;
