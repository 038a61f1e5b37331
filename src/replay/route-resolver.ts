/**
 * Which route and endpoint a replayed request belongs to, decided exactly as
 * the proxy decides it: the same compiled matchers in config order, `default`
 * when none matches, and learned templates under catch-all routes.
 */
import type { CutoverConfig } from '../config/schema.ts';
import { createEndpointResolver } from '../controlplane/endpoint-resolver.ts';
import { compileMatcher, type RouteMatcher } from '../dataplane/route-matcher.ts';
import { DEFAULT_ROUTE_ID } from '../dataplane/routing-snapshot.ts';

export interface RouteResolver {
  resolve(method: string, pathname: string, headers: Record<string, string | string[] | undefined>): { route: string; endpoint: string };
}

/**
 * @example
 * const routes = createRouteResolver(config);
 * routes.resolve('GET', '/users/42', {}) // { route: 'users', endpoint: '/users/{id}' }
 */
export function createRouteResolver(config: CutoverConfig): RouteResolver {
  const compiled: Array<{ id: string; matcher: RouteMatcher }> = config.routes.map((r) => ({ id: r.id, matcher: compileMatcher(r.match) }));
  const fallback = compileMatcher({});
  const endpoints = createEndpointResolver();
  const endpointOf = (id: string, matcher: RouteMatcher, pathname: string) =>
    matcher.catchAll ? endpoints.endpointOf(id, matcher.template, pathname) : matcher.template;
  return {
    resolve(method, pathname, headers) {
      for (const r of compiled) {
        if (r.matcher.matches(method, pathname, headers)) return { route: r.id, endpoint: endpointOf(r.id, r.matcher, pathname) };
      }
      return { route: DEFAULT_ROUTE_ID, endpoint: endpointOf(DEFAULT_ROUTE_ID, fallback, pathname) };
    },
  };
}
