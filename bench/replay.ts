/**
 * Replay throughput: generates 50,000 recorded requests (GETs of a few JSON
 * endpoints and POSTs with JSON bodies, 1% of them answered differently by
 * the candidate), starts legacy and candidate in a child process, replays
 * the file through runReplay (undici pools, comparer worker, sqlite store)
 * and prints request pairs per second.
 *
 *   ./node_modules/.bin/node bench/replay.ts [--requests 50000] [--concurrency 64]
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { validateConfig } from '../src/config/load.ts';
import { runReplay } from '../src/replay/replay-runner.ts';
import { formatTrafficLine, type TrafficRecord } from '../src/replay/traffic-format.ts';
import { readTraffic } from '../src/replay/traffic-reader.ts';
import { openStore } from '../src/storage/index.ts';

if (process.argv[2] === '--serve-backends') {
  // Child: legacy and candidate on two ports; the candidate differs on every 100th item.
  const start = (candidate: boolean) =>
    new Promise<number>((resolve) => {
      const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const url = req.url ?? '/';
          const id = Number(/id=(\d+)/.exec(url)?.[1] ?? 0);
          const doc =
            req.method === 'POST'
              ? { ok: true, echoed: Buffer.concat(chunks).length, id }
              : { id, name: `item ${id}`, price: candidate && id % 100 === 0 ? 10.5 : 10, tags: ['a', 'b'], stock: id % 7 };
          const body = JSON.stringify(doc);
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
          res.end(body);
        });
      });
      server.keepAliveTimeout = 60_000;
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  const [legacy, candidate] = await Promise.all([start(false), start(true)]);
  process.send!({ legacy, candidate });
} else {
  const { values } = parseArgs({ options: { requests: { type: 'string', default: '50000' }, concurrency: { type: 'string', default: '64' } } });
  const n = Number(values.requests);
  const concurrency = Number(values.concurrency);
  const dir = mkdtempSync(join(tmpdir(), 'cutover-bench-replay-'));
  const file = join(dir, 'traffic.ndjson');
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const post = i % 5 === 4;
    const record: TrafficRecord = {
      time: Date.now(),
      route: 'items',
      method: post ? 'POST' : 'GET',
      url: post ? `/orders?id=${i}` : `/items/${i % 500}?id=${i}`,
      headers: { 'user-agent': 'bench', accept: 'application/json', ...(post ? { 'content-type': 'application/json' } : {}) },
      bodyEncoding: 'utf8',
    };
    if (post) record.body = JSON.stringify({ order: i, lines: [{ sku: 'x', qty: 2 }] });
    lines.push(formatTrafficLine(record));
  }
  writeFileSync(file, `${lines.join('\n')}\n`);

  const child = fork(new URL(import.meta.url).pathname, ['--serve-backends'], { stdio: 'inherit' });
  const ports = await new Promise<{ legacy: number; candidate: number }>((resolve) => child.once('message', (m) => resolve(m as { legacy: number; candidate: number })));
  const legacy = `http://127.0.0.1:${ports.legacy}`;
  const candidate = `http://127.0.0.1:${ports.candidate}`;
  const config = validateConfig(
    {
      backends: { legacy: { url: legacy }, candidate: { url: candidate } },
      routes: [
        { id: 'items', match: { path: '/items/:id' } },
        { id: 'orders', match: { path: '/orders' } },
      ],
      dataDir: dir,
    },
    'bench',
  );
  const store = await openStore({ kind: 'sqlite', dataDir: dir });
  const logger = pino({ level: 'warn' });
  try {
    const summary = await runReplay(readTraffic([file]), { config, store, logger, concurrency });
    const line = {
      requests: n,
      concurrency,
      seconds: +(summary.elapsedMs / 1000).toFixed(2),
      pairsPerSecond: Math.round(summary.pairsPerSecond),
      matches: summary.matches,
      mismatches: summary.mismatches,
      skipped: summary.skipped,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  } finally {
    await store.close();
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
