/**
 * Endpoint names for paths under catch-all routes (learned templates such as
 * `/users/{id}`). Metric labels and diff groups key on these, so cardinality
 * is bounded by the templater; a small per-route cache keeps the common case
 * (the same few paths again and again) to one Map lookup per request.
 */
import { createEndpointTemplater } from '../compare/index.ts';

export interface EndpointResolver {
  endpointOf(routeId: string, template: string, pathname: string): string;
}

const CACHE_LIMIT = 4096;

export function createEndpointResolver(options: { maxTemplatesPerRoute?: number } = {}): EndpointResolver {
  const templater = createEndpointTemplater(options.maxTemplatesPerRoute ? { maxTemplatesPerRoute: options.maxTemplatesPerRoute } : {});
  const caches = new Map<string, Map<string, string>>();
  return {
    endpointOf(routeId, _template, pathname) {
      let cache = caches.get(routeId);
      if (cache === undefined) caches.set(routeId, (cache = new Map()));
      let endpoint = cache.get(pathname);
      if (endpoint === undefined) {
        endpoint = templater.template(routeId, pathname);
        // Distinct paths are unbounded; start over rather than grow.
        if (cache.size >= CACHE_LIMIT) cache.clear();
        cache.set(pathname, endpoint);
      }
      return endpoint;
    },
  };
}
