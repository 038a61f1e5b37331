/**
 * `cutover report` end to end: a real cutover in shadow mode (sqlite store,
 * default features) mirrors traffic to a candidate with a planted price
 * difference and a quarter of legacy's latency; the spawned CLI then reads the store
 * and answers No-Go (exit 2) until the difference is accepted, then Go (exit
 * 0), also while a cutover holds the same store open.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import pino from 'pino';
import { Pool } from 'undici';
import { validateConfig } from '../../../src/config/load.ts';
import type { CutoverConfig } from '../../../src/config/schema.ts';
import type { ComparisonApi } from '../../../src/controlplane/comparison/comparison-feature.ts';
import { defaultFeatures } from '../../../src/controlplane/features.ts';
import { startCutover, type CutoverRuntime } from '../../../src/controlplane/runtime.ts';
import type { Report } from '../../../src/report/build-report.ts';
import { openStore } from '../../../src/storage/index.ts';
import { startBackend, type Backend } from '../../helpers/backends.ts';
import { BIN, NODE, REPO_ROOT, tempDir, type TempDir } from '../../helpers/cutover-process.ts';

/** Per endpoint: enough for the default criteria (100 compared, and 0 errors in 350 bounds the error rate under 1%). */
const N = 350;

const handler =
  (role: 'legacy' | 'candidate', delayMs: number) =>
  (req: IncomingMessage, res: ServerResponse): void => {
    req.resume();
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      // Planted: the rewrite charges 10% more.
      const doc = path === '/products' ? { data: [{ id: 1, price: role === 'candidate' ? 26.95 : 24.5 }] } : { ok: true };
      const body = JSON.stringify(doc);
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body), delayMs);
    });
  };

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, CUTOVER_TOKEN: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('cutover report', { timeout: 120_000 }, () => {
  let legacy: Backend;
  let candidate: Backend;
  let dir: TempDir;
  let dataDir: string;
  let config: CutoverConfig;

  const start = (): Promise<CutoverRuntime> => startCutover({ config, features: defaultFeatures, logger: pino({ level: process.env.TEST_LOG ?? 'silent' }) });

  before(async () => {
    legacy = await startBackend('legacy', { handler: handler('legacy', 40) });
    candidate = await startBackend('candidate', { handler: handler('candidate', 10) });
    dir = tempDir('cutover-report-');
    dataDir = join(dir.path, 'data');
    config = validateConfig({
      listen: '127.0.0.1:0',
      admin: { listen: '127.0.0.1:0' },
      dataDir,
      shutdownTimeout: 1000,
      backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
      // No noise learning: it would send legacy some requests twice and make the counts inexact.
      defaults: { shadow: { noiseSample: 0 } },
      routes: [{ id: 'api', match: { path: '/', pathType: 'prefix' }, mode: 'shadow' }],
    });
    const runtime = await start();
    try {
      const proxy = new Pool(`http://127.0.0.1:${runtime.proxyAddress.port}`, { connections: 16 });
      const paths = Array.from({ length: 2 * N }, (_, i) => (i % 2 === 0 ? '/products' : `/same`));
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < paths.length) {
            const path = paths[next++]!;
            const res = await proxy.request({ method: 'GET', path });
            await res.body.text();
            assert.equal(res.statusCode, 200);
          }
        }),
      );
      await proxy.close();
      const comparison = runtime.feature<ComparisonApi>('comparison')!;
      const deadline = Date.now() + 30_000;
      for (;;) {
        await comparison.flush();
        const compared = comparison.totals().reduce((n, t) => n + t.compared, 0);
        if (compared >= 2 * N) break;
        if (Date.now() > deadline) assert.fail(`only ${compared} of ${2 * N} pairs compared`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      // Closing writes the current telemetry minute too.
      await runtime.close();
    }
  });

  after(async () => {
    await legacy?.close();
    await candidate?.close();
    dir?.remove();
  });

  it('--format json: No-Go (exit 2) for the open price difference, Go for the matching endpoint', async () => {
    const r = await cli('report', '--data-dir', dataDir, '--format', 'json');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^no-go: api \/products: 1 open mismatch group \(350 mismatches\): GET \$\.data\[\*\]\.price value/);
    const report = JSON.parse(r.stdout) as Report;
    assert.equal(report.verdict, 'no-go');
    const eps = Object.fromEntries(report.routes.flatMap((x) => x.endpoints).map((e) => [e.endpoint, e]));
    assert.deepEqual(Object.keys(eps).sort(), ['/products', '/same']);
    const products = eps['/products']!;
    assert.equal(products.verdict, 'no-go');
    assert.equal(products.comparison.compared, N);
    assert.equal(products.comparison.mismatch, N);
    assert.equal(products.differences[0]?.path, '$.data[*].price');
    assert.deepEqual(
      products.differences[0]?.example && { url: products.differences[0].example.url, legacy: products.differences[0].example.legacy, candidate: products.differences[0].example.candidate },
      { url: '/products', legacy: 24.5, candidate: 26.95 },
    );
    const same = eps['/same']!;
    assert.equal(same.verdict, 'go', JSON.stringify(same.checks));
    assert.equal(same.comparison.compared, N);
    assert.equal(same.legacy.requests, N);
    assert.equal(same.candidate.requests, N);
    assert.deepEqual(same.candidate.byRole.map((x) => x.role), ['shadow']);
    // 10 ms behind 40 ms: the candidate takes about a quarter as long, plus the same overhead on both sides. That
    // overhead is absolute: on a contended VM a 13 ms stall at p95 read 0.56, so the bound only has to keep the
    // ratio well below an equal (1.0) or inverted (4.0) one.
    assert.ok(same.ratios.p95! > 0.15 && same.ratios.p95! < 0.75, `p95 ratio ${same.ratios.p95}`);
  });

  it('--format md to stdout, with the summary and per-endpoint tables', async () => {
    const r = await cli('report', '--data-dir', dataDir, '--route', 'api', '--format', 'md');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, /^# Cutover Go\/No-Go report: No-Go$/m);
    assert.match(r.stdout, /^\| api \| \/products \| No-Go \| 350 \| 100\.00% \(100\.00%\) \| 1 \|/m);
    assert.match(r.stdout, /^\| api \| \/same \| Go \| 350 \| 0\.00% \(0\.85%\) \| 0 \|/m);
  });

  it('Go (exit 0) once the difference is accepted; html written to --out as one self-contained file', async () => {
    const store = await openStore({ kind: 'sqlite', dataDir });
    try {
      const [g] = await store.listDiffGroups({ route: 'api', status: 'open' });
      assert.ok(g);
      await store.triageDiffGroup(g.id, { status: 'accepted', reason: 'v2 prices include tax', by: 'test', at: Date.now() });
    } finally {
      await store.close();
    }
    const out = join(dir.path, 'report.html');
    const r = await cli('report', '--data-dir', dataDir, '--format', 'html', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Go: 2 go, 0 no-go, 0 insufficient of 2 endpoints; report written to /);
    const html = readFileSync(out, 'utf8');
    assert.match(html, /<span class="badge verdict go">Go<\/span>/);
    assert.match(html, /v2 prices include tax/);
    assert.doesNotMatch(html, /\b(src|href)\s*=|<script|<link\b|url\(/i);
  });

  it('reads the store while a cutover is running on it; "at least 30% faster" holds, "at least 90% faster" does not', async () => {
    const runtime = await start();
    try {
      const fast = await cli('report', '--data-dir', dataDir, '--format', 'json', '--max-p95-ratio', '0.7');
      assert.equal(fast.code, 0, fast.stderr);
      const faster = await cli('report', '--data-dir', dataDir, '--format', 'json', '--max-p95-ratio', '0.1');
      assert.equal(faster.code, 2, faster.stderr);
      const report = JSON.parse(faster.stdout) as Report;
      const checks = report.routes[0]!.endpoints.map((e) => e.checks.find((k) => k.name === 'latency')!.outcome);
      assert.deepEqual(checks, ['fail', 'fail']);
    } finally {
      await runtime.close();
    }
  });

  it('a config file sets criteria and the store; bad input is exit 1', async () => {
    const cfg = dir.file(
      'cutover.yaml',
      `dataDir: ${JSON.stringify(dataDir)}\nbackends:\n  legacy: { url: "${legacy.url}" }\n  candidate: { url: "${candidate.url}" }\nreport:\n  criteria:\n    maxP95Ratio: 0.1\n`,
    );
    assert.equal((await cli('report', '-c', cfg, '--format', 'json')).code, 2, 'the file criterion applies');
    assert.equal((await cli('report', '-c', cfg, '--format', 'json', '--max-p95-ratio', '0.7')).code, 0, 'a flag wins over the file');
    const bad = await cli('report', '--data-dir', dataDir, '--format', 'pdf');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--format "pdf" is not one of md, html, json/);
    const missing = await cli('report', '--data-dir', join(dir.path, 'nowhere'));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no cutover data in/);
  });
});
