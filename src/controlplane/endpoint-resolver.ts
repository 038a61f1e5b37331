/**
 * Endpoint names for paths under catch-all routes. Metric labels and diff
 * groups key on these, so cardinality must stay bounded whatever the traffic.
 */
export interface EndpointResolver {
  endpointOf(routeId: string, template: string, pathname: string): string;
}

export function createEndpointResolver(): EndpointResolver {
  return {
    endpointOf: (_routeId, template) => template,
  };
}
