/**
 * The data plane: one node:http server, the current routing snapshot, and the
 * upstream pools. It knows nothing about storage, the admin API or the CLI;
 * the control plane drives it through `update()` and listens to its events.
 */
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { CutoverConfig } from '../config/schema.ts';
import { CutoverError, ErrorCodes } from '../core/errors.ts';
import { channels, type MirrorBreakerEvent } from './events.ts';
import { listenOn } from './listen-address.ts';
import { createMirrorBreaker, type MirrorBreaker } from './mirror-breaker.ts';
import { watchClientClose } from './proxy-exchange.ts';
import { pathnameOf } from './request-context.ts';
import type { RecordSettings } from './recording-tap.ts';
import { compileRoutingSnapshot, type RouteState, type RoutingDeps, type RoutingSnapshot } from './routing-snapshot.ts';
import { createShadowLimiter, type ShadowLimiter } from './shadow-dispatcher.ts';
import { proxyUpgrade } from './upgrade-proxy.ts';
import { readTlsMaterial, sameTlsMaterial, type TlsMaterial } from './tls-material.ts';
import { closeUpstreams, createUpstream, type Upstream, type UpstreamSet } from './upstream-pool.ts';

export interface DataPlaneOptions {
  config: CutoverConfig;
  overrides?: ReadonlyMap<string, RouteState>;
  killSwitch?: boolean;
  recording?: ReadonlyMap<string, RecordSettings>;
  /** Learned endpoint templates for catch-all routes; defaults to the route's own template. */
  endpointOf?: RoutingDeps['endpointOf'];
}

/** What `update` may change; fields left out keep their current value. */
export interface RoutingChangeInput {
  config?: CutoverConfig;
  overrides?: ReadonlyMap<string, RouteState>;
  killSwitch?: boolean;
  recording?: ReadonlyMap<string, RecordSettings>;
}

export interface DataPlane {
  /** An https server when `tls` is configured. */
  readonly server: Server | TlsServer;
  listen(address: string): Promise<{ host: string; port: number }>;
  /** Compiles and swaps the routing snapshot. Returns the new snapshot once every later request will see it. */
  update(change: RoutingChangeInput): RoutingSnapshot;
  snapshot(): RoutingSnapshot;
  /** Shadow work in flight and queued, for telemetry. */
  shadowLoad(): { active: number; queued: number };
  /** Stops accepting, waits for in-flight requests up to `timeoutMs`, then closes what is left. */
  close(timeoutMs: number): Promise<{ drained: boolean }>;
  connections(): number;
}

export { parseHostPort } from './listen-address.ts';

function createUpstreamSet(config: CutoverConfig, options: { connections?: number; timeout?: number } = {}): UpstreamSet {
  const b = config.backends;
  return {
    legacy: createUpstream('legacy', b.legacy, options),
    candidate: createUpstream('candidate', b.candidate, options),
    replica: b.replica ? createUpstream('replica', b.replica, options) : undefined,
  };
}

function rawJsonResponse(status: string, body: object): Buffer {
  const text = JSON.stringify(body);
  return Buffer.from(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}

const BAD_REQUEST = rawJsonResponse('400 Bad Request', { error: 'bad_request', message: 'the request could not be parsed as HTTP/1.1' });
const HEADERS_TOO_LARGE = rawJsonResponse('431 Request Header Fields Too Large', {
  error: 'headers_too_large',
  message: 'the request headers are larger than this proxy accepts (16 KiB by default; node --max-http-header-size raises it)',
});

/**
 * @example
 * const dp = createDataPlane({ config });
 * await dp.listen('127.0.0.1:8080');
 * dp.update({ overrides: new Map([['checkout', { mode: 'canary', percent: 10 }]]) });
 */
export function createDataPlane(options: DataPlaneOptions): DataPlane {
  let config = options.config;
  let overrides: ReadonlyMap<string, RouteState> = options.overrides ?? new Map();
  let killSwitch = options.killSwitch ?? false;
  let recording: ReadonlyMap<string, RecordSettings> = options.recording ?? new Map();
  let primary = createUpstreamSet(config);
  let shadow: UpstreamSet | undefined;
  let limiter: ShadowLimiter | undefined;
  const routeLimiters = new Map<string, { key: string; limiter: ShadowLimiter }>();
  // Keyed by the shadow pool itself: new pools (a backend or shadow settings change) start with closed breakers.
  const breakers = new WeakMap<Upstream, MirrorBreaker>();
  const retired: UpstreamSet[] = [];
  let version = 0;
  let inFlight = 0;
  const sockets = new Set<Socket>();

  const deps: RoutingDeps = {
    get primary() {
      return primary;
    },
    shadow: () => {
      shadow ??= createUpstreamSet(config, { connections: config.defaults.shadow.maxConcurrency, timeout: config.defaults.shadow.timeout });
      return shadow;
    },
    limiterFor: (routeId, own) => {
      if (own === undefined) {
        limiter ??= createShadowLimiter({ maxConcurrency: config.defaults.shadow.maxConcurrency, maxQueue: config.defaults.shadow.maxQueue });
        return limiter;
      }
      const key = `${own.maxConcurrency}/${own.maxQueue}`;
      let entry = routeLimiters.get(routeId);
      // A changed limit starts a new limiter; mirrors running under the old one release into it and finish.
      if (entry === undefined || entry.key !== key) {
        entry = { key, limiter: createShadowLimiter(own) };
        routeLimiters.set(routeId, entry);
      }
      return entry.limiter;
    },
    breakerFor: (upstream) => {
      let breaker = breakers.get(upstream);
      if (breaker === undefined) {
        const { failures, cooldown } = config.defaults.shadow.breaker;
        breaker = createMirrorBreaker({
          failures,
          cooldownMs: cooldown,
          onChange: (change) => {
            if (channels.mirrorBreaker.hasSubscribers) channels.mirrorBreaker.publish({ backend: upstream.name, ...change } satisfies MirrorBreakerEvent);
          },
        });
        breakers.set(upstream, breaker);
      }
      return breaker;
    },
    endpointOf: options.endpointOf ?? ((_id, template) => template),
  };

  let current = compileRoutingSnapshot({ config, overrides, killSwitch, recording }, deps, ++version);

  const onRequestDone = (): void => {
    inFlight--;
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    inFlight++;
    watchClientClose(res, onRequestDone);
    const pathname = pathnameOf(req.url ?? '/');
    current.match(req.method ?? 'GET', pathname, req.headers).serve(req, res, pathname);
  };

  const serverOptions: ServerOptions = {
    keepAliveTimeout: 65_000,
    // Large uploads and long streams are legitimate; slow clients are bounded by headersTimeout.
    requestTimeout: 0,
    headersTimeout: 60_000,
    noDelay: true,
    // A request without Content-Length or Transfer-Encoding arrives already ended, so Node skips its stream life cycle
    // (end, destroy, close events): ~10 % of the instructions a proxied GET costs (docs/decisions.md). Node < 24 ignores it.
    optimizeEmptyRequests: true,
  };
  let tls: TlsMaterial | undefined = config.tls === undefined ? undefined : readTlsMaterial(config.tls);
  const server: Server | TlsServer = tls === undefined ? createServer(serverOptions, handle) : createTlsServer({ ...serverOptions, ...tls }, handle);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = pathnameOf(req.url ?? '/');
    const route = current.match(req.method ?? 'GET', pathname, req.headers);
    const backend = route.pickForUpgrade(req);
    proxyUpgrade(req, socket, head, primary[backend]!, route.id, route.matcher.template);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.end(err.code === 'HPE_HEADER_OVERFLOW' ? HEADERS_TOO_LARGE : BAD_REQUEST);
  });

  return {
    server,
    listen: (address) => listenOn(server, address),
    update(change) {
      if (change.config !== undefined && change.config !== config) {
        const next = change.config;
        if ((next.tls === undefined) !== (tls === undefined)) {
          throw new CutoverError(ErrorCodes.CONFIG_INVALID, `tls: the listener serves ${tls === undefined ? 'plain HTTP' : 'TLS'}; turning TLS ${tls === undefined ? 'on' : 'off'} needs a restart`, {
            hint: 'restart cutover with the new config, or put tls back as it was',
          });
        }
        const poolsChange = JSON.stringify(config.backends) !== JSON.stringify(next.backends) || JSON.stringify(config.defaults.shadow) !== JSON.stringify(next.defaults.shadow);
        // Everything that can fail (an unreadable CA or certificate file) is read before anything is replaced: a change that throws changes nothing.
        const nextTls = next.tls === undefined ? undefined : readTlsMaterial(next.tls);
        const nextPrimary = poolsChange ? createUpstreamSet(next) : primary;
        if (nextTls !== undefined && !sameTlsMaterial(nextTls, tls)) {
          // New connections get the renewed certificate; open ones keep theirs.
          (server as TlsServer).setSecureContext(nextTls);
          tls = nextTls;
        }
        config = next;
        if (poolsChange) {
          retired.push(primary);
          primary = nextPrimary;
          if (shadow) retired.push(shadow);
          shadow = undefined;
          limiter = undefined;
          // Old pools finish their in-flight requests, then close.
          const toClose = retired.splice(0);
          setTimeout(() => void closeUpstreams(toClose), 30_000).unref();
        }
      }
      if (change.overrides !== undefined) overrides = change.overrides;
      if (change.killSwitch !== undefined) killSwitch = change.killSwitch;
      if (change.recording !== undefined) recording = change.recording;
      current = compileRoutingSnapshot({ config, overrides, killSwitch, recording }, deps, ++version);
      return current;
    },
    snapshot: () => current,
    shadowLoad: () => {
      let active = limiter?.active ?? 0;
      let queued = limiter?.queued ?? 0;
      for (const { limiter: l } of routeLimiters.values()) {
        active += l.active;
        queued += l.queued;
      }
      return { active, queued };
    },
    connections: () => sockets.size,
    async close(timeoutMs) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        const deadline = Date.now() + timeoutMs;
        const tick = setInterval(() => {
          server.closeIdleConnections();
          if (inFlight === 0 || Date.now() >= deadline) {
            clearInterval(tick);
            for (const s of sockets) s.destroy();
            resolve();
          }
        }, 25);
      });
      const drained = inFlight === 0;
      await closeUpstreams([primary, ...(shadow ? [shadow] : []), ...retired]);
      return { drained };
    },
  };
}
