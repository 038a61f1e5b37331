/**
 * The admin listener: bearer-token auth, JSON in and out, one error shape.
 * It refuses to listen on a non-loopback address without a token, because the
 * API can send all traffic anywhere.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { CutoverError, ErrorCodes } from '../../core/errors.ts';
import { listenOn, parseHostPort } from '../../dataplane/listen-address.ts';
import { buildOpenApi, createAdminRouter, errorResponse, validateBody, type AdminResponse, type AdminRoute } from './admin-router.ts';

const MAX_BODY = 1024 * 1024;

export interface AdminServerOptions {
  token: string | undefined;
  routes: AdminRoute[];
  version: string;
  onError?: (err: unknown, req: IncomingMessage) => void;
}

export interface AdminServer {
  readonly server: Server;
  listen(address: string): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new CutoverError(ErrorCodes.BAD_REQUEST, `request body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CutoverError(ErrorCodes.BAD_REQUEST, `request body is not JSON: ${(err as Error).message}`, {
      hint: 'send a JSON object with content-type: application/json',
    });
  }
}

function send(res: ServerResponse, out: AdminResponse): void {
  const status = out.status ?? 200;
  const headers: Record<string, string | number> = { 'cache-control': 'no-store', ...out.headers };
  if (out.raw !== undefined) {
    headers['content-type'] = out.contentType ?? 'text/plain; charset=utf-8';
    headers['content-length'] = Buffer.byteLength(out.raw);
    res.writeHead(status, headers);
    res.end(out.raw);
    return;
  }
  const body = out.body === undefined ? '' : JSON.stringify(out.body);
  headers['content-type'] = 'application/json';
  headers['content-length'] = Buffer.byteLength(body);
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * @example
 * const admin = createAdminServer({ token: undefined, version: '0.1.0', routes: [healthRoute] });
 * await admin.listen('127.0.0.1:9090');
 */
export function createAdminServer(options: AdminServerOptions): AdminServer {
  const allRoutes: AdminRoute[] = [
    ...options.routes,
    {
      method: 'GET',
      path: '/api/v1/openapi.json',
      summary: 'This document',
      auth: false,
      tag: 'meta',
      handler: () => ({ body: buildOpenApi(allRoutes, options.version) }),
    },
  ];
  const router = createAdminRouter(allRoutes);
  const token = options.token === undefined ? undefined : Buffer.from(`Bearer ${options.token}`);

  const authorised = (req: IncomingMessage): boolean => {
    if (token === undefined) return true;
    const given = Buffer.from(req.headers.authorization ?? '');
    return given.length === token.length && timingSafeEqual(given, token);
  };

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://admin');
      const found = router.find(req.method ?? 'GET', url.pathname);
      if (found === undefined) {
        throw new CutoverError(ErrorCodes.NOT_FOUND, `no admin endpoint ${req.method} ${url.pathname}`, {
          hint: 'GET /api/v1/openapi.json lists every endpoint',
        });
      }
      if ('allowed' in found) {
        send(res, { status: 405, headers: { allow: found.allowed.join(', ') }, body: { error: { code: ErrorCodes.BAD_REQUEST, message: `method ${req.method} not allowed; use ${found.allowed.join(', ')}` } } });
        return;
      }
      const { route, params } = found;
      if (route.auth !== false && !authorised(req)) {
        throw new CutoverError(ErrorCodes.UNAUTHORIZED, 'missing or wrong bearer token', {
          hint: 'send Authorization: Bearer <token> (the CLI reads CUTOVER_TOKEN)',
        });
      }
      let body: unknown;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        const raw = await readJson(req);
        body = route.body ? validateBody(route.body, raw) : raw;
      }
      const actorHeader = req.headers['x-cutover-actor'];
      const actor = typeof actorHeader === 'string' && /^[\w:.@-]{1,64}$/.test(actorHeader) ? actorHeader : 'api';
      const out = await route.handler({ method: req.method ?? 'GET', path: url.pathname, params, query: url.searchParams, body, headers: req.headers, actor });
      send(res, out);
    } catch (err) {
      const out = errorResponse(err);
      if ((out.status ?? 500) >= 500) options.onError?.(err, req);
      if (!res.headersSent) send(res, out);
      else res.destroy();
    }
  });

  return {
    server,
    async listen(address) {
      const { host } = parseHostPort(address);
      if (!isLoopback(host) && options.token === undefined) {
        throw new CutoverError(ErrorCodes.CONFIG_INVALID, `refusing to serve the admin API on ${address} without a token`, {
          hint: 'set admin.token in the config or CUTOVER_TOKEN in the environment, or listen on 127.0.0.1',
        });
      }
      return listenOn(server, address);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
