/**
 * Issue 2, item 11: SIGTERM on a `cutover run` process with a slow request in
 * flight — the request completes, new connections are refused once the
 * signal is handled, and the process exits 0 within shutdownTimeout.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { request } from 'undici';
import { echoJson, startBackend, type Backend } from '../../helpers/backends.ts';
import { startCutoverProcess, tempDir, type CutoverProcess, type TempDir } from '../../helpers/cutover-process.ts';
import { within } from '../../helpers/ws.ts';

/** Resolves 'refused' or 'connected' for one new TCP connection. */
function tryConnect(port: number): Promise<'refused' | 'connected'> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', () => resolve('refused'));
  });
}

describe('graceful shutdown', () => {
  let backend: Backend | undefined;
  let dir: TempDir | undefined;
  let cutover: CutoverProcess | undefined;
  let arrived: Promise<void>;
  let release: (() => void) | undefined;

  const start = async (shutdownTimeout: string) => {
    let arrivedResolve!: () => void;
    arrived = new Promise<void>((r) => (arrivedResolve = r));
    backend = await startBackend('legacy', {
      handler: (req: IncomingMessage, res: ServerResponse, b) => {
        if (req.url !== '/slow') return echoJson(req, res, b);
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('started;');
        release = () => res.end('finished');
        arrivedResolve();
      },
    });
    dir = tempDir();
    cutover = await startCutoverProcess({ dir, config: { shutdownTimeout, backends: { legacy: { url: backend.url }, candidate: { url: backend.url } } } });
  };

  beforeEach(() => {
    release = undefined;
  });

  afterEach(async () => {
    release?.();
    await cutover?.stop(1_000);
    await backend?.close();
    dir?.remove();
    cutover = undefined;
    backend = undefined;
    dir = undefined;
  });

  it('SIGTERM: the in-flight request completes, new connections are refused, exit 0 within the bound', async () => {
    await start('8s');
    const res = await request(`${cutover!.proxyUrl}/slow`);
    assert.equal(res.statusCode, 200);
    const body = res.body.text();
    await within(arrived, 5_000, 'the slow request reaching the backend');

    const signalledAt = performance.now();
    process.kill(cutover!.pid, 'SIGTERM');
    await within(
      (async () => {
        while ((await tryConnect(cutover!.proxyPort)) === 'connected') await new Promise((r) => setTimeout(r, 20));
      })(),
      5_000,
      'new connections being refused',
    );
    assert.equal(cutover!.child.exitCode, null, 'still running while the slow request is in flight');
    await cutover!.waitForLog((l) => l.msg === 'shutting down: draining in-flight requests');

    release!();
    assert.equal(await body, 'started;finished', 'the in-flight request completed');
    const exit = await within(cutover!.exited, 8_000 + 2_000, 'the process exiting');
    const took = performance.now() - signalledAt;
    assert.equal(exit.code, 0);
    assert.ok(took < 8_000, `exit ${took.toFixed(0)} ms after SIGTERM`);
    const stopped = await cutover!.waitForLog((l) => l.msg === 'cutover stopped');
    assert.equal(stopped.drained, true);
  });

  it('a request that outlives shutdownTimeout does not hold the process: exit 0 soon after the bound', async () => {
    await start('1s');
    const res = await request(`${cutover!.proxyUrl}/slow`);
    const body = res.body.text().catch((err: Error) => err);
    await within(arrived, 5_000, 'the slow request reaching the backend');
    const signalledAt = performance.now();
    process.kill(cutover!.pid, 'SIGTERM');
    const exit = await within(cutover!.exited, 6_000, 'the process exiting');
    const took = performance.now() - signalledAt;
    assert.equal(exit.code, 0);
    assert.ok(took >= 900, `exited after ${took.toFixed(0)} ms, before the 1 s drain bound`);
    assert.ok(await body instanceof Error, 'the unfinished response is cut, not completed');
    const stopped = await cutover!.waitForLog((l) => l.msg === 'cutover stopped');
    assert.equal(stopped.drained, false);
  });
});
