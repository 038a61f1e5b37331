/**
 * The admin endpoints every cutover has: health, status, per-route changes,
 * rollback, kill switch and reload.
 */
import { z } from 'zod';
import type { CutoverConfig } from '../../config/schema.ts';
import { MODES } from '../../config/schema.ts';
import { CutoverError, ErrorCodes } from '../../core/errors.ts';
import type { Store } from '../../storage/store.ts';
import type { BackendHealth } from '../backend-health.ts';
import type { RoutingControl } from '../routing-control.ts';
import type { AdminRoute } from './admin-router.ts';

export const setRouteBody = z
  .object({
    mode: z.enum(MODES),
    percent: z.number().min(0).max(100).optional(),
  })
  .strict();

export const rollbackBody = z
  .object({
    route: z.string().optional(),
    all: z.boolean().optional(),
  })
  .strict();

export const killSwitchBody = z.object({ on: z.boolean() }).strict();

/** What a reload did: refused with why, or taken, with the changed settings that wait for a restart. */
export type ReloadOutcome = { ok: true; restartNeeded: string[] } | { ok: false; problems: string; hint: string | undefined };

export interface CoreRoutesDeps {
  routing: RoutingControl;
  config: () => CutoverConfig;
  store: Store;
  version: string;
  reload: () => Promise<ReloadOutcome>;
  health: () => BackendHealth[];
}

function backendsOf(config: CutoverConfig, health: BackendHealth[]) {
  const out: Record<string, Omit<BackendHealth, 'name'>> = {};
  for (const [name, b] of Object.entries(config.backends)) {
    if (!b) continue;
    const h = health.find((x) => x.name === name);
    out[name] = {
      url: b.url,
      healthy: h?.healthy,
      lastProbeAt: h?.lastProbeAt,
      probeLatencyMs: h?.probeLatencyMs,
      lastProbeError: h?.lastProbeError,
      lastFailure: h?.lastFailure,
      consecutiveFailures: h?.consecutiveFailures ?? 0,
    };
  }
  return out;
}

export function createCoreRoutes(deps: CoreRoutesDeps): AdminRoute[] {
  const { routing } = deps;
  return [
    {
      method: 'GET',
      path: '/healthz',
      summary: 'Liveness: 200 while the process serves',
      auth: false,
      tag: 'meta',
      handler: () => ({ body: { ok: true, version: deps.version } }),
    },
    {
      method: 'GET',
      path: '/api/v1/status',
      summary: 'Routes with their modes and percents, backends, kill switch',
      tag: 'routing',
      handler: () => ({
        body: {
          version: deps.version,
          killSwitch: routing.killSwitch(),
          backends: backendsOf(deps.config(), deps.health()),
          routes: routing.describe(),
          disabledRoutes: routing.disabledRoutes(),
        },
      }),
    },
    {
      method: 'PUT',
      path: '/api/v1/routes/{id}',
      summary: 'Set a route’s mode (and percent for canary); applies to every request that starts after the call returns',
      tag: 'routing',
      body: setRouteBody,
      handler: async (req) => {
        const body = req.body as z.output<typeof setRouteBody>;
        const route = await routing.set(req.params.id!, body.mode, body.percent, req.actor);
        return { body: { route } };
      },
    },
    {
      method: 'DELETE',
      path: '/api/v1/routes/{id}',
      summary: 'Drop the runtime override: the route follows its configured mode again',
      tag: 'routing',
      handler: async (req) => ({ body: { route: await routing.reset(req.params.id!, req.actor) } }),
    },
    {
      method: 'POST',
      path: '/api/v1/rollback',
      summary: 'Send one route ({"route": id}) or all routes ({} or {"all": true}) back to legacy',
      tag: 'routing',
      body: rollbackBody,
      handler: async (req) => {
        const body = req.body as z.output<typeof rollbackBody>;
        if (body.route !== undefined && body.all) {
          throw new CutoverError(ErrorCodes.BAD_REQUEST, 'give either "route" or "all", not both');
        }
        const t0 = performance.now();
        const routes = await routing.rollback(body.route, req.actor);
        return { body: { rolledBack: routes, tookMs: Math.round((performance.now() - t0) * 100) / 100 } };
      },
    },
    {
      method: 'PUT',
      path: '/api/v1/kill-switch',
      summary: 'Global kill switch: every route serves legacy while on',
      tag: 'routing',
      body: killSwitchBody,
      handler: async (req) => {
        await routing.setKillSwitch((req.body as { on: boolean }).on, req.actor);
        return { body: { killSwitch: routing.killSwitch() } };
      },
    },
    {
      method: 'POST',
      path: '/api/v1/reload',
      summary: 'Re-read the config file (as SIGHUP does); a bad file is rejected and the last good routing keeps serving',
      tag: 'routing',
      handler: async () => {
        const outcome = await deps.reload();
        if (!outcome.ok) {
          throw new CutoverError(ErrorCodes.CONFIG_INVALID, `the config file was not applied; the last good routing keeps serving: ${outcome.problems}`, {
            hint: outcome.hint ?? 'run `cutover validate -c FILE` to see the problems',
          });
        }
        return { body: { reloaded: true, restartNeeded: outcome.restartNeeded } };
      },
    },
  ];
}
