/**
 * Issue 2, item 9: `cutover validate` output and exit codes, and live reload
 * of a running `cutover run` process — SIGHUP and file changes, good files
 * change routing, bad files are logged and the last good routing keeps serving.
 */
import assert from 'node:assert/strict';
import { renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from '../../helpers/backends.ts';
import { runCli, startCutoverProcess, tempDir, type CutoverProcess, type LogLine, type TempDir } from '../../helpers/cutover-process.ts';
import { createClient, type Client } from '../../helpers/http.ts';
import { eventually } from '../../helpers/eventually.ts';

const BAD = `listen: not-a-host
admin:
  listen: 127.0.0.1:9090
  tokn: abc
backends:
  legacy:
    url: ftp://x
  candidate:
    url: http://127.0.0.1:8002
routes:
  - id: checkout
    match: { path: /checkout/* }
    mode: canary
  - id: search
    match: { path: search }
    percent: 150
`;

describe('cutover validate', () => {
  let dir: TempDir | undefined;
  before(() => {
    dir = tempDir();
  });
  after(() => dir?.remove());

  it('prints file:line:column and the key path for every problem, and exits 1', async () => {
    const file = dir!.file('bad.yaml', BAD);
    const r = await runCli(['validate', '-c', file]);
    assert.equal(r.code, 1);
    const expected: Array<[number, number, string, RegExp]> = [
      [1, 1, 'listen', /host:port/],
      [4, 3, 'admin.tokn', /unknown key "tokn"/],
      [7, 5, 'backends.legacy.url', /http:\/\/ or https:\/\//],
      [11, 5, 'routes[0].percent', /canary mode needs a percent/],
      [15, 14, 'routes[1].match.path', /start with \//],
      [16, 5, 'routes[1].percent', /100/],
    ];
    const lines = r.stderr.split('\n').filter((l) => l.startsWith(`${file}:`));
    assert.equal(lines.length, expected.length, r.stderr);
    for (const [line, column, path, message] of expected) {
      const found = lines.find((l) => l.startsWith(`${file}:${line}:${column} ${path}: `));
      assert.ok(found, `no problem reported as ${file}:${line}:${column} ${path}\n${r.stderr}`);
      assert.match(found, message);
    }
    assert.match(r.stderr, /6 problems/);
  });

  it('reports YAML syntax errors with their position, exit 1', async () => {
    const file = dir!.file('syntax.yaml', 'backends:\n  legacy: { url: http://127.0.0.1:8001 }\n  candidate: { url: "http://127.0.0.1:8002" \n');
    const r = await runCli(['validate', '-c', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+ `));
  });

  it('a valid file exits 0 with a one-line summary', async () => {
    const file = dir!.file(
      'good.yaml',
      'backends:\n  legacy: { url: http://127.0.0.1:8001 }\n  candidate: { url: http://127.0.0.1:8002 }\nroutes:\n  - id: checkout\n    match: { path: /checkout/* }\n    mode: canary\n    percent: 5\n',
    );
    const r = await runCli(['validate', '-c', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trimEnd().split('\n').length, 1, r.stdout);
    assert.match(r.stdout, /valid \(1 route: checkout=canary; default legacy/);
  });
});

const routeYaml = (legacyUrl: string, candidateUrl: string, mode: string) =>
  `listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0\nbackends:\n  legacy: { url: ${legacyUrl} }\n  candidate: { url: ${candidateUrl} }\nroutes:\n  - id: r\n    match: { path: /r/* }\n    mode: ${mode}\n`;

describe('reload', () => {
  let legacy: Backend | undefined;
  let candidate: Backend | undefined;
  let dir: TempDir | undefined;
  let client: Client | undefined;
  const running: CutoverProcess[] = [];

  before(async () => {
    legacy = await startBackend('legacy');
    candidate = await startBackend('candidate');
    dir = tempDir();
    client = createClient();
  });

  after(async () => {
    await client?.close();
    for (const p of running) await p.stop();
    await legacy?.close();
    await candidate?.close();
    dir?.remove();
  });

  const backendFor = async (cutover: CutoverProcess, path: string) => {
    const res = await client!.send(cutover.proxyUrl + path);
    assert.equal(res.status, 200, res.text);
    return res.json<{ backend: string }>().backend;
  };
  const newLogs = (cutover: CutoverProcess, from: number, msg: string) => (): LogLine | undefined => cutover.logs.slice(from).find((l) => l.msg === msg);

  it('SIGHUP: a good changed file changes routing; a bad one is logged and the last good routing keeps serving', async () => {
    // The config path is a symlink that the test re-points atomically, so the file watcher sees nothing and only SIGHUP reloads.
    const link = join(dir!.path, 'hup.yaml');
    const v1 = dir!.file('hup-v1.yaml', routeYaml(legacy!.url, candidate!.url, 'legacy'));
    symlinkSync(v1, link);
    const repoint = (target: string) => {
      const tmp = `${link}.tmp`;
      symlinkSync(target, tmp);
      renameSync(tmp, link);
    };
    const cutover = await startCutoverProcess({ dir: dir!, configPath: link, dataDir: join(dir!.path, 'hup-data') });
    running.push(cutover);
    assert.equal(await backendFor(cutover, '/r/1'), 'legacy');

    let mark = cutover.logs.length;
    repoint(dir!.file('hup-v2.yaml', routeYaml(legacy!.url, candidate!.url, 'candidate')));
    process.kill(cutover.pid, 'SIGHUP');
    await eventually(newLogs(cutover, mark, 'config reloaded'), 'the reload');
    assert.equal(await backendFor(cutover, '/r/1'), 'candidate');

    mark = cutover.logs.length;
    repoint(dir!.file('hup-v3.yaml', routeYaml(legacy!.url, candidate!.url, 'sideways')));
    process.kill(cutover.pid, 'SIGHUP');
    const rejected = await eventually(newLogs(cutover, mark, 'config reload rejected; the last good routing keeps serving'), 'the rejection');
    assert.match(String(rejected.problems), /hup\.yaml:10:5 routes\[0\]\.mode: /);
    assert.equal(rejected.level, 50, 'logged as an error');
    assert.equal(await backendFor(cutover, '/r/1'), 'candidate', 'the last good routing keeps serving');
    assert.equal(cutover.child.exitCode, null, 'still running');
  });

  it('file change: a bad file is logged and ignored; a good changed file changes routing', async () => {
    const file = dir!.file('watched.yaml', routeYaml(legacy!.url, candidate!.url, 'legacy'));
    const cutover = await startCutoverProcess({ dir: dir!, configPath: file, dataDir: join(dir!.path, 'watch-data') });
    running.push(cutover);
    assert.equal(await backendFor(cutover, '/r/2'), 'legacy');

    let mark = cutover.logs.length;
    writeFileSync(file, routeYaml(legacy!.url, candidate!.url, 'candidate').replace('match: { path: /r/* }', 'match: { path: r }'));
    const rejected = await eventually(newLogs(cutover, mark, 'config reload rejected; the last good routing keeps serving'), 'the rejection');
    assert.match(String(rejected.problems), /watched\.yaml:9:\d+ routes\[0\]\.match\.path: paths start with \//);
    assert.equal(await backendFor(cutover, '/r/2'), 'legacy');

    mark = cutover.logs.length;
    writeFileSync(file, routeYaml(legacy!.url, candidate!.url, 'candidate'));
    await eventually(newLogs(cutover, mark, 'config reloaded'), 'the reload');
    assert.equal(await backendFor(cutover, '/r/2'), 'candidate');
  });

  for (const workers of ['1', '2']) {
    it(`a reload that cannot be applied (an unreadable backend CA file) is rejected and nothing changes, --workers ${workers}`, async () => {
      const file = dir!.file(`ca-${workers}.yaml`, routeYaml(legacy!.url, candidate!.url, 'legacy'));
      const cutover = await startCutoverProcess({ dir: dir!, configPath: file, dataDir: join(dir!.path, `ca-data-${workers}`), args: ['--workers', workers] });
      running.push(cutover);
      assert.equal(await backendFor(cutover, '/r/4'), 'legacy');
      let mark = cutover.logs.length;
      // Valid YAML and schema, so only applying it finds the problem: a route change rides along and must not apply either.
      const missing = join(dir!.path, 'no-such-ca.pem');
      writeFileSync(file, routeYaml(legacy!.url, candidate!.url, 'candidate').replace(`legacy: { url: ${legacy!.url} }`, `legacy: { url: ${legacy!.url}, ca: ${missing} }`));
      const rejected = await eventually(newLogs(cutover, mark, 'config reload rejected; the last good routing keeps serving'), 'the rejection');
      assert.match(String(rejected.problems), /backends\.legacy\.ca: cannot read .*no-such-ca\.pem/);
      assert.equal(await backendFor(cutover, '/r/4'), 'legacy', 'the last good routing keeps serving');
      const viaApi = await client!.send(`${cutover.adminUrl}/api/v1/reload`, { method: 'POST' });
      assert.equal(viaApi.status, 400);
      const error = viaApi.json<{ error: { message: string; hint: string } }>().error;
      assert.match(error.message, /not applied; the last good routing keeps serving: backends\.legacy\.ca: cannot read/, 'the API says why, not just "invalid"');
      assert.match(error.hint, /readable PEM/);
      assert.equal(cutover.child.exitCode, null, 'still running');
      const status = await client!.send(`${cutover.adminUrl}/api/v1/status`);
      assert.equal(status.json<{ routes: Array<{ id: string; mode: string }> }>().routes.find((r) => r.id === 'r')?.mode, 'legacy');

      mark = cutover.logs.length;
      writeFileSync(file, routeYaml(legacy!.url, candidate!.url, 'candidate'));
      await eventually(newLogs(cutover, mark, 'config reloaded'), 'the next good reload');
      assert.equal(await backendFor(cutover, '/r/4'), 'candidate');
    });
  }

  it('a reload that changes settings read only at start says which ones wait for a restart', async () => {
    const file = dir!.file('restart.yaml', routeYaml(legacy!.url, candidate!.url, 'legacy'));
    const cutover = await startCutoverProcess({ dir: dir!, configPath: file, dataDir: join(dir!.path, 'restart-data') });
    running.push(cutover);
    const mark = cutover.logs.length;
    writeFileSync(file, routeYaml(legacy!.url, candidate!.url, 'candidate').replace('listen: 127.0.0.1:0\n', 'listen: 127.0.0.1:1\nworkers: 2\n'));
    // At once after start, as a supervisor might: the SIGHUP handler exists before the ready line is written
    // (a signal in between used to end the process). The file watcher reloads too; the second reload finds nothing new to warn about.
    process.kill(cutover.pid, 'SIGHUP');
    const warned = await eventually(newLogs(cutover, mark, 'config reloaded, but listen, workers changed and take effect only after a restart'), 'the warning');
    assert.deepEqual(warned.keys, ['listen', 'workers']);
    assert.equal(await backendFor(cutover, '/r/5'), 'candidate', 'the rest of the file applied, on the port it listens on');
    const viaApi = await client!.send(`${cutover.adminUrl}/api/v1/reload`, { method: 'POST' });
    assert.equal(viaApi.status, 200, viaApi.text);
    assert.deepEqual(viaApi.json<{ restartNeeded: string[] }>().restartNeeded, [], 'compared with the config now running: nothing new');
  });

  it('a reload keeps the backends given as run flags', async () => {
    // The file names a backend that does not exist; --legacy on the command line wins, before and after a reload.
    const file = dir!.file('flags.yaml', routeYaml('http://127.0.0.1:9', candidate!.url, 'legacy'));
    const cutover = await startCutoverProcess({ dir: dir!, configPath: file, dataDir: join(dir!.path, 'flags-data'), args: ['--legacy', legacy!.url] });
    running.push(cutover);
    assert.equal(await backendFor(cutover, '/r/3'), 'legacy');
    const mark = cutover.logs.length;
    process.kill(cutover.pid, 'SIGHUP');
    await eventually(newLogs(cutover, mark, 'config reloaded'), 'the reload');
    assert.equal(await backendFor(cutover, '/r/3'), 'legacy');
  });
});
