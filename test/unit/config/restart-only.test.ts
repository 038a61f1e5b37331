import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../../../src/config/load.ts';
import { restartOnlyChanges } from '../../../src/config/restart-only.ts';

const base = {
  backends: { legacy: { url: 'http://127.0.0.1:8001' }, candidate: { url: 'http://127.0.0.1:8002' } },
  routes: [{ id: 'r', match: { path: '/r' }, mode: 'legacy' }],
};
const running = validateConfig(base);

describe('restartOnlyChanges', () => {
  const cases: Array<[string, Record<string, unknown>, string[]]> = [
    ['a route change applies live', { routes: [{ id: 'r', match: { path: '/r' }, mode: 'candidate' }] }, []],
    ['a backend change applies live', { backends: { legacy: { url: 'http://127.0.0.1:9001' }, candidate: { url: 'http://127.0.0.1:8002' } } }, []],
    ['the listener', { listen: '127.0.0.1:8081' }, ['listen']],
    ['the admin listener and token', { admin: { listen: '127.0.0.1:9091', token: 'a-token-of-16-chars' } }, ['admin.listen', 'admin.token']],
    ['store, data dir and workers', { store: { kind: 'postgres', url: 'postgres://127.0.0.1/test' }, dataDir: '/var/lib/cutover', workers: 2 }, ['dataDir', 'store', 'workers']],
  ];
  for (const [name, change, want] of cases) it(name, () => assert.deepEqual(restartOnlyChanges(running, validateConfig({ ...base, ...change })), want));
});
