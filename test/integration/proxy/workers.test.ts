/**
 * Issue 2, item 10: `cutover run --workers 2` serves from both workers, and
 * `cutover rollback --all` (the real CLI) is seen by the very next request on
 * every worker. Prints the time from issuing the rollback to the first
 * request served by legacy.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Agent, Pool, request, type Dispatcher } from 'undici';
import { startBackend, type Backend } from '../../helpers/backends.ts';
import { BIN, NODE, REPO_ROOT, startCutoverProcess, tempDir, type CutoverProcess, type TempDir } from '../../helpers/cutover-process.ts';

/** Request ids start with a 12-hex-digit prefix that is random per process: it tells the workers apart. */
const workerOf = (requestId: string | undefined) => String(requestId).slice(0, 12);

describe('data-plane workers', () => {
  let legacy: Backend | undefined;
  let candidate: Backend | undefined;
  let dir: TempDir | undefined;
  let cutover: CutoverProcess | undefined;

  before(async () => {
    legacy = await startBackend('legacy');
    candidate = await startBackend('candidate');
    dir = tempDir();
    cutover = await startCutoverProcess({
      dir,
      args: ['--workers', '2'],
      config: {
        backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
        defaults: { mode: 'candidate' },
        routes: [{ id: 'api', match: { path: '/api/*' }, mode: 'candidate' }],
      },
      readyTimeoutMs: 30_000,
    });
  });

  after(async () => {
    await cutover?.stop(10_000);
    await legacy?.close();
    await candidate?.close();
    dir?.remove();
  });

  const hit = async (dispatcher: Dispatcher, path: string) => {
    const res = await request(`${cutover!.proxyUrl}${path}`, { dispatcher });
    const body = (await res.body.json()) as { backend: string; headers: Record<string, string> };
    assert.equal(res.statusCode, 200);
    return { backend: body.backend, worker: workerOf(body.headers['x-request-id']), at: performance.now() };
  };

  /** `n` requests at once through a new agent: that many new connections, spread over the workers. */
  const burst = async (n: number, path: string) => {
    const agent = new Agent({ connections: n, pipelining: 1 });
    try {
      return await Promise.all(Array.from({ length: n }, () => hit(agent, path)));
    } finally {
      await agent.close();
    }
  };

  it('serves requests from both workers', async () => {
    const results = await burst(24, '/api/hello');
    assert.ok(results.every((r) => r.backend === 'candidate'));
    const workers = new Set(results.map((r) => r.worker));
    assert.equal(workers.size, 2, `expected 2 workers to serve, saw ${[...workers].join(', ')}`);
  });

  it('cutover rollback --all is seen by the very next request on every worker', async () => {
    // Warm keep-alive connections that stay bound to their worker across the rollback.
    const pool = new Pool(cutover!.proxyUrl, { connections: 8, pipelining: 1 });
    try {
      const warm = await Promise.all(Array.from({ length: 16 }, () => hit(pool, '/api/warm')));
      assert.equal(new Set(warm.map((r) => r.worker)).size, 2, 'the warm connections reach both workers');
      assert.ok(warm.every((r) => r.backend === 'candidate'));

      // Traffic keeps flowing while the CLI runs, to find the first request legacy serves.
      let firstLegacyAt: number | undefined;
      let stop = false;
      const loops = Array.from({ length: 4 }, async () => {
        while (!stop) {
          const r = await hit(pool, '/api/loop');
          if (r.backend === 'legacy' && firstLegacyAt === undefined) firstLegacyAt = r.at;
        }
      });

      const t0 = performance.now();
      const cli = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(NODE, [BIN, '--admin-url', cutover!.adminUrl, 'rollback', '--all', '--json'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
        child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
        child.once('error', reject);
        child.once('close', (code) => resolve({ code, stdout, stderr }));
      });
      const t1 = performance.now();
      assert.equal(cli.code, 0, cli.stderr);

      // Right after the CLI returns: on the warm connections of both workers, and on new connections.
      const [onWarm, onNew] = await Promise.all([Promise.all(Array.from({ length: 32 }, () => hit(pool, '/api/after'))), burst(24, '/api/after-new')]);
      const after = [...onWarm, ...onNew];
      stop = true;
      await Promise.all(loops);

      const notLegacy = after.filter((r) => r.backend !== 'legacy');
      assert.equal(notLegacy.length, 0, `${notLegacy.length} of ${after.length} requests after the rollback did not go to legacy`);
      assert.equal(new Set(after.map((r) => r.worker)).size, 2, 'both workers answered after the rollback');
      assert.ok(firstLegacyAt !== undefined, 'the traffic loop saw legacy');
      const latency = firstLegacyAt! - t0;
      const out = JSON.parse(cli.stdout) as { rolledBack: string[]; tookMs: number };
      assert.deepEqual(out.rolledBack.sort(), ['api', 'default']);
      console.log(
        `# rollback --all with 2 workers: first request served by legacy ${latency.toFixed(0)} ms after issuing the CLI command ` +
          `(CLI process ${(t1 - t0).toFixed(0)} ms end to end, server-side apply ${out.tookMs} ms); target < 1000 ms`,
      );
    } finally {
      await pool.close();
    }
  });
});
