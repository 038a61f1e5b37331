/**
 * Rollout state across a restart, manual control through the admin API, the
 * kill switch, manual routing changes in the audit ledger, and webhook
 * notifications against a real receiver that fails and stalls.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import type { RolloutView } from '../../../src/controlplane/rollout/index.ts';
import { FAST_PLAN, auditOf, freshDataDir, startHarness, startTestBackend, waitForAudit, waitForRollout, type Harness } from './rollout-harness.ts';

async function api<T = Record<string, unknown>>(h: Harness, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await request(`${h.adminUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-cutover-actor': 'tester' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.statusCode, body: (await res.body.json()) as T };
}

interface Received {
  at: number;
  body: Record<string, unknown>;
  status: number;
}

/** A webhook receiver that answers 500 to the first `failFirst` deliveries and stalls for `stallMs` on the first one. */
async function startReceiver(options: { failFirst: number; stallMs?: number }) {
  const received: Received[] = [];
  let n = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const i = ++n;
      const status = i <= options.failFirst ? 500 : 200;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      const reply = () => {
        received.push({ at: Date.now(), body, status });
        res.writeHead(status).end();
      };
      if (i === 1 && options.stallMs) setTimeout(reply, options.stallMs);
      else reply();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () => new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
}

const PLAN = { ...FAST_PLAN, interval: '200ms', steps: ['shadow 10m', 'canary 10% 10m', 'canary 50% 10m', 'candidate'] };

describe('rollout control', { timeout: 60_000 }, () => {
  it('resumes after a restart at the same step with the same step start time', async (t) => {
    const legacy = await startTestBackend('legacy');
    const candidate = await startTestBackend('candidate');
    t.after(async () => {
      await legacy.close();
      await candidate.close();
    });
    const config = {
      backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
      routes: [{ id: 'items', match: { path: '/api/*' } }],
      plans: { items: PLAN },
    };
    const dataDir = freshDataDir();
    const first = await startHarness(config, { dataDir });
    let before: RolloutView;
    try {
      await first.rollouts.command('items', { action: 'start', actor: 'test' });
      before = await first.rollouts.command('items', { action: 'promote', actor: 'test' });
      assert.equal(before.step, 1);
      assert.deepEqual(before.route, { mode: 'canary', percent: 10 });
      // Let at least one evaluation land so the counters and last evaluation are part of what must survive.
      await waitForRollout(first.rollouts, 'items', (v) => v.lastEvaluation !== null, 5_000);
    } finally {
      await first.close();
    }
    const stored = await (async () => {
      const second = await startHarness(config, { dataDir });
      try {
        const after = second.rollouts.get('items');
        assert.equal(after.status, 'running');
        assert.equal(after.step, 1);
        assert.equal(after.stepStartedAt, before.stepStartedAt, 'the step clock survives the restart');
        assert.equal(after.startedAt, before.startedAt);
        const route = second.runtime.routing.describe().find((r) => r.id === 'items')!;
        assert.equal(route.mode, 'canary');
        assert.equal(route.percent, 10);
        const audit = await auditOf(second.runtime, 'items');
        const restart = audit.find((e) => e.action === 'restart');
        assert.ok(restart, 'the restart is in the audit log');
        assert.match(String((restart.evidence as { reason: string }).reason), /resuming running at step 2\/4/);
        // It keeps evaluating after the restart.
        const evaluatedAt = after.lastEvaluation?.at ?? 0;
        await waitForRollout(second.rollouts, 'items', (v) => (v.lastEvaluation?.at ?? 0) > evaluatedAt, 5_000);
        return second.runtime.store.getRollout('items');
      } finally {
        await second.close();
      }
    })();
    assert.equal((stored as { stepStartedAt: number }).stepStartedAt, before.stepStartedAt);
  });

  it('answers manual control over the API with clear 400/404/409 errors and audits every transition', async (t) => {
    const legacy = await startTestBackend('legacy');
    const candidate = await startTestBackend('candidate');
    const h = await startHarness({
      backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
      routes: [{ id: 'items', match: { path: '/api/*' } }, { id: 'other', match: { path: '/other' } }],
      plans: { items: PLAN },
    });
    t.after(async () => {
      await h.close();
      await legacy.close();
      await candidate.close();
    });

    const missing = await api<{ error: { code: string; hint: string } }>(h, 'POST', '/api/v1/rollouts/nope/start');
    assert.equal(missing.status, 404);
    assert.match(missing.body.error.hint, /known rollouts: items/);

    const early = await api<{ error: { code: string; message: string } }>(h, 'POST', '/api/v1/rollouts/items/pause');
    assert.equal(early.status, 409);
    assert.match(early.body.error.message, /nothing to pause: rollout is idle/);

    const started = await api<{ rollout: RolloutView }>(h, 'POST', '/api/v1/rollouts/items/start', { note: 'go' });
    assert.equal(started.status, 200);
    assert.equal(started.body.rollout.status, 'running');
    assert.deepEqual(started.body.rollout.route, { mode: 'shadow', percent: 0 });

    const badStep = await api<{ error: { hint: string } }>(h, 'PUT', '/api/v1/rollouts/items/step', { step: 9 });
    assert.equal(badStep.status, 400);
    assert.match(badStep.body.error.hint, /0=shadow 10m/);
    const badBody = await api(h, 'PUT', '/api/v1/rollouts/items/step', { step: 'two' });
    assert.equal(badBody.status, 400);

    const stepped = await api<{ rollout: RolloutView }>(h, 'PUT', '/api/v1/rollouts/items/step', { step: 2 });
    assert.deepEqual(stepped.body.rollout.route, { mode: 'canary', percent: 50 });
    assert.equal((await api<{ rollout: RolloutView }>(h, 'POST', '/api/v1/rollouts/items/pause')).body.rollout.status, 'paused');
    assert.equal((await api(h, 'POST', '/api/v1/rollouts/items/pause')).status, 409);
    assert.equal((await api<{ rollout: RolloutView }>(h, 'POST', '/api/v1/rollouts/items/resume')).body.rollout.status, 'running');
    const promoted = await api<{ rollout: RolloutView }>(h, 'POST', '/api/v1/rollouts/items/promote');
    assert.equal(promoted.body.rollout.status, 'completed');
    assert.equal(h.runtime.routing.describe().find((r) => r.id === 'items')!.mode, 'candidate');
    const aborted = await api<{ rollout: RolloutView }>(h, 'POST', '/api/v1/rollouts/items/abort', { note: 'changed my mind' });
    assert.equal(aborted.body.rollout.status, 'rolledBack');
    assert.equal(h.runtime.routing.describe().find((r) => r.id === 'items')!.mode, 'legacy');

    const list = await api<{ rollouts: RolloutView[] }>(h, 'GET', '/api/v1/rollouts');
    assert.deepEqual(list.body.rollouts.map((r) => [r.key, r.status]), [['items', 'rolledBack']]);

    // A manual routing change outside the rollout goes into the same ledger.
    await h.runtime.routing.set('other', 'canary', 5, 'cli');
    const audit = await api<{ entries: Array<{ subject: string; action: string; actor: string; evidence?: { note?: string } }> }>(h, 'GET', '/api/v1/audit?since=1h&limit=50');
    assert.equal(audit.status, 200);
    const actions = audit.body.entries.map((e) => `${e.subject}:${e.action}:${e.actor}`).reverse();
    assert.deepEqual(actions, [
      'items:pause-rejected:tester',
      'items:start:tester',
      'items:set-step:tester',
      'items:pause:tester',
      'items:pause-rejected:tester',
      'items:resume:tester',
      'items:promote:tester',
      'items:abort:tester',
      'other:route-set:cli',
    ]);
    assert.equal(audit.body.entries.find((e) => e.action === 'abort')!.evidence!.note, 'changed my mind');
    const filtered = await api<{ entries: unknown[] }>(h, 'GET', '/api/v1/audit?subject=other&limit=1');
    assert.equal(filtered.body.entries.length, 1);
    assert.equal((await api(h, 'GET', '/api/v1/audit?since=yesterday-ish')).status, 400);
    assert.equal((await api(h, 'GET', '/api/v1/audit?limit=0')).status, 400);
  });

  it('a manual rollback of a rollout route aborts the rollout, so it cannot push traffic back', async (t) => {
    const legacy = await startTestBackend('legacy');
    const candidate = await startTestBackend('candidate');
    const h = await startHarness({
      backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
      routes: [{ id: 'items', match: { path: '/api/*' } }],
      plans: { items: PLAN },
    });
    t.after(async () => {
      await h.close();
      await legacy.close();
      await candidate.close();
    });
    await h.rollouts.command('items', { action: 'start', actor: 'test', step: 1 });
    await h.runtime.routing.rollback(undefined, 'cli');
    const end = await waitForRollout(h.rollouts, 'items', (v) => v.status === 'rolledBack', 5_000);
    assert.match(end.reason ?? '', /rolled back by cli outside the rollout/);
    const audit = await waitForAudit(h.runtime, 'items', 'abort');
    assert.deepEqual(audit.map((e) => `${e.action}:${e.actor}`), ['start:test', 'route-rollback:cli', 'abort:cli']);
  });

  it('a manual set of a rollout route pauses the rollout; resume puts the step\'s split back', async (t) => {
    const legacy = await startTestBackend('legacy');
    const candidate = await startTestBackend('candidate');
    const h = await startHarness({
      backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
      routes: [{ id: 'items', match: { path: '/api/*' } }],
      plans: { items: PLAN },
    });
    t.after(async () => {
      await h.close();
      await legacy.close();
      await candidate.close();
    });
    await h.rollouts.command('items', { action: 'start', actor: 'test', step: 1 });
    await h.runtime.routing.set('items', 'canary', 3, 'api');
    const paused = await waitForRollout(h.rollouts, 'items', (v) => v.status === 'paused', 5_000);
    assert.match(paused.reason ?? '', /set by api outside the rollout/);
    assert.equal(h.runtime.routing.describe().find((r) => r.id === 'items')!.percent, 3, 'the human\'s split stays while paused');
    await h.rollouts.command('items', { action: 'resume', actor: 'test' });
    assert.equal(h.runtime.routing.describe().find((r) => r.id === 'items')!.percent, 10);
    const audit = await waitForAudit(h.runtime, 'items', 'resume');
    assert.deepEqual(audit.map((e) => `${e.action}:${e.actor}`), ['start:test', 'route-set:api', 'pause:api', 'resume:test']);
  });

  it('holds every rollout on legacy while the kill switch is on and returns it to its step after', async (t) => {
    const legacy = await startTestBackend('legacy');
    const candidate = await startTestBackend('candidate');
    const h = await startHarness({
      backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
      routes: [{ id: 'items', match: { path: '/api/*' } }],
      plans: { items: PLAN },
    });
    t.after(async () => {
      await h.close();
      await legacy.close();
      await candidate.close();
    });
    await h.rollouts.command('items', { action: 'start', actor: 'test', step: 2 });
    await h.runtime.routing.setKillSwitch(true, 'cli');
    const killed = await waitForRollout(h.rollouts, 'items', (v) => v.status === 'killed', 5_000);
    assert.deepEqual(killed.route, { mode: 'legacy', percent: 0 });
    await assert.rejects(h.rollouts.command('items', { action: 'promote', actor: 'test' }), /kill switch is on/);
    await h.runtime.routing.setKillSwitch(false, 'cli');
    const back = await waitForRollout(h.rollouts, 'items', (v) => v.status === 'running', 5_000);
    assert.equal(back.step, 2);
    assert.deepEqual(back.route, { mode: 'canary', percent: 50 });
    const route = h.runtime.routing.describe().find((r) => r.id === 'items')!;
    assert.equal(route.mode, 'canary');
    await waitForAudit(h.runtime, 'items', 'kill-switch-off');
    const actions = (await h.runtime.store.listAudit({})).reverse().map((e) => `${e.subject}:${e.action}`);
    assert.deepEqual(actions, ['items:start', '*:kill-switch-on', 'items:kill-switch-on', 'items:promote-rejected', '*:kill-switch-off', 'items:kill-switch-off']);
  });

  it('follows the kill switch flag file on reload (SIGHUP) and the environment variable at start', async (t) => {
    const legacy = await startTestBackend('legacy');
    const candidate = await startTestBackend('candidate');
    const dataDir = freshDataDir();
    const flag = join(dataDir, '..', `kill-${Date.now()}.flag`);
    const envName = `CUTOVER_TEST_KILL_${process.pid}`;
    const config = {
      backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
      routes: [{ id: 'items', match: { path: '/api/*' } }],
      plans: { items: PLAN },
      killSwitch: { env: envName, file: flag },
    };
    t.after(async () => {
      delete process.env[envName];
      rmSync(flag, { force: true });
      await legacy.close();
      await candidate.close();
    });
    const h = await startHarness(config, { dataDir });
    try {
      await h.rollouts.command('items', { action: 'start', actor: 'test', step: 1 });
      writeFileSync(flag, '');
      assert.equal(await h.runtime.reload(), true);
      const killed = await waitForRollout(h.rollouts, 'items', (v) => v.status === 'killed', 5_000);
      assert.deepEqual(killed.route, { mode: 'legacy', percent: 0 });
      assert.equal(h.runtime.routing.describe().find((r) => r.id === 'items')!.mode, 'legacy');
      const on = await waitForAudit(h.runtime, 'items', 'kill-switch-on');
      assert.equal(on.find((e) => e.action === 'kill-switch-on')!.actor, 'kill-switch:file');
      assert.equal((await waitForAudit(h.runtime, '*', 'kill-switch-on'))[0]!.actor, 'kill-switch:file');
      rmSync(flag);
      await h.runtime.reload();
      const back = await waitForRollout(h.rollouts, 'items', (v) => v.status === 'running', 5_000);
      assert.deepEqual(back.route, { mode: 'canary', percent: 10 });
    } finally {
      await h.close();
    }

    process.env[envName] = '1';
    const again = await startHarness(config, { dataDir });
    try {
      const v = await waitForRollout(again.rollouts, 'items', (x) => x.status === 'killed', 5_000);
      assert.equal(v.beforeKill?.status, 'running');
      const audit = await waitForAudit(again.runtime, 'items', 'kill-switch-on');
      assert.equal(audit.at(-1)!.actor, 'kill-switch:env');
      assert.equal(again.runtime.routing.describe().find((r) => r.id === 'items')!.mode, 'legacy');
    } finally {
      await again.close();
    }
  });

  it('notifies webhooks in the background: a stalled, failing receiver neither blocks a rollback nor loses the message', async (t) => {
    const legacy = await startTestBackend('legacy');
    const candidate = await startTestBackend('candidate');
    const slack = await startReceiver({ failFirst: 2, stallMs: 1_500 });
    const json = await startReceiver({ failFirst: 0 });
    const h = await startHarness({
      backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
      routes: [{ id: 'items', match: { path: '/api/*' } }],
      plans: { items: PLAN },
      notifications: { webhooks: [{ url: slack.url, format: 'slack' }, { url: json.url, headers: { 'x-secret': 's' } }] },
    });
    t.after(async () => {
      await h.close();
      await legacy.close();
      await candidate.close();
      await slack.close();
      await json.close();
    });
    const t0 = performance.now();
    await h.rollouts.command('items', { action: 'start', actor: 'test', step: 1 });
    await h.rollouts.command('items', { action: 'abort', actor: 'test' });
    const took = performance.now() - t0;
    assert.ok(took < 500, `start + abort took ${took} ms while the webhook stalls for 1.5 s`);
    assert.equal(h.runtime.routing.describe().find((r) => r.id === 'items')!.mode, 'legacy');

    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (slack.received.filter((r) => r.status === 200).length < 2 || json.received.length < 2)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    // Both messages reached the Slack receiver in the end, after its two failures.
    assert.equal(slack.received.filter((r) => r.status === 500).length, 2);
    const texts = slack.received.filter((r) => r.status === 200).map((r) => String(r.body.text));
    assert.equal(texts.length, 2, JSON.stringify(slack.received));
    assert.ok(texts.some((x) => /rollout items started at step 2\/4/.test(x)));
    assert.ok(texts.some((x) => /rollout items rolled back to legacy by test/.test(x)));
    assert.ok(slack.received.every((r) => Object.keys(r.body).join() === 'text'), 'Slack gets { text } only');
    const events = json.received.map((r) => [r.body.subject, r.body.event, r.body.level, r.body.actor]);
    assert.deepEqual(events, [
      ['items', 'start', 'info', 'test'],
      ['items', 'abort', 'warning', 'test'],
    ]);
  });
});
