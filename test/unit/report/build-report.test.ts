import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport, type CheckName, type CheckOutcome, type ReportCriteria, type ReportInput, type Verdict } from '../../../src/report/build-report.ts';
import { createRolloutState, parsePlan, transition } from '../../../src/rollout/index.ts';
import { bucket, counts, group, healthy, input, MINUTE, NOW, sample } from './report-fixtures.ts';

const R = 'api';
const E = '/products';

interface Case {
  name: string;
  input: Partial<ReportInput>;
  criteria?: Partial<ReportCriteria>;
  endpoint: Verdict;
  overall: 'go' | 'no-go';
  /** Checks whose outcome the case pins. */
  checks?: Partial<Record<CheckName, CheckOutcome>>;
}

const openGroup = group(R, E, '$.data[*].price', 40);

const CASES: Case[] = [
  {
    name: 'Go: everything compared matches, latency and errors on par',
    input: healthy(R, E, 10, 10.4),
    endpoint: 'go',
    overall: 'go',
    checks: { 'mismatch-groups': 'pass', 'error-rate': 'pass', latency: 'pass' },
  },
  {
    name: 'No-Go: an open mismatch group',
    input: { ...healthy(R, E), counts: counts(R, E, 960, 40), groups: [openGroup] },
    endpoint: 'no-go',
    overall: 'no-go',
    checks: { 'mismatch-groups': 'fail', latency: 'pass' },
  },
  {
    name: 'an accepted group does not block',
    input: {
      ...healthy(R, E),
      counts: counts(R, E, 960, 40),
      groups: [group(R, E, '$.data[*].price', 40, { status: 'accepted', triage: { status: 'accepted', reason: 'prices rounded on purpose', by: 'api', at: NOW - MINUTE } })],
    },
    endpoint: 'go',
    overall: 'go',
    checks: { 'mismatch-groups': 'pass' },
  },
  {
    name: 'an accepted group whose triage expired blocks again',
    input: {
      ...healthy(R, E),
      groups: [group(R, E, '$.data[*].price', 40, { status: 'accepted', triage: { status: 'accepted', reason: 'until friday', by: 'api', at: NOW - 60 * MINUTE, expiresAt: NOW - MINUTE } })],
    },
    endpoint: 'no-go',
    overall: 'no-go',
    checks: { 'mismatch-groups': 'fail' },
  },
  {
    name: 'a group on a learned noise path does not block',
    input: {
      ...healthy(R, E),
      groups: [group(R, E, '$.generated_at', 900)],
      noise: [{ route: R, endpoint: E, path: '$.generated_at', kind: 'value', rawCount: 90, noiseCount: 90, total: 100, status: 'learned', updatedAt: NOW }],
    },
    endpoint: 'go',
    overall: 'go',
  },
  {
    name: 'a group on a rejected noise path still blocks',
    input: {
      ...healthy(R, E),
      groups: [group(R, E, '$.generated_at', 900)],
      noise: [{ route: R, endpoint: E, path: '$.generated_at', kind: 'value', rawCount: 90, noiseCount: 90, total: 100, status: 'rejected', updatedAt: NOW }],
    },
    endpoint: 'no-go',
    overall: 'no-go',
  },
  {
    name: 'insufficient data: 50 compared pairs and 50 responses',
    input: { counts: counts(R, E, 50, 0), buckets: [bucket(R, E, 'legacy', { n: 50, ms: 10 }), bucket(R, E, 'candidate', { n: 50, ms: 10 })] },
    endpoint: 'insufficient',
    overall: 'no-go',
    checks: { 'mismatch-groups': 'insufficient', 'error-rate': 'insufficient', latency: 'insufficient' },
  },
  {
    name: 'insufficient data alone is never Go, even when allowed',
    input: { counts: counts(R, E, 50, 0), buckets: [bucket(R, E, 'legacy', { n: 50, ms: 10 }), bucket(R, E, 'candidate', { n: 50, ms: 10 })] },
    criteria: { allowInsufficient: true },
    endpoint: 'insufficient',
    overall: 'no-go',
  },
  {
    name: 'a candidate with no traffic at all is insufficient, not Go',
    input: { buckets: [bucket(R, E, 'legacy', { n: 1000, ms: 10 })] },
    endpoint: 'insufficient',
    overall: 'no-go',
  },
  {
    name: 'open groups block even with too few pairs to judge the rest',
    input: { counts: counts(R, E, 5, 5), groups: [openGroup] },
    endpoint: 'no-go',
    overall: 'no-go',
    checks: { 'mismatch-groups': 'fail' },
  },
  {
    name: 'latency: 0.8x passes the default 1.1x',
    input: healthy(R, E, 100, 80),
    endpoint: 'go',
    overall: 'go',
    checks: { latency: 'pass' },
  },
  {
    name: 'latency: 0.8x fails "at least 30% faster" (maxP95Ratio 0.7)',
    input: healthy(R, E, 100, 80),
    criteria: { maxP95Ratio: 0.7 },
    endpoint: 'no-go',
    overall: 'no-go',
    checks: { latency: 'fail' },
  },
  {
    name: 'latency: 0.6x meets "at least 30% faster"',
    input: healthy(R, E, 100, 60),
    criteria: { maxP95Ratio: 0.7 },
    endpoint: 'go',
    overall: 'go',
    checks: { latency: 'pass' },
  },
  {
    name: 'latency: 1.3x slower fails the default',
    input: healthy(R, E, 100, 130),
    endpoint: 'no-go',
    overall: 'no-go',
    checks: { latency: 'fail' },
  },
  {
    name: 'latency: the p95, not the median, decides (slow tail)',
    input: {
      counts: counts(R, E, 1000, 0),
      buckets: [bucket(R, E, 'legacy', { n: 1000, ms: 10 }), bucket(R, E, 'candidate', { n: 1000, ms: (i) => (i % 10 === 0 ? 50 : 10) })],
    },
    endpoint: 'no-go',
    overall: 'no-go',
    checks: { latency: 'fail' },
  },
  {
    name: 'error rate: 5% on the candidate vs none on legacy fails',
    input: { counts: counts(R, E, 1000, 0), buckets: [bucket(R, E, 'legacy', { n: 1000, ms: 10 }), bucket(R, E, 'candidate', { n: 1000, ms: 10, errors: 50 })] },
    endpoint: 'no-go',
    overall: 'no-go',
    checks: { 'error-rate': 'fail', latency: 'pass' },
  },
  {
    name: 'error rate: 0.5% vs legacy 0.3% is within the one-point margin',
    input: { counts: counts(R, E, 2000, 0), buckets: [bucket(R, E, 'legacy', { n: 2000, ms: 10, errors: 6 }), bucket(R, E, 'candidate', { n: 2000, ms: 10, errors: 10 })] },
    endpoint: 'go',
    overall: 'go',
    checks: { 'error-rate': 'pass' },
  },
  {
    name: 'error rate: 1 error in 150 cannot yet be shown within the margin',
    input: { counts: counts(R, E, 150, 0), buckets: [bucket(R, E, 'legacy', { n: 150, ms: 10 }), bucket(R, E, 'candidate', { n: 150, ms: 10, errors: 1 })] },
    endpoint: 'insufficient',
    overall: 'no-go',
    checks: { 'error-rate': 'insufficient' },
  },
  {
    name: 'error rate: a tighter margin turns 0.5% vs 0.3% into a failure',
    input: { counts: counts(R, E, 2000, 0), buckets: [bucket(R, E, 'legacy', { n: 2000, ms: 10, errors: 6 }), bucket(R, E, 'candidate', { n: 2000, ms: 10, errors: 10 })] },
    criteria: { errorRateMargin: 0.001 },
    endpoint: 'no-go',
    overall: 'no-go',
    checks: { 'error-rate': 'fail' },
  },
  {
    name: 'mismatch rate: unchecked by default',
    input: {
      ...healthy(R, E),
      counts: counts(R, E, 995, 5),
      groups: [group(R, E, '$.x', 5, { status: 'ignored', triage: { status: 'ignored', reason: 'cosmetic', by: 'api', at: NOW } })],
    },
    endpoint: 'go',
    overall: 'go',
  },
  {
    name: 'mismatch rate: 0.5% fails a 0.1% maximum even when every group is triaged',
    input: {
      ...healthy(R, E),
      counts: counts(R, E, 995, 5),
      groups: [group(R, E, '$.x', 5, { status: 'ignored', triage: { status: 'ignored', reason: 'cosmetic', by: 'api', at: NOW } })],
    },
    criteria: { maxMismatchRate: 0.001 },
    endpoint: 'no-go',
    overall: 'no-go',
    checks: { 'mismatch-rate': 'fail' },
  },
];

describe('buildReport verdicts', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const report = buildReport(input({ ...c.input, criteria: { ...input({}).criteria, ...c.criteria } }));
      const ep = report.routes.flatMap((r) => r.endpoints).find((e) => e.route === R && e.endpoint === E);
      assert.ok(ep, 'the endpoint is in the report');
      assert.equal(ep.verdict, c.endpoint, JSON.stringify(ep.checks));
      assert.equal(report.verdict, c.overall, report.reasons.join(' / '));
      for (const [name, outcome] of Object.entries(c.checks ?? {})) {
        assert.equal(ep.checks.find((k) => k.name === name)?.outcome, outcome, `${name}: ${JSON.stringify(ep.checks)}`);
      }
    });
  }
});

describe('buildReport numbers', () => {
  it('computes rates, bounds, quantiles and ratios from the stored rows', () => {
    const report = buildReport(
      input({
        counts: counts(R, E, 990, 10),
        buckets: [
          bucket(R, E, 'legacy', { n: 500, ms: (i) => 1 + (i % 100) }),
          bucket(R, E, 'legacy', { n: 500, ms: (i) => 1 + (i % 100) }, NOW - 9 * MINUTE),
          bucket(R, E, 'candidate', { n: 1000, ms: (i) => 2 * (1 + (i % 100)), errors: 20 }),
        ],
      }),
    );
    const ep = report.routes[0]!.endpoints[0]!;
    assert.equal(ep.comparison.compared, 1000);
    assert.equal(ep.comparison.mismatchRate, 0.01);
    // Exact Clopper-Pearson one-sided 95% for 10/1000 is about 0.0169.
    assert.ok(ep.comparison.mismatchRateUpper! > 0.016 && ep.comparison.mismatchRateUpper! < 0.018, String(ep.comparison.mismatchRateUpper));
    assert.equal(ep.legacy.requests, 1000, 'both minutes of legacy are merged');
    assert.equal(ep.candidate.errors, 20);
    assert.equal(ep.candidate.errorRate, 0.02);
    // Latencies 1..100 ms uniformly: p50 ≈ 50, p95 ≈ 95, p99 ≈ 99 (DDSketch, 1%); the candidate is exactly twice as slow.
    assert.ok(Math.abs(ep.legacy.p95! - 95) <= 2, String(ep.legacy.p95));
    assert.ok(Math.abs(ep.ratios.p50! - 2) < 0.05 && Math.abs(ep.ratios.p95! - 2) < 0.05 && Math.abs(ep.ratios.p99! - 2) < 0.05, JSON.stringify(ep.ratios));
    // Latency counts responses only; 5xx are responses, so all 1000 candidate exchanges have one.
    assert.equal(ep.candidate.latencyCount, 1000);
  });

  it('splits each side by role (primary vs shadow)', () => {
    const report = buildReport(
      input({
        buckets: [
          bucket(R, E, 'legacy', { n: 300, ms: 10, role: 'primary' }),
          bucket(R, E, 'candidate', { n: 100, ms: 10, role: 'primary', errors: 3 }),
          bucket(R, E, 'candidate', { n: 200, ms: 10, role: 'shadow' }),
        ],
      }),
    );
    const ep = report.routes[0]!.endpoints[0]!;
    assert.equal(ep.candidate.requests, 300);
    assert.deepEqual(
      ep.candidate.byRole.map((r) => [r.role, r.requests, r.errors]),
      [
        ['primary', 100, 3],
        ['shadow', 200, 0],
      ],
    );
  });

  it('lists blocking groups first with an example from their sample, and counts the rest', () => {
    const groups = [
      group(R, E, '$.a', 500, { status: 'accepted', triage: { status: 'accepted', reason: 'intended', by: 'api', at: NOW } }),
      group(R, E, '$.data[*].price', 40),
      group(R, E, '$.b', 30),
    ];
    const report = buildReport(
      input({ ...healthy(R, E), groups, samples: new Map([[groups[1]!.id, sample('/products?page=1', '$.data[*].price', 24.5, 26.95)]]), topDifferences: 2 }),
    );
    const ep = report.routes[0]!.endpoints[0]!;
    assert.deepEqual(
      ep.differences.map((d) => [d.path, d.blocking]),
      [
        ['$.data[*].price', true],
        ['$.b', true],
      ],
    );
    assert.deepEqual(ep.groupCounts, { open: 2, blocking: 2, accepted: 1, ignored: 0, noise: 0 });
    assert.deepEqual(ep.differences[0]!.example, { method: 'GET', url: '/products?page=1', legacyStatus: 200, candidateStatus: 200, path: '$.data[0].price', legacy: 24.5, candidate: 26.95 });
    assert.equal(ep.differences[1]!.example, null, 'no sample stored');
  });

  it('keeps only the asked route, and reports a route with no data as insufficient', () => {
    const report = buildReport(input({ route: 'other', ...healthy(R, E) }));
    assert.deepEqual(report.routes.map((r) => [r.route, r.verdict, r.endpoints.length]), [['other', 'insufficient', 0]]);
    assert.equal(report.verdict, 'no-go');
  });

  it('allowInsufficient lets a Go endpoint carry a thin one', () => {
    const thin = { counts: counts(R, '/rare', 3, 0), buckets: [bucket(R, '/rare', 'legacy', { n: 3, ms: 10 }), bucket(R, '/rare', 'candidate', { n: 3, ms: 10 })] };
    const ok = healthy(R, E);
    const parts = { counts: [...ok.counts, ...thin.counts], buckets: [...ok.buckets, ...thin.buckets] };
    assert.equal(buildReport(input(parts)).verdict, 'no-go');
    const allowed = buildReport(input({ ...parts, criteria: { ...input({}).criteria, allowInsufficient: true } }));
    assert.equal(allowed.verdict, 'go');
    assert.deepEqual(allowed.totals, { endpoints: 2, go: 1, noGo: 0, insufficient: 1 });
  });

  it('attaches the rollout state and its audit history to the route', () => {
    const plan = parsePlan({ steps: ['shadow 30m', 'canary 10% 30m', 'candidate'] });
    const started = transition(createRolloutState({ key: 'shop', routes: [R], plan, at: NOW - 60 * MINUTE }), { type: 'start', at: NOW - 60 * MINUTE, actor: 'cli', fromStep: 1 });
    assert.equal(started.rejected, undefined);
    const audit = [
      { id: 3, time: NOW - 2 * MINUTE, subject: '*', action: 'kill-switch-off', actor: 'api' },
      { id: 2, time: NOW - 30 * MINUTE, subject: 'shop', action: 'rollout-start', actor: 'cli', to: { status: 'running', step: 1, stepLabel: 'canary 10% 30m', route: null } },
      { id: 1, time: NOW - 40 * MINUTE, subject: R, action: 'route-set', actor: 'api', to: { mode: 'shadow', percent: 0 } },
      { id: 0, time: NOW - 41 * MINUTE, subject: 'elsewhere', action: 'route-set', actor: 'api' },
    ];
    const report = buildReport(input({ ...healthy(R, E), rollouts: [{ key: 'shop', state: started.state }], audit }));
    const route = report.routes[0]!;
    assert.deepEqual(
      route.rollout && { key: route.rollout.key, status: route.rollout.status, step: route.rollout.step, steps: route.rollout.steps, label: route.rollout.stepLabel },
      { key: 'shop', status: 'running', step: 1, steps: 3, label: 'canary 10% 30m' },
    );
    assert.deepEqual(
      route.history.map((h) => h.action),
      ['rollout-start', 'route-set'],
    );
    assert.deepEqual(
      report.globalHistory.map((h) => h.action),
      ['kill-switch-off'],
    );
  });

  it('counts unreadable buckets instead of failing', () => {
    const ok = healthy(R, E);
    const report = buildReport(input({ ...ok, buckets: [...ok.buckets, { minute: NOW - MINUTE, route: R, endpoint: E, backend: 'legacy', role: 'primary', instance: 'a', data: { v: 99 } }] }));
    assert.equal(report.unreadableBuckets, 1);
    assert.equal(report.verdict, 'go');
  });
});
