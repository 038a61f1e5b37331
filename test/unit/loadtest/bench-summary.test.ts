import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLatencySketch, recordLatency } from '../../../src/controlplane/telemetry/latency-sketch.ts';
import { summarizeBench, type BenchRound } from '../../../src/loadtest/bench-summary.ts';

function round(index: number, ms: number, responses: number, opts: { cpuMs?: number; errors?: number; wallMs?: number } = {}): BenchRound {
  const latency = createLatencySketch();
  for (let i = 0; i < responses; i++) recordLatency(latency, ms);
  return {
    index,
    backend: index % 2 === 0 ? 'legacy' : 'candidate',
    responses,
    errors: opts.errors ?? 0,
    failures: 0,
    wallMs: opts.wallMs ?? 1000,
    cpuMs: opts.cpuMs ?? 100,
    latency,
  };
}

describe('summarizeBench', () => {
  it('totals per backend, ratios from the totals and their spread over round pairs', () => {
    const s = summarizeBench([round(0, 10, 1000), round(1, 20, 500), round(2, 10, 1000), round(3, 30, 400)], { cpuThreshold: 0.9 });
    assert.equal(s.legacy.responses, 2000);
    assert.equal(s.legacy.throughput, 1000);
    assert.equal(s.candidate.throughput, 450);
    assert.ok(Math.abs(s.legacy.p50! - 10) < 0.2);
    assert.deepEqual(s.ratios.throughput.perPair, [0.5, 0.4]);
    assert.equal(s.ratios.throughput.value, 0.45);
    assert.equal(s.ratios.throughput.min, 0.4);
    assert.equal(s.ratios.throughput.max, 0.5);
    assert.ok(Math.abs(s.ratios.throughput.stddev! - Math.SQRT2 * 0.05) < 1e-12);
    assert.ok(Math.abs(s.ratios.p50.perPair[0]! - 2) < 0.05 && Math.abs(s.ratios.p50.perPair[1]! - 3) < 0.06, JSON.stringify(s.ratios.p50));
    assert.deepEqual(s.rounds.map((r) => r.backend), ['legacy', 'candidate', 'legacy', 'candidate']);
    assert.equal(s.generator.saturated, false);
    // 2.0 then 3.0: a spread of more than a fifth of the ratio is called noisy.
    assert.ok(s.warnings.some((w) => /p95 ratio moved from (1\.9|2\.0)\d to (2\.9|3\.0)\d/.test(w)), s.warnings.join('\n'));
  });

  it('warns when the generator used more than the threshold of a core in any round', () => {
    const s = summarizeBench([round(0, 10, 1000, { cpuMs: 950 }), round(1, 10, 1000, { cpuMs: 300 })], { cpuThreshold: 0.9 });
    assert.equal(s.generator.saturated, true);
    assert.equal(s.generator.maxCpuCores, 0.95);
    assert.match(s.warnings.join('\n'), /more than 90% of a core in round 1 \(legacy, 95%\): these numbers measure the generator/);
    const calm = summarizeBench([round(0, 10, 1000, { cpuMs: 850 }), round(1, 10, 1000, { cpuMs: 300 })], { cpuThreshold: 0.9 });
    assert.equal(calm.generator.saturated, false);
    assert.deepEqual(calm.warnings, []);
  });

  it('says when a backend answered nothing or with errors', () => {
    const s = summarizeBench([round(0, 10, 1000, { errors: 10 }), round(1, 10, 0)], { cpuThreshold: 0.9 });
    assert.match(s.warnings.join('\n'), /legacy: 10 errors \(1\.00%\)/);
    assert.match(s.warnings.join('\n'), /candidate answered no request/);
    assert.equal(s.ratios.p50.value, null);
  });
});
