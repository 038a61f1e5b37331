/**
 * The admin API's routing, request validation and error mapping. Each feature
 * contributes a list of `AdminRoute`s; the OpenAPI document is generated from
 * the same list, so the docs cannot drift from what the server accepts.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { CutoverError, ErrorCodes, isCutoverError, type ErrorCode } from '../../core/errors.ts';

export interface AdminRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed and validated JSON body (undefined for GET). */
  body: unknown;
  headers: IncomingHttpHeaders;
  /** Who made the change, for the audit ledger: `api`, or `cli` when the CLI says so. */
  actor: string;
}

export interface AdminResponse {
  status?: number;
  body?: unknown;
  /** Sent as-is instead of JSON (e.g. Prometheus text, HTML). */
  raw?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface AdminRoute {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Path with `{param}` placeholders, as in OpenAPI: `/api/v1/routes/{id}`. */
  path: string;
  summary: string;
  /** Validates the JSON body; its JSON Schema goes into the OpenAPI document. */
  body?: z.ZodType;
  /** Query parameters documented in OpenAPI. */
  query?: Record<string, string>;
  /** Defaults to true. Health checks and /metrics may opt out. */
  auth?: boolean;
  tag?: string;
  handler(req: AdminRequest): AdminResponse | Promise<AdminResponse>;
}

/** The single place CutoverError codes become HTTP statuses. */
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  [ErrorCodes.BAD_REQUEST]: 400,
  [ErrorCodes.INPUT_INVALID]: 400,
  [ErrorCodes.CONFIG_INVALID]: 400,
  [ErrorCodes.CONFIG_PARSE]: 400,
  [ErrorCodes.UNAUTHORIZED]: 401,
  [ErrorCodes.NOT_FOUND]: 404,
  [ErrorCodes.CONFLICT]: 409,
  [ErrorCodes.STORE]: 503,
};

export function errorResponse(err: unknown): AdminResponse {
  if (isCutoverError(err)) return { status: STATUS_BY_CODE[err.code] ?? 500, body: { error: err.toJSON() } };
  return {
    status: 500,
    body: { error: { code: ErrorCodes.INTERNAL, message: (err as Error)?.message ?? String(err), hint: 'this is a bug in cutover; the log has the stack trace' } },
  };
}

interface CompiledAdminRoute {
  route: AdminRoute;
  segments: string[];
}

export interface AdminRouter {
  readonly routes: readonly AdminRoute[];
  find(method: string, path: string): { route: AdminRoute; params: Record<string, string> } | { allowed: string[] } | undefined;
}

export function createAdminRouter(routes: AdminRoute[]): AdminRouter {
  const compiled: CompiledAdminRoute[] = routes.map((route) => ({ route, segments: route.path.split('/').slice(1) }));
  return {
    routes,
    find(method, path) {
      const parts = path.split('/').slice(1);
      const allowed: string[] = [];
      for (const c of compiled) {
        if (c.segments.length !== parts.length) continue;
        const params: Record<string, string> = {};
        let ok = true;
        for (let i = 0; i < parts.length; i++) {
          const seg = c.segments[i]!;
          if (seg.startsWith('{') && seg.endsWith('}')) {
            if (parts[i] === '') {
              ok = false;
              break;
            }
            params[seg.slice(1, -1)] = decodeURIComponent(parts[i]!);
          } else if (seg !== parts[i]) {
            ok = false;
            break;
          }
        }
        if (!ok) continue;
        if (c.route.method === method) return { route: c.route, params };
        allowed.push(c.route.method);
      }
      return allowed.length > 0 ? { allowed } : undefined;
    },
  };
}

/** Turns a zod failure into a 400 that names each field. */
export function validateBody(schema: z.ZodType, body: unknown): unknown {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message }));
  throw new CutoverError(ErrorCodes.BAD_REQUEST, `invalid request body: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, {
    hint: 'see /api/v1/openapi.json for the accepted shape',
    details: problems,
  });
}

export function buildOpenApi(routes: readonly AdminRoute[], version: string): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const params = [...r.path.matchAll(/\{([^}]+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query = Object.entries(r.query ?? {}).map(([name, description]) => ({ name, in: 'query', required: false, description, schema: { type: 'string' } }));
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: r.tag ? [r.tag] : undefined,
      parameters: [...params, ...query],
      responses: {
        '200': { description: 'OK' },
        '400': { description: 'Invalid request', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        '401': { description: 'Missing or wrong bearer token' },
        '404': { description: 'Not found' },
      },
    };
    if (r.auth === false) op.security = [];
    if (r.body) {
      op.requestBody = { required: true, content: { 'application/json': { schema: z.toJSONSchema(r.body, { io: 'input', unrepresentable: 'any' }) } } };
    }
    (paths[r.path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'cutover admin API', version },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: {
          type: 'object',
          properties: {
            error: {
              type: 'object',
              properties: { code: { type: 'string' }, message: { type: 'string' }, hint: { type: 'string' }, details: {} },
              required: ['code', 'message'],
            },
          },
        },
      },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
