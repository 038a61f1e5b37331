import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseRolloutState,
  transition,
  type RolloutEvent,
  type RolloutState,
  type RolloutStatus,
} from '../../../src/rollout/index.ts';
import {
  FAILING,
  HEALTHY,
  HOUR,
  MIN,
  STEPS,
  T0,
  THIN,
  audits,
  deepFreeze,
  effectTypes,
  idle,
  plan,
  routeSets,
  run,
  runningAt,
  tick,
} from './rollout-fixtures.ts';

const AT = T0 + 40 * MIN;

/** Each status reached through real events; running/paused sit at step 3 (canary 10% 30m), entered at T0. */
const STATES: Record<RolloutStatus, () => RolloutState> = {
  idle: () => idle(),
  running: () => runningAt(2),
  paused: () => run(runningAt(2), { type: 'pause', at: T0 + MIN, actor: 'cli' }),
  rolledBack: () => run(runningAt(2), { type: 'abort', at: T0 + MIN, actor: 'cli' }),
  completed: () => run(runningAt(4), { type: 'promote', at: T0 + MIN, actor: 'cli' }),
  killed: () => run(runningAt(2), { type: 'killSwitchOn', at: T0 + MIN, actor: 'kill-switch:env' }),
};

const EVENTS: Record<string, RolloutEvent> = {
  start: { type: 'start', at: AT, actor: 'cli' },
  tick: tick(AT),
  pause: { type: 'pause', at: AT, actor: 'api:ops' },
  resume: { type: 'resume', at: AT, actor: 'api:ops' },
  promote: { type: 'promote', at: AT, actor: 'api:ops' },
  setStep: { type: 'setStep', at: AT, actor: 'cli', step: 1 },
  abort: { type: 'abort', at: AT, actor: 'api:ops' },
  killSwitchOn: { type: 'killSwitchOn', at: AT, actor: 'kill-switch:env' },
  killSwitchOff: { type: 'killSwitchOff', at: AT, actor: 'kill-switch:env' },
  restart: { type: 'restart', at: AT, actor: 'driver' },
};

/** Expected [status, step, route after] per (status, event); 'rejected' leaves everything as it was. */
type Outcome = 'rejected' | [RolloutStatus, number, string | null];
const MATRIX: Record<RolloutStatus, Record<keyof typeof EVENTS, Outcome>> = {
  idle: {
    start: ['running', 0, 'shadow'],
    tick: 'rejected',
    pause: 'rejected',
    resume: 'rejected',
    promote: 'rejected',
    setStep: 'rejected',
    abort: 'rejected',
    killSwitchOn: ['killed', 0, 'legacy'],
    killSwitchOff: 'rejected',
    restart: ['idle', 0, null],
  },
  running: {
    start: 'rejected',
    tick: ['running', 3, 'canary 50%'],
    pause: ['paused', 2, 'canary 10%'],
    resume: 'rejected',
    promote: ['running', 3, 'canary 50%'],
    setStep: ['running', 1, 'canary 1%'],
    abort: ['rolledBack', 2, 'legacy'],
    killSwitchOn: ['killed', 2, 'legacy'],
    killSwitchOff: 'rejected',
    restart: ['running', 2, 'canary 10%'],
  },
  paused: {
    start: 'rejected',
    tick: ['paused', 2, 'canary 10%'],
    pause: 'rejected',
    resume: ['running', 2, 'canary 10%'],
    promote: ['running', 3, 'canary 50%'],
    setStep: ['running', 1, 'canary 1%'],
    abort: ['rolledBack', 2, 'legacy'],
    killSwitchOn: ['killed', 2, 'legacy'],
    killSwitchOff: 'rejected',
    restart: ['paused', 2, 'canary 10%'],
  },
  rolledBack: {
    start: ['running', 0, 'shadow'],
    tick: 'rejected',
    pause: 'rejected',
    resume: 'rejected',
    promote: 'rejected',
    setStep: 'rejected',
    abort: 'rejected',
    killSwitchOn: ['killed', 2, 'legacy'],
    killSwitchOff: 'rejected',
    restart: ['rolledBack', 2, 'legacy'],
  },
  completed: {
    start: ['running', 0, 'shadow'],
    tick: 'rejected',
    pause: 'rejected',
    resume: 'rejected',
    promote: 'rejected',
    setStep: 'rejected',
    abort: ['rolledBack', 5, 'legacy'],
    killSwitchOn: ['killed', 5, 'legacy'],
    killSwitchOff: 'rejected',
    restart: ['completed', 5, 'candidate'],
  },
  killed: {
    start: 'rejected',
    tick: 'rejected',
    pause: ['killed', 2, 'legacy'],
    resume: 'rejected',
    promote: 'rejected',
    setStep: 'rejected',
    abort: ['killed', 2, 'legacy'],
    killSwitchOn: 'rejected',
    killSwitchOff: ['running', 2, 'canary 10%'],
    restart: ['killed', 2, 'legacy'],
  },
};

function routeLabel(state: RolloutState): string | null {
  if (!state.route) return null;
  return state.route.mode === 'canary' ? `canary ${state.route.percent}%` : state.route.mode;
}

describe('every status × event', () => {
  for (const [status, row] of Object.entries(MATRIX) as Array<[RolloutStatus, Record<string, Outcome>]>) {
    for (const [name, expected] of Object.entries(row)) {
      it(`${status} + ${name} → ${expected === 'rejected' ? 'rejected' : expected.join(' ')}`, () => {
        const before = deepFreeze(STATES[status]()); // a mutation attempt would throw
        const snapshotBefore = structuredClone(before);
        const event = EVENTS[name]!;
        const result = transition(before, event);
        assert.deepEqual(before, snapshotBefore);
        if (expected === 'rejected') {
          assert.ok(result.rejected, 'expected a rejection');
          assert.equal(result.state, before);
          assert.deepEqual(routeSets(result.effects), []);
          return;
        }
        assert.equal(result.rejected, undefined, result.rejected);
        const [to, step, route] = expected;
        assert.equal(result.state.status, to);
        assert.equal(result.state.step, step);
        assert.equal(routeLabel(result.state), route);
        assert.equal(result.state.version, 1);
        // Plain JSON: survives the store unchanged.
        assert.deepEqual(JSON.parse(JSON.stringify(result.state)), result.state);
        // A paused tick only refreshes what the API shows; every real transition is audited with the actor.
        if (!(status === 'paused' && name === 'tick')) {
          const entries = audits(result.effects);
          assert.ok(entries.length >= 1, 'no audit effect');
          for (const e of entries) {
            assert.equal(e.actor, event.actor);
            assert.equal(e.subject, 'wallet');
            assert.equal(e.time, AT);
          }
        }
        if (to === 'running') assert.ok(effectTypes(result.effects).includes('scheduleEval'), 'running without a scheduled evaluation');
      });
    }
  }
});

describe('scenarios', () => {
  it('walks the whole plan to completed, then the route is in candidate mode', () => {
    let state = run(idle(), { type: 'start', at: T0, actor: 'cli' });
    const seen: string[] = [routeLabel(state)!];
    let t = T0;
    for (let i = 0; i < 1000 && state.status === 'running'; i++) {
      t += 30_000;
      const result = transition(state, tick(t));
      seen.push(...routeSets(result.effects));
      state = result.state;
    }
    assert.equal(state.status, 'completed');
    assert.deepEqual(seen, ['shadow', 'canary 1%', 'canary 10%', 'canary 50%', 'live', 'candidate']);
    assert.deepEqual(state.route, { mode: 'candidate', percent: 0 });
    // 30m + 10m + 30m, one interval for the duration-less canary 50%, then 1h.
    assert.equal(t - T0, (30 + 10 + 30 + 60) * MIN + 30_000);
  });

  it('stays at the step while its duration is not over, even with passing gates', () => {
    const r = transition(runningAt(2), tick(T0 + 29 * MIN));
    assert.equal(r.state.status, 'running');
    assert.equal(r.state.step, 2);
    assert.deepEqual(effectTypes(r.effects), ['scheduleEval']);
    assert.match(r.state.lastEvaluation!.reason, /1m left/);
  });

  it('completes after the last step when the plan has no candidate step', () => {
    const p = plan({ steps: ['canary 5% 10m', 'live 10m'] });
    const r = transition(runningAt(1, T0, p), tick(T0 + 10 * MIN));
    assert.equal(r.state.status, 'completed');
    assert.deepEqual(routeSets(r.effects), ['candidate']);
    assert.equal(audits(r.effects)[0]!.action, 'complete');
  });

  it('low traffic never fails: it waits, then pauses at the deadline asking for a human', () => {
    let state = runningAt(2);
    let result;
    for (let t = T0 + 30_000; t <= T0 + 2 * HOUR; t += 30_000) {
      result = transition(state, tick(t, THIN));
      assert.notEqual(result.state.status, 'rolledBack');
      state = result.state;
      if (state.status !== 'running') break;
    }
    assert.equal(state.status, 'paused');
    // The deadline runs from the first undecided evaluation, one interval into the step.
    assert.equal(state.updatedAt, T0 + 30_000 + HOUR);
    assert.match(state.reason!, /^needs a human: no decision at step 3\/6 \(canary 10% 30m\) for 1h/);
    assert.equal(state.route!.percent, 10, 'a pause freezes traffic where it is');
    const notice = result!.effects.find((e) => e.type === 'notify');
    assert.ok(notice && notice.type === 'notify' && /needs a human/.test(notice.message));
  });

  it('a failing gate rolls back only after failureThreshold evaluations in a row, with the numbers in the audit', () => {
    const first = transition(runningAt(2), tick(T0 + MIN, FAILING));
    assert.equal(first.state.status, 'running');
    assert.equal(first.state.consecutiveFailures, 1);
    assert.deepEqual(audits(first.effects).map((a) => a.action), ['gate-fail']);
    const second = transition(first.state, tick(T0 + MIN + 30_000, FAILING));
    assert.equal(second.state.status, 'rolledBack');
    assert.deepEqual(routeSets(second.effects), ['legacy']);
    const entry = audits(second.effects)[0]!;
    assert.equal(entry.action, 'rollback');
    assert.deepEqual(entry.from, { status: 'running', step: 2, stepLabel: 'canary 10% 30m', route: { mode: 'canary', percent: 10 } });
    assert.deepEqual((entry.to as { route: unknown }).route, { mode: 'legacy', percent: 0 });
    const evidence = entry.evidence as { gates: { results: Array<{ gate: string; outcome: string; observed: Record<string, number>; thresholds: object; sampleSizes: object }> }; failures: object };
    const errorRate = evidence.gates.results.find((r) => r.gate === 'errorRate')!;
    assert.equal(errorRate.outcome, 'fail');
    assert.equal(errorRate.observed.candidateRate, 0.05);
    assert.deepEqual(errorRate.sampleSizes, { legacy: 10_000, candidate: 2_000 });
    assert.equal((errorRate.thresholds as { maxErrorRateIncrease: number }).maxErrorRateIncrease, 0.01);
    assert.deepEqual(evidence.failures, { count: 2, threshold: 2 });
    const notice = second.effects.find((e) => e.type === 'notify');
    assert.ok(notice && notice.type === 'notify' && notice.level === 'critical');
  });

  it('a pass between two failures resets the count', () => {
    const state = run(runningAt(2), tick(T0 + MIN, FAILING), tick(T0 + 2 * MIN, HEALTHY), tick(T0 + 3 * MIN, FAILING));
    assert.equal(state.status, 'running');
    assert.equal(state.consecutiveFailures, 1);
  });

  it('rampdown walks down one step per failure, then rolls back below the first step', () => {
    let state = runningAt(3, T0, plan({ onFail: 'rampdown', failureThreshold: 1 }));
    const steps: Array<[RolloutStatus, number, string | null]> = [];
    for (let i = 1; i <= 4; i++) {
      state = transition(state, tick(T0 + i * MIN, FAILING)).state;
      steps.push([state.status, state.step, routeLabel(state)]);
    }
    assert.deepEqual(steps, [
      ['running', 2, 'canary 10%'],
      ['running', 1, 'canary 1%'],
      ['running', 0, 'shadow'],
      ['rolledBack', 0, 'legacy'],
    ]);
  });

  it('rampdown with threshold 2 needs two failures per step down and remembers where it began', () => {
    let state = runningAt(3, T0, plan({ onFail: 'rampdown' }));
    state = run(state, tick(T0 + MIN, FAILING));
    assert.equal(state.step, 3);
    state = run(state, tick(T0 + 2 * MIN, FAILING));
    assert.equal(state.step, 2);
    assert.deepEqual(state.rampdown, { from: 3, since: T0 + 2 * MIN });
    assert.equal(state.stepStartedAt, T0 + 2 * MIN, 'the lower step starts its own clock');
    state = run(state, tick(T0 + 3 * MIN, FAILING), tick(T0 + 4 * MIN, FAILING));
    assert.equal(state.step, 1);
    assert.deepEqual(state.rampdown, { from: 3, since: T0 + 2 * MIN });
  });

  it('rampdown that finds a healthy step pauses; resume climbs again', () => {
    let state = run(runningAt(3, T0, plan({ onFail: 'rampdown', failureThreshold: 1 })), tick(T0 + MIN, FAILING));
    assert.equal(state.step, 2);
    state = run(state, tick(T0 + 31 * MIN, HEALTHY));
    assert.equal(state.status, 'paused');
    assert.match(state.reason!, /healthy at step 3\/6 .* after ramping down from step 4/);
    assert.equal(state.rampdown, null);
    state = run(state, { type: 'resume', at: T0 + 40 * MIN, actor: 'cli' });
    state = run(state, tick(T0 + 70 * MIN, HEALTHY));
    assert.equal(state.status, 'running');
    assert.equal(state.step, 3);
  });

  it('pause during a rampdown keeps it; resume continues walking down', () => {
    let state = run(runningAt(3, T0, plan({ onFail: 'rampdown', failureThreshold: 1 })), tick(T0 + MIN, FAILING));
    state = run(state, { type: 'pause', at: T0 + 2 * MIN, actor: 'cli' }, { type: 'resume', at: T0 + 3 * MIN, actor: 'cli' });
    assert.deepEqual(state.rampdown, { from: 3, since: T0 + MIN });
    state = run(state, tick(T0 + 4 * MIN, FAILING));
    assert.equal(state.step, 1);
  });

  it('a deadline pause in the middle of a rampdown keeps the rampdown for the resume', () => {
    let state = run(runningAt(3, T0, plan({ onFail: 'rampdown', failureThreshold: 1, inconclusiveDeadline: '10m' })), tick(T0 + MIN, FAILING));
    state = run(state, tick(T0 + 2 * MIN, THIN), tick(T0 + 12 * MIN, THIN));
    assert.equal(state.status, 'paused');
    assert.match(state.reason!, /needs a human/);
    assert.deepEqual(state.rampdown, { from: 3, since: T0 + MIN });
  });

  it('pause during rollback is refused and routes stay on legacy', () => {
    const rolledBack = run(runningAt(2), tick(T0 + MIN, FAILING), tick(T0 + 2 * MIN, FAILING));
    assert.equal(rolledBack.status, 'rolledBack');
    const r = transition(rolledBack, { type: 'pause', at: T0 + 3 * MIN, actor: 'api:ops' });
    assert.match(r.rejected!, /nothing to pause: rollout is rolledBack/);
    assert.equal(r.state, rolledBack);
    assert.deepEqual(audits(r.effects).map((a) => a.action), ['pause-rejected']);
    assert.deepEqual(routeSets(r.effects), []);
  });

  it('promote while inconclusive moves on and records the inconclusive gates', () => {
    const waiting = run(runningAt(2), tick(T0 + MIN, THIN));
    assert.equal(waiting.lastEvaluation!.outcome, 'inconclusive');
    const r = transition(waiting, { type: 'promote', at: T0 + 2 * MIN, actor: 'api:alice', note: 'low traffic tonight; numbers look fine' });
    assert.equal(r.state.status, 'running');
    assert.equal(r.state.step, 3);
    assert.equal(r.state.stepStartedAt, T0 + 2 * MIN);
    assert.deepEqual(routeSets(r.effects), ['canary 50%']);
    const entry = audits(r.effects)[0]!;
    assert.equal(entry.action, 'promote');
    assert.equal(entry.actor, 'api:alice');
    const evidence = entry.evidence as { gates: { outcome: string }; note: string };
    assert.equal(evidence.gates.outcome, 'inconclusive');
    assert.equal(evidence.note, 'low traffic tonight; numbers look fine');
  });

  it('restart mid-step resumes at the same step with the same step start time', () => {
    const before = run(runningAt(2, T0), tick(T0 + 10 * MIN, FAILING));
    const stored = JSON.parse(JSON.stringify(before)) as unknown;
    const loaded = parseRolloutState(stored);
    const r = transition(loaded, { type: 'restart', at: T0 + 20 * MIN, actor: 'driver' });
    assert.equal(r.state.status, 'running');
    assert.equal(r.state.step, 2);
    assert.equal(r.state.stepStartedAt, T0);
    assert.equal(r.state.consecutiveFailures, 1, 'counters survive too');
    assert.deepEqual(routeSets(r.effects), ['canary 10%'], 're-asserts the route');
    assert.deepEqual(effectTypes(r.effects), ['setRoute', 'audit', 'scheduleEval']);
    // The clock carried over: 30 minutes after the original step start it may advance.
    assert.equal(run(r.state, tick(T0 + 30 * MIN)).step, 3);
  });

  it('kill switch during a rampdown holds legacy, refuses automation, and on release resumes the rampdown', () => {
    let state = run(runningAt(3, T0, plan({ onFail: 'rampdown', failureThreshold: 1 })), tick(T0 + MIN, FAILING));
    assert.equal(state.step, 2);
    const on = transition(state, { type: 'killSwitchOn', at: T0 + 2 * MIN, actor: 'kill-switch:env' });
    state = on.state;
    assert.equal(state.status, 'killed');
    assert.deepEqual(routeSets(on.effects), ['legacy']);
    assert.equal(on.effects.find((e) => e.type === 'notify')?.type === 'notify' && (on.effects.find((e) => e.type === 'notify') as { level: string }).level, 'critical');
    for (const event of [tick(T0 + 40 * MIN, HEALTHY), tick(T0 + 41 * MIN, FAILING), { type: 'promote', at: T0 + 42 * MIN, actor: 'cli' } as RolloutEvent]) {
      const r = transition(state, event);
      assert.ok(r.rejected, `${event.type} should be refused while killed`);
      assert.deepEqual(routeSets(r.effects), []);
    }
    const off = transition(state, { type: 'killSwitchOff', at: T0 + 50 * MIN, actor: 'kill-switch:env' });
    assert.equal(off.state.status, 'running');
    assert.equal(off.state.step, 2);
    assert.deepEqual(off.state.rampdown, { from: 3, since: T0 + MIN });
    assert.equal(off.state.stepStartedAt, T0 + 50 * MIN, 'fresh step clock after release');
    assert.deepEqual(routeSets(off.effects), ['canary 10%']);
  });

  it('the kill switch sends even idle routes to legacy, and release hands them back to config', () => {
    const on = transition(idle(), { type: 'killSwitchOn', at: T0, actor: 'kill-switch:file' });
    assert.deepEqual(routeSets(on.effects), ['legacy']);
    const off = transition(on.state, { type: 'killSwitchOff', at: T0 + MIN, actor: 'kill-switch:file' });
    assert.equal(off.state.status, 'idle');
    assert.deepEqual(routeSets(off.effects), ['clear']);
  });

  const releases: Array<[string, RolloutEvent[], RolloutStatus, string[]]> = [
    ['paused before the kill: paused again, routes back at the step', [{ type: 'pause', at: T0 + MIN, actor: 'cli' }], 'paused', ['canary 10%']],
    ['completed before the kill: back on candidate', [{ type: 'promote', at: T0 + MIN, actor: 'cli' }, { type: 'promote', at: T0 + MIN, actor: 'cli' }, { type: 'promote', at: T0 + MIN, actor: 'cli' }], 'completed', ['candidate']],
    ['rolled back before the kill: stays on legacy', [{ type: 'abort', at: T0 + MIN, actor: 'cli' }], 'rolledBack', []],
  ];
  for (const [name, setup, status, routes] of releases) {
    it(`kill switch release: ${name}`, () => {
      const killed = run(runningAt(2), ...setup, { type: 'killSwitchOn', at: T0 + 2 * MIN, actor: 'kill-switch:env' });
      const off = transition(killed, { type: 'killSwitchOff', at: T0 + 3 * MIN, actor: 'kill-switch:env' });
      assert.equal(off.state.status, status);
      assert.deepEqual(routeSets(off.effects), routes);
    });
  }

  it('pause and abort while killed change where the rollout returns on release', () => {
    const killed = run(runningAt(2), { type: 'killSwitchOn', at: T0 + MIN, actor: 'kill-switch:env' });
    const paused = run(killed, { type: 'pause', at: T0 + 2 * MIN, actor: 'cli' }, { type: 'killSwitchOff', at: T0 + 3 * MIN, actor: 'kill-switch:env' });
    assert.equal(paused.status, 'paused');
    const aborted = run(killed, { type: 'abort', at: T0 + 2 * MIN, actor: 'cli' }, { type: 'killSwitchOff', at: T0 + 3 * MIN, actor: 'kill-switch:env' });
    assert.equal(aborted.status, 'rolledBack');
    assert.deepEqual(aborted.route, { mode: 'legacy', percent: 0 });
  });

  it('resume starts the step clock again', () => {
    const state = run(runningAt(2), { type: 'pause', at: T0 + 25 * MIN, actor: 'cli' }, { type: 'resume', at: T0 + 40 * MIN, actor: 'cli' });
    assert.equal(state.stepStartedAt, T0 + 40 * MIN);
    assert.equal(run(state, tick(T0 + 45 * MIN)).step, 2);
  });

  it('a tick while paused refreshes the shown gates without acting', () => {
    const paused = run(runningAt(2), { type: 'pause', at: T0 + MIN, actor: 'cli' });
    const r = transition(paused, tick(T0 + 2 * MIN, FAILING));
    assert.deepEqual(r.effects, []);
    assert.equal(r.state.status, 'paused');
    assert.equal(r.state.lastEvaluation!.outcome, 'fail');
    assert.equal(r.state.consecutiveFailures, 0);
  });

  it('setStep onto the candidate step completes; out of range is refused', () => {
    const running = runningAt(1);
    const done = transition(running, { type: 'setStep', at: T0 + MIN, actor: 'cli', step: STEPS.length - 1 });
    assert.equal(done.state.status, 'completed');
    assert.deepEqual(routeSets(done.effects), ['candidate']);
    for (const step of [-1, STEPS.length, 1.5]) {
      const r = transition(running, { type: 'setStep', at: T0 + MIN, actor: 'cli', step });
      assert.match(r.rejected!, /outside the plan \(0-5\)/);
    }
  });

  it('start takes a fresh plan and routes; routes dropped from a finished run lose their override', () => {
    const done = run(runningAt(4), { type: 'promote', at: T0 + MIN, actor: 'cli' });
    const next = plan({ steps: ['canary 5% 5m', 'candidate'] });
    const r = transition(done, { type: 'start', at: T0 + 2 * MIN, actor: 'cli', plan: next, routes: ['wallet-balance'] });
    assert.equal(r.state.status, 'running');
    assert.deepEqual(r.state.routes, ['wallet-balance']);
    assert.equal(r.state.plan, next);
    assert.deepEqual(routeSets(r.effects), ['clear', 'canary 5%']);
    assert.deepEqual((r.effects[0] as { routes: string[] }).routes, ['wallet-send']);
    assert.match(transition(done, { type: 'start', at: T0, actor: 'cli', fromStep: 9 }).rejected!, /fromStep 9 is outside the plan/);
  });

  it('a tick without data is refused without an audit line', () => {
    const r = transition(runningAt(2), { type: 'tick', at: T0, actor: 'driver' });
    assert.match(r.rejected!, /needs a snapshot or an evaluation/);
    assert.deepEqual(r.effects, []);
  });

  it('a precomputed evaluation can stand in for the snapshot', () => {
    const r = transition(runningAt(3), { type: 'tick', at: T0 + MIN, actor: 'driver', evaluation: { outcome: 'pass', results: [], samples: { legacy: 1, candidate: 1, compared: 0 }, window: null } });
    assert.equal(r.state.step, 4);
  });
});

describe('parseRolloutState', () => {
  const bad: Array<[string, (s: Record<string, unknown>) => unknown, RegExp]> = [
    ['not an object', () => 'nope', /not an object/],
    ['a future version', (s) => ({ ...s, version: 2 }), /version 2 is not 1/],
    ['an unknown status', (s) => ({ ...s, status: 'flying' }), /unknown status flying/],
    ['a step outside the plan', (s) => ({ ...s, step: 12 }), /step 12 is outside the plan/],
    ['killed without a return status', (s) => ({ ...s, status: 'killed', beforeKill: null }), /killed without/],
  ];
  for (const [name, mutate, pattern] of bad) {
    it(`refuses ${name}`, () => {
      const stored = JSON.parse(JSON.stringify(runningAt(2))) as Record<string, unknown>;
      assert.throws(() => parseRolloutState(mutate(stored)), (err: Error) => pattern.test(err.message));
    });
  }
  it('accepts every state the machine produces', () => {
    for (const make of Object.values(STATES)) {
      const state = make();
      assert.deepEqual(parseRolloutState(JSON.parse(JSON.stringify(state))), state);
    }
  });
});
