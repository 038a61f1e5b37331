/**
 * The rollout feature: drives every plan in `plans:` through its steps from
 * telemetry, with manual control over the admin API, an audit ledger and
 * webhook notifications. The decisions themselves live in src/rollout (pure);
 * this is the part that touches timers, the store, routing and the network.
 *
 * In multi-worker mode it runs in the primary only, next to telemetry, which
 * receives the workers' events in small batches.
 */
import type { Feature, FeatureFactory } from '../feature.ts';
import type { TelemetryApi } from '../telemetry/telemetry-api.ts';
import { createRolloutDriver, type RolloutDriver } from './rollout-driver.ts';
import { createRolloutRoutes } from './rollout-routes.ts';
import { createWebhookNotifier, type Notifier } from './webhook-notifier.ts';

export { DRIVER_ACTOR } from './rollout-driver.ts';
export type { ManualAction, ManualCommand, RolloutDriver, RolloutView } from './rollout-driver.ts';
export { webhookBody } from './webhook-notifier.ts';
export type { Notifier, RolloutNotification, WebhookConfig } from './webhook-notifier.ts';

export const ROLLOUT_FEATURE = 'rollout';

export interface RolloutFeature extends Feature {
  api: RolloutDriver;
  notifier: Notifier;
}

/**
 * @example
 * const runtime = await startCutover({ config, features: [createTelemetryFeature, createComparisonFeature, createRolloutFeature] });
 * const rollouts = runtime.feature<RolloutDriver>('rollout')!;
 * await rollouts.command('wallet', { action: 'start', actor: 'cli' });
 */
export const createRolloutFeature: FeatureFactory = async (context): Promise<RolloutFeature> => {
  const logger = context.logger.child({ feature: ROLLOUT_FEATURE });
  const notifier = createWebhookNotifier({ webhooks: () => context.config().notifications.webhooks, logger });
  const driver = createRolloutDriver({
    config: () => context.config(),
    store: context.store,
    routing: context.routing,
    logger: context.logger,
    telemetry: () => context.feature<TelemetryApi>('telemetry'),
    notifier,
  });
  if (context.feature<TelemetryApi>('telemetry') === undefined && Object.keys(context.config().plans).length > 0) {
    logger.warn('telemetry is not running: rollout gates will stay inconclusive and rollouts will pause at their deadline');
  }
  await driver.start();
  return {
    name: ROLLOUT_FEATURE,
    api: driver,
    notifier,
    routes: createRolloutRoutes(driver, context.store),
    onConfig: (config) => driver.onConfig(config),
    async close() {
      await driver.close();
      await notifier.close();
    },
  };
};
