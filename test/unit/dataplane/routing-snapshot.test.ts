import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateConfig } from '../../../src/config/load.ts';
import type { CutoverConfig } from '../../../src/config/schema.ts';
import { createDataPlane } from '../../../src/dataplane/server.ts';

const base = validateConfig({
  backends: { legacy: { url: 'http://127.0.0.1:1' }, candidate: { url: 'http://127.0.0.1:2' } },
  routes: [
    { id: 'first', match: { path: '/a' }, mode: 'candidate' },
    { id: 'second', match: { path: '/b/*' }, mode: 'canary', percent: 10 },
  ],
});

test('a route that fails to compile is disabled and reported; the others keep serving', async () => {
  // A route object that validation would never let through (no match block).
  const broken = structuredClone(base) as unknown as { routes: Array<Record<string, unknown>> };
  delete broken.routes[0]!.match;
  const dp = createDataPlane({ config: broken as unknown as CutoverConfig });
  try {
    const snap = dp.snapshot();
    assert.deepEqual(snap.disabled.map((d) => d.id), ['first']);
    assert.ok(snap.disabled[0]!.error.length > 0);
    assert.deepEqual(snap.routes.map((r) => r.id), ['second', 'default']);
    assert.equal(snap.match('GET', '/b/x', {}).id, 'second');
    assert.equal(snap.match('GET', '/a', {}).id, 'default');
  } finally {
    await dp.close(0);
  }
});

test('an override changes the mode in a new snapshot; the old one is untouched', async () => {
  const dp = createDataPlane({ config: base });
  try {
    const before = dp.snapshot();
    const after = dp.update({ overrides: new Map([['second', { mode: 'legacy', percent: 0 }]]) });
    assert.notEqual(before, after);
    assert.equal(before.routes.find((r) => r.id === 'second')!.description.mode, 'canary');
    assert.equal(after.routes.find((r) => r.id === 'second')!.description.mode, 'legacy');
    assert.equal(after.routes.find((r) => r.id === 'second')!.description.overridden, true);
    assert.equal(after.version, before.version + 1);
  } finally {
    await dp.close(0);
  }
});

test('the kill switch compiles every route to legacy whatever its override', async () => {
  const dp = createDataPlane({ config: base, overrides: new Map([['second', { mode: 'candidate', percent: 100 }]]) });
  try {
    const snap = dp.update({ killSwitch: true });
    for (const r of snap.routes) assert.equal(r.description.mode, 'legacy', r.id);
  } finally {
    await dp.close(0);
  }
});
