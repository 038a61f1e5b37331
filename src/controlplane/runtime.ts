/**
 * Starts and stops a whole cutover: store, data plane (in this process or in
 * cluster workers), routing control, control-plane features and the admin API;
 * reloads config on SIGHUP and on file change, keeping the last good routing
 * when a new file is bad.
 */
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { availableParallelism } from 'node:os';
import pino, { type Logger } from 'pino';
import { loadConfigFile } from '../config/load.ts';
import { restartOnlyChanges } from '../config/restart-only.ts';
import type { CutoverConfig } from '../config/schema.ts';
import { isCutoverError } from '../core/errors.ts';
import type { RouteState, RoutingSnapshot } from '../dataplane/routing-snapshot.ts';
import { createDataPlane } from '../dataplane/server.ts';
import { openStore, type Store } from '../storage/index.ts';
import { createAdminServer, type AdminServer } from './admin/admin-server.ts';
import { createBackendHealthMonitor } from './backend-health.ts';
import type { AdminRoute } from './admin/admin-router.ts';
import { createCoreRoutes, type ReloadOutcome } from './admin/core-routes.ts';
import { createClusterDataPlane, type DataPlaneHandle } from './cluster.ts';
import type { Feature, FeatureContext, FeatureFactory } from './feature.ts';
import { createEndpointResolver } from './endpoint-resolver.ts';
import { createRoutingControl, loadPersistedRouting, type RoutingControl } from './routing-control.ts';
import { VERSION } from './version.ts';

export { VERSION };

export interface StartOptions {
  config: CutoverConfig;
  /** Watched and re-read on SIGHUP when set. */
  configPath?: string;
  /** How a reload reads `configPath` (the CLI re-applies its command-line flags); defaults to loadConfigFile. */
  loadConfig?: (path: string) => CutoverConfig;
  logger?: Logger;
  features?: FeatureFactory[];
  /** Install SIGHUP/SIGTERM/SIGINT handlers (the CLI does; tests don't). */
  handleSignals?: boolean;
  /** Store override, for tests that share one. */
  store?: Store;
  /** How often routing changes made by other instances sharing the store are taken (ms); 0 never. Default 1000. */
  routingSyncMs?: number;
}

export type { ReloadOutcome };

export interface CutoverRuntime {
  readonly proxyAddress: { host: string; port: number };
  readonly adminAddress: { host: string; port: number };
  readonly routing: RoutingControl;
  readonly store: Store;
  readonly logger: Logger;
  config(): CutoverConfig;
  feature<T>(name: string): T | undefined;
  /** Re-reads the config file; returns false (and keeps the current routing) when it is invalid. */
  reload(): Promise<boolean>;
  /** The same, saying why a file was refused, or which changed settings wait for a restart. */
  reportReload(): Promise<ReloadOutcome>;
  close(): Promise<{ drained: boolean }>;
}

/** The kill switch from outside the API: an environment variable or a flag file, read at start and on SIGHUP. */
export function externalKillSwitch(config: CutoverConfig): string | undefined {
  const env = process.env[config.killSwitch.env];
  if (env !== undefined && /^(1|true|on|yes)$/i.test(env.trim())) return `env:${config.killSwitch.env}`;
  if (config.killSwitch.file !== undefined && existsSync(config.killSwitch.file)) return `file:${config.killSwitch.file}`;
  return undefined;
}

export function resolveWorkers(workers: CutoverConfig['workers']): number {
  return workers === 'auto' ? Math.max(1, availableParallelism()) : workers;
}

export async function startCutover(options: StartOptions): Promise<CutoverRuntime> {
  let config = options.config;
  const logger = options.logger ?? pino({ name: 'cutover', level: process.env.CUTOVER_LOG_LEVEL ?? 'info' });
  const store = options.store ?? (await openStore({ kind: config.store.kind, url: config.store.url, dataDir: config.dataDir }));
  const persisted = await loadPersistedRouting(store);
  let externalKill = externalKillSwitch(config);
  const killSwitch = persisted.killSwitch || externalKill !== undefined;
  const endpoints = createEndpointResolver();

  const workers = resolveWorkers(config.workers);
  let dataPlane: DataPlaneHandle;
  if (workers > 1) {
    dataPlane = await createClusterDataPlane({ config, overrides: persisted.overrides, killSwitch, workers, logger });
  } else {
    const dp = createDataPlane({ config, overrides: persisted.overrides, killSwitch, endpointOf: endpoints.endpointOf });
    dataPlane = {
      listen: (address) => dp.listen(address),
      apply: async (change) => dp.update(change),
      snapshot: () => dp.snapshot(),
      load: () => {
        const s = dp.shadowLoad();
        return { connections: dp.connections(), shadowActive: s.active, shadowQueued: s.queued };
      },
      close: (timeout) => dp.close(timeout),
    };
  }

  const routing = createRoutingControl({
    store,
    apply: (change) => dataPlane.apply(change),
    initialSnapshot: dataPlane.snapshot(),
    initialOverrides: persisted.overrides,
    externalKillSwitch: () => externalKill,
  });

  const features: Feature[] = [];
  const context: FeatureContext = {
    config: () => config,
    store,
    logger,
    routing,
    snapshot: (): RoutingSnapshot => dataPlane.snapshot(),
    dataPlaneLoad: () => dataPlane.load(),
    setRecording: async (recording) => {
      await dataPlane.apply({ recording });
    },
    feature: <T>(name: string) => features.find((f) => f.name === name)?.api as T | undefined,
  };
  for (const factory of options.features ?? []) features.push(await factory(context));

  const health = createBackendHealthMonitor(config);
  const routes: AdminRoute[] = [...createCoreRoutes({ routing, config: () => config, store, version: VERSION, reload: () => reportReload(), health: () => health.snapshot() }), ...features.flatMap((f) => f.routes ?? [])];
  const admin: AdminServer = createAdminServer({
    // An empty CUTOVER_TOKEN is no token: it must neither open a non-loopback listener nor accept "Bearer ".
    token: config.admin.token ?? (process.env.CUTOVER_TOKEN || undefined),
    routes,
    version: VERSION,
    onError: (err, req) => logger.error({ err, method: req.method, url: req.url }, 'admin request failed'),
  });

  let proxyAddress: { host: string; port: number };
  let adminAddress: { host: string; port: number };
  try {
    adminAddress = await admin.listen(config.admin.listen);
    proxyAddress = await dataPlane.listen(config.listen);
  } catch (err) {
    health.close();
    await admin.close().catch(() => {});
    await dataPlane.close(0).catch(() => {});
    for (const f of features) await f.close().catch(() => {});
    if (!options.store) await store.close().catch(() => {});
    throw err;
  }
  const logDisabledRoutes = (): void => {
    for (const d of routing.disabledRoutes()) logger.error({ route: d.id, error: d.error }, 'route disabled: it failed to compile; its traffic falls through to the next matching route');
  };
  logDisabledRoutes();
  if (killSwitch) logger.warn({ source: externalKill ?? 'api' }, 'kill switch is on: every route serves legacy');

  const reportReload = async (): Promise<ReloadOutcome> => {
    const before = externalKill;
    externalKill = externalKillSwitch(config);
    let restartNeeded: string[] = [];
    if (options.configPath !== undefined) {
      let next: CutoverConfig;
      try {
        next = (options.loadConfig ?? loadConfigFile)(options.configPath);
        // Applying can still fail on what only the data plane reads (a backend's CA file); then nothing changes.
        await dataPlane.apply({ config: next });
      } catch (err) {
        // The kill switch file or variable is the running config's, read again above: a flip still takes effect.
        if (before !== externalKill) {
          await routing.reapply();
          logger.warn({ killSwitch: externalKill ?? 'off' }, 'external kill switch changed');
        }
        const problems = isCutoverError(err) ? err.message : String(err);
        logger.error({ file: options.configPath, problems }, 'config reload rejected; the last good routing keeps serving');
        return { ok: false, problems, hint: isCutoverError(err) ? err.hint : undefined };
      }
      restartNeeded = restartOnlyChanges(config, next);
      config = next;
      externalKill = externalKillSwitch(config);
      await routing.reapply();
      logDisabledRoutes();
      health.reconfigure(config);
      for (const f of features) f.onConfig?.(config);
      logger.info({ file: options.configPath, routes: config.routes.length }, 'config reloaded');
      if (restartNeeded.length > 0) {
        logger.warn({ file: options.configPath, keys: restartNeeded }, `config reloaded, but ${restartNeeded.join(', ')} changed and take${restartNeeded.length === 1 ? 's' : ''} effect only after a restart`);
      }
    } else if (before !== externalKill) {
      await routing.reapply();
    }
    if (before !== externalKill) logger.warn({ killSwitch: externalKill ?? 'off' }, 'external kill switch changed');
    return { ok: true, restartNeeded };
  };
  const reload = async (): Promise<boolean> => (await reportReload()).ok;

  let watcher: FSWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;
  if (options.configPath !== undefined) {
    try {
      watcher = watch(options.configPath, () => {
        clearTimeout(debounce);
        debounce = setTimeout(() => void reload(), 200);
      });
    } catch (err) {
      logger.warn({ err, file: options.configPath }, 'cannot watch the config file; reload with SIGHUP');
    }
  }

  // Instances sharing a store follow each other's routing changes (a rollback on one reaches all within about a second).
  let lastSyncWarn = 0;
  let syncing = false;
  const syncRouting = (): void => {
    if (syncing) return;
    syncing = true;
    routing
      .sync()
      .then(
        (taken) => {
          if (taken !== undefined) logger.info({ routes: taken.routes, killSwitch: taken.killSwitch }, 'took routing changes another instance sharing the store made');
        },
        (err: unknown) => {
          // A store outage would log every second; once a minute says the same.
          if (Date.now() - lastSyncWarn < 60_000) return;
          lastSyncWarn = Date.now();
          logger.warn({ err }, 'reading routing changes from the store failed; retrying every second');
        },
      )
      .finally(() => {
        syncing = false;
      });
  };
  const syncMs = options.routingSyncMs ?? 1_000;
  const syncTimer = syncMs > 0 ? setInterval(syncRouting, syncMs).unref() : undefined;

  let closing: Promise<{ drained: boolean }> | undefined;
  const close = (): Promise<{ drained: boolean }> =>
    (closing ??= (async () => {
      clearInterval(syncTimer);
      watcher?.close();
      clearTimeout(debounce);
      const result = await dataPlane.close(config.shutdownTimeout);
      health.close();
      await admin.close();
      for (const f of features.reverse()) {
        try {
          await f.close();
        } catch (err) {
          logger.error({ err, feature: f.name }, 'feature failed to close');
        }
      }
      if (!options.store) await store.close();
      logger.info({ drained: result.drained }, 'cutover stopped');
      return result;
    })());

  if (options.handleSignals) {
    process.on('SIGHUP', () => void reload());
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down: draining in-flight requests');
      void close().then(
        () => process.exit(0),
        (err) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  }

  // Last, after the signal handlers: a supervisor may send SIGHUP the moment it reads this line, and
  // before a handler exists SIGHUP's default action ends the process.
  logger.info({ listen: `${proxyAddress.host}:${proxyAddress.port}`, admin: `${adminAddress.host}:${adminAddress.port}`, workers, nodeFlags: process.execArgv }, 'cutover is serving');

  return {
    proxyAddress,
    adminAddress,
    routing,
    store,
    logger,
    config: () => config,
    feature: context.feature,
    reload,
    reportReload,
    close,
  };
}

export type { RouteState };
