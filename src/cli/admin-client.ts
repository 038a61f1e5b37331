/**
 * The CLI's only way into a running cutover: the admin HTTP API.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
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
    let res: { statusCode: number; text: string };
    try {
      res = await send(`${options.url}${path}`, method, headers, body === undefined ? undefined : JSON.stringify(body));
    } catch (err) {
      throw new CutoverError(ErrorCodes.ADMIN_UNREACHABLE, `cannot reach the admin API at ${options.url}: ${(err as Error).message}`, {
        hint: 'is cutover running? pass --admin-url or set CUTOVER_ADMIN_URL',
        cause: err,
      });
    }
    const text = res.text;
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

/**
 * node:http rather than undici: the CLI makes one call and exits, and loading
 * undici would add most of its start-up time (a rollback should be instant).
 */
function send(url: string, method: string, headers: Record<string, string>, body: string | undefined): Promise<{ statusCode: number; text: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(target, { method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 60 s')));
    req.on('error', reject);
    req.end(body);
  });
}
