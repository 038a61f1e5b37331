/**
 * The real binary with two data-plane workers: rollouts driven through the
 * CLI, and the time from `cutover rollback --all` (and from a gate failure)
 * to the first request legacy serves.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Pool, request } from 'undici';
import { defaultFeatures } from '../../../src/controlplane/features.ts';
import { createTelemetryFeature } from '../../../src/controlplane/telemetry/index.ts';
import { runCli, startCutoverProcess, tempDir } from '../../helpers/cutover-process.ts';
import { startTestBackend } from './rollout-harness.ts';

interface Served {
  sentAt: number;
  at: number;
  by: string;
  user: string;
}

/** Keeps `concurrency` requests in flight and records who served each, until stopped. */
function probe(url: string, concurrency: number, user: (i: number) => string) {
  const pool = new Pool(url, { connections: concurrency });
  const served: Served[] = [];
  let running = true;
  let n = 0;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      const u = user(n++);
      const sentAt = Date.now();
      try {
        const res = await pool.request({ method: 'GET', path: '/api/items/1', headers: { 'x-user': u } });
        await res.body.dump();
        served.push({ sentAt, at: Date.now(), by: String(res.headers['x-served-by']), user: u });
      } catch {
        served.push({ sentAt, at: Date.now(), by: 'error', user: u });
      }
    }
  });
  return {
    served,
    async stop() {
      running = false;
      await Promise.all(loops);
      await pool.close();
    },
  };
}

describe('rollback with two workers', { timeout: 90_000 }, () => {
  it('`cutover rollback --all` puts every route on legacy and aborts the rollout, the admin call reaching legacy in under a second; rollouts work from the CLI', async (t) => {
    const legacy = await startTestBackend('legacy');
    const candidate = await startTestBackend('candidate');
    const dir = tempDir('cutover-rollout-mw-');
    t.after(async () => {
      await legacy.close();
      await candidate.close();
      dir.remove();
    });
    const proc = await startCutoverProcess({
      dir,
      args: ['--workers', '2'],
      config: {
        backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
        routes: [{ id: 'items', match: { path: '/api/*' } }],
        // Canary steps only: `cutover run -c` re-validates the parsed config, and parsed shadow/candidate steps fail that (reported).
        plans: { items: { steps: ['canary 10% 10m', 'canary 50% 10m', 'canary 100% 10m'], interval: '1s' } },
      },
    });
    t.after(() => proc.stop());
    const cli = (...args: string[]) => runCli(['--admin-url', proc.adminUrl, ...args]);

    const started = await cli('rollout', 'start', 'items', '--note', 'from the test');
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /items: RUNNING at step 1\/3 \(canary 10% 10m\)/);
    const table = await cli('rollout', 'status');
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^ROLLOUT\s+STATUS\s+STEP/m);
    assert.match(table.stdout, /items\s+running\s+1\/3 canary 10% 10m/);
    const stepped = await cli('rollout', 'step', 'items', '2', '--json');
    assert.equal(stepped.code, 0, stepped.stderr);
    assert.deepEqual(JSON.parse(stepped.stdout).route, { mode: 'canary', percent: 100 });
    const refused = await cli('rollout', 'resume', 'items');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /error: cannot resume rollout "items": only a paused rollout can resume; this one is running\n {2}hint: it is running at step 3\/3 \(canary 100% 10m, index 2\)/);
    const unknown = await cli('rollout', 'status', 'nope');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no rollout "nope"/);

    const p = probe(proc.proxyUrl, 4, (i) => `u${i}`);
    let t0: number;
    let rollback: Awaited<ReturnType<typeof cli>>;
    try {
      await new Promise((r) => setTimeout(r, 500));
      const before = p.served.map((s) => s.by);
      assert.ok(before.length > 20 && before.every((by) => by === 'candidate'), `all traffic on the candidate before the rollback: ${JSON.stringify(before.slice(0, 30))}`);
      t0 = Date.now();
      rollback = await cli('rollback', '--all');
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await p.stop();
    }
    assert.equal(rollback.code, 0, rollback.stderr);
    const firstLegacy = p.served.find((s) => s.by === 'legacy');
    assert.ok(firstLegacy, 'legacy served after the rollback');
    const ms = firstLegacy.at - t0;
    console.log(`# rollback latency, \`cutover rollback --all\` spawned → first legacy answer (2 workers): ${ms} ms (CLI process ${Math.round(rollback.ms)} ms; ${rollback.stdout.trim()})`);
    // Most of this is the CLI process starting (Node plus type stripping of its imports); the admin call itself is measured below.
    assert.ok(ms < 10_000, `took ${ms} ms`);
    assert.ok(p.served.filter((s) => s.sentAt > firstLegacy.at).every((s) => s.by === 'legacy'), 'nothing reaches the candidate afterwards');

    const after = await cli('rollout', 'status', 'items', '--json');
    assert.equal(JSON.parse(after.stdout).status, 'rolledBack', 'the manual rollback aborted the rollout');
    const audit = await cli('audit', 'items', '--since', '1h', '--json');
    assert.equal(audit.code, 0, audit.stderr);
    const actions = (JSON.parse(audit.stdout) as Array<{ action: string; actor: string }>).map((e) => `${e.action}:${e.actor}`).reverse();
    assert.deepEqual(actions, ['start:cli', 'set-step:cli', 'resume-rejected:cli', 'route-rollback:cli', 'abort:cli']);
    const auditTable = await cli('audit', '--limit', '3');
    assert.match(auditTable.stdout, /^TIME\s+SUBJECT\s+ACTION\s+ACTOR/m);

    // The same rollback through the admin API directly, without a process start in front of it.
    const again = await cli('rollout', 'start', 'items', '--from-step', '2');
    assert.equal(again.code, 0, again.stderr);
    const q = probe(proc.proxyUrl, 4, (i) => `v${i}`);
    let t1: number;
    try {
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(q.served.length > 20 && q.served.every((s) => s.by === 'candidate'), 'all traffic on the candidate again');
      t1 = Date.now();
      const res = await request(`${proc.adminUrl}/api/v1/rollback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"all":true}' });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await q.stop();
    }
    const firstApi = q.served.find((s) => s.by === 'legacy');
    assert.ok(firstApi);
    const apiMs = firstApi.at - t1;
    console.log(`# rollback latency, POST /api/v1/rollback sent → first legacy answer (2 workers): ${apiMs} ms`);
    assert.ok(apiMs < 1_000, `took ${apiMs} ms`);
  });

  const telemetryRegistered = defaultFeatures.includes(createTelemetryFeature);
  it(
    'a gate failure with two workers reaches legacy for canary users in under a second',
    { todo: telemetryRegistered ? false : 'telemetry is not in defaultFeatures yet, so `cutover run` has no gates to fail' },
    async (t) => {
      const legacy = await startTestBackend('legacy');
      const candidate = await startTestBackend('candidate', { failEvery: 10 });
      const dir = tempDir('cutover-rollout-mw-');
      t.after(async () => {
        await legacy.close();
        await candidate.close();
        dir.remove();
      });
      const proc = await startCutoverProcess({
        dir,
        args: ['--workers', '2'],
        config: {
          backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
          routes: [{ id: 'items', match: { path: '/api/*' }, stickiness: 'header:x-user' }],
          gates: { require: ['errorRate'], minRequests: 100, maxErrorRateIncrease: 0.01 },
          plans: { items: { steps: ['canary 50% 1m', 'canary 100%'], interval: '300ms', window: '1m' } },
        },
      });
      t.after(() => proc.stop());
      const started = await runCli(['--admin-url', proc.adminUrl, 'rollout', 'start', 'items']);
      assert.equal(started.code, 0, started.stderr);
      const p = probe(proc.proxyUrl, 8, (i) => `u${i % 200}`);
      const deadline = Date.now() + 30_000;
      let rollbackAt: number | undefined;
      try {
        while (Date.now() < deadline && rollbackAt === undefined) {
          await new Promise((r) => setTimeout(r, 100));
          const audit = await runCli(['--admin-url', proc.adminUrl, 'audit', 'items', '--json']);
          rollbackAt = (JSON.parse(audit.stdout) as Array<{ action: string; time: number }>).find((e) => e.action === 'rollback')?.time;
        }
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        await p.stop();
      }
      assert.ok(rollbackAt !== undefined, 'the gate rolled the rollout back');
      const canaryUsers = new Set(p.served.filter((s) => s.by === 'candidate' && s.at < rollbackAt).map((s) => s.user));
      const first = p.served.find((s) => s.at >= rollbackAt && s.by === 'legacy' && canaryUsers.has(s.user));
      assert.ok(first, 'a canary user reached legacy after the rollback');
      const ms = first.at - rollbackAt;
      console.log(`# rollback latency, gate failure detected → first legacy answer for a canary user (2 workers): ${ms} ms`);
      assert.ok(ms < 1_000, `took ${ms} ms`);
    },
  );
});
