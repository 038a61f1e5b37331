import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { formatProblem, loadConfigFile, parseConfigText, validateConfig, type ConfigProblem } from '../../../src/config/load.ts';
import { isCutoverError, ErrorCodes } from '../../../src/core/errors.ts';

const BACKENDS = `backends:
  legacy:
    url: http://127.0.0.1:8001
  candidate:
    url: http://127.0.0.1:8002
`;

/** Problems from a text that must fail to load, with the error code it failed with. */
function problemsOf(text: string, file = 'cutover.yaml'): { code: string; message: string; problems: ConfigProblem[] } {
  try {
    parseConfigText(text, file);
  } catch (err) {
    assert.ok(isCutoverError(err), `expected a CutoverError, got ${String(err)}`);
    return { code: err.code, message: err.message, problems: err.details as ConfigProblem[] };
  }
  assert.fail('expected the config to be rejected');
}

/** Runs `fn` with environment variables set (undefined deletes), restoring them after. */
function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('valid configs', () => {
  test('the minimal config is both backends, everything else defaulted', () => {
    const cfg = parseConfigText(BACKENDS, 'min.yaml');
    assert.equal(cfg.version, 1);
    assert.equal(cfg.listen, '127.0.0.1:8080');
    assert.equal(cfg.admin.listen, '127.0.0.1:9090');
    assert.equal(cfg.admin.token, undefined);
    assert.equal(cfg.dataDir, './.cutover');
    assert.equal(cfg.store.kind, 'sqlite');
    assert.equal(cfg.workers, 1);
    assert.equal(cfg.shutdownTimeout, 10_000);
    assert.deepEqual(cfg.routes, []);
    assert.equal(cfg.defaults.mode, 'legacy');
    assert.equal(cfg.defaults.percent, 0);
    assert.equal(cfg.defaults.stickiness, 'random');
    assert.equal(cfg.defaults.fallback, 'none');
    assert.equal(cfg.defaults.shadow.sample, 1);
    assert.equal(cfg.defaults.shadow.mirrorUnsafe, false);
    assert.equal(cfg.backends.legacy.host, 'preserve');
    assert.equal(cfg.backends.legacy.connections, 256);
    assert.deepEqual(cfg.backends.legacy.timeouts, { connect: 5_000, headers: 30_000, idle: 60_000 });
    assert.equal(cfg.backends.replica, undefined);
    assert.equal(cfg.killSwitch.env, 'CUTOVER_KILL_SWITCH');
    assert.equal(cfg.telemetry.retention, 3_600_000);
    assert.equal(cfg.results.retention, 7 * 86_400_000);
    assert.deepEqual(cfg.notifications.webhooks, []);
  });

  test('an empty routes list and an empty file section are the same as leaving them out', () => {
    assert.deepEqual(parseConfigText(`${BACKENDS}routes: []\n`, 'a.yaml'), parseConfigText(BACKENDS, 'b.yaml'));
  });

  const durations: Array<[string, number]> = [
    ['250ms', 250],
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1.5s', 1_500],
    ['1500', 1_500],
    ['0', 0],
  ];
  for (const [written, ms] of durations) {
    test(`duration ${written} is ${ms} ms`, () => {
      const cfg = parseConfigText(`${BACKENDS}shutdownTimeout: ${written}\n`, 'd.yaml');
      assert.equal(cfg.shutdownTimeout, ms);
    });
  }

  test('nested durations: backend timeouts and shadow timeout', () => {
    const cfg = parseConfigText(
      `backends:
  legacy:
    url: http://127.0.0.1:8001
    timeouts: { connect: 2s, headers: 1m }
  candidate:
    url: http://127.0.0.1:8002
defaults:
  shadow:
    timeout: 750ms
`,
      'n.yaml',
    );
    assert.deepEqual(cfg.backends.legacy.timeouts, { connect: 2_000, headers: 60_000, idle: 60_000 });
    assert.equal(cfg.defaults.shadow.timeout, 750);
  });

  test('routes keep their own settings and leave the rest to defaults', () => {
    const cfg = parseConfigText(
      `${BACKENDS}routes:
  - id: orders
    match: { path: /api/orders, methods: [GET, POST] }
    mode: canary
    percent: 12.5
    stickiness: header:x-user-id
  - id: health
    match: { path: /api/health }
    mode: candidate
`,
      'r.yaml',
    );
    assert.equal(cfg.routes.length, 2);
    assert.deepEqual(cfg.routes[0], { id: 'orders', match: { path: '/api/orders', methods: ['GET', 'POST'] }, mode: 'canary', percent: 12.5, stickiness: 'header:x-user-id' });
    assert.equal(cfg.routes[1]!.percent, undefined);
    assert.equal(cfg.routes[1]!.stickiness, undefined);
  });

  test("a route's shadow block holds only the keys it sets, so defaults.shadow fills the rest", () => {
    const cfg = parseConfigText(
      `${BACKENDS}defaults:
  shadow: { noiseSample: 0, sample: 0.5 }
routes:
  - id: api
    match: { path: /api, pathType: prefix }
    mode: shadow
    shadow: { timeout: 200ms, maxQueue: 4 }
`,
      's.yaml',
    );
    // Keys the route leaves out must be absent, not undefined: the snapshot spreads the block over defaults.shadow.
    assert.deepEqual(Object.keys(cfg.routes[0]!.shadow ?? {}).sort(), ['maxQueue', 'timeout']);
    const merged = { ...cfg.defaults.shadow, ...cfg.routes[0]!.shadow };
    assert.equal(merged.timeout, 200);
    assert.equal(merged.maxQueue, 4);
    assert.equal(merged.noiseSample, 0);
    assert.equal(merged.sample, 0.5);
  });

  const env: Array<{ name: string; yaml: string; vars: Record<string, string | undefined>; check: (cfg: ReturnType<typeof parseConfigText>) => void }> = [
    {
      name: '${VAR} is replaced from the environment',
      yaml: `${BACKENDS}admin:\n  token: \${T_ADMIN_TOKEN}\n`,
      vars: { T_ADMIN_TOKEN: 'a-token-of-sixteen-chars' },
      check: (cfg) => assert.equal(cfg.admin.token, 'a-token-of-sixteen-chars'),
    },
    {
      name: '${VAR:-default} uses the default when unset',
      yaml: `${BACKENDS}listen: \${T_LISTEN:-127.0.0.1:18080}\n`,
      vars: { T_LISTEN: undefined },
      check: (cfg) => assert.equal(cfg.listen, '127.0.0.1:18080'),
    },
    {
      name: '${VAR:-default} uses the default when empty, as a shell does',
      yaml: `${BACKENDS}listen: \${T_LISTEN:-127.0.0.1:18080}\n`,
      vars: { T_LISTEN: '' },
      check: (cfg) => assert.equal(cfg.listen, '127.0.0.1:18080'),
    },
    {
      name: '${VAR:-default} prefers the variable when set',
      yaml: `${BACKENDS}listen: \${T_LISTEN:-127.0.0.1:18080}\n`,
      vars: { T_LISTEN: '0.0.0.0:80' },
      check: (cfg) => assert.equal(cfg.listen, '0.0.0.0:80'),
    },
    {
      name: 'substitution inside a longer string and in a map of headers',
      yaml: `backends:
  legacy:
    url: http://\${T_HOST}:8001/v1
    headers: { authorization: "Bearer \${T_SECRET}" }
  candidate:
    url: http://127.0.0.1:8002
`,
      vars: { T_HOST: 'legacy.internal', T_SECRET: 's3cr3t' },
      check: (cfg) => {
        assert.equal(cfg.backends.legacy.url, 'http://legacy.internal:8001/v1');
        assert.deepEqual(cfg.backends.legacy.headers, { authorization: 'Bearer s3cr3t' });
      },
    },
    {
      name: 'an unquoted substitution is typed as YAML (a number), a quoted one stays a string',
      yaml: `${BACKENDS}workers: \${T_WORKERS}\ndataDir: "\${T_WORKERS}"\n`,
      vars: { T_WORKERS: '4' },
      check: (cfg) => {
        assert.equal(cfg.workers, 4);
        assert.equal(cfg.dataDir, '4');
      },
    },
  ];
  for (const c of env) {
    test(c.name, () => c.check(withEnv(c.vars, () => parseConfigText(c.yaml, 'env.yaml'))));
  }

  test('routes can share settings through a YAML anchor and merge key', () => {
    const cfg = parseConfigText(
      `${BACKENDS}routes:
  - id: a
    <<: &canary { mode: canary, percent: 10, stickiness: header:x-user-id }
  - id: b
    <<: *canary
    percent: 20
`,
      'merge.yaml',
    );
    assert.deepEqual(
      cfg.routes.map((r) => [r.id, r.mode, r.percent, r.stickiness]),
      [
        ['a', 'canary', 10, 'header:x-user-id'],
        ['b', 'canary', 20, 'header:x-user-id'],
      ],
    );
  });

  test('the result is deeply frozen', () => {
    const cfg = parseConfigText(
      `${BACKENDS}routes:\n  - id: a\n    match: { path: /a, methods: [GET] }\n`,
      'f.yaml',
    );
    assert.ok(Object.isFrozen(cfg));
    assert.ok(Object.isFrozen(cfg.backends.legacy.timeouts));
    assert.ok(Object.isFrozen(cfg.routes));
    assert.ok(Object.isFrozen(cfg.routes[0]!.match.methods));
    assert.ok(Object.isFrozen(cfg.defaults.shadow));
    assert.throws(() => {
      (cfg.routes as unknown as unknown[]).push({});
    }, TypeError);
    assert.throws(() => {
      (cfg.backends.legacy as { url: string }).url = 'http://elsewhere';
    }, TypeError);
    assert.equal(cfg.backends.legacy.url, 'http://127.0.0.1:8001');
  });

  test('two loads of the same text do not share mutable state', () => {
    const a = parseConfigText(BACKENDS, 'a.yaml');
    const b = parseConfigText(BACKENDS, 'b.yaml');
    assert.deepEqual(a, b);
    assert.ok(Object.isFrozen(b.backends.candidate.headers));
  });
});

describe('problems are reported with file:line:column and key path', () => {
  const cases: Array<{ name: string; yaml: string; code?: string; expect: Array<Pick<ConfigProblem, 'line' | 'column' | 'path'> & { message: RegExp }> }> = [
    {
      name: 'unknown top-level key',
      yaml: `${BACKENDS}listn: 127.0.0.1:8080\n`,
      expect: [{ line: 6, column: 1, path: 'listn', message: /unknown key "listn"/ }],
    },
    {
      name: 'unknown nested key',
      yaml: `${BACKENDS}routes:\n  - id: a\n    mdoe: shadow\n`,
      expect: [{ line: 8, column: 5, path: 'routes[0].mdoe', message: /unknown key "mdoe"/ }],
    },
    {
      name: 'wrong type',
      yaml: `${BACKENDS}workers: many\n`,
      expect: [{ line: 6, column: 1, path: 'workers', message: /./ }],
    },
    {
      name: 'bad backend URL',
      yaml: `backends:\n  legacy:\n    url: 127.0.0.1:8001\n  candidate:\n    url: http://127.0.0.1:8002\n`,
      expect: [{ line: 3, column: 5, path: 'backends.legacy.url', message: /http:\/\/ or https:\/\/ URL/ }],
    },
    {
      name: 'missing backend',
      yaml: `backends:\n  legacy:\n    url: http://127.0.0.1:8001\n`,
      expect: [{ line: 1, column: 1, path: 'backends.candidate', message: /missing required key/ }],
    },
    {
      name: 'duplicate route id',
      yaml: `${BACKENDS}routes:\n  - id: orders\n  - id: orders\n`,
      expect: [{ line: 8, column: 5, path: 'routes[1].id', message: /duplicate route id "orders"/ }],
    },
    {
      name: 'canary without percent',
      yaml: `${BACKENDS}routes:\n  - id: orders\n    mode: canary\n`,
      expect: [{ line: 7, column: 5, path: 'routes[0].percent', message: /canary mode needs a percent/ }],
    },
    {
      name: 'bad stickiness',
      yaml: `${BACKENDS}routes:\n  - id: orders\n    mode: canary\n    percent: 10\n    stickiness: user\n`,
      expect: [{ line: 10, column: 5, path: 'routes[0].stickiness', message: /header:NAME, cookie:NAME/ }],
    },
    {
      name: 'a trusted proxy that is not an address or a CIDR range',
      yaml: `${BACKENDS}trustedProxies:\n  - 10.0.0.0/8\n  - lb.internal\n  - 10.0.0.0/33\n`,
      expect: [
        { line: 8, column: 5, path: 'trustedProxies[1]', message: /IP address or a CIDR range, such as 10\.0\.0\.0\/8/ },
        { line: 9, column: 5, path: 'trustedProxies[2]', message: /IP address or a CIDR range/ },
      ],
    },
    {
      name: 'percent out of range',
      yaml: `${BACKENDS}routes:\n  - id: orders\n    mode: canary\n    percent: 150\n`,
      expect: [{ line: 9, column: 5, path: 'routes[0].percent', message: /100/ }],
    },
    {
      name: 'not a duration',
      yaml: `${BACKENDS}shutdownTimeout: soon\n`,
      expect: [{ line: 6, column: 1, path: 'shutdownTimeout', message: /"soon" is not a duration/ }],
    },
    {
      name: 'unset environment variable',
      yaml: `${BACKENDS}admin:\n  token: \${T_SURELY_UNSET_VAR}\n`,
      expect: [{ line: 7, column: 10, path: 'admin.token', message: /environment variable T_SURELY_UNSET_VAR is not set/ }],
    },
    {
      name: 'YAML syntax error',
      code: ErrorCodes.CONFIG_PARSE,
      yaml: `${BACKENDS}routes:\n  - id: a\n    match: { path: /a\n`,
      // The parser notices the unclosed flow map where the file ends.
      expect: [{ line: 9, column: 1, path: 'routes[0].match.path', message: /flow map|Flow map/ }],
    },
    {
      name: 'duplicate YAML key',
      code: ErrorCodes.CONFIG_PARSE,
      yaml: `${BACKENDS}listen: 127.0.0.1:1\nlisten: 127.0.0.1:2\n`,
      expect: [{ line: 7, column: 1, path: 'listen', message: /unique/ }],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const got = withEnv({ T_SURELY_UNSET_VAR: undefined }, () => problemsOf(c.yaml, 'conf/cutover.yaml'));
      assert.equal(got.code, c.code ?? ErrorCodes.CONFIG_INVALID);
      assert.equal(got.problems.length, c.expect.length, got.message);
      c.expect.forEach((want, i) => {
        const p = got.problems[i]!;
        assert.equal(p.file, 'conf/cutover.yaml');
        assert.deepEqual({ line: p.line, column: p.column, path: p.path }, { line: want.line, column: want.column, path: want.path }, got.message);
        assert.match(p.message, want.message);
        // The human message carries the same location, so a terminal user sees it.
        assert.ok(got.message.includes(formatProblem(p)), got.message);
        assert.match(formatProblem(p), /^conf\/cutover\.yaml:\d+:\d+ \S/);
      });
    });
  }

  test('every problem in a file is reported at once, in file order', () => {
    const text = `backends:
  legacy:
    url: http://127.0.0.1:8001
  candidate:
    url: ftp://127.0.0.1:8002
bogus: true
routes:
  - id: orders
    mode: canary
  - id: orders
    stickiness: user
    extra: 1
    other: 2
admin:
  token: \${T_SURELY_UNSET_VAR}
`;
    const got = withEnv({ T_SURELY_UNSET_VAR: undefined }, () => problemsOf(text));
    assert.deepEqual(
      got.problems.map((p) => `${p.line}:${p.column} ${p.path}`),
      ['5:5 backends.candidate.url', '6:1 bogus', '8:5 routes[0].percent', '10:5 routes[1].id', '11:5 routes[1].stickiness', '12:5 routes[1].extra', '13:5 routes[1].other', '15:10 admin.token'],
    );
    assert.match(got.message, /has 8 problems/);
  });

  test('validateConfig reports key paths for objects that did not come from a file', () => {
    try {
      validateConfig({ backends: { legacy: { url: 'nope' }, candidate: { url: 'http://127.0.0.1:1' } }, extra: 1 }, 'flags');
      assert.fail('expected a rejection');
    } catch (err) {
      assert.ok(isCutoverError(err));
      const paths = (err.details as ConfigProblem[]).map((p) => p.path).sort();
      assert.deepEqual(paths, ['backends.legacy.url', 'extra']);
    }
  });
});

describe('loadConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-load-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('reads a file and names it in problems', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, `${BACKENDS}mode: shadow\n`);
    try {
      loadConfigFile(file);
      assert.fail('expected a rejection');
    } catch (err) {
      assert.ok(isCutoverError(err));
      assert.equal(err.code, ErrorCodes.CONFIG_INVALID);
      assert.ok(err.message.includes(`${file}:6:1 mode: unknown key "mode"`), err.message);
      assert.ok(err.hint?.includes('cutover validate'));
    }
  });

  test('a missing file is its own error with a hint', () => {
    try {
      loadConfigFile(join(dir, 'absent.yaml'));
      assert.fail('expected a rejection');
    } catch (err) {
      assert.ok(isCutoverError(err));
      assert.equal(err.code, ErrorCodes.CONFIG_NOT_FOUND);
      assert.match(err.hint ?? '', /-c/);
    }
  });

  test('a good file loads', () => {
    const file = join(dir, 'good.yaml');
    writeFileSync(file, BACKENDS);
    assert.equal(loadConfigFile(file).backends.candidate.url, 'http://127.0.0.1:8002');
  });
});
