/**
 * The CLI's only way into a running cutover: the admin HTTP API.
 */
import { request } from 'undici';
import { CutoverError, ErrorCodes, type ErrorCode } from '../core/errors.ts';

export interface AdminClientOptions {
  url: string;
  token: string | undefined;
  actor?: string;
}

export type AdminCall = <T = unknown>(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown) => Promise<T>;

export function resolveAdminOptions(flags: { adminUrl?: string; token?: string }): AdminClientOptions {
  return {
    url: (flags.adminUrl ?? process.env.CUTOVER_ADMIN_URL ?? 'http://127.0.0.1:9090').replace(/\/+$/, ''),
    token: flags.token ?? process.env.CUTOVER_TOKEN,
    actor: 'cli',
  };
}

/**
 * @example
 * const api = createAdminClient({ url: 'http://127.0.0.1:9090', token: undefined });
 * const status = await api('GET', '/api/v1/status');
 */
export function createAdminClient(options: AdminClientOptions): AdminCall {
  return async <T>(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.actor) headers['x-cutover-actor'] = options.actor;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await request(`${options.url}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: 30_000,
        bodyTimeout: 60_000,
      });
    } catch (err) {
      throw new CutoverError(ErrorCodes.ADMIN_UNREACHABLE, `cannot reach the admin API at ${options.url}: ${(err as Error).message}`, {
        hint: 'is cutover running? pass --admin-url or set CUTOVER_ADMIN_URL',
        cause: err,
      });
    }
    const text = await res.body.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    if (res.statusCode >= 400) {
      const e = (parsed as { error?: { code?: string; message?: string; hint?: string; details?: unknown } } | undefined)?.error;
      const code = (e?.code ?? (res.statusCode === 401 ? ErrorCodes.UNAUTHORIZED : ErrorCodes.INTERNAL)) as ErrorCode;
      throw new CutoverError(code, e?.message ?? `admin API answered ${res.statusCode}`, { hint: e?.hint ?? (res.statusCode === 401 ? 'set CUTOVER_TOKEN to the admin token' : undefined), details: e?.details });
    }
    return parsed as T;
  };
}
