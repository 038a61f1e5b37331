/**
 * Runtime routing changes: set a route's mode, roll back one route or all of
 * them, flip the kill switch. Each change is stored (so it survives a restart)
 * and applied to every data plane; the call returns once every worker has
 * swapped its snapshot, so the next request sees the change.
 *
 * Instances that share a store follow each other: `sync` reads the stored
 * overrides and kill switch and applies what another instance changed. A
 * change this instance applied but could not store (a rollback while the
 * store is down) is never undone by that: it is written again first, and
 * until it is, the stored value for that route is not taken.
 */
import { MODES, type Mode } from '../config/schema.ts';
import { CutoverError, ErrorCodes } from '../core/errors.ts';
import type { RouteDescription, RouteState, RoutingSnapshot } from '../dataplane/routing-snapshot.ts';
import type { Store } from '../storage/store.ts';

export interface RoutingChange {
  overrides: ReadonlyMap<string, RouteState>;
  killSwitch: boolean;
}

export interface RoutingControl {
  describe(): RouteDescription[];
  /** Routes the last compile disabled, with why. */
  disabledRoutes(): ReadonlyArray<{ id: string; error: string }>;
  routeIds(): string[];
  killSwitch(): { on: boolean; source: string | undefined };
  set(route: string, mode: Mode, percent: number | undefined, actor: string): Promise<RouteDescription>;
  /** Back to legacy: one route, or every route when `route` is undefined. Returns the routes changed. */
  rollback(route: string | undefined, actor: string): Promise<string[]>;
  /** Drops a runtime override so the route follows its configured mode again. */
  reset(route: string, actor: string): Promise<RouteDescription>;
  setKillSwitch(on: boolean, actor: string): Promise<void>;
  /** Re-applies the current overrides (after a config reload, or when the external kill switch changed). */
  reapply(): Promise<void>;
  /**
   * Takes what another instance sharing the store changed, after writing
   * this instance's unstored changes. Resolves with what changed here, or
   * undefined when nothing did.
   */
  sync(): Promise<{ routes: string[]; killSwitch: boolean | undefined } | undefined>;
  /** Listeners see every applied change (for the audit ledger and notifications). */
  onChange(listener: (event: RoutingChangeEvent) => void): void;
}

export interface RoutingChangeEvent {
  action: 'set' | 'rollback' | 'reset' | 'kill-switch';
  routes: string[];
  actor: string;
  /** Made by another instance sharing the store and taken by `sync`: that instance has audited it already. */
  remote?: boolean;
  from: Array<{ route: string; mode: Mode; percent: number }>;
  to: Array<{ route: string; mode: Mode; percent: number }>;
  killSwitch?: boolean;
}

const KILL_SWITCH_META = 'kill-switch';

export interface RoutingControlOptions {
  store: Store;
  /** Applies the change to every data plane and resolves when all have swapped. */
  apply: (change: RoutingChange) => Promise<RoutingSnapshot>;
  initialSnapshot: RoutingSnapshot;
  initialOverrides: Map<string, RouteState>;
  /** Kill switch forced on by the environment or a file flag; cannot be lifted through the API. */
  externalKillSwitch: () => string | undefined;
}

export async function loadPersistedRouting(store: Store): Promise<{ overrides: Map<string, RouteState>; killSwitch: boolean }> {
  const overrides = new Map<string, RouteState>();
  for (const o of await store.listRouteOverrides()) overrides.set(o.route, { mode: o.mode, percent: o.percent });
  const kill = await store.getMeta(KILL_SWITCH_META);
  return { overrides, killSwitch: kill === 'on' };
}

/** A change that took effect here but is not in the store yet: the caller must hear both halves. */
function storedLate(what: string, cause: unknown): CutoverError {
  return new CutoverError(ErrorCodes.STORE, `${what} on this instance, but the store did not take it: ${(cause as Error).message ?? String(cause)}`, {
    hint: 'traffic here has changed; it is written again every second, and until then other instances sharing the store and a restart do not see it',
    cause,
  });
}

function normalisePercent(mode: Mode, percent: number | undefined): number {
  if (mode === 'canary') {
    if (percent === undefined) throw new CutoverError(ErrorCodes.BAD_REQUEST, 'canary mode needs a percent', { hint: 'e.g. `cutover set checkout canary 10`' });
    if (!(percent >= 0 && percent <= 100) || Math.abs(Math.round(percent * 100) - percent * 100) > 1e-9) {
      throw new CutoverError(ErrorCodes.BAD_REQUEST, `percent ${percent} is out of range`, { hint: 'use 0 to 100 in steps of 0.01' });
    }
    return percent;
  }
  return mode === 'candidate' || mode === 'live' ? 100 : 0;
}

export function createRoutingControl(options: RoutingControlOptions): RoutingControl {
  const { store } = options;
  let snapshot = options.initialSnapshot;
  const overrides = new Map(options.initialOverrides);
  let apiKillSwitch = snapshot.killSwitch && options.externalKillSwitch() === undefined;
  const listeners: Array<(e: RoutingChangeEvent) => void> = [];
  // Applied here but not yet in the store: written again at the next sync, and never overwritten by it.
  const unstored = new Set<string>();
  let killSwitchUnstored = false;
  // Changes are serialised so two concurrent calls cannot interleave store and apply.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };
  // Local changes in flight, and how many have finished: sync reads the store outside the queue (a slow
  // store must not hold a rollback back) and drops what it read if a local change ran meanwhile.
  let changing = 0;
  let changesDone = 0;
  const change = <T>(fn: () => Promise<T>): Promise<T> =>
    serial(async () => {
      changing++;
      try {
        return await fn();
      } finally {
        changing--;
        changesDone++;
      }
    });

  const ids = () => snapshot.routes.map((r) => r.id);
  const describeRoute = (id: string) => snapshot.routes.find((r) => r.id === id)?.description;
  const requireRoute = (id: string) => {
    if (!ids().includes(id)) {
      throw new CutoverError(ErrorCodes.NOT_FOUND, `route "${id}" does not exist`, { hint: `known routes: ${ids().join(', ')}` });
    }
  };
  const stateOf = (id: string) => {
    const d = describeRoute(id)!;
    return { route: id, mode: d.mode, percent: d.percent };
  };
  const killOn = () => apiKillSwitch || options.externalKillSwitch() !== undefined;
  const applyNow = async () => {
    snapshot = await options.apply({ overrides: new Map(overrides), killSwitch: killOn() });
  };
  const emit = (e: RoutingChangeEvent) => {
    for (const l of listeners) l(e);
  };

  return {
    describe: () => snapshot.routes.map((r) => r.description),
    disabledRoutes: () => snapshot.disabled,
    routeIds: ids,
    killSwitch: () => ({ on: killOn(), source: options.externalKillSwitch() ?? (apiKillSwitch ? 'api' : undefined) }),
    set: (route, mode, percent, actor) =>
      change(async () => {
        requireRoute(route);
        if (!MODES.includes(mode)) throw new CutoverError(ErrorCodes.BAD_REQUEST, `unknown mode "${mode}"`, { hint: `use one of ${MODES.join(', ')}` });
        const p = normalisePercent(mode, percent);
        const from = stateOf(route);
        await store.putRouteOverride({ route, mode, percent: p, updatedAt: Date.now(), updatedBy: actor });
        overrides.set(route, { mode, percent: p });
        await applyNow();
        emit({ action: 'set', routes: [route], actor, from: [from], to: [stateOf(route)] });
        return describeRoute(route)!;
      }),
    rollback: (route, actor) =>
      change(async () => {
        if (route !== undefined) requireRoute(route);
        const targets = route === undefined ? ids() : [route];
        const from = targets.map(stateOf);
        const now = Date.now();
        // Apply first: a rollback must not wait on a slow disk. Then persist.
        for (const id of targets) overrides.set(id, { mode: 'legacy', percent: 0 });
        await applyNow();
        for (const id of targets) unstored.add(id);
        emit({ action: 'rollback', routes: targets, actor, from, to: targets.map(stateOf) });
        try {
          await Promise.all(targets.map((id) => store.putRouteOverride({ route: id, mode: 'legacy', percent: 0, updatedAt: now, updatedBy: actor }).then(() => unstored.delete(id))));
        } catch (err) {
          throw storedLate(`rolled back ${targets.join(', ')}`, err);
        }
        return targets;
      }),
    reset: (route, actor) =>
      change(async () => {
        requireRoute(route);
        const from = stateOf(route);
        await store.deleteRouteOverride(route);
        overrides.delete(route);
        await applyNow();
        emit({ action: 'reset', routes: [route], actor, from: [from], to: [stateOf(route)] });
        return describeRoute(route)!;
      }),
    setKillSwitch: (on, actor) =>
      change(async () => {
        if (!on && options.externalKillSwitch() !== undefined) {
          throw new CutoverError(ErrorCodes.CONFLICT, `the kill switch is held by ${options.externalKillSwitch()}`, {
            hint: 'unset the environment variable or remove the flag file, then send SIGHUP',
          });
        }
        const from = ids().map(stateOf);
        apiKillSwitch = on;
        await applyNow();
        killSwitchUnstored = true;
        emit({ action: 'kill-switch', routes: ids(), actor, from, to: ids().map(stateOf), killSwitch: killOn() });
        try {
          await store.setMeta(KILL_SWITCH_META, on ? 'on' : 'off');
        } catch (err) {
          throw storedLate(`turned the kill switch ${on ? 'on' : 'off'}`, err);
        }
        killSwitchUnstored = false;
      }),
    reapply: () => serial(applyNow),
    sync: async () => {
      if (unstored.size > 0 || killSwitchUnstored) {
        // What this instance applied but could not store goes first, in the queue: a rollback here must reach the others, not be undone by them.
        await serial(async () => {
          for (const id of [...unstored]) {
            const o = overrides.get(id);
            if (o === undefined) await store.deleteRouteOverride(id);
            else await store.putRouteOverride({ route: id, mode: o.mode, percent: o.percent, updatedAt: Date.now(), updatedBy: 'cutover (stored late)' });
            unstored.delete(id);
          }
          if (killSwitchUnstored) {
            await store.setMeta(KILL_SWITCH_META, apiKillSwitch ? 'on' : 'off');
            killSwitchUnstored = false;
          }
        });
      }
      if (changing > 0) return undefined;
      const seen = changesDone;
      const rows = new Map((await store.listRouteOverrides()).map((o) => [o.route, o]));
      const storedKill = (await store.getMeta(KILL_SWITCH_META)) === 'on';
      return serial(async () => {
        // A local change finished since the read: it is newer than what was read, and the next sync reads again.
        if (changesDone !== seen || unstored.size > 0 || killSwitchUnstored) return undefined;
        const before = new Map(ids().map((id) => [id, stateOf(id)]));
        const routes: string[] = [];
        for (const id of new Set([...overrides.keys(), ...rows.keys()])) {
          const mine = overrides.get(id);
          const theirs = rows.get(id);
          if (mine?.mode === theirs?.mode && mine?.percent === theirs?.percent) continue;
          if (theirs === undefined) overrides.delete(id);
          else overrides.set(id, { mode: theirs.mode, percent: theirs.percent });
          routes.push(id);
        }
        const killSwitch = storedKill !== apiKillSwitch ? storedKill : undefined;
        if (killSwitch !== undefined) apiKillSwitch = killSwitch;
        if (routes.length === 0 && killSwitch === undefined) return undefined;
        await applyNow();
        // Tell this instance's listeners (a rollout driving these routes must stop or pause), with who made the change.
        // One event per action and actor, as the instance that made the change emitted it.
        const events = new Map<string, RoutingChangeEvent>();
        for (const id of routes.filter((r) => before.has(r))) {
          const row = rows.get(id);
          const action = row === undefined ? 'reset' : row.mode === 'legacy' ? 'rollback' : 'set';
          const actor = row?.updatedBy ?? 'another instance';
          const key = JSON.stringify([action, actor]);
          const e = events.get(key) ?? { action, actor, remote: true, routes: [], from: [], to: [] };
          e.routes.push(id);
          e.from.push(before.get(id)!);
          e.to.push(stateOf(id));
          events.set(key, e);
        }
        for (const e of events.values()) emit(e);
        if (killSwitch !== undefined) {
          const all = ids();
          emit({ action: 'kill-switch', routes: all, actor: 'another instance', remote: true, from: all.map((id) => before.get(id) ?? stateOf(id)), to: all.map(stateOf), killSwitch: killOn() });
        }
        return { routes, killSwitch };
      });
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}
