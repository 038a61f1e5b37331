/**
 * runReplay against real backends and a real SQLite store: what reaches the
 * store (groups, samples, noise, totals, per-minute counts), noise learned
 * from a replica, failures counted as skips, and --rate pacing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { validateConfig } from '../../../src/config/load.ts';
import type { CutoverConfig } from '../../../src/config/schema.ts';
import { TOTALS_META_KEY, type EndpointTotals } from '../../../src/controlplane/comparison/results-writer.ts';
import { createProgressReporter } from '../../../src/replay/replay-progress.ts';
import { runReplay, type ReplayProgress } from '../../../src/replay/replay-runner.ts';
import type { TrafficRecord } from '../../../src/replay/traffic-format.ts';
import type { TrafficItem } from '../../../src/replay/traffic-reader.ts';
import { openStore, type Store } from '../../../src/storage/index.ts';
import { closedPort, startBackend, type Backend, type Handler } from '../../helpers/backends.ts';

/** Answers carry a per-answer request id (noise) and, on the candidate, a changed total. */
function app(candidate: boolean): Handler {
  return (req, res) => {
    req.resume();
    req.on('end', () => {
      const text = JSON.stringify({ total: candidate ? 11 : 10, request_id: randomUUID() });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(text);
    });
  };
}

function* items(records: TrafficRecord[]): Generator<TrafficItem> {
  let line = 0;
  for (const record of records) yield { ok: true, record, file: 'mem', line: ++line };
}

const get = (url: string, extra: Partial<TrafficRecord> = {}): TrafficRecord => ({ time: 1, route: '', method: 'GET', url, headers: { authorization: 'Bearer t' }, bodyEncoding: 'utf8', ...extra });

describe('runReplay', () => {
  let legacy: Backend;
  let replica: Backend;
  let candidate: Backend;
  let dir: string;
  const configFor = (legacyUrl: string, candidateUrl: string, replicaUrl?: string): CutoverConfig =>
    validateConfig(
      {
        backends: { legacy: { url: legacyUrl }, candidate: { url: candidateUrl }, ...(replicaUrl ? { replica: { url: replicaUrl } } : {}) },
        routes: [{ id: 'carts', match: { path: '/carts/:id' } }],
      },
      'test',
    );
  const logger = pino({ level: 'silent' });

  before(async () => {
    legacy = await startBackend('legacy', { handler: app(false) });
    replica = await startBackend('replica', { handler: app(false) });
    candidate = await startBackend('candidate', { handler: app(true) });
    dir = mkdtempSync(join(tmpdir(), 'cutover-replay-runner-'));
  });
  after(async () => {
    await Promise.all([legacy.close(), replica.close(), candidate.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const withStore = async <T>(name: string, fn: (store: Store) => Promise<T>): Promise<T> => {
    const store = await openStore({ kind: 'sqlite', dataDir: join(dir, name) });
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  };

  it('with a replica, learns the request id as noise and reports only the planted total', async () => {
    await withStore('noise', async (store) => {
      const records = Array.from({ length: 40 }, (_, i) => get(`/carts/${i}`));
      const summary = await runReplay(items(records), { config: configFor(legacy.url, candidate.url, replica.url), store, logger, concurrency: 8 });
      assert.deepEqual([summary.done, summary.mismatches, summary.skipped], [40, 40, 0]);
      const groups = await store.listDiffGroups({});
      assert.deepEqual(
        groups.map((g) => [g.route, g.endpoint, g.path, g.kind, g.count]),
        [['carts', '/carts/{id}', '$.total', 'value', 40]],
      );
      const noise = await store.listNoise({});
      assert.ok(noise.some((n) => n.route === 'carts' && n.path === '$.request_id'), JSON.stringify(noise));
      const samples = await store.listDiffSamples(groups[0]!.id, 10);
      assert.equal(samples.length, 5);
      const sample = samples[0]!.sample as { requestId: string; request: { headers: Record<string, string> } };
      assert.match(sample.requestId, /^replay-\d+$/);
      assert.match(sample.request.headers.authorization!, /^Bearer redacted:hmac:/);
      const totals = JSON.parse((await store.getMeta(TOTALS_META_KEY))!) as EndpointTotals[];
      assert.deepEqual(
        totals.map((t) => [t.route, t.endpoint, t.compared, t.mismatch]),
        [['carts', '/carts/{id}', 40, 40]],
      );
      const counts = await store.listComparisonCounts({});
      assert.equal(counts.filter((c) => c.outcome === 'mismatch').reduce((n, c) => n + c.count, 0), 40);
    });
  });

  it('without a replica the request id is a difference too', async () => {
    await withStore('no-replica', async (store) => {
      await runReplay(items([get('/carts/1'), get('/carts/2')]), { config: configFor(legacy.url, candidate.url), store, logger, concurrency: 2 });
      assert.deepEqual((await store.listDiffGroups({})).map((g) => g.path).sort(), ['$.request_id', '$.total']);
    });
  });

  it('counts failures and requests without a recorded body as skips', async () => {
    const down = `http://127.0.0.1:${await closedPort()}`;
    await withStore('skips', async (store) => {
      const a = await runReplay(items([get('/carts/1'), get('/carts/2', { method: 'POST', bodyTruncated: true })]), { config: configFor(legacy.url, down), store, logger, concurrency: 2 });
      assert.deepEqual(a.skippedByReason, { candidate_error: 1, body_not_recorded: 1 });
      const b = await runReplay(items([get('/carts/3')]), { config: configFor(down, candidate.url), store, logger, concurrency: 2 });
      assert.deepEqual(b.skippedByReason, { primary_error: 1 });
      const skipped = (await store.listComparisonCounts({})).filter((c) => c.outcome === 'skipped').map((c) => [c.reason, c.count]).sort();
      assert.deepEqual(skipped, [['body_not_recorded', 1], ['candidate_error', 1], ['primary_error', 1]]);
    });
  });

  it('applies the Host policy and extra headers of each backend, as the proxy does', async () => {
    await withStore('headers', async (store) => {
      const config = validateConfig(
        {
          backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url, host: 'rewrite', headers: { authorization: 'Bearer candidate-token' } } },
        },
        'test',
      );
      const before = [legacy.seen.length, candidate.seen.length];
      await runReplay(items([get('/carts/1', { headers: { host: 'shop.example', authorization: 'Bearer redacted:hmac:00', 'x-keep': '1' } })]), { config, store, logger, concurrency: 1 });
      const l = legacy.seen[before[0]!]!.headers;
      const c = candidate.seen[before[1]!]!.headers;
      assert.deepEqual([l.host, l.authorization, l['x-keep']], ['shop.example', 'Bearer redacted:hmac:00', '1']);
      assert.deepEqual([c.host, c.authorization, c['x-keep']], [new URL(candidate.url).host, 'Bearer candidate-token', '1']);
    });
  });

  it('paces requests with --rate', async () => {
    await withStore('rate', async (store) => {
      const t0 = performance.now();
      const s = await runReplay(items(Array.from({ length: 11 }, (_, i) => get(`/carts/${i}`))), { config: configFor(legacy.url, candidate.url), store, logger, concurrency: 8, rate: 50 });
      const ms = performance.now() - t0;
      assert.equal(s.done, 11);
      // 11 requests at 50/s: the last one starts 200 ms after the first.
      assert.ok(ms >= 190, `took ${ms} ms`);
    });
  });
});

describe('progress reporter', () => {
  const p = (done: number, elapsedMs: number): ReplayProgress => ({ done, sent: done, mismatches: 1, matches: done - 1, skipped: 0, badLines: 0, elapsedMs });
  const capture = (tty: boolean) => {
    const stream = new PassThrough() as PassThrough & { isTTY?: boolean };
    if (tty) stream.isTTY = true;
    let text = '';
    stream.on('data', (c: Buffer) => (text += c.toString()));
    return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
  };

  it('rewrites one line on a terminal', () => {
    const out = capture(true);
    const r = createProgressReporter(out.stream, 100);
    r.update(p(10, 1000));
    r.update(p(20, 2000));
    r.finish(p(100, 5000));
    assert.equal(out.text().split('\n').length, 2);
    assert.equal((out.text().match(/\r\x1b\[K/g) ?? []).length, 3);
  });

  it('prints plain lines at most every interval elsewhere', () => {
    const out = capture(false);
    const r = createProgressReporter(out.stream, 100, { intervalMs: 1000 });
    for (let ms = 200; ms <= 2600; ms += 200) r.update(p(ms / 100, ms));
    r.finish(p(100, 3000));
    assert.ok(!out.text().includes('\r'));
    assert.deepEqual(
      out.text().trim().split('\n').map((l) => l.split('  ')[0]),
      ['replay 10/100 (10.0%)', 'replay 20/100 (20.0%)', 'replay 100/100 (100.0%)'],
    );
  });
});
