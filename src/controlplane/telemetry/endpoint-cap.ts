/**
 * The last guard on label cardinality. The data plane already reports
 * templates, never raw paths, but a learned template set can still grow with
 * hostile traffic; every series (and every Prometheus label set) goes through
 * here, so the number of endpoints per route, and of routes, has a hard bound.
 */
export const OTHER = '{other}';

export interface EndpointCap {
  /** `endpoint` if the route has room (or already knows it), else `{other}`. */
  endpoint(route: string, endpoint: string): string;
  /** Route ids are config-bounded, but recordComparison takes any string. */
  route(route: string): string;
  /** How many endpoint values were folded into `{other}`, per route (since start). */
  overflow(): ReadonlyMap<string, number>;
  setLimit(maxEndpointsPerRoute: number): void;
}

/**
 * @example
 * const cap = createEndpointCap(200);
 * cap.endpoint('default', '/users/:id'); // '/users/:id' until the route has 200 endpoints, then '{other}'
 */
export function createEndpointCap(maxEndpointsPerRoute: number, maxRoutes = 1000): EndpointCap {
  let limit = maxEndpointsPerRoute;
  const known = new Map<string, Set<string>>();
  const overflow = new Map<string, number>();
  return {
    endpoint(route, endpoint) {
      let set = known.get(route);
      if (set === undefined) {
        set = new Set();
        known.set(route, set);
      }
      if (set.has(endpoint)) return endpoint;
      if (set.size < limit) {
        set.add(endpoint);
        return endpoint;
      }
      overflow.set(route, (overflow.get(route) ?? 0) + 1);
      return OTHER;
    },
    route(route) {
      if (known.has(route) || known.size < maxRoutes) return route;
      return OTHER;
    },
    overflow: () => overflow,
    setLimit(n) {
      limit = n;
    },
  };
}
