/**
 * Route matching, compiled once per routing snapshot. Paths are matched
 * segment by segment, never by regular expressions built from user input.
 */
import type { RouteConfig } from '../config/schema.ts';

export type PathKind = 'template' | 'exact' | 'prefix';

export interface RouteMatcher {
  /** The endpoint template used for grouping and metric labels. */
  readonly template: string;
  /** True when the route can match many distinct paths (prefix, or a trailing `*`), so endpoints are learned. */
  readonly catchAll: boolean;
  matches(method: string, pathname: string, headers: Record<string, string | string[] | undefined>): boolean;
}

type Segment = { kind: 'literal'; value: string } | { kind: 'param' } | { kind: 'rest' };

export function inferPathKind(path: string): PathKind {
  return /(^|\/)(:[^/]+|\*)/.test(path) ? 'template' : 'exact';
}

/**
 * @example
 * const m = compileMatcher({ methods: ['GET'], path: '/api/token/:mint/safety' });
 * m.matches('GET', '/api/token/So11111/safety', {}) // true
 */
export function compileMatcher(match: RouteConfig['match']): RouteMatcher {
  const methods = match.methods && match.methods.length > 0 ? new Set(match.methods) : undefined;
  const headerRules = match.headers ? Object.entries(match.headers).map(([k, v]) => [k.toLowerCase(), v] as const) : undefined;
  const path = match.path;
  const kind: PathKind = path === undefined ? 'prefix' : (match.pathType ?? inferPathKind(path));
  const pathTest = compilePath(path ?? '/', kind);

  const headersOk = headerRules
    ? (headers: Record<string, string | string[] | undefined>) => {
        for (const [name, want] of headerRules) {
          const got = headers[name];
          if (Array.isArray(got) ? !got.includes(want) : got !== want) return false;
        }
        return true;
      }
    : undefined;

  return {
    template: pathTest.template,
    catchAll: pathTest.catchAll,
    matches(method, pathname, headers) {
      if (methods !== undefined && !methods.has(method)) return false;
      if (!pathTest.test(pathname)) return false;
      return headersOk === undefined || headersOk(headers);
    },
  };
}

function compilePath(path: string, kind: PathKind): { test(p: string): boolean; template: string; catchAll: boolean } {
  if (kind === 'exact') return { test: (p) => p === path, template: path, catchAll: false };
  if (kind === 'prefix') {
    const withSlash = path.endsWith('/') ? path : `${path}/`;
    const bare = path.endsWith('/') && path.length > 1 ? path.slice(0, -1) : path;
    return {
      test: path === '/' ? () => true : (p) => p === bare || p.startsWith(withSlash),
      template: path === '/' ? '/*' : `${bare}/*`,
      catchAll: true,
    };
  }
  const segments: Segment[] = path
    .split('/')
    .slice(1)
    .map((s) => (s === '*' ? { kind: 'rest' } : s.startsWith(':') ? { kind: 'param' } : { kind: 'literal', value: s }));
  const restIndex = segments.findIndex((s) => s.kind === 'rest');
  const template = path.replace(/:([^/]+)/g, '{$1}');
  return {
    template,
    catchAll: restIndex !== -1,
    test(p) {
      let pos = 1;
      for (let i = 0; i < segments.length; i++) {
        const seg = segments[i]!;
        if (seg.kind === 'rest') return true;
        const end = p.indexOf('/', pos);
        const last = end === -1;
        const part = last ? p.slice(pos) : p.slice(pos, end);
        if (seg.kind === 'literal' ? part !== seg.value : part === '') return false;
        if (last) return i === segments.length - 1 || (i === segments.length - 2 && segments[i + 1]!.kind === 'rest');
        pos = end + 1;
      }
      return false;
    },
  };
}
