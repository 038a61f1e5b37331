/**
 * One keep-alive pool per backend and role. Shadow traffic gets pools of its
 * own so a slow or hung candidate can never take a connection the user's
 * request needs.
 */
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import type { BackendConfig, BackendName } from '../config/schema.ts';
import { CutoverError, ErrorCodes } from '../core/errors.ts';

export interface Upstream {
  readonly name: BackendName;
  readonly pool: Pool;
  readonly origin: string;
  /** Path prefix from the backend URL, without a trailing slash ('' when none). */
  readonly pathPrefix: string;
  /** Host header policy: undefined = pass the client's, otherwise this value. */
  readonly hostHeader: string | undefined;
  /** Extra headers, flattened [name, value, name, value…]. */
  readonly extraHeaders: readonly string[];
  readonly extraHeaderNames: ReadonlySet<string>;
  readonly headersTimeout: number;
  readonly bodyTimeout: number;
}

export interface UpstreamOptions {
  connections?: number;
  /** Overrides the backend's header and idle timeouts (shadow requests have their own). */
  timeout?: number;
}

/**
 * @example
 * const legacy = createUpstream('legacy', config.backends.legacy);
 */
export function createUpstream(name: BackendName, backend: BackendConfig, options: UpstreamOptions = {}): Upstream {
  let url: URL;
  try {
    url = new URL(backend.url);
  } catch (err) {
    throw new CutoverError(ErrorCodes.CONFIG_INVALID, `backends.${name}.url "${backend.url}" is not a URL`, { cause: err });
  }
  let ca: string | undefined;
  if (backend.ca !== undefined) {
    try {
      ca = readFileSync(backend.ca, 'utf8');
    } catch (err) {
      throw new CutoverError(ErrorCodes.CONFIG_INVALID, `backends.${name}.ca: cannot read ${backend.ca}: ${(err as Error).message}`, {
        hint: 'point ca at a readable PEM file',
        cause: err,
      });
    }
  }
  const headersTimeout = options.timeout ?? backend.timeouts.headers;
  const bodyTimeout = options.timeout ?? backend.timeouts.idle;
  const pool = new Pool(url.origin, {
    connections: options.connections ?? backend.connections,
    pipelining: 1,
    headersTimeout,
    bodyTimeout,
    keepAliveTimeout: 4_000,
    connect: {
      timeout: backend.timeouts.connect,
      ...(url.protocol === 'https:' ? { ca, rejectUnauthorized: backend.rejectUnauthorized, servername: url.hostname } : {}),
      noDelay: true,
    },
  });
  const extra: string[] = [];
  for (const [k, v] of Object.entries(backend.headers)) extra.push(k, v);
  const pathPrefix = url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '');
  const hostHeader = backend.host === 'preserve' ? undefined : backend.host === 'rewrite' ? url.host : backend.host;
  const extraHeaderNames = new Set(Object.keys(backend.headers).map((k) => k.toLowerCase()));
  return { name, pool, origin: url.origin, pathPrefix, hostHeader, extraHeaders: extra, extraHeaderNames, headersTimeout, bodyTimeout };
}

export interface UpstreamSet {
  legacy: Upstream;
  candidate: Upstream;
  replica: Upstream | undefined;
}

export async function closeUpstreams(sets: UpstreamSet[]): Promise<void> {
  const all: Upstream[] = [];
  for (const s of sets) {
    all.push(s.legacy, s.candidate);
    if (s.replica) all.push(s.replica);
  }
  await Promise.all(all.map((u) => u.pool.close().catch(() => u.pool.destroy())));
}
