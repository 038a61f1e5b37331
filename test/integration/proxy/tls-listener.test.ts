/**
 * TLS on the proxy listener (`tls: { cert, key }`) through a real `cutover run`:
 * requests and WebSockets over TLS, a renewed certificate picked up by SIGHUP
 * without a restart, and bad certificate files refused with the key named,
 * at start and at reload, while the last good certificate keeps serving.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { Agent, request } from 'undici';
import { startBackend, type Backend } from '../../helpers/backends.ts';
import { BIN, NODE, configYaml, startCutoverProcess, tempDir, type CutoverProcess, type LogLine, type TempDir } from '../../helpers/cutover-process.ts';
import { selfSignedCertificate, type TestCertificate } from '../../helpers/tls.ts';
import { attachEchoServer, connectWebSocket, within } from '../../helpers/ws.ts';
import { eventually } from '../../helpers/eventually.ts';

/** The certificate a fresh TLS connection to the proxy is given. */
function servedCertificate(port: number, ca: string[]): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ port, host: '127.0.0.1', ca }, () => {
      resolve(socket.getPeerCertificate());
      socket.end();
    });
    socket.once('error', reject);
  });
}

describe('TLS on the proxy listener', () => {
  let legacy: Backend;
  let candidate: Backend;
  let dir: TempDir;
  let first: TestCertificate;
  let renewed: TestCertificate;
  let stranger: TestCertificate;
  let cutover: CutoverProcess;
  const certPath = () => join(dir.path, 'live.crt');
  const keyPath = () => join(dir.path, 'live.key');
  const install = (c: TestCertificate, parts: 'both' | 'key' = 'both') => {
    if (parts === 'both') copyFileSync(c.certPath, certPath());
    copyFileSync(c.keyPath, keyPath());
  };

  before(async () => {
    legacy = await startBackend('legacy');
    candidate = await startBackend('candidate');
    attachEchoServer(legacy.server, 'legacy');
    dir = tempDir('cutover-tls-');
    first = selfSignedCertificate(dir.path, 'first');
    renewed = selfSignedCertificate(dir.path, 'renewed');
    stranger = selfSignedCertificate(dir.path, 'stranger');
    install(first);
    cutover = await startCutoverProcess({
      dir,
      config: {
        tls: { cert: certPath(), key: keyPath() },
        backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
        routes: [{ id: 'api', match: { path: '/api/*' }, mode: 'legacy' }],
      },
    });
  });

  after(async () => {
    await cutover?.stop();
    await legacy?.close();
    await candidate?.close();
    dir?.remove();
  });

  it('serves HTTPS, and tells the backend the client came over https', async () => {
    const agent = new Agent({ connect: { ca: first.cert } });
    try {
      const res = await request(`https://127.0.0.1:${cutover.proxyPort}/api/items`, { dispatcher: agent });
      assert.equal(res.statusCode, 200);
      assert.equal(((await res.body.json()) as { backend: string }).backend, 'legacy');
      const seen = legacy.seen.at(-1)!;
      assert.equal(seen.headers['x-forwarded-proto'], 'https');
    } finally {
      await agent.close();
    }
  });

  it('carries WebSockets over TLS', async () => {
    const ws = await connectWebSocket(cutover.proxyPort, '/api/ws', {}, { ca: first.cert });
    try {
      assert.equal(ws.headers['x-served-by'], 'legacy');
      ws.send('hello');
      assert.equal(await ws.next(), 'legacy:hello');
    } finally {
      ws.close();
      await within(ws.closed, 2_000, 'the WebSocket closes');
    }
  });

  it('takes a renewed certificate on SIGHUP without a restart, and keeps it when the next files are bad', async () => {
    const before = await servedCertificate(cutover.proxyPort, [first.cert]);
    assert.match(String(before.subject.O), /first/);

    let mark = cutover.logs.length;
    install(renewed);
    process.kill(cutover.pid, 'SIGHUP');
    await eventually(() => cutover.logs.slice(mark).find((l: LogLine) => l.msg === 'config reloaded'), 'the reload');
    const after = await servedCertificate(cutover.proxyPort, [renewed.cert]);
    assert.match(String(after.subject.O), /renewed/, 'new connections get the renewed certificate');
    assert.equal(cutover.child.exitCode, null, 'the same process, never restarted');

    // A key of another certificate: the reload is refused with both files named, and the renewed certificate stays.
    mark = cutover.logs.length;
    install(stranger, 'key');
    process.kill(cutover.pid, 'SIGHUP');
    const rejected = await eventually(() => cutover.logs.slice(mark).find((l) => l.msg === 'config reload rejected; the last good routing keeps serving'), 'the rejection');
    assert.match(String(rejected.problems), /tls: the key in .*live\.key does not belong to the certificate in .*live\.crt/);
    const still = await servedCertificate(cutover.proxyPort, [renewed.cert]);
    assert.match(String(still.subject.O), /renewed/);
    const agent = new Agent({ connect: { ca: renewed.cert } });
    try {
      const res = await request(`https://127.0.0.1:${cutover.proxyPort}/api/after`, { dispatcher: agent });
      assert.equal(res.statusCode, 200, 'still serving');
      await res.body.dump();
    } finally {
      await agent.close();
    }
    install(renewed);
  });

  it('refuses to turn TLS off by a reload, naming what to do', async () => {
    const mark = cutover.logs.length;
    const file = cutover.configPath!;
    dir.file('cutover.yaml', configYaml({ backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } }, routes: [{ id: 'api', match: { path: '/api/*' }, mode: 'candidate' }] }));
    assert.equal(join(dir.path, 'cutover.yaml'), file);
    const rejected = await eventually(() => cutover.logs.slice(mark).find((l) => l.msg === 'config reload rejected; the last good routing keeps serving'), 'the rejection');
    assert.match(String(rejected.problems), /turning TLS off needs a restart/);
    const agent = new Agent({ connect: { ca: renewed.cert } });
    try {
      const res = await request(`https://127.0.0.1:${cutover.proxyPort}/api/mode`, { dispatcher: agent });
      assert.equal(((await res.body.json()) as { backend: string }).backend, 'legacy', 'the route change in that file did not apply either');
    } finally {
      await agent.close();
    }
  });

  it('will not start with a certificate file it cannot read, and says which key', async () => {
    const cfg = dir.file(
      'missing.yaml',
      configYaml({ listen: '127.0.0.1:0', admin: { listen: '127.0.0.1:0' }, tls: { cert: join(dir.path, 'nope.crt'), key: keyPath() }, backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } } }),
    );
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(NODE, [BIN, 'run', '-c', cfg, '--data-dir', join(dir.path, 'missing-data')], { timeout: 20_000 }, (err, _out, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr }),
      );
      child.stdin?.end();
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /tls\.cert: cannot read .*nope\.crt/);
  });

  it('starts with no config file from --tls-cert and --tls-key, and names a missing half', async () => {
    const zeroConfig = await startCutoverProcess({
      dir,
      dataDir: join(dir.path, 'flags-data'),
      args: ['--legacy', legacy.url, '--candidate', candidate.url, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--tls-cert', first.certPath, '--tls-key', first.keyPath],
    });
    try {
      const agent = new Agent({ connect: { ca: first.cert } });
      try {
        const res = await request(`https://127.0.0.1:${zeroConfig.proxyPort}/anything`, { dispatcher: agent });
        assert.equal(((await res.body.json()) as { backend: string }).backend, 'legacy');
      } finally {
        await agent.close();
      }
    } finally {
      await zeroConfig.stop();
    }
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(NODE, [BIN, 'run', '--legacy', legacy.url, '--candidate', candidate.url, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--data-dir', join(dir.path, 'half-data'), '--tls-cert', first.certPath], { timeout: 20_000 }, (err, _out, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr }),
      );
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /tls\.key/);
  });
});
