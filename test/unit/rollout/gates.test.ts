import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateGates, gatesSchema, type GateName, type GateOutcome, type GatesConfig, type TelemetrySnapshot } from '../../../src/rollout/index.ts';
import { FAILING, HEALTHY, THIN, snapshot } from './rollout-fixtures.ts';

const defaults = gatesSchema.parse({});
const gates = (over: Partial<GatesConfig> = {}): GatesConfig => ({ ...defaults, ...over });

function gate(snap: TelemetrySnapshot, name: GateName, config: GatesConfig = defaults) {
  const result = evaluateGates(snap, config).results.find((r) => r.gate === name);
  assert.ok(result, `${name} was not evaluated`);
  return result;
}

describe('error-rate gate', () => {
  const table: Array<{ name: string; snap: TelemetrySnapshot; config?: GatesConfig; outcome: GateOutcome; reason: RegExp }> = [
    { name: 'same rate on plenty of traffic passes', snap: HEALTHY, outcome: 'pass', reason: /within the allowed 1\.00 pp/ },
    {
      name: '5% 5xx vs 0% legacy with enough samples fails',
      snap: snapshot({ legacy: { requests: 2_000, errors: 0 }, candidate: { requests: 2_000, errors: 100 } }),
      outcome: 'fail',
      reason: /candidate error rate 5\.00% vs legacy 0\.00%: increase at least .* above the allowed 1\.00 pp/,
    },
    {
      name: 'slightly worse but within the margin is not yet clear on moderate traffic',
      snap: snapshot({ legacy: { requests: 2_000, errors: 20 }, candidate: { requests: 2_000, errors: 30 } }),
      outcome: 'inconclusive',
      reason: /not yet clear/,
    },
    {
      name: 'looking 2 pp worse on 250 requests is not yet evidence: inconclusive, not fail',
      snap: snapshot({ legacy: { requests: 250, errors: 0 }, candidate: { requests: 250, errors: 5 } }),
      outcome: 'inconclusive',
      reason: /candidate error rate 2\.00% vs legacy 0\.00%: increase between/,
    },
    {
      name: 'zero errors on both sides but few requests cannot show ≤ 1 pp yet',
      snap: snapshot({ legacy: { requests: 220, errors: 0 }, candidate: { requests: 220, errors: 0 } }),
      outcome: 'inconclusive',
      reason: /not yet clear/,
    },
    {
      name: 'a tighter margin turns the same 0.5 pp increase into a fail',
      snap: snapshot({ legacy: { requests: 50_000, errors: 500 }, candidate: { requests: 50_000, errors: 750 } }),
      config: gates({ maxErrorRateIncrease: 0.001 }),
      outcome: 'fail',
      reason: /above the allowed 0\.10 pp/,
    },
    {
      name: 'errors above requests is unusable telemetry, not a failure',
      snap: snapshot({ candidate: { requests: 500, errors: 600 } }),
      outcome: 'inconclusive',
      reason: /unusable telemetry: candidate errors exceed requests/,
    },
    {
      name: 'negative counts are unusable telemetry',
      snap: snapshot({ legacy: { requests: -1 } }),
      outcome: 'inconclusive',
      reason: /unusable telemetry: legacy requests is -1/,
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const r = gate(row.snap, 'errorRate', row.config);
      assert.equal(r.outcome, row.outcome, r.reason);
      assert.match(r.reason, row.reason);
      assert.deepEqual(r.sampleSizes, { legacy: row.snap.legacy.requests, candidate: row.snap.candidate.requests });
      assert.equal(r.thresholds.maxErrorRateIncrease, (row.config ?? defaults).maxErrorRateIncrease);
    });
  }

  it('the fail carries the numbers: rates, difference and both bounds', () => {
    const r = gate(snapshot({ legacy: { requests: 2_000, errors: 0 }, candidate: { requests: 2_000, errors: 100 } }), 'errorRate');
    assert.equal(r.observed.candidateRate, 0.05);
    assert.equal(r.observed.legacyRate, 0);
    assert.ok(r.observed.lowerBound! > 0.01 && r.observed.lowerBound! < 0.05);
    assert.ok(r.observed.upperBound! > 0.05);
    assert.deepEqual(r.thresholds, { maxErrorRateIncrease: 0.01, confidence: 0.95, minRequests: 200 });
  });

  it('low traffic is inconclusive and never a fail, however bad it looks', () => {
    for (let n = 0; n < defaults.minRequests; n += 7) {
      for (const errors of [0, Math.floor(n / 2), n]) {
        const r = gate(snapshot({ legacy: { requests: n, errors: 0 }, candidate: { requests: n, errors } }), 'errorRate');
        assert.equal(r.outcome, 'inconclusive', `n=${n} errors=${errors}: ${r.reason}`);
        assert.match(r.reason, /too few requests to judge/);
      }
    }
  });

  it('minRequests 0 still needs a request per side', () => {
    const r = gate(snapshot({ legacy: { requests: 0, errors: 0 }, candidate: { requests: 0, errors: 0 } }), 'errorRate', gates({ minRequests: 0 }));
    assert.equal(r.outcome, 'inconclusive');
  });
});

describe('latency gate', () => {
  const table: Array<{ name: string; snap: TelemetrySnapshot; config?: GatesConfig; outcome: GateOutcome; reason: RegExp }> = [
    { name: 'about as fast passes', snap: HEALTHY, outcome: 'pass', reason: /p95 52ms is 1\.04x legacy 50ms/ },
    {
      name: '3x slower fails',
      snap: snapshot({ candidate: { p95Ms: 150, p99Ms: 360 } }),
      outcome: 'fail',
      reason: /p95 150ms is 3\.00x legacy 50ms \(max 1\.2x\)/,
    },
    {
      name: 'only p99 worse still fails when p99 is compared',
      snap: snapshot({ candidate: { p99Ms: 200 } }),
      outcome: 'fail',
      reason: /p99 200ms is 1\.67x/,
    },
    {
      name: 'p99 ignored when only p95 is compared',
      snap: snapshot({ candidate: { p99Ms: 200 } }),
      config: gates({ latencyPercentiles: ['p95'] }),
      outcome: 'pass',
      reason: /p95/,
    },
    {
      name: 'too few candidate latency samples is inconclusive, even 10x slower',
      snap: snapshot({ candidate: { latencySamples: 20, p95Ms: 500, p99Ms: 900 } }),
      outcome: 'inconclusive',
      reason: /too few latency samples to judge: legacy 10000, candidate 20 \(need 200\)/,
    },
    {
      name: 'p95 < 2ms cap: 2.4ms fails',
      snap: snapshot({ legacy: { p95Ms: 2.3, p99Ms: 4 }, candidate: { p95Ms: 2.4, p99Ms: 4 } }),
      config: gates({ maxP95Ms: 2 }),
      outcome: 'fail',
      reason: /candidate p95 2\.4ms above the 2ms cap/,
    },
    {
      name: 'p95 < 2ms cap: 1.8ms passes',
      snap: snapshot({ legacy: { p95Ms: 1.7, p99Ms: 3 }, candidate: { p95Ms: 1.8, p99Ms: 3.1 } }),
      config: gates({ maxP95Ms: 2 }),
      outcome: 'pass',
      reason: /candidate p95 1\.8ms within the 2ms cap/,
    },
    {
      name: 'cap breach fails even when legacy has too few samples for a ratio',
      snap: snapshot({ legacy: { latencySamples: 5 }, candidate: { p95Ms: 9 } }),
      config: gates({ maxP95Ms: 2 }),
      outcome: 'fail',
      reason: /above the 2ms cap/,
    },
    {
      name: 'ratio breach within the tolerance passes (sub-millisecond jitter)',
      snap: snapshot({ legacy: { p95Ms: 0.5, p99Ms: 1 }, candidate: { p95Ms: 0.8, p99Ms: 1.3 } }),
      config: gates({ latencyToleranceMs: 1 }),
      outcome: 'pass',
      reason: /1\.60x/,
    },
    {
      name: 'missing percentile is inconclusive',
      snap: snapshot({ candidate: { p95Ms: null } }),
      outcome: 'inconclusive',
      reason: /p95 not reported/,
    },
    {
      name: 'nothing configured passes',
      snap: snapshot({ candidate: { p95Ms: 999 } }),
      config: gates({ latencyPercentiles: [] }),
      outcome: 'pass',
      reason: /no latency percentiles or caps configured/,
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const r = gate(row.snap, 'latency', row.config);
      assert.equal(r.outcome, row.outcome, r.reason);
      assert.match(r.reason, row.reason);
      assert.deepEqual(r.sampleSizes, { legacy: row.snap.legacy.latencySamples, candidate: row.snap.candidate.latencySamples });
    });
  }
  it('records ratios and thresholds as numbers', () => {
    const r = gate(snapshot({ candidate: { p95Ms: 150, p99Ms: 360 } }), 'latency', gates({ maxP95Ms: 500 }));
    assert.equal(r.observed.p95Ratio, 3);
    assert.equal(r.observed.p99Ratio, 3);
    assert.equal(r.thresholds.maxLatencyRatio, 1.2);
    assert.equal(r.thresholds.maxP95Ms, 500);
  });
  it('a zero legacy percentile never puts Infinity into the evidence', () => {
    const r = gate(snapshot({ legacy: { p95Ms: 0 } }), 'latency');
    assert.equal(r.outcome, 'fail');
    assert.equal(r.observed.p95Ratio, null);
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(r)));
  });
});

describe('mismatch gate', () => {
  const table: Array<{ name: string; compared: number; mismatches: number; config?: GatesConfig; outcome: GateOutcome; reason: RegExp }> = [
    { name: '0 in 1000 passes a 1% limit', compared: 1000, mismatches: 0, outcome: 'pass', reason: /0 of 1000 compared responses differ: rate at most 0\.30%/ },
    { name: '0 in 1000 cannot yet show 0.1%', compared: 1000, mismatches: 0, config: gates({ maxMismatchRate: 0.001 }), outcome: 'inconclusive', reason: /between 0\.00% and 0\.30%/ },
    { name: '50 in 1000 fails a 1% limit', compared: 1000, mismatches: 50, outcome: 'fail', reason: /rate at least 3\.9\d% at 95% confidence, above 1\.00%/ },
    { name: '8 in 1000 is too close to 1% to call', compared: 1000, mismatches: 8, outcome: 'inconclusive', reason: /not yet clear/ },
    { name: 'too few compared is inconclusive even with mismatches', compared: 40, mismatches: 30, outcome: 'inconclusive', reason: /too few compared responses to judge: 40 \(need 100\)/ },
    { name: 'mismatches above compared is unusable', compared: 200, mismatches: 201, outcome: 'inconclusive', reason: /unusable telemetry/ },
  ];
  for (const row of table) {
    it(row.name, () => {
      const r = gate(snapshot({ compared: row.compared, mismatches: row.mismatches }), 'mismatch', row.config);
      assert.equal(r.outcome, row.outcome, r.reason);
      assert.match(r.reason, row.reason);
      assert.deepEqual(r.sampleSizes, { compared: row.compared });
    });
  }
  it('0 mismatches in 1000: upper bound ≈ 0.003', () => {
    const r = gate(snapshot({ compared: 1000, mismatches: 0 }), 'mismatch');
    assert.ok(Math.abs(r.observed.upperBound! - 0.002991) < 1e-6, String(r.observed.upperBound));
    assert.equal(r.observed.lowerBound, 0);
  });
});

describe('custom gate', () => {
  const config = gates({ custom: { url: 'http://127.0.0.1:9000/check', timeout: 5_000 } });
  const table: Array<[string, TelemetrySnapshot, GateOutcome, RegExp]> = [
    ['no answer is inconclusive', snapshot(), 'inconclusive', /no answer from the check URL \(http:\/\/127\.0\.0\.1:9000\/check\)/],
    ['ok passes', snapshot({ custom: { ok: true, detail: 'conversion flat' } }), 'pass', /check URL passed: conversion flat/],
    ['not ok fails', snapshot({ custom: { ok: false, detail: 'conversion -4%' } }), 'fail', /check URL failed: conversion -4%/],
  ];
  for (const [name, snap, outcome, reason] of table) {
    it(name, () => {
      const r = gate(snap, 'custom', config);
      assert.equal(r.outcome, outcome);
      assert.match(r.reason, reason);
    });
  }
  it('is not evaluated when not configured, even if the snapshot has a result', () => {
    const ev = evaluateGates(snapshot({ custom: { ok: false } }), defaults);
    assert.deepEqual(ev.results.map((r) => r.gate), ['errorRate', 'latency', 'mismatch']);
  });
});

describe('evaluateGates', () => {
  const table: Array<{ name: string; snap: TelemetrySnapshot; config?: GatesConfig; outcome: GateOutcome; gates: string[] }> = [
    { name: 'healthy passes every gate', snap: HEALTHY, outcome: 'pass', gates: ['errorRate', 'latency', 'mismatch'] },
    { name: 'one failing gate fails the evaluation', snap: FAILING, outcome: 'fail', gates: ['errorRate', 'latency', 'mismatch'] },
    { name: 'thin traffic is inconclusive', snap: THIN, outcome: 'inconclusive', gates: ['errorRate', 'latency', 'mismatch'] },
    { name: 'fail wins over inconclusive', snap: snapshot({ candidate: { p95Ms: 500 }, compared: 3 }), outcome: 'fail', gates: ['errorRate', 'latency', 'mismatch'] },
    {
      name: 'canary without compare: drop the mismatch gate',
      snap: snapshot({ compared: 0 }),
      config: gates({ require: ['errorRate', 'latency'] }),
      outcome: 'pass',
      gates: ['errorRate', 'latency'],
    },
    { name: 'no gates at all passes (time-based plan)', snap: THIN, config: gates({ require: [] }), outcome: 'pass', gates: [] },
  ];
  for (const row of table) {
    it(row.name, () => {
      const ev = evaluateGates(row.snap, row.config ?? defaults);
      assert.equal(ev.outcome, row.outcome);
      assert.deepEqual(ev.results.map((r) => r.gate), row.gates);
      assert.deepEqual(ev.samples, { legacy: row.snap.legacy.requests, candidate: row.snap.candidate.requests, compared: row.snap.comparisons.compared });
    });
  }
  it('echoes the window and is plain JSON', () => {
    const ev = evaluateGates({ ...HEALTHY, window: { from: 1, to: 2 } }, defaults);
    assert.deepEqual(ev.window, { from: 1, to: 2 });
    assert.deepEqual(JSON.parse(JSON.stringify(ev)), ev);
  });
});
