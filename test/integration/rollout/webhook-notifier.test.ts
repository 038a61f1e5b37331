/**
 * Webhook delivery against a real HTTP receiver: bounded retries with
 * growing delays, no retry on a permanent 4xx, and close() not held hostage
 * by a receiver that keeps failing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createWebhookNotifier, type RolloutNotification } from '../../../src/controlplane/rollout/webhook-notifier.ts';

async function receiver(status: (n: number) => number) {
  const hits: Array<{ at: number; body: string; headers: Record<string, unknown> }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      hits.push({ at: performance.now(), body, headers: req.headers });
      res.writeHead(status(hits.length)).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    hits,
    close: () => new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
}

const message: RolloutNotification = { subject: 'wallet', level: 'critical', event: 'rollback', message: 'rollout wallet rolled back to legacy', time: 1 };
const logger = pino({ level: 'silent' });

async function until(pred: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

describe('webhook notifier', () => {
  it('gives up after the configured attempts, waiting longer each time', async (t) => {
    const r = await receiver(() => 503);
    t.after(() => r.close());
    const n = createWebhookNotifier({ webhooks: () => [{ url: r.url, format: 'json', headers: { authorization: 'Bearer x' } }], logger, attempts: 4, baseDelayMs: 40 });
    n.send(message);
    assert.equal(n.pending(), 1, 'send returns before delivery');
    await until(() => n.pending() === 0, 5_000);
    assert.equal(r.hits.length, 4);
    const gaps = r.hits.slice(1).map((h, i) => h.at - r.hits[i]!.at);
    // Jittered between half and all of 40, 80, 160 ms.
    assert.ok(gaps[0]! >= 18 && gaps[2]! >= 75 && gaps[2]! > gaps[0]!, `gaps ${gaps.map(Math.round).join(', ')}`);
    assert.deepEqual(JSON.parse(r.hits[0]!.body), { source: 'cutover', ...message });
    assert.equal(r.hits[0]!.headers.authorization, 'Bearer x');
    await n.close();
  });

  it('does not retry a permanent 4xx, but does retry 429', async (t) => {
    const gone = await receiver(() => 410);
    const busy = await receiver((i) => (i === 1 ? 429 : 204));
    t.after(async () => {
      await gone.close();
      await busy.close();
    });
    const n = createWebhookNotifier({ webhooks: () => [{ url: gone.url, format: 'slack', headers: {} }, { url: busy.url, format: 'slack', headers: {} }], logger, baseDelayMs: 10 });
    n.send(message);
    await until(() => n.pending() === 0, 5_000);
    assert.equal(gone.hits.length, 1);
    assert.equal(busy.hits.length, 2);
    assert.deepEqual(JSON.parse(busy.hits[1]!.body), { text: '🚨 cutover: rollout wallet rolled back to legacy' });
    await n.close();
  });

  it('close() drops retries still waiting instead of waiting them out', async (t) => {
    const r = await receiver(() => 500);
    t.after(() => r.close());
    const n = createWebhookNotifier({ webhooks: () => [{ url: r.url, format: 'json', headers: {} }], logger, attempts: 10, baseDelayMs: 2_000 });
    n.send(message);
    await until(() => r.hits.length === 1, 2_000);
    const t0 = performance.now();
    await n.close(100);
    assert.ok(performance.now() - t0 < 1_000, 'close returned within its grace');
    await until(() => n.pending() === 0, 1_000);
    assert.equal(n.pending(), 0);
    assert.equal(r.hits.length, 1);
    n.send(message);
    assert.equal(n.pending(), 0, 'nothing is sent after close');
  });
});
