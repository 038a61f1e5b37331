/**
 * Which routes a plan drives. `plans:` is keyed by route id or by component
 * name; a component plan moves all its routes together, in lockstep, because
 * its routes usually share a data store and must not disagree on the backend.
 */

export interface PlanTarget {
  /** The plan key, used as the rollout key and the audit subject. */
  key: string;
  kind: 'route' | 'component';
  routes: string[];
}

export interface PlanTargetsResult {
  targets: PlanTarget[];
  /** Human-readable problems; a loader should refuse the config when any exist. */
  problems: string[];
}

/**
 * @example
 * resolvePlanTargets(
 *   [{ id: 'wallet-balance', component: 'wallet' }, { id: 'wallet-send', component: 'wallet' }, { id: 'policy-check' }],
 *   ['wallet', 'policy-check'],
 * )
 * // targets: [{ key: 'wallet', kind: 'component', routes: ['wallet-balance', 'wallet-send'] },
 * //           { key: 'policy-check', kind: 'route', routes: ['policy-check'] }]
 */
export function resolvePlanTargets(
  routes: ReadonlyArray<{ id: string; component?: string | undefined }>,
  planKeys: Iterable<string>,
): PlanTargetsResult {
  const targets: PlanTarget[] = [];
  const problems: string[] = [];
  const owner = new Map<string, string>();
  for (const key of planKeys) {
    const byComponent = routes.filter((r) => r.component === key).map((r) => r.id);
    const byId = routes.some((r) => r.id === key);
    if (byId && byComponent.length > 0) {
      problems.push(`plan "${key}" is ambiguous: it names both a route and a component; rename one of them`);
      continue;
    }
    if (!byId && byComponent.length === 0) {
      problems.push(`plan "${key}" matches no route id and no route component`);
      continue;
    }
    const target: PlanTarget = byId ? { key, kind: 'route', routes: [key] } : { key, kind: 'component', routes: byComponent };
    for (const route of target.routes) {
      const prev = owner.get(route);
      if (prev !== undefined) {
        problems.push(`route "${route}" is driven by two plans, "${prev}" and "${key}"; keep one`);
      } else owner.set(route, key);
    }
    targets.push(target);
  }
  return { targets, problems };
}
