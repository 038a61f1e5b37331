/**
 * `cutover bench` through the real CLI (a child process, so the generator
 * and the backends do not share an event loop) against two in-process
 * backends with fixed delays: the measured ratio must match the known one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BenchSummary } from '../../../src/loadtest/bench-summary.ts';
import { startBackend, type Backend } from '../../helpers/backends.ts';
import { BIN, NODE, REPO_ROOT, tempDir, type TempDir } from '../../helpers/cutover-process.ts';

/**
 * 100 ms and 200 ms: at these delays loopback HTTP and the generator's own
 * overhead move the ratio by about 1%, where 4 ms and 8 ms would put the true
 * ratio itself near 1.8. The sketch's own 1% error per quantile adds up to 2%
 * on a ratio.
 *
 * The backends' timers are not exact: on a contended VM they have fired 9 ms
 * late at the median (p50 109 ms for 100 ms, a ratio of 1.86). That lateness is
 * real latency the tool is right to measure, so each backend records how long
 * it actually took per request, and the tool's numbers are held to those.
 */
const LEGACY_MS = 100;
const CANDIDATE_MS = 200;

/** Milliseconds each backend really took per request (arrival to response end), by backend name. */
const served = new Map<string, number[]>();

const delayed =
  (ms: number) =>
  (req: IncomingMessage, res: ServerResponse, backend: Backend): void => {
    const t0 = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen = backend.seen[backend.seen.length - 1];
      if (seen) (seen as { body?: string }).body = Buffer.concat(chunks).toString('utf8');
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
        let times = served.get(backend.name);
        if (times === undefined) served.set(backend.name, (times = []));
        times.push(performance.now() - t0);
      }, ms);
    });
  };

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [BIN, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('cutover bench', { timeout: 120_000 }, () => {
  let legacy: Backend;
  let candidate: Backend;
  let dir: TempDir;

  before(async () => {
    legacy = await startBackend('legacy', { handler: delayed(LEGACY_MS) });
    candidate = await startBackend('candidate', { handler: delayed(CANDIDATE_MS) });
    dir = tempDir('cutover-bench-');
  });

  after(async () => {
    await legacy?.close();
    await candidate?.close();
    dir?.remove();
  });

  it(`measures the ${CANDIDATE_MS / LEGACY_MS}x latency ratio within 5%, and half the throughput, in alternating rounds`, async () => {
    const r = await cli('bench', '--legacy', legacy.url, '--candidate', candidate.url, '--path', '/items?id=1', '--duration', '8s', '--connections', '8', '--rounds', '4', '--warmup', '300ms', '--json');
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as BenchSummary;
    assert.deepEqual(s.rounds.map((x) => x.backend), ['legacy', 'candidate', 'legacy', 'candidate']);
    assert.equal(s.generator.saturated, false, `generator CPU ${s.generator.maxCpuCores}`);
    assert.equal(s.legacy.errors + s.candidate.errors, 0);
    // What the backends really did; the tool must report that, within the sketch's error and loopback's overhead.
    const legacyServed = served.get('legacy')!;
    const candidateServed = served.get('candidate')!;
    const expected = quantile(candidateServed, 0.5) / quantile(legacyServed, 0.5);
    assert.ok(expected >= (CANDIDATE_MS / LEGACY_MS) * 0.7, `the backends themselves served at ratio ${expected.toFixed(3)}: the delays did not hold`);
    const p50 = s.ratios.p50.value!;
    process.stdout.write(
      `# bench: p50 ratio ${p50.toFixed(3)} (legacy ${s.legacy.p50} ms, candidate ${s.candidate.p50} ms; served ${quantile(legacyServed, 0.5).toFixed(1)} ms and ${quantile(candidateServed, 0.5).toFixed(1)} ms, ratio ${expected.toFixed(3)}), p95 ratio ${s.ratios.p95.value?.toFixed(3)}, throughput ratio ${s.ratios.throughput.value?.toFixed(3)}\n`,
    );
    assert.ok(Math.abs(p50 - expected) <= 0.05 * expected, `p50 ratio ${p50.toFixed(3)} is not within 5% of the served ratio ${expected.toFixed(3)} (legacy ${s.legacy.p50} ms, candidate ${s.candidate.p50} ms)`);
    // Each side's measured p50 sits at what its backend took (less the sketch's 1%), plus at most loopback's and the generator's share.
    for (const [side, times] of [['legacy', legacyServed], ['candidate', candidateServed]] as const) {
      const q = s[side].p50!;
      const truth = quantile(times, 0.5);
      assert.ok(q >= truth * 0.99 && q <= truth + 10, `${side} p50 ${q} ms is not within [${truth.toFixed(1)}, ${(truth + 10).toFixed(1)}] ms of what the backend took`);
    }
    // The tail: each side's p95 must sit at or above its delay (less the sketch's 1%) and at most 40 ms over what
    // its backend's own p95 was (the generator's stalls come on top of the backend's).
    for (const [side, ms, times] of [['legacy', LEGACY_MS, legacyServed], ['candidate', CANDIDATE_MS, candidateServed]] as const) {
      const q = s[side].p95!;
      const ceiling = quantile(times, 0.95) + 40;
      assert.ok(q >= ms * 0.99 && q <= ceiling, `${side} p95 ${q} ms is not within [${ms}, ${ceiling.toFixed(1)}] ms`);
    }
    // A closed loop of 8 connections: throughput is connections / mean latency, so the inverse of the mean ratio.
    const throughputExpected = mean(legacyServed) / mean(candidateServed);
    assert.ok(
      Math.abs(s.ratios.throughput.value! - throughputExpected) <= 0.05 * throughputExpected,
      `throughput ratio ${s.ratios.throughput.value} is not within 5% of ${throughputExpected.toFixed(3)} (the inverse of the backends' mean latency ratio)`,
    );
    // Every measured request went to the path asked for, and both sides saw the same one.
    assert.ok(legacy.seen.length > 0 && legacy.seen.every((x) => x.url === '/items?id=1' && x.method === 'GET'));
    assert.ok(candidate.seen.length > 0 && candidate.seen.every((x) => x.url === '/items?id=1'));
    // Keep-alive: 8 connections, not one per request.
    assert.ok(new Set(legacy.seen.map((x) => x.remotePort)).size <= 8, 'connections are reused');
  });

  it('sends an NDJSON mix to both backends and warns when the generator is the limit', async () => {
    legacy.seen.length = 0;
    candidate.seen.length = 0;
    const mix = dir.file(
      'traffic.ndjson',
      [
        JSON.stringify({ time: 1, route: 'api', method: 'GET', url: '/a?x=1', headers: { accept: 'application/json', host: 'recorded.example' }, bodyEncoding: 'utf8' }),
        JSON.stringify({ method: 'POST', url: '/b', headers: { 'content-type': 'application/json' }, body: Buffer.from('{"n":1}').toString('base64'), bodyEncoding: 'base64' }),
        JSON.stringify({ method: 'PUT', url: '/big', headers: {}, bodyEncoding: 'utf8', bodyTruncated: true }),
      ].join('\n'),
    );
    // A threshold no process stays under stands in for a saturated core.
    const r = await cli('bench', '--legacy', legacy.url, '--candidate', `${candidate.url}/`, '--from', mix, '--duration', '1s', '--connections', '2', '--rounds', '2', '--warmup', '0s', '--max-generator-cpu', '0.000001');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^throughput \(req\/s\) +\d+ +\d+ +0\.\d{3}x /m);
    assert.match(r.stdout, /^warning: the load generator used more than 0% of a core in rounds 1 \(legacy, \d+%\), 2 \(candidate, \d+%\): these numbers measure the generator, not the backend/m);
    assert.match(r.stderr, /^round 1\/2 legacy .* req\/s/m);
    assert.match(r.stderr, /^warning: 1 request in .*traffic\.ndjson recorded without their body are left out of the mix$/m);
    for (const b of [legacy, candidate]) {
      const kinds = new Set(b.seen.map((x) => `${x.method} ${x.url} ${(x as { body?: string }).body ?? ''}`));
      assert.deepEqual([...kinds].sort(), ['GET /a?x=1 ', 'POST /b {"n":1}'], b.name);
      assert.ok(b.seen.every((x) => x.headers.host !== 'recorded.example'), 'the recorded Host is not sent');
    }
  });

  it('rejects bad input with exit code 1', async () => {
    const both = await cli('bench', '--legacy', legacy.url, '--candidate', candidate.url, '--path', '/', '--from', 'x.ndjson');
    assert.equal(both.code, 1);
    assert.match(both.stderr, /exactly one of --from FILE and --path PATH/);
    const odd = await cli('bench', '--legacy', legacy.url, '--candidate', candidate.url, '--path', '/', '--rounds', '3', '--duration', '100ms');
    assert.equal(odd.code, 1);
    assert.match(odd.stderr, /--rounds 3 must be an even number/);
  });
});
