/**
 * Rollouts driven by real gates end to end: real backends, a real cutover
 * (sqlite store, default features), real traffic from a load generator, and
 * short steps so each plan plays out in seconds.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import type { GateResult } from '../../../src/rollout/index.ts';
import { FAST_PLAN, auditOf, generateLoad, startHarness, startTestBackend, waitForRollout } from './rollout-harness.ts';

const PATHS = ['/api/items/1', '/api/items/2', '/api/items/3', '/api/users/7'];

function routesFor(stickiness = 'random') {
  return [{ id: 'items', match: { path: '/api/*' }, stickiness }];
}

function gateResult(entry: { evidence?: unknown }, gate: string): GateResult | undefined {
  return (entry.evidence as { gates?: { results?: GateResult[] } } | undefined)?.gates?.results?.find((r) => r.gate === gate);
}

describe('gated rollouts', { timeout: 120_000 }, () => {
  it('promotes a healthy candidate through shadow → canary 10% → canary 50% → candidate', async (t) => {
    const legacy = await startTestBackend('legacy', { delayMs: 2 });
    const candidate = await startTestBackend('candidate', { delayMs: 2 });
    const h = await startHarness({
      backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
      routes: routesFor(),
      // The tolerance absorbs a host stall landing in one side's tail (seen: p99 133 ms
      // against 55 ms for two 2 ms backends); a real regression is tested below.
      gates: { require: ['errorRate', 'latency'], minRequests: 40, maxErrorRateIncrease: 0.08, minLatencySamples: 40, maxLatencyRatio: 2, latencyToleranceMs: 250 },
      plans: { items: { ...FAST_PLAN, steps: ['shadow 1s', 'canary 10% 1s', 'canary 50% 1s', 'candidate'], inconclusiveDeadline: '20s' } },
    });
    t.after(async () => {
      await h.close();
      await legacy.close();
      await candidate.close();
    });
    const load = generateLoad(h.proxyUrl, { concurrency: 8, durationMs: 40_000, paths: PATHS });
    try {
      await h.rollouts.command('items', { action: 'start', actor: 'test' });
      const done = await waitForRollout(h.rollouts, 'items', (v) => v.status !== 'running', 35_000);
      assert.equal(done.status, 'completed', done.reason ?? '');
    } finally {
      load.stop();
    }
    const result = await load.done;
    assert.equal(result.statuses[0] ?? 0, 0, 'no request failed at the proxy');

    const route = h.runtime.routing.describe().find((r) => r.id === 'items')!;
    assert.equal(route.mode, 'candidate');
    const audit = await auditOf(h.runtime, 'items');
    const transitions = audit.filter((e) => ['start', 'advance', 'complete'].includes(e.action));
    assert.deepEqual(
      transitions.map((e) => [e.action, (e.to as { stepLabel: string }).stepLabel]),
      [
        ['start', 'shadow 1s'],
        ['advance', 'canary 10% 1s'],
        ['advance', 'canary 50% 1s'],
        ['complete', 'candidate'],
      ],
    );
    for (const e of transitions.slice(1)) {
      const gates = (e.evidence as { gates: { outcome: string; samples: { candidate: number } } }).gates;
      assert.equal(gates.outcome, 'pass', `${e.action} was decided on passing gates`);
      assert.ok(gates.samples.candidate >= 40, `candidate samples ${gates.samples.candidate} meet minRequests`);
    }
    assert.ok(!audit.some((e) => e.action === 'rollback' || e.action === 'gate-fail'));
  });

  it('rolls a candidate with 5% 5xx at canary 10% back to legacy, with error rates and sample sizes in the audit', async (t) => {
    const legacy = await startTestBackend('legacy');
    const candidate = await startTestBackend('candidate', { failEvery: 20 });
    const h = await startHarness({
      backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
      routes: routesFor('header:x-user'),
      gates: { require: ['errorRate'], minRequests: 100, maxErrorRateIncrease: 0.01 },
      plans: { items: { ...FAST_PLAN, steps: ['canary 10% 30s', 'canary 50% 30s', 'candidate'], inconclusiveDeadline: '30s' } },
    });
    t.after(async () => {
      await h.close();
      await legacy.close();
      await candidate.close();
    });
    let user = 0;
    const load = generateLoad(h.proxyUrl, { concurrency: 8, durationMs: 40_000, paths: PATHS, headers: () => ({ 'x-user': `u${user++}` }) });

    // Users the canary sends to the candidate: after the rollback they must be served by legacy.
    const probe = new Pool(h.proxyUrl, { connections: 2 });
    const candidateUsers: string[] = [];
    let firstLegacyAfterRollback: number | undefined;
    let rollbackAt: number | undefined;
    let probing = true;
    const probeLoop = (async () => {
      let i = 0;
      while (probing) {
        const id = candidateUsers.length >= 5 && i % 2 === 0 ? candidateUsers[i % candidateUsers.length]! : `probe-${i}`;
        i++;
        const res = await probe.request({ method: 'GET', path: '/api/items/1', headers: { 'x-user': id } });
        await res.body.dump();
        const by = res.headers['x-served-by'];
        const now = Date.now();
        if (by === 'candidate' && !candidateUsers.includes(id)) candidateUsers.push(id);
        if (by === 'legacy' && candidateUsers.includes(id) && rollbackAt !== undefined && firstLegacyAfterRollback === undefined) firstLegacyAfterRollback = now;
        if (h.rollouts.get('items').status === 'rolledBack' && rollbackAt === undefined) {
          rollbackAt = (await auditOf(h.runtime, 'items')).find((e) => e.action === 'rollback')?.time;
        }
        if (firstLegacyAfterRollback !== undefined) break;
      }
    })();
    try {
      await h.rollouts.command('items', { action: 'start', actor: 'test' });
      const end = await waitForRollout(h.rollouts, 'items', (v) => v.status !== 'running', 35_000);
      assert.equal(end.status, 'rolledBack', end.reason ?? '');
      assert.equal(end.step, 0, 'it never left canary 10%');
      await Promise.race([probeLoop, new Promise((r) => setTimeout(r, 5_000))]);
    } finally {
      probing = false;
      load.stop();
    }
    await load.done;
    await probeLoop;
    await probe.close();

    assert.equal(h.runtime.routing.describe().find((r) => r.id === 'items')!.mode, 'legacy');
    const audit = await auditOf(h.runtime, 'items');
    const rollback = audit.find((e) => e.action === 'rollback');
    assert.ok(rollback, 'a rollback entry is in the audit log');
    assert.equal(rollback.actor, 'driver');
    const gate = gateResult(rollback, 'errorRate')!;
    assert.equal(gate.outcome, 'fail');
    assert.ok(Math.abs(gate.observed.candidateRate! - 0.05) < 0.03, `candidate error rate ${gate.observed.candidateRate} ≈ 5%`);
    assert.equal(gate.observed.legacyRate, 0);
    assert.ok(gate.sampleSizes.candidate! >= 100 && gate.sampleSizes.legacy! > gate.sampleSizes.candidate!, JSON.stringify(gate.sampleSizes));
    assert.equal(gate.thresholds.maxErrorRateIncrease, 0.01);
    assert.ok(audit.some((e) => e.action === 'gate-fail'), 'the first failure below the threshold was audited too');

    assert.ok(rollbackAt !== undefined && firstLegacyAfterRollback !== undefined, `a candidate-sticky user was served by legacy after the rollback (users ${candidateUsers.length})`);
    const ms = firstLegacyAfterRollback - rollbackAt;
    console.log(`# rollback latency, gate failure detected → first legacy answer for a canary user (1 process): ${ms} ms`);
    assert.ok(ms < 1_000, `took ${ms} ms`);
  });

  it('fails the latency gate for a candidate 3x slower and rolls back from shadow', async (t) => {
    const legacy = await startTestBackend('legacy', { delayMs: 20 });
    const candidate = await startTestBackend('candidate', { delayMs: 60 });
    const h = await startHarness({
      backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
      routes: routesFor(),
      gates: { require: ['errorRate', 'latency'], minRequests: 50, minLatencySamples: 50, maxLatencyRatio: 1.5 },
      plans: { items: { ...FAST_PLAN, steps: ['shadow 30s', 'canary 10% 30s', 'candidate'], inconclusiveDeadline: '30s' } },
    });
    t.after(async () => {
      await h.close();
      await legacy.close();
      await candidate.close();
    });
    const load = generateLoad(h.proxyUrl, { concurrency: 8, durationMs: 30_000, paths: PATHS });
    try {
      await h.rollouts.command('items', { action: 'start', actor: 'test' });
      const end = await waitForRollout(h.rollouts, 'items', (v) => v.status !== 'running', 25_000);
      assert.equal(end.status, 'rolledBack', end.reason ?? '');
      assert.equal(end.step, 0);
    } finally {
      load.stop();
    }
    await load.done;
    const rollback = (await auditOf(h.runtime, 'items')).find((e) => e.action === 'rollback')!;
    const gate = gateResult(rollback, 'latency')!;
    assert.equal(gate.outcome, 'fail', gate.reason);
    // Scheduling jitter on a busy machine adds to both sides, so the ratios come out somewhat under 3. What matters is that
    // the percentile that failed the gate is past the limit: on a busy CI host p95 once read 1.49x while p99 failed it.
    const ratios = [gate.observed.p95Ratio, gate.observed.p99Ratio].filter((r): r is number => typeof r === 'number');
    assert.ok(Math.max(...ratios) > 1.5 && Math.max(...ratios) < 4, `p95/p99 ratios ${ratios.join(', ')}`);
    assert.ok(gate.observed.p95Ratio! > 1.2, `p95 ratio ${gate.observed.p95Ratio}: the candidate is clearly slower`);
    assert.ok(gate.observed.candidateP95Ms! >= 57, `candidate p95 ${gate.observed.candidateP95Ms} ms`);
    assert.ok(gate.sampleSizes.candidate! >= 50);
  });

  it('stops a candidate with a mismatch in a shadowed endpoint at shadow', async (t) => {
    let comparisonReady = true;
    try {
      await import('../../../src/controlplane/comparison/comparison-feature.ts');
    } catch {
      comparisonReady = false;
    }
    if (!comparisonReady) {
      t.todo('needs the comparison feature (src/controlplane/comparison/) feeding mismatch counts into telemetry');
      return;
    }
    const legacy = await startTestBackend('legacy', { body: (path) => ({ path, price: 10 }) });
    const candidate = await startTestBackend('candidate', { body: (path) => ({ path, price: path === '/api/items/2' ? 11 : 10 }) });
    const h = await startHarness({
      backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
      routes: routesFor(),
      gates: { require: ['errorRate', 'mismatch'], minRequests: 50, minCompared: 50, maxMismatchRate: 0.01 },
      plans: { items: { ...FAST_PLAN, steps: ['shadow 2s', 'canary 10% 2s', 'candidate'], inconclusiveDeadline: '30s' } },
    });
    t.after(async () => {
      await h.close();
      await legacy.close();
      await candidate.close();
    });
    const load = generateLoad(h.proxyUrl, { concurrency: 8, durationMs: 30_000, paths: PATHS });
    try {
      await h.rollouts.command('items', { action: 'start', actor: 'test' });
      const end = await waitForRollout(h.rollouts, 'items', (v) => v.status !== 'running', 25_000);
      assert.equal(end.status, 'rolledBack', end.reason ?? '');
      assert.equal(end.step, 0, 'stopped at shadow');
    } finally {
      load.stop();
    }
    await load.done;
    const audit = await auditOf(h.runtime, 'items');
    assert.ok(!audit.some((e) => e.action === 'advance'));
    const gate = gateResult(audit.find((e) => e.action === 'rollback')!, 'mismatch')!;
    assert.equal(gate.outcome, 'fail', gate.reason);
    assert.ok(gate.sampleSizes.compared! >= 50);
  });

  it('moves a component plan\'s routes together and rolls it back when the custom check URL fails', async (t) => {
    const legacy = await startTestBackend('legacy');
    const candidate = await startTestBackend('candidate');
    const checks: Array<{ rollout: string; routes: string[]; step: number }> = [];
    const checker = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c));
      req.on('end', () => {
        checks.push(JSON.parse(body));
        // Healthy at shadow; the business metric drops once real users reach the candidate.
        const failing = checks.at(-1)!.step > 0;
        res.writeHead(failing ? 412 : 200, { 'content-type': 'text/plain' }).end(failing ? 'conversion -4%' : 'ok');
      });
    });
    await new Promise<void>((r) => checker.listen(0, '127.0.0.1', r));
    const h = await startHarness({
      backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
      routes: [
        { id: 'shop-items', match: { path: '/api/items/*' }, component: 'shop' },
        { id: 'shop-users', match: { path: '/api/users/*' }, component: 'shop' },
      ],
      gates: { require: ['errorRate'], minRequests: 40, maxErrorRateIncrease: 0.1, custom: { url: `http://127.0.0.1:${(checker.address() as AddressInfo).port}/check`, timeout: '1s' } },
      plans: { shop: { ...FAST_PLAN, steps: ['shadow 500ms', 'canary 10% 10s', 'candidate'], inconclusiveDeadline: '20s' } },
    });
    t.after(async () => {
      await h.close();
      await legacy.close();
      await candidate.close();
      await new Promise<void>((r) => {
        checker.close(() => r());
        checker.closeAllConnections();
      });
    });
    const modes = () => h.runtime.routing.describe().filter((r) => r.id.startsWith('shop-')).map((r) => `${r.id}=${r.mode}:${r.percent}`);
    const load = generateLoad(h.proxyUrl, { concurrency: 4, durationMs: 20_000, paths: PATHS });
    try {
      await h.rollouts.command('shop', { action: 'start', actor: 'test' });
      assert.deepEqual(modes(), ['shop-items=shadow:0', 'shop-users=shadow:0']);
      const canary = await waitForRollout(h.rollouts, 'shop', (v) => v.step === 1 || v.status !== 'running', 15_000);
      assert.equal(canary.status, 'running', canary.reason ?? '');
      assert.deepEqual(modes(), ['shop-items=canary:10', 'shop-users=canary:10']);
      const end = await waitForRollout(h.rollouts, 'shop', (v) => v.status !== 'running', 15_000);
      assert.equal(end.status, 'rolledBack', end.reason ?? '');
    } finally {
      load.stop();
    }
    await load.done;
    assert.deepEqual(modes(), ['shop-items=legacy:0', 'shop-users=legacy:0']);
    assert.deepEqual(checks[0]!.routes, ['shop-items', 'shop-users']);
    assert.equal(checks[0]!.rollout, 'shop');
    const audit = await auditOf(h.runtime, 'shop');
    const advance = audit.find((e) => e.action === 'advance')!;
    assert.equal(gateResult(advance, 'custom')!.outcome, 'pass');
    const samples = (advance.evidence as { gates: { samples: { legacy: number } } }).gates.samples;
    assert.ok(samples.legacy >= 40, 'requests of both routes count toward the samples');
    const custom = gateResult(audit.find((e) => e.action === 'rollback')!, 'custom')!;
    assert.equal(custom.outcome, 'fail');
    assert.match(custom.reason, /HTTP 412: conversion -4%/);
  });

  it('pauses a low-traffic rollout at the inconclusive deadline instead of failing it', async (t) => {
    const legacy = await startTestBackend('legacy');
    const candidate = await startTestBackend('candidate');
    const h = await startHarness({
      backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
      routes: routesFor(),
      gates: { require: ['errorRate', 'latency'], minRequests: 200, minLatencySamples: 200 },
      plans: { items: { ...FAST_PLAN, steps: ['canary 10% 1s', 'candidate'], inconclusiveDeadline: '2s' } },
    });
    t.after(async () => {
      await h.close();
      await legacy.close();
      await candidate.close();
    });
    const load = generateLoad(h.proxyUrl, { concurrency: 1, durationMs: 10_000, paths: PATHS, ratePerLoop: 10 });
    const startedAt = Date.now();
    try {
      await h.rollouts.command('items', { action: 'start', actor: 'test' });
      const end = await waitForRollout(h.rollouts, 'items', (v) => v.status !== 'running', 8_000);
      assert.equal(end.status, 'paused', end.reason ?? '');
      assert.match(end.reason ?? '', /needs a human/);
      assert.ok(Date.now() - startedAt >= 2_000, 'not before the deadline');
      assert.equal(end.lastEvaluation?.outcome, 'inconclusive');
      // Paused keeps the step's split: traffic is not thrown back to legacy for want of data.
      assert.deepEqual(end.route, { mode: 'canary', percent: 10 });
    } finally {
      load.stop();
    }
    await load.done;
    const audit = await auditOf(h.runtime, 'items');
    assert.ok(!audit.some((e) => e.action === 'rollback' || e.action === 'gate-fail'));
    assert.equal(audit.at(-1)!.action, 'pause');
  });
});
