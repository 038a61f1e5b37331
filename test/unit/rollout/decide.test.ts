import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decide, evaluationWindow, type DecisionAction, type GateEvaluation, type RolloutState } from '../../../src/rollout/index.ts';
import { HOUR, MIN, T0, evaluation, idle, plan, run, runningAt } from './rollout-fixtures.ts';

interface Row {
  name: string;
  /** Running at this step, entered at T0. */
  step: number;
  state?: Partial<RolloutState>;
  planOverrides?: Record<string, unknown>;
  evaluation: GateEvaluation;
  /** Time of the evaluation, relative to T0. */
  after: number;
  action: DecisionAction;
  toStep?: number;
  failures?: number;
  inconclusiveSince?: number | null;
  reason?: RegExp;
}

const rows: Row[] = [
  { name: 'gates pass but the minimum duration is not over: stay', step: 2, evaluation: evaluation('pass'), after: 5 * MIN, action: 'wait', reason: /gates pass; 25m left of step 3\/6 \(canary 10% 30m\)/ },
  { name: 'gates pass and the duration is over: advance', step: 2, evaluation: evaluation('pass'), after: 30 * MIN, action: 'advance', toStep: 3, reason: /advancing to step 4\/6 \(canary 50%\)/ },
  { name: 'a step without duration advances on the first pass', step: 3, evaluation: evaluation('pass'), after: 0, action: 'advance', toStep: 4 },
  { name: 'passing the step before the candidate step completes', step: 4, evaluation: evaluation('pass'), after: HOUR, action: 'complete', reason: /rollout complete/ },
  { name: 'passing the last step of a plan without a candidate step completes', step: 1, planOverrides: { steps: ['shadow 5m', 'canary 50% 5m'] }, evaluation: evaluation('pass'), after: 5 * MIN, action: 'complete' },
  { name: 'first failure below the threshold: wait and count', step: 2, evaluation: evaluation('fail'), after: MIN, action: 'wait', failures: 1, reason: /gate failed \(1 of 2 in a row before acting\)/ },
  { name: 'threshold reached: roll back (default onFail)', step: 2, state: { consecutiveFailures: 1 }, evaluation: evaluation('fail'), after: MIN, action: 'rollback', failures: 2, reason: /2 failing evaluations in a row at step 3\/6.*rolling back/ },
  { name: 'threshold 1 acts on the first failure', step: 2, planOverrides: { failureThreshold: 1 }, evaluation: evaluation('fail'), after: MIN, action: 'rollback' },
  { name: 'onFail rampdown goes one step down', step: 2, planOverrides: { onFail: 'rampdown' }, state: { consecutiveFailures: 1 }, evaluation: evaluation('fail'), after: MIN, action: 'rampdown', toStep: 1, reason: /ramping down to step 2\/6 \(canary 1% 10m\)/ },
  { name: 'onFail rampdown at the first step rolls back', step: 0, planOverrides: { onFail: 'rampdown' }, state: { consecutiveFailures: 1 }, evaluation: evaluation('fail'), after: MIN, action: 'rollback', reason: /no lower step left, rolling back/ },
  { name: 'onFail pause pauses in place', step: 2, planOverrides: { onFail: 'pause' }, state: { consecutiveFailures: 1 }, evaluation: evaluation('fail'), after: MIN, action: 'pause', reason: /onFail: pause/ },
  { name: 'inconclusive keeps the failure count', step: 2, state: { consecutiveFailures: 1 }, evaluation: evaluation('inconclusive'), after: MIN, action: 'wait', failures: 1 },
  { name: 'a pass resets the failure count', step: 2, state: { consecutiveFailures: 1 }, evaluation: evaluation('pass'), after: MIN, action: 'wait', failures: 0, inconclusiveSince: null },
  { name: 'first inconclusive starts the deadline clock', step: 2, evaluation: evaluation('inconclusive'), after: 2 * MIN, action: 'wait', inconclusiveSince: T0 + 2 * MIN, reason: /gates inconclusive: errorRate: it is inconclusive/ },
  { name: 'inconclusive just before the deadline: wait', step: 2, state: { inconclusiveSince: T0 }, evaluation: evaluation('inconclusive'), after: HOUR - 1, action: 'wait', inconclusiveSince: T0 },
  { name: 'inconclusive past the deadline: pause, needs a human', step: 2, state: { inconclusiveSince: T0 }, evaluation: evaluation('inconclusive'), after: HOUR, action: 'pause', reason: /^needs a human: no decision at step 3\/6 \(canary 10% 30m\) for 1h \(deadline 1h\)/ },
  { name: 'repeated sub-threshold failures also hit the deadline', step: 2, planOverrides: { failureThreshold: 5 }, state: { inconclusiveSince: T0, consecutiveFailures: 1 }, evaluation: evaluation('fail'), after: HOUR, action: 'pause', failures: 2, reason: /needs a human/ },
  {
    name: 'passing without the step sample minimum is undecided',
    step: 0,
    planOverrides: { steps: [{ mode: 'canary', percent: 10, duration: '1m', minSamples: { legacy: 200, candidate: 200 } }, 'candidate'] },
    evaluation: evaluation('pass', { legacy: 5_000, candidate: 150, compared: 0 }),
    after: 10 * MIN,
    action: 'wait',
    inconclusiveSince: T0 + 10 * MIN,
    reason: /gates pass but the step needs more samples \(candidate 150\/200\)/,
  },
  {
    name: 'passing with the step sample minimum met advances',
    step: 0,
    planOverrides: { steps: [{ mode: 'canary', percent: 10, duration: '1m', minSamples: { legacy: 200, candidate: 200 } }, 'canary 20%', 'candidate'] },
    evaluation: evaluation('pass', { legacy: 5_000, candidate: 200, compared: 0 }),
    after: 10 * MIN,
    action: 'advance',
    toStep: 1,
  },
  { name: 'healthy again after a rampdown: pause for a human, do not climb', step: 1, state: { rampdown: { from: 2, since: T0 } }, evaluation: evaluation('pass'), after: 10 * MIN, action: 'pause', reason: /healthy at step 2\/6 .* after ramping down from step 3/ },
];

describe('decide', () => {
  for (const row of rows) {
    it(row.name, () => {
      const base = runningAt(row.step, T0, plan(row.planOverrides));
      const state: RolloutState = { ...base, ...row.state };
      const d = decide(state, row.evaluation, T0 + row.after);
      assert.equal(d.action, row.action, d.reason);
      if (row.toStep !== undefined) assert.equal(d.toStep, row.toStep);
      if (row.failures !== undefined) assert.equal(d.consecutiveFailures, row.failures);
      if (row.inconclusiveSince !== undefined) assert.equal(d.inconclusiveSince, row.inconclusiveSince);
      if (row.reason) assert.match(d.reason, row.reason);
    });
  }

  it('does nothing for a rollout that is not running', () => {
    const paused = run(runningAt(2), { type: 'pause', at: T0 + MIN, actor: 'cli' });
    assert.equal(decide(paused, evaluation('fail'), T0 + 2 * MIN).action, 'wait');
    assert.equal(decide(idle(), evaluation('pass'), T0 + HOUR).action, 'wait');
  });
});

describe('evaluationWindow', () => {
  const table: Array<[string, number, { from: number; to: number }]> = [
    ['early in a step: clipped to the step start', 3 * MIN, { from: T0, to: T0 + 3 * MIN }],
    ['later: the plan window', 45 * MIN, { from: T0 + 35 * MIN, to: T0 + 45 * MIN }],
  ];
  for (const [name, after, expected] of table) {
    it(name, () => assert.deepEqual(evaluationWindow(runningAt(2), T0 + after), expected));
  }
  it('is null when nothing runs', () => assert.equal(evaluationWindow(idle(), T0), null));
});
