/**
 * Issue 3, "the user's request is never hurt": with defaults.shadow.thread:
 * worker, mirrors are sent from a thread of their own at the lowest priority,
 * in a real `cutover run` process. Checked from outside, through /proc: the thread
 * exists only when a route mirrors, runs as SCHED_IDLE on Linux, and what it
 * sends reaches the candidate exactly as the proxying thread would send it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { after, describe, it } from 'node:test';
import { request } from 'undici';
import { defaultMirrorScheduling } from '../../../src/dataplane/thread-priority.ts';
import { startBackend, type Backend } from '../../helpers/backends.ts';
import { startCutoverProcess, tempDir, type CutoverProcess, type TempDir } from '../../helpers/cutover-process.ts';

const SCHED_IDLE = 5;

interface ThreadInfo {
  name: string;
  policy: number;
}

/** Every thread of a process, with its name and scheduling policy (field 41 of /proc/PID/task/TID/stat). */
function threadsOf(pid: number): ThreadInfo[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the name start at field 3 (state); policy is field 41.
    return { name, policy: Number(fields[41 - 3]) };
  });
}

function hasChrt(): boolean {
  try {
    execFileSync('chrt', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the mirror thread', { skip: process.platform !== 'linux' && 'reads /proc' }, () => {
  const dirs: TempDir[] = [];
  const procs: CutoverProcess[] = [];
  const backends: Backend[] = [];
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await Promise.all(backends.map((b) => b.close()));
    for (const d of dirs) d.remove();
  });

  async function start(routeMode: string, shadow: Record<string, unknown> = {}, env: Record<string, string> = {}) {
    const legacy = await startBackend('legacy');
    const candidate = await startBackend('candidate');
    backends.push(legacy, candidate);
    const dir = tempDir();
    dirs.push(dir);
    const proc = await startCutoverProcess({
      dir,
      config: {
        backends: { legacy: { url: legacy.url }, candidate: { url: `${candidate.url}/v2`, headers: { 'x-candidate-key': 'k1' } } },
        defaults: { shadow: { noiseSample: 0, thread: 'worker', ...shadow } },
        routes: [{ id: 'api', match: { path: '/', pathType: 'prefix' }, mode: routeMode }],
      },
      env,
    });
    procs.push(proc);
    return { legacy, candidate, proc };
  }

  it('sends mirrors from a SCHED_IDLE thread, as the proxying thread would send them', async () => {
    const { legacy, candidate, proc } = await start('shadow', {}, { CUTOVER_MIRROR_SCHEDULING: 'idle' });
    const mirrorThread = threadsOf(proc.pid).find((t) => t.name === 'cutover-mirror');
    assert.ok(mirrorThread, `a thread named cutover-mirror: ${threadsOf(proc.pid).map((t) => t.name).join(', ')}`);
    if (hasChrt()) assert.equal(mirrorThread.policy, SCHED_IDLE, 'the mirror thread runs only on CPU time the proxy leaves');
    const main = threadsOf(proc.pid).find((t) => t.name !== 'cutover-mirror' && t.name !== 'cutover-compare' && !t.name.startsWith('V8') && !t.name.startsWith('libuv'));
    assert.equal(main?.policy, 0, 'the proxying thread keeps the normal policy');

    const res = await request(`${proc.proxyUrl}/items/7?q=1`, { headers: { 'x-user-id': 'u1' } });
    const served = (await res.body.json()) as { backend: string };
    assert.equal(served.backend, 'legacy', 'the client gets legacy');
    const mirrored = await waitFor(() => candidate.seen.find((s) => s.url === '/v2/items/7?q=1'), 'the mirror at the candidate');
    assert.equal(mirrored.method, 'GET');
    assert.equal(mirrored.headers['x-user-id'], 'u1', "the client's headers travel with the mirror");
    assert.equal(mirrored.headers['x-candidate-key'], 'k1', "the candidate's own headers are added");
    assert.equal(mirrored.headers['x-request-id'], legacy.seen.at(-1)?.headers['x-request-id'], 'both sides see one request id');
  });

  it('by default runs the thread at SCHED_IDLE only when the proxy has no spare core', async () => {
    const { proc } = await start('shadow', {}, { CUTOVER_MIRROR_SCHEDULING: '' });
    const expected = defaultMirrorScheduling(availableParallelism(), 1) === 'idle' && hasChrt() ? SCHED_IDLE : 0;
    const mirrorThread = await waitFor(() => threadsOf(proc.pid).find((t) => t.name === 'cutover-mirror'), 'the mirror thread');
    assert.equal(mirrorThread.policy, expected, `${availableParallelism()} CPUs for one proxying thread`);
  });

  it('mirrors a request body through the thread', async () => {
    const { candidate, proc } = await start('shadow', { mirrorUnsafe: true });
    const body = JSON.stringify({ order: 42, lines: Array.from({ length: 200 }, (_, i) => ({ sku: `s${i}` })) });
    const res = await request(`${proc.proxyUrl}/orders`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    const mirrored = await waitFor(() => candidate.seen.find((s) => s.url === '/v2/orders' && s.method === 'POST'), 'the mirrored POST');
    await waitFor(() => (mirrored.bodyBytes === Buffer.byteLength(body) ? true : undefined), `the whole body (${mirrored.bodyBytes} of ${Buffer.byteLength(body)} bytes)`);
  });

  it('with thread: main (the default), mirrors from the proxying thread and starts no thread', async () => {
    const { candidate, proc } = await start('shadow', { thread: undefined });
    assert.equal(threadsOf(proc.pid).some((t) => t.name === 'cutover-mirror'), false);
    const res = await request(`${proc.proxyUrl}/a`);
    await res.body.dump();
    await waitFor(() => candidate.seen.find((s) => s.url === '/v2/a'), 'the mirror at the candidate');
  });

  it('starts no mirror thread while no route mirrors', async () => {
    const { proc } = await start('legacy');
    const res = await request(`${proc.proxyUrl}/a`);
    await res.body.dump();
    assert.equal(threadsOf(proc.pid).some((t) => t.name === 'cutover-mirror'), false, 'a feature nobody uses costs nothing');
  });
});
