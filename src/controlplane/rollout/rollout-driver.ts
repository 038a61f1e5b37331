/**
 * The thin, impure driver around the pure rollout core: one entry per plan,
 * a timer per running rollout, telemetry snapshots in, the core's effects
 * carried out (routing, store, audit, webhooks).
 *
 * Events for one rollout are serialized: each runs `transition` on the state
 * the previous one left, so a manual abort and a timer tick can never both
 * act on the same old state. Building a snapshot (telemetry plus the custom
 * check URL, which may take seconds) happens outside that queue; the tick is
 * dropped if the rollout moved while it was being built, so a slow checker
 * never delays an abort.
 *
 * Ordering of effects, per transition:
 * - Moving traffic toward legacy (rollback, abort, kill switch, rampdown):
 *   routing first, then the state is stored. A rollback must not wait for the
 *   store; if the process dies before the write, the restart re-asserts the
 *   old step's routes and the next evaluation fails again.
 * - Moving traffic toward the candidate (start, advance, promote, resume):
 *   the state is stored first, then routing. A crash in between leaves routes
 *   behind the stored step, and the restart event re-asserts the stored
 *   routes, so traffic never gets ahead of what the store says.
 * - Then audit entries (awaited, errors logged), then notifications
 *   (background, never awaited).
 */
import type { Logger } from 'pino';
import type { CutoverConfig } from '../../config/schema.ts';
import { CutoverError, ErrorCodes, isCutoverError } from '../../core/errors.ts';
import {
  createRolloutState,
  evaluationWindow,
  formatStep,
  parseRolloutState,
  resolvePlan,
  resolvePlanTargets,
  transition,
  type RolloutEffect,
  type RolloutEvent,
  type RolloutState,
  type RolloutTransition,
  type RouteMode,
} from '../../rollout/index.ts';
import type { AuditEntry, Store } from '../../storage/store.ts';
import type { RoutingChangeEvent, RoutingControl } from '../routing-control.ts';
import type { TelemetryApi } from '../telemetry/telemetry-api.ts';
import { runCustomCheck } from './custom-check.ts';
import { buildTelemetrySnapshot, emptySnapshot, stepBaseline, type StepBaseline } from './telemetry-snapshot.ts';
import type { Notifier } from './webhook-notifier.ts';

export const DRIVER_ACTOR = 'driver';

export interface RolloutDriverOptions {
  config: () => CutoverConfig;
  store: Store;
  routing: RoutingControl;
  logger: Logger;
  telemetry: () => TelemetryApi | undefined;
  notifier: Notifier;
  /** How often the kill switch is re-read; env/file changes on SIGHUP re-apply routing without an onChange event. */
  killSwitchPollMs?: number;
}

/** What the API and CLI show for one rollout. */
export interface RolloutView {
  key: string;
  routes: string[];
  status: RolloutState['status'];
  /** 0-based index into `steps`. */
  step: number;
  steps: string[];
  stepLabel: string;
  stepStartedAt: number | null;
  startedAt: number | null;
  updatedAt: number;
  reason: string | null;
  route: RouteMode | null;
  consecutiveFailures: number;
  failureThreshold: number;
  inconclusiveSince: number | null;
  beforeKill: RolloutState['beforeKill'];
  nextEvaluationAt: number | null;
  lastEvaluation: RolloutState['lastEvaluation'];
  /** False when the plan was removed from the config: shown, but it cannot be started again. */
  configured: boolean;
  /** False while a routing call for this state failed and is being retried. */
  routesApplied: boolean;
}

export type ManualAction = 'start' | 'pause' | 'resume' | 'promote' | 'abort' | 'setStep';

export interface ManualCommand {
  action: ManualAction;
  actor: string;
  note?: string;
  /** setStep: target index; start: first step (default 0). */
  step?: number;
}

export interface RolloutDriver {
  keys(): string[];
  list(): RolloutView[];
  get(key: string): RolloutView;
  state(key: string): RolloutState;
  /** Runs a manual action; throws CONFLICT (409) with the core's reason when it does not apply. */
  command(key: string, command: ManualCommand): Promise<RolloutView>;
  /** Evaluates now instead of waiting for the timer (tests, `cutover rollout status --refresh`). */
  evaluateNow(key: string): Promise<void>;
  /** Resumes every stored rollout (the `restart` event) and aligns them with the kill switch. */
  start(): Promise<void>;
  onConfig(config: CutoverConfig): void;
  close(): Promise<void>;
}

interface Entry {
  key: string;
  state: RolloutState;
  configured: boolean;
  queue: Promise<unknown>;
  timer: NodeJS.Timeout | undefined;
  nextEvaluationAt: number | null;
  evaluating: boolean;
  baseline: StepBaseline | undefined;
  /** A human changed the routes: the step's split is re-asserted when the rollout next runs (never while paused, so the human's change holds). */
  routesDirty: boolean;
  /** A routing call failed: retried on a timer until the routes match the state, whatever the status. */
  routesFailed: boolean;
  retryTimer: NodeJS.Timeout | undefined;
}

/** How far toward the candidate a route mode sends traffic; used to order routing against the store write. */
function exposure(route: RouteMode | null): number {
  if (route === null) return -1;
  switch (route.mode) {
    case 'legacy':
      return 0;
    case 'shadow':
      return 1;
    case 'canary':
      return 2 + route.percent / 100;
    case 'live':
      return 4;
    case 'candidate':
      return 5;
  }
}

function killActor(source: string | undefined, fallback: string): string {
  if (source?.startsWith('env:')) return 'kill-switch:env';
  if (source?.startsWith('file:')) return 'kill-switch:file';
  return fallback;
}

/**
 * @example
 * const driver = createRolloutDriver({ config, store, routing, logger, telemetry: () => api, notifier });
 * await driver.start();
 * await driver.command('wallet', { action: 'start', actor: 'cli' });
 */
export function createRolloutDriver(options: RolloutDriverOptions): RolloutDriver {
  const { store, routing, notifier } = options;
  const logger = options.logger.child({ feature: 'rollout' });
  const entries = new Map<string, Entry>();
  let closed = false;
  let killOn = routing.killSwitch().on;
  let killPoll: NodeJS.Timeout | undefined;

  const targetsOf = (config: CutoverConfig) => {
    const { targets, problems } = resolvePlanTargets(config.routes, Object.keys(config.plans));
    for (const p of problems) logger.warn({ problem: p }, 'rollout plan ignored');
    return targets;
  };

  const require = (key: string): Entry => {
    const e = entries.get(key);
    if (e === undefined) {
      const known = [...entries.keys()];
      throw new CutoverError(ErrorCodes.NOT_FOUND, `no rollout "${key}"`, {
        hint: known.length ? `known rollouts: ${known.join(', ')}` : 'add a plan under `plans:` in cutover.yaml, keyed by route id or component',
      });
    }
    return e;
  };

  const serial = <T>(entry: Entry, fn: () => Promise<T>): Promise<T> => {
    const next = entry.queue.then(fn, fn);
    entry.queue = next.catch(() => undefined);
    return next;
  };

  const view = (e: Entry): RolloutView => {
    const s = e.state;
    return {
      key: e.key,
      routes: [...s.routes],
      status: s.status,
      step: s.step,
      steps: s.plan.steps.map(formatStep),
      stepLabel: formatStep(s.plan.steps[s.step]!),
      stepStartedAt: s.stepStartedAt,
      startedAt: s.startedAt,
      updatedAt: s.updatedAt,
      reason: s.reason,
      route: s.route,
      consecutiveFailures: s.consecutiveFailures,
      failureThreshold: s.plan.failureThreshold,
      inconclusiveSince: s.inconclusiveSince,
      beforeKill: s.beforeKill,
      nextEvaluationAt: e.nextEvaluationAt,
      lastEvaluation: s.lastEvaluation,
      configured: e.configured,
      routesApplied: !e.routesFailed,
    };
  };

  // ---- effects ----

  const applyRouteEffect = async (effect: RolloutEffect): Promise<void> => {
    if (effect.type !== 'setRoute' && effect.type !== 'clearRoute') return;
    for (const route of effect.routes) {
      try {
        if (effect.type === 'clearRoute') await routing.reset(route, DRIVER_ACTOR);
        else if (effect.mode === 'legacy') await routing.rollback(route, DRIVER_ACTOR);
        else await routing.set(route, effect.mode, effect.percent, DRIVER_ACTOR);
      } catch (err) {
        // A route removed from the config by a reload: nothing to move, and retrying would not bring it back.
        if (isCutoverError(err) && err.code === ErrorCodes.NOT_FOUND) {
          logger.warn({ route }, 'a rollout route no longer exists in the config; skipped');
          continue;
        }
        throw err;
      }
    }
  };

  const applyRouting = async (entry: Entry, effects: RolloutEffect[]): Promise<void> => {
    try {
      for (const effect of effects) await applyRouteEffect(effect);
      entry.routesDirty = false;
      entry.routesFailed = false;
    } catch (err) {
      logger.error({ err, rollout: entry.key }, 'applying the rollout routes failed; retrying every second');
      entry.routesFailed = true;
      scheduleRouteRetry(entry);
    }
  };

  // A failed rollback must not wait for an evaluation that a rolled-back rollout never gets.
  const scheduleRouteRetry = (entry: Entry): void => {
    if (closed || entry.retryTimer !== undefined) return;
    entry.retryTimer = setTimeout(() => {
      entry.retryTimer = undefined;
      void serial(entry, async () => {
        if (entry.routesFailed) await reassertRoutes(entry);
      }).catch((err: unknown) => logger.error({ err, rollout: entry.key }, 'retrying the rollout routes failed'));
    }, 1_000);
    entry.retryTimer.unref();
  };

  /** The state's routes again, after a failed routing call or a human's change. */
  const reassertRoutes = async (entry: Entry): Promise<void> => {
    const s = entry.state;
    const effects: RolloutEffect[] =
      s.route === null ? [{ type: 'clearRoute', routes: s.routes }] : [{ type: 'setRoute', routes: s.routes, mode: s.route.mode, percent: s.route.percent }];
    await applyRouting(entry, effects);
  };

  const persist = (state: RolloutState) => store.putRollout(state.key, state);

  const audit = async (entry: AuditEntry): Promise<void> => {
    try {
      await store.appendAudit(entry);
    } catch (err) {
      logger.error({ err, subject: entry.subject, action: entry.action }, 'writing the audit entry failed');
    }
  };

  const takeBaseline = (entry: Entry): void => {
    const t = options.telemetry();
    const at = entry.state.stepStartedAt;
    entry.baseline = t !== undefined && at !== null ? stepBaseline(t, entry.state.routes, at) : undefined;
  };

  const schedule = (entry: Entry, at: number | undefined): void => {
    if (closed) return;
    const active = entry.state.status === 'running' || entry.state.status === 'paused';
    if (!active) {
      clearTimeout(entry.timer);
      entry.timer = undefined;
      entry.nextEvaluationAt = null;
      return;
    }
    if (at === undefined && entry.timer !== undefined) return;
    clearTimeout(entry.timer);
    const when = at ?? Date.now() + entry.state.plan.interval;
    entry.nextEvaluationAt = when;
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      void evaluate(entry).finally(() => schedule(entry, undefined));
    }, Math.max(0, when - Date.now()));
    entry.timer.unref();
  };

  /** Runs one event through the core and carries out its effects; call inside `serial`. */
  const apply = async (entry: Entry, event: RolloutEvent): Promise<RolloutTransition> => {
    const before = entry.state;
    const result = transition(before, event);
    if (result.rejected !== undefined) {
      for (const effect of result.effects) if (effect.type === 'audit') await audit(effect.entry);
      return result;
    }
    const next = result.state;
    const routeEffects = result.effects.filter((e) => e.type === 'setRoute' || e.type === 'clearRoute');
    const towardLegacy = routeEffects.length > 0 && exposure(next.route) < exposure(before.route);
    const stepChanged = next.stepStartedAt !== before.stepStartedAt || next.routes.join() !== before.routes.join();

    // Readers (API views, the next evaluation) see the new state only once its routes are in place.
    if (towardLegacy) {
      await applyRouting(entry, routeEffects);
      entry.state = next;
      await persist(next).catch((err: unknown) => logger.error({ err, rollout: entry.key }, 'storing the rollout state failed after rolling back; routes are on legacy'));
    } else {
      try {
        await persist(next);
      } catch (err) {
        throw new CutoverError(ErrorCodes.STORE, `could not store rollout "${entry.key}": ${(err as Error).message}`, {
          hint: 'nothing was changed; check the store and try again',
          cause: err,
        });
      }
      if (routeEffects.length > 0) await applyRouting(entry, routeEffects);
      entry.state = next;
      if (routeEffects.length === 0 && (entry.routesFailed || (entry.routesDirty && next.status === 'running'))) await reassertRoutes(entry);
    }
    if (stepChanged) takeBaseline(entry);

    for (const effect of result.effects) {
      if (effect.type === 'audit') await audit(effect.entry);
      else if (effect.type === 'notify') {
        notifier.send({ subject: effect.subject, level: effect.level, event: effect.event, message: effect.message, time: event.at, actor: event.actor, state: view(entry) });
      }
    }
    const scheduled = result.effects.find((e) => e.type === 'scheduleEval');
    schedule(entry, scheduled?.type === 'scheduleEval' ? scheduled.at : undefined);
    if (before.status !== next.status || before.step !== next.step) {
      logger.info({ rollout: entry.key, event: event.type, actor: event.actor, from: `${before.status}@${before.step}`, to: `${next.status}@${next.step}`, reason: next.reason }, 'rollout transition');
    }
    return result;
  };

  const send = (entry: Entry, event: RolloutEvent): Promise<RolloutTransition> => serial(entry, () => apply(entry, event));

  const evaluate = async (entry: Entry): Promise<void> => {
    if (entry.evaluating || closed) return;
    const s0 = entry.state;
    if (s0.status !== 'running' && s0.status !== 'paused') return;
    entry.evaluating = true;
    try {
      const now = Date.now();
      const w = evaluationWindow(s0, now) ?? { from: now, to: now };
      const telemetry = options.telemetry();
      const snapshot = telemetry ? buildTelemetrySnapshot(telemetry, s0.routes, w.from, w.to, entry.baseline) : emptySnapshot(w.from, w.to);
      const gate = s0.plan.gates.custom;
      if (gate !== null) {
        const custom = await runCustomCheck(gate, { rollout: s0.key, routes: s0.routes, step: s0.step, stepLabel: formatStep(s0.plan.steps[s0.step]!), window: snapshot.window ?? null });
        if (custom !== undefined) snapshot.custom = custom;
      }
      await serial(entry, async () => {
        const s = entry.state;
        // The rollout moved while the snapshot was being built: these numbers belong to another step.
        if (s.status !== s0.status || s.step !== s0.step || s.stepStartedAt !== s0.stepStartedAt) return;
        await apply(entry, { type: 'tick', at: Date.now(), actor: DRIVER_ACTOR, snapshot });
      });
    } catch (err) {
      logger.error({ err, rollout: entry.key }, 'rollout evaluation failed');
    } finally {
      entry.evaluating = false;
    }
  };

  // ---- kill switch and manual routing changes ----

  const syncKillSwitch = (actor: string, fromPoll: boolean): void => {
    const k = routing.killSwitch();
    if (k.on === killOn || closed) return;
    killOn = k.on;
    const who = killActor(k.source, actor);
    // API changes are audited from their onChange event; env/file changes (SIGHUP) have none.
    if (fromPoll) void audit({ time: Date.now(), subject: '*', action: k.on ? 'kill-switch-on' : 'kill-switch-off', actor: who, evidence: { source: k.source ?? null } });
    for (const entry of entries.values()) {
      void send(entry, { type: k.on ? 'killSwitchOn' : 'killSwitchOff', at: Date.now(), actor: who }).catch((err: unknown) =>
        logger.error({ err, rollout: entry.key }, 'applying the kill switch to the rollout failed'),
      );
    }
  };

  const onRoutingChange = (e: RoutingChangeEvent): void => {
    // A change another instance made is in the ledger already (it shares this store): react, but do not record it twice.
    if (e.action === 'kill-switch') {
      if (!e.remote) void audit({ time: Date.now(), subject: '*', action: e.killSwitch ? 'kill-switch-on' : 'kill-switch-off', actor: e.actor, from: e.from, to: e.to });
      syncKillSwitch(e.actor, false);
      return;
    }
    if (e.actor === DRIVER_ACTOR) return;
    const time = Date.now();
    if (!e.remote) {
      e.routes.forEach((route, i) => {
        void audit({ time, subject: route, action: `route-${e.action}`, actor: e.actor, from: e.from[i], to: e.to[i] });
      });
    }
    // A human took the wheel: a rollout must not later push these routes back toward the candidate on its own.
    for (const entry of entries.values()) {
      const touched = e.routes.filter((r) => entry.state.routes.includes(r));
      if (touched.length === 0) continue;
      const { status } = entry.state;
      if (e.action !== 'rollback') entry.routesDirty = true;
      const note = `route${touched.length > 1 ? 's' : ''} ${touched.join(', ')} ${e.action === 'rollback' ? 'rolled back' : e.action === 'reset' ? 'reset to config' : 'set'} by ${e.actor} outside the rollout`;
      let event: RolloutEvent | undefined;
      if (e.action === 'rollback' && (status === 'running' || status === 'paused' || status === 'completed')) {
        event = { type: 'abort', at: time, actor: e.actor, note };
      } else if (e.action !== 'rollback' && status === 'running') {
        event = { type: 'pause', at: time, actor: e.actor, note };
      }
      if (event) void send(entry, event).catch((err: unknown) => logger.error({ err, rollout: entry.key }, 'reacting to a manual routing change failed'));
    }
  };
  routing.onChange(onRoutingChange);

  // ---- setup ----

  const addPlans = async (config: CutoverConfig, load: boolean): Promise<void> => {
    for (const target of targetsOf(config)) {
      const plan = resolvePlan(config.plans[target.key]!, config.gates);
      const existing = entries.get(target.key);
      if (existing) {
        existing.configured = true;
        // An idle rollout holds no snapshot of anything running yet: keep it in step with the file.
        if (existing.state.status === 'idle') existing.state = { ...existing.state, plan, routes: target.routes };
        continue;
      }
      let state: RolloutState | undefined;
      if (load) {
        const stored = await store.getRollout(target.key);
        if (stored !== undefined) state = parseRolloutState(stored);
      }
      if (state === undefined || state.status === 'idle') {
        state = { ...(state ?? createRolloutState({ key: target.key, routes: target.routes, plan, at: Date.now() })), plan, routes: target.routes };
      }
      entries.set(target.key, {
        key: target.key,
        state,
        configured: true,
        queue: Promise.resolve(),
        timer: undefined,
        nextEvaluationAt: null,
        evaluating: false,
        baseline: undefined,
        routesDirty: false,
        routesFailed: false,
        retryTimer: undefined,
      });
    }
  };

  return {
    keys: () => [...entries.keys()],
    list: () => [...entries.values()].sort((a, b) => (a.key < b.key ? -1 : 1)).map(view),
    get: (key) => view(require(key)),
    state: (key) => require(key).state,

    async command(key, cmd) {
      const entry = require(key);
      const at = Date.now();
      const base = { at, actor: cmd.actor, ...(cmd.note !== undefined ? { note: cmd.note } : {}) };
      let event: RolloutEvent;
      switch (cmd.action) {
        case 'start': {
          if (!entry.configured) {
            throw new CutoverError(ErrorCodes.CONFLICT, `rollout "${key}" has no plan in the current config`, { hint: `add plans.${key} to cutover.yaml and reload` });
          }
          const config = options.config();
          const target = targetsOf(config).find((t) => t.key === key);
          event = {
            type: 'start',
            ...base,
            ...(cmd.step !== undefined ? { fromStep: cmd.step } : {}),
            ...(target ? { plan: resolvePlan(config.plans[key]!, config.gates), routes: target.routes } : {}),
          };
          break;
        }
        case 'setStep':
          event = { type: 'setStep', ...base, step: cmd.step ?? -1 };
          break;
        default:
          event = { type: cmd.action, ...base };
      }
      const result = await send(entry, event);
      if (result.rejected !== undefined) {
        throw new CutoverError(ErrorCodes.CONFLICT, `cannot ${cmd.action} rollout "${key}": ${result.rejected}`, {
          hint: `it is ${entry.state.status} at step ${entry.state.step + 1}/${entry.state.plan.steps.length} (${formatStep(entry.state.plan.steps[entry.state.step]!)}, index ${entry.state.step}); see \`cutover rollout status ${key}\``,
        });
      }
      return view(entry);
    },

    evaluateNow: (key) => evaluate(require(key)),

    async start() {
      await addPlans(options.config(), true);
      for (const entry of entries.values()) {
        const s = entry.state;
        if (s.status === 'idle') continue;
        await send(entry, { type: 'restart', at: Date.now(), actor: DRIVER_ACTOR });
        takeBaseline(entry);
      }
      // Align with the kill switch as it is now (persisted API switch, env variable or flag file).
      const k = routing.killSwitch();
      killOn = k.on;
      const who = killActor(k.source, 'kill-switch:api');
      for (const entry of entries.values()) {
        if (k.on && entry.state.status !== 'killed') await send(entry, { type: 'killSwitchOn', at: Date.now(), actor: who });
        else if (!k.on && entry.state.status === 'killed') await send(entry, { type: 'killSwitchOff', at: Date.now(), actor: 'driver' });
      }
      killPoll = setInterval(() => syncKillSwitch('kill-switch', true), options.killSwitchPollMs ?? 500);
      killPoll.unref();
    },

    onConfig(config) {
      for (const e of entries.values()) e.configured = false;
      void addPlans(config, true).catch((err: unknown) => logger.error({ err }, 'loading rollout plans after reload failed'));
    },

    async close() {
      closed = true;
      clearInterval(killPoll);
      for (const e of entries.values()) {
        clearTimeout(e.timer);
        clearTimeout(e.retryTimer);
        e.timer = undefined;
      }
      // Let a transition in progress finish its store write and routing.
      await Promise.allSettled([...entries.values()].map((e) => e.queue));
    },
  };
}
