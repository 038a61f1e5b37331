/**
 * Config + runtime overrides + kill switch, compiled into an immutable table of
 * routes, each with its serve function picked once for its mode. The server
 * reads the current snapshot once per request; a change compiles a new one and
 * swaps the reference, so a request never sees half a change.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BackendName, CutoverConfig, Mode, RouteConfig } from '../config/schema.ts';
import { compileClientAddress, type ClientAddressOf } from './client-address.ts';
import { ClientExchange, type FallbackPolicy } from './proxy-exchange.ts';
import { createRequestContext, isIdempotent, type RequestContext } from './request-context.ts';
import { compileMatcher, type RouteMatcher } from './route-matcher.ts';
import { createRecordingServe, type RecordSettings } from './recording-tap.ts';
import { createMirroredServe, type ShadowLimiter, type ShadowLimits } from './shadow-dispatcher.ts';
import { percentToThreshold, stickyBucket } from './sticky-hash.ts';
import type { MirrorBreaker } from './mirror-breaker.ts';
import type { Upstream, UpstreamSet } from './upstream-pool.ts';

export interface RouteState {
  mode: Mode;
  percent: number;
}

export interface RoutingInputs {
  config: CutoverConfig;
  /** Runtime changes from the admin API or the rollout driver, by route id. */
  overrides: ReadonlyMap<string, RouteState>;
  /** When on, every route serves legacy whatever its mode. */
  killSwitch: boolean;
  /** Routes being recorded (`cutover record`); only these compile a recording serve path. */
  recording?: ReadonlyMap<string, RecordSettings>;
}

export interface RoutingDeps {
  primary: UpstreamSet;
  /** Pools for mirrored traffic; asked for only when some route mirrors. */
  shadow: () => UpstreamSet;
  /** The mirror limiter of a route: its own when the route sets its own limits, else the shared one. It outlives routing changes. */
  limiterFor: (routeId: string, own: ShadowLimits | undefined) => ShadowLimiter;
  breakerFor: (upstream: Upstream) => MirrorBreaker;
  /** Endpoint template for a path under a catch-all route; bounded cardinality. */
  endpointOf: (routeId: string, template: string, pathname: string) => string;
}

export interface RouteDescription {
  id: string;
  template: string;
  methods: string[] | undefined;
  mode: Mode;
  percent: number;
  configuredMode: Mode;
  configuredPercent: number;
  stickiness: string;
  fallback: 'none' | 'legacy';
  overridden: boolean;
}

export interface CompiledRoute {
  readonly id: string;
  readonly matcher: RouteMatcher;
  readonly description: RouteDescription;
  serve(req: IncomingMessage, res: ServerResponse, pathname: string): void;
  /** The backend an upgrade (WebSocket) request goes to, decided once per connection. */
  pickForUpgrade(req: IncomingMessage): BackendName;
}

export interface RoutingSnapshot {
  readonly version: number;
  readonly killSwitch: boolean;
  readonly routes: readonly CompiledRoute[];
  /** Routes that failed to compile: disabled (their traffic falls through to later routes) and reported, never fatal. */
  readonly disabled: ReadonlyArray<{ id: string; error: string }>;
  match(method: string, pathname: string, headers: IncomingMessage['headers']): CompiledRoute;
}

export const DEFAULT_ROUTE_ID = 'default';

type KeyOf = (req: IncomingMessage) => string | undefined;

function compileStickiness(spec: string, clientAddressOf: ClientAddressOf): KeyOf | undefined {
  if (spec === 'random') return undefined;
  if (spec === 'ip') return clientAddressOf;
  const colon = spec.indexOf(':');
  const kind = spec.slice(0, colon);
  const name = spec.slice(colon + 1);
  if (kind === 'header') {
    const lower = name.toLowerCase();
    return (req) => {
      const v = req.headers[lower];
      return Array.isArray(v) ? v[0] : v;
    };
  }
  if (kind === 'cookie') {
    const prefix = `${name}=`;
    return (req) => {
      const cookie = req.headers.cookie;
      if (cookie === undefined) return undefined;
      for (const part of cookie.split(';')) {
        const p = part.trimStart();
        if (p.startsWith(prefix)) return p.slice(prefix.length);
      }
      return undefined;
    };
  }
  const prefix = `${name}=`;
  return (req) => {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    if (q === -1) return undefined;
    for (const part of url.slice(q + 1).split('&')) {
      if (part.startsWith(prefix)) return decodeURIComponent(part.slice(prefix.length).replace(/\+/g, ' '));
    }
    return undefined;
  };
}

/**
 * Requests without the stickiness key are assigned by client IP instead, so a
 * client without the key still lands on one side consistently.
 */
function compileChooser(routeId: string, percent: number, stickiness: string, clientAddressOf: ClientAddressOf): (req: IncomingMessage) => BackendName {
  const threshold = percentToThreshold(percent);
  if (threshold <= 0) return () => 'legacy';
  if (threshold >= 10_000) return () => 'candidate';
  const keyOf = compileStickiness(stickiness, clientAddressOf);
  if (keyOf === undefined) return () => (Math.random() * 10_000 < threshold ? 'candidate' : 'legacy');
  return (req) => {
    const given = keyOf(req);
    const key = given === undefined || given === '' ? (clientAddressOf(req) ?? '') : given;
    return stickyBucket(routeId, key) < threshold ? 'candidate' : 'legacy';
  };
}

function parseOverride(value: string | string[] | undefined, secret: Buffer): BackendName | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const m = /^\s*(legacy|candidate)\s*;\s*secret=(.+?)\s*$/.exec(v);
  if (!m) return undefined;
  const given = Buffer.from(m[2]!);
  if (given.length !== secret.length || !timingSafeEqual(given, secret)) return undefined;
  return m[1] as BackendName;
}

export function compileRoutingSnapshot(inputs: RoutingInputs, deps: RoutingDeps, version: number): RoutingSnapshot {
  const { config } = inputs;
  const defaults = config.defaults;
  const overrideHeader = config.override?.header.toLowerCase();
  const overrideSecret = config.override ? Buffer.from(config.override.secret) : undefined;
  const clientAddressOf = compileClientAddress(config.trustedProxies);

  const fallbackPolicy: FallbackPolicy = (exchange, cause) => {
    const ctx = exchange.ctx;
    if (exchange.upstream.name !== 'candidate' || cause !== 'connect_refused' || !isIdempotent(ctx.method) || ctx.hasBody) return false;
    if (exchange.res.headersSent || exchange.res.destroyed) return false;
    new ClientExchange(ctx, exchange.res, deps.primary.legacy, { fallback: true, captureLimit: exchange.capture?.limit, onCaptured: exchange.onCaptured }).start(null);
    return true;
  };

  const compileRoute = (route: RouteConfig | undefined): CompiledRoute => {
    const id = route?.id ?? DEFAULT_ROUTE_ID;
    const matcher = compileMatcher(route?.match ?? {});
    const override = inputs.overrides.get(id);
    const configuredMode = route?.mode ?? defaults.mode;
    const configuredPercent = route?.percent ?? defaults.percent;
    const mode: Mode = inputs.killSwitch ? 'legacy' : (override?.mode ?? configuredMode);
    const percent = inputs.killSwitch ? 0 : (override?.percent ?? configuredPercent);
    const stickiness = route?.stickiness ?? defaults.stickiness;
    const fallback = route?.fallback ?? defaults.fallback;
    const shadowSettings = { ...defaults.shadow, ...route?.shadow };
    const ownLimits =
      route?.shadow?.maxConcurrency !== undefined || route?.shadow?.maxQueue !== undefined
        ? { maxConcurrency: shadowSettings.maxConcurrency, maxQueue: shadowSettings.maxQueue }
        : undefined;
    const compare = route?.compare ?? false;
    const template = matcher.template;
    const endpointOf = matcher.catchAll
      ? (pathname: string) => deps.endpointOf(id, template, pathname)
      : () => template;
    const stripHeader = overrideHeader;
    const policy = fallback === 'legacy' ? fallbackPolicy : undefined;
    const choose = compileChooser(id, percent, stickiness, clientAddressOf);

    const contextOf = (req: IncomingMessage, pathname: string): RequestContext =>
      createRequestContext(req, pathname, id, endpointOf(pathname), stripHeader, clientAddressOf);

    const forward = (backend: BackendName) => {
      const upstream = deps.primary[backend]!;
      const usePolicy = backend === 'candidate' ? policy : undefined;
      return (req: IncomingMessage, res: ServerResponse, pathname: string, ctx = contextOf(req, pathname)) => {
        new ClientExchange(ctx, res, upstream, usePolicy ? { fallbackPolicy: usePolicy } : undefined).start(ctx.hasBody ? req : null);
      };
    };

    let serve: CompiledRoute['serve'];
    let pickForUpgrade: CompiledRoute['pickForUpgrade'];
    const mirrored = () =>
      createMirroredServe(shadowSettings, { primary: deps.primary, shadow: deps.shadow(), limiter: deps.limiterFor(id, ownLimits), breakerFor: deps.breakerFor, fallbackPolicy: policy });
    switch (mode) {
      case 'legacy':
      case 'candidate': {
        const f = forward(mode);
        serve = (req, res, pathname) => f(req, res, pathname);
        pickForUpgrade = () => mode;
        break;
      }
      case 'canary': {
        const toLegacy = forward('legacy');
        const toCandidate = forward('candidate');
        pickForUpgrade = choose;
        if (compare) {
          const serveMirrored = mirrored();
          serve = (req, res, pathname) => {
            const side = choose(req);
            serveMirrored(contextOf(req, pathname), req, res, side, side === 'legacy' ? 'candidate' : 'legacy');
          };
        } else {
          serve = (req, res, pathname) => (choose(req) === 'candidate' ? toCandidate : toLegacy)(req, res, pathname);
        }
        break;
      }
      case 'shadow':
      case 'live': {
        const servedBy: BackendName = mode === 'shadow' ? 'legacy' : 'candidate';
        const mirrorTo: BackendName = mode === 'shadow' ? 'candidate' : 'legacy';
        const serveMirrored = mirrored();
        serve = (req, res, pathname) => serveMirrored(contextOf(req, pathname), req, res, servedBy, mirrorTo);
        pickForUpgrade = () => servedBy;
        break;
      }
    }

    if (overrideHeader !== undefined && overrideSecret !== undefined) {
      const normal = serve;
      const normalPick = pickForUpgrade;
      const toLegacy = forward('legacy');
      const toCandidate = forward('candidate');
      serve = (req, res, pathname) => {
        const forced = parseOverride(req.headers[overrideHeader], overrideSecret);
        if (forced === undefined) normal(req, res, pathname);
        else (forced === 'candidate' ? toCandidate : toLegacy)(req, res, pathname);
      };
      pickForUpgrade = (req) => parseOverride(req.headers[overrideHeader], overrideSecret) ?? normalPick(req);
    }

    const recording = inputs.recording?.get(id);
    if (recording !== undefined) serve = createRecordingServe(serve, id, recording);

    return {
      id,
      matcher,
      serve,
      pickForUpgrade,
      description: {
        id,
        template,
        methods: route?.match.methods ? [...route.match.methods] : undefined,
        mode,
        percent: mode === 'canary' ? percent : mode === 'candidate' || mode === 'live' ? 100 : 0,
        configuredMode,
        configuredPercent,
        stickiness,
        fallback,
        overridden: override !== undefined,
      },
    };
  };

  const disabled: Array<{ id: string; error: string }> = [];
  const routes: CompiledRoute[] = [];
  for (const r of config.routes) {
    try {
      routes.push(compileRoute(r));
    } catch (err) {
      disabled.push({ id: r.id, error: (err as Error).message });
    }
  }
  const fallbackRoute = compileRoute(undefined);
  const all = [...routes, fallbackRoute];
  return {
    version,
    killSwitch: inputs.killSwitch,
    routes: all,
    disabled,
    match(method, pathname, headers) {
      for (let i = 0; i < routes.length; i++) {
        const r = routes[i]!;
        if (r.matcher.matches(method, pathname, headers)) return r;
      }
      return fallbackRoute;
    },
  };
}
