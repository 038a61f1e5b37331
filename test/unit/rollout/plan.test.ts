import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { configSchema } from '../../../src/config/schema.ts';
import { CutoverError } from '../../../src/core/errors.ts';
import {
  formatStep,
  gatesSchema,
  parsePlan,
  parseStep,
  resolvePlanTargets,
  rolloutPlanSchema,
  stepRouteMode,
} from '../../../src/rollout/index.ts';

const none = { legacy: 0, candidate: 0, compared: 0 };

describe('compact step strings', () => {
  const table: Array<[string, { mode: string; percent: number; duration: number }]> = [
    ['shadow 30m', { mode: 'shadow', percent: 0, duration: 1_800_000 }],
    ['canary 1% 10m', { mode: 'canary', percent: 1, duration: 600_000 }],
    ['canary 10% 30m', { mode: 'canary', percent: 10, duration: 1_800_000 }],
    ['canary 25%', { mode: 'canary', percent: 25, duration: 0 }],
    ['canary 30m 10%', { mode: 'canary', percent: 10, duration: 1_800_000 }],
    ['  canary   0.5%   90s ', { mode: 'canary', percent: 0.5, duration: 90_000 }],
    ['canary 100%', { mode: 'canary', percent: 100, duration: 0 }],
    ['live 1h', { mode: 'live', percent: 0, duration: 3_600_000 }],
    ['shadow', { mode: 'shadow', percent: 0, duration: 0 }],
    ['candidate', { mode: 'candidate', percent: 0, duration: 0 }],
  ];
  for (const [text, expected] of table) {
    it(`"${text}"`, () => assert.deepEqual(parseStep(text), { ...expected, minSamples: none }));
  }
});

describe('object steps', () => {
  const table: Array<[unknown, object]> = [
    [
      { mode: 'canary', percent: 10, duration: '30m', minSamples: { legacy: 200, candidate: 200 } },
      { mode: 'canary', percent: 10, duration: 1_800_000, minSamples: { legacy: 200, candidate: 200, compared: 0 } },
    ],
    [{ mode: 'shadow', duration: 1_800_000, minSamples: { compared: 500 } }, { mode: 'shadow', percent: 0, duration: 1_800_000, minSamples: { legacy: 0, candidate: 0, compared: 500 } }],
    [{ mode: 'live' }, { mode: 'live', percent: 0, duration: 0, minSamples: none }],
  ];
  for (const [input, expected] of table) {
    it(JSON.stringify(input), () => {
      const parsed = rolloutPlanSchema.parse({ steps: [input] });
      assert.deepEqual(parsed.steps[0], expected);
    });
  }
});

describe('bad steps give clear errors', () => {
  const table: Array<[unknown, RegExp]> = [
    ['canary', /step "canary": canary needs a percent, e\.g\. "canary 10% 30m"/],
    ['canary 0%', /percent must be more than 0 and at most 100 \(got 0\)/],
    ['canary 150% 10m', /percent must be more than 0 and at most 100 \(got 150\)/],
    ['canary 0.001%', /0\.01 steps/],
    ['canary 10% 20%', /more than one percent/],
    ['canary 10% 10m 20m', /more than one duration/],
    ['shadow 10%', /only canary steps take a percent/],
    ['canery 10%', /unknown mode "canery" \(did you mean canary\?\)/],
    ['Shadow 30m', /unknown mode "Shadow" \(did you mean shadow\?\)/],
    ['rollout 5%', /unknown mode "rollout"; use shadow, canary, live or candidate/],
    ['legacy 10m', /legacy is not a step: a rollout starts from legacy/],
    ['canary 10 30m', /"10" needs a unit: 10% for a percent or 10m for a duration/],
    ['canary 10% 30x', /"30x" is neither a percent \(10%\) nor a duration/],
    ['candidate 1h', /candidate takes no duration/],
    ['', /a step cannot be empty/],
    [{ mode: 'canary', duration: '30m' }, /canary needs a percent/],
    [{ mode: 'shadow', percent: 5 }, /only canary steps take a percent/],
    [{ mode: 'legacy' }, /legacy is not a step/],
    [{ mode: 'canary', percent: 'ten' }, /percent: .*expected number/],
    [{ mode: 'canary', percent: 5, duration: 'soon' }, /duration "soon" is not a duration/],
    [{ mode: 'candidate', minSamples: { candidate: 10 } }, /candidate takes no duration or sample minimum/],
    [{ mode: 'canary', percent: 5, minSamples: { candidate: -1 } }, /sample minimums cannot be negative/],
    [{ percent: 5 }, /mode is required/],
    [42, /a step is a string such as "canary 10% 30m" or an object/],
  ];
  for (const [input, pattern] of table) {
    it(JSON.stringify(input), () => {
      const result = rolloutPlanSchema.safeParse({ steps: [input] });
      assert.equal(result.success, false);
      const messages = result.error!.issues.map((i) => i.message).join(' | ');
      assert.match(messages, pattern);
      assert.deepEqual(result.error!.issues[0]!.path.slice(0, 2), ['steps', 0]);
    });
  }
  it('parseStep throws a coded error with a hint', () => {
    assert.throws(
      () => parseStep('canary'),
      (err: unknown) => err instanceof CutoverError && err.code === 'CUTOVER_ERR_INPUT_INVALID' && /canary 10% 30m/.test(err.hint ?? ''),
    );
  });
});

describe('plans', () => {
  it('applies documented defaults', () => {
    const plan = rolloutPlanSchema.parse({ steps: ['canary 5%'] });
    assert.equal(plan.onFail, 'rollback');
    assert.equal(plan.inconclusiveDeadline, 3_600_000);
    assert.equal(plan.interval, 30_000);
    assert.equal(plan.window, 600_000);
    assert.equal(plan.failureThreshold, 2);
    assert.deepEqual(plan.gates, {});
  });
  const bad: Array<[string, unknown, RegExp]> = [
    ['no steps', { steps: [] }, /at least one step/],
    ['missing steps', {}, /steps/],
    ['candidate in the middle', { steps: ['candidate', 'canary 5%'] }, /candidate completes the rollout, so it can only be the last step/],
    ['unknown onFail', { steps: ['canary 5%'], onFail: 'panic' }, /onFail/],
    ['zero threshold', { steps: ['canary 5%'], failureThreshold: 0 }, /failureThreshold/],
    ['bad interval', { steps: ['canary 5%'], interval: 'often' }, /"often" is not a duration/],
    ['zero window', { steps: ['canary 5%'], window: 0 }, /window must be longer than 0/],
    ['unknown key', { steps: ['canary 5%'], speed: 'fast' }, /speed/],
    ['unknown gate override', { steps: ['canary 5%'], gates: { maxErrorRate: 0.1 } }, /maxErrorRate/],
    ['zero mismatch rate', { steps: ['canary 5%'], gates: { maxMismatchRate: 0 } }, /zero rate can never be shown/],
  ];
  for (const [name, input, pattern] of bad) {
    it(`rejects ${name}`, () => {
      assert.throws(
        () => parsePlan(input),
        (err: unknown) => err instanceof CutoverError && pattern.test(err.message) && Array.isArray(err.details),
      );
    });
  }
  it('plan gate overrides fold into the global gates; null removes a global cap', () => {
    const globalGates = gatesSchema.parse({ maxP99Ms: 500, maxLatencyRatio: 1.3 });
    const plan = parsePlan({ steps: ['canary 5%'], gates: { maxP95Ms: 2, maxP99Ms: null, require: ['errorRate', 'latency'] } }, globalGates);
    assert.equal(plan.gates.maxP95Ms, 2);
    assert.equal(plan.gates.maxP99Ms, null);
    assert.equal(plan.gates.maxLatencyRatio, 1.3);
    assert.deepEqual(plan.gates.require, ['errorRate', 'latency']);
    assert.deepEqual(globalGates.require, ['errorRate', 'latency', 'mismatch'], 'global gates untouched');
  });
});

describe('gates config', () => {
  it('{} parses to the documented defaults', () => {
    assert.deepEqual(gatesSchema.parse({}), {
      require: ['errorRate', 'latency', 'mismatch'],
      confidence: 0.95,
      minRequests: 200,
      maxErrorRateIncrease: 0.01,
      latencyPercentiles: ['p95', 'p99'],
      maxLatencyRatio: 1.2,
      latencyToleranceMs: 0,
      maxP95Ms: null,
      maxP99Ms: null,
      minLatencySamples: 200,
      maxMismatchRate: 0.01,
      minCompared: 100,
      custom: null,
    });
  });
  it('custom gate gets a default timeout', () => {
    assert.deepEqual(gatesSchema.parse({ custom: { url: 'http://127.0.0.1:9000/check' } }).custom, { url: 'http://127.0.0.1:9000/check', timeout: 5_000 });
  });
  const bad: Array<[object, RegExp]> = [
    [{ confidence: 1 }, /confidence must be less than 1/],
    [{ confidence: 0.5 }, /confidence must be more than 0.5/],
    [{ maxLatencyRatio: 0.9 }, /maxLatencyRatio below 1/],
    [{ latencyPercentiles: ['p50'] }, /p95|p99/],
    [{ custom: { url: 'ftp://x' } }, /http/],
  ];
  for (const [input, pattern] of bad) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      const r = gatesSchema.safeParse(input);
      assert.equal(r.success, false);
      assert.match(r.error!.issues.map((i) => i.message).join(' | '), pattern);
    });
  }
  it('every gate and plan field carries a description for the generated JSON Schema', () => {
    for (const schema of [gatesSchema, rolloutPlanSchema]) {
      const json = z.toJSONSchema(schema, { io: 'input' }) as { properties: Record<string, { description?: string }> };
      for (const [key, prop] of Object.entries(json.properties)) assert.ok(prop.description, `${key} has no description`);
    }
  });
});

describe('the main config wires gates and plans', () => {
  it('parses a wallet component plan and a per-route plan', () => {
    const cfg = configSchema.parse({
      backends: { legacy: { url: 'http://127.0.0.1:8001' }, candidate: { url: 'http://127.0.0.1:8002' } },
      routes: [
        { id: 'wallet-balance', component: 'wallet', match: { path: '/api/wallet/:id/balance' } },
        { id: 'policy-check', match: { path: '/v1/policy/check' } },
      ],
      gates: { maxErrorRateIncrease: 0.005 },
      plans: {
        wallet: { steps: ['shadow 30m', { mode: 'canary', percent: 10, duration: '30m', minSamples: { legacy: 200, candidate: 200 } }, 'candidate'] },
        'policy-check': { steps: ['canary 5% 10m', 'live 1h', 'candidate'], gates: { maxP95Ms: 2 } },
      },
    });
    assert.equal(cfg.gates.maxErrorRateIncrease, 0.005);
    assert.equal(cfg.plans.wallet!.steps[1]!.minSamples.candidate, 200);
    assert.equal(cfg.plans['policy-check']!.gates.maxP95Ms, 2);
  });
});

describe('formatStep and stepRouteMode', () => {
  const table: Array<[string, { mode: string; percent: number }]> = [
    ['shadow 30m', { mode: 'shadow', percent: 0 }],
    ['canary 1% 10m', { mode: 'canary', percent: 1 }],
    ['canary 25%', { mode: 'canary', percent: 25 }],
    ['live 1h', { mode: 'live', percent: 0 }],
    ['candidate', { mode: 'candidate', percent: 0 }],
  ];
  for (const [text, mode] of table) {
    it(text, () => {
      const step = parseStep(text);
      assert.equal(formatStep(step), text);
      assert.deepEqual(stepRouteMode(step), mode);
    });
  }
});

describe('resolvePlanTargets', () => {
  const routes = [
    { id: 'wallet-balance', component: 'wallet' },
    { id: 'wallet-send', component: 'wallet' },
    { id: 'policy-check' },
    { id: 'search', component: 'search' },
  ];
  const table: Array<{ name: string; keys: string[]; targets: object[]; problems: RegExp[] }> = [
    {
      name: 'component and route plans',
      keys: ['wallet', 'policy-check'],
      targets: [
        { key: 'wallet', kind: 'component', routes: ['wallet-balance', 'wallet-send'] },
        { key: 'policy-check', kind: 'route', routes: ['policy-check'] },
      ],
      problems: [],
    },
    { name: 'unknown key', keys: ['nope'], targets: [], problems: [/plan "nope" matches no route id and no route component/] },
    { name: 'key that is both a route id and a component', keys: ['search'], targets: [], problems: [/ambiguous/] },
    {
      name: 'route driven by two plans',
      keys: ['wallet', 'wallet-send'],
      targets: [
        { key: 'wallet', kind: 'component', routes: ['wallet-balance', 'wallet-send'] },
        { key: 'wallet-send', kind: 'route', routes: ['wallet-send'] },
      ],
      problems: [/route "wallet-send" is driven by two plans, "wallet" and "wallet-send"/],
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const result = resolvePlanTargets(routes, row.keys);
      assert.deepEqual(result.targets, row.targets);
      assert.equal(result.problems.length, row.problems.length, result.problems.join('\n'));
      row.problems.forEach((p, i) => assert.match(result.problems[i]!, p));
    });
  }
});
