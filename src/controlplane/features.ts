/**
 * The control-plane features a production cutover runs, in start order.
 * Rollout builds on telemetry and comparison, so it comes after them.
 */
import { createComparisonFeature } from './comparison/comparison-feature.ts';
import type { FeatureFactory } from './feature.ts';
import { createRecordFeature } from './record/record-feature.ts';
import { createRolloutFeature } from './rollout/index.ts';
import { createTelemetryFeature } from './telemetry/index.ts';

export const defaultFeatures: FeatureFactory[] = [createTelemetryFeature, createComparisonFeature, createRolloutFeature, createRecordFeature];
