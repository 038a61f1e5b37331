/**
 * `cutover run` restarts itself once with a smaller V8 young generation
 * (src/cli/runtime-flags.ts): same PID, so signals and supervisors still see
 * one process, and the proxy still serves and shuts down cleanly.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { startBackend, type Backend } from '../../helpers/backends.ts';
import { BIN, NODE, REPO_ROOT, runCli, startCutoverProcess, tempDir, type TempDir } from '../../helpers/cutover-process.ts';
import { DEFAULT_SEMI_SPACE_MB, SEMI_SPACE_ENV } from '../../../src/cli/runtime-flags.ts';

function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

describe('runtime flags of `cutover run`', () => {
  let backend: Backend;
  let dir: TempDir;
  const config = () => ({ backends: { legacy: { url: backend.url }, candidate: { url: backend.url } } });

  before(async () => {
    backend = await startBackend('legacy');
    dir = tempDir();
  });
  after(async () => {
    await backend.close();
    dir.remove();
  });

  it('relaunches in place with the default semi-space, serves, and exits 0 on SIGTERM', async () => {
    const cutover = await startCutoverProcess({ dir, config: config(), dataDir: `${dir.path}/a` });
    try {
      const ready = cutover.logs.find((l) => l.msg === 'cutover is serving')!;
      assert.deepEqual(ready.nodeFlags, [`--max-semi-space-size=${DEFAULT_SEMI_SPACE_MB}`]);
      assert.equal(ready.pid, cutover.pid, 'the process that serves is the one that was started');
      assert.ok(cmdline(cutover.pid).includes(`--max-semi-space-size=${DEFAULT_SEMI_SPACE_MB}`));
      const res = await request(`${cutover.proxyUrl}/hello`);
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    } finally {
      assert.deepEqual(await cutover.stop(), { code: 0, signal: null });
    }
  });

  it(`${SEMI_SPACE_ENV}=0 keeps Node's defaults, and a flag the user gave wins`, async () => {
    const off = await startCutoverProcess({ dir, config: config(), dataDir: `${dir.path}/b`, env: { [SEMI_SPACE_ENV]: '0' } });
    try {
      assert.deepEqual(off.logs.find((l) => l.msg === 'cutover is serving')!.nodeFlags, []);
    } finally {
      await off.stop();
    }
    const own = await startCutoverProcess({ dir, config: config(), dataDir: `${dir.path}/c`, env: { NODE_OPTIONS: '--max-semi-space-size=4' } });
    try {
      assert.deepEqual(own.logs.find((l) => l.msg === 'cutover is serving')!.nodeFlags, []);
      assert.ok(!cmdline(own.pid).some((a) => a.startsWith('--max-semi-space-size')));
    } finally {
      await own.stop();
    }
  });

  it('a global option before `run` neither stops the proxy nor skips the relaunch', async () => {
    const child = spawn(NODE, [BIN, '--token', 'abc', 'run', '--legacy', backend.url, '--candidate', backend.url, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--data-dir', `${dir.path}/d`], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let out = '';
    child.stdout.setEncoding('utf8');
    const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
      child.stdout.on('data', (t: string) => {
        out += t;
        const line = out.split('\n').find((l) => l.includes('"cutover is serving"'));
        if (line !== undefined) resolve(JSON.parse(line) as Record<string, unknown>);
      });
      void exited.then((code) => reject(new Error(`cutover exited (${code}) before serving:\n${out}`)));
    });
    try {
      const serving = await ready;
      assert.deepEqual(serving.nodeFlags, [`--max-semi-space-size=${DEFAULT_SEMI_SPACE_MB}`]);
      const port = Number(String(serving.listen).split(':').pop());
      // It used to exit 0 right after this line: `--token`'s value was taken for the command.
      await sleep(500);
      assert.equal(child.exitCode, null, 'still running');
      const res = await request(`http://127.0.0.1:${port}/hello`);
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });

  it(`a bad ${SEMI_SPACE_ENV} stops \`run\` with a clear error before anything listens`, async () => {
    const r = await runCli(['run', '--legacy', backend.url, '--candidate', backend.url, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'], { [SEMI_SPACE_ENV]: 'lots' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CUTOVER_SEMI_SPACE_MB must be a whole number of MiB from 0 to 1024; got 'lots'/);
    assert.match(r.stderr, /hint: unset it/);
    assert.equal(r.stdout, '');
  });
});
