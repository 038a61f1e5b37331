/**
 * docs/metrics.md and docs/grafana-dashboard.json name the metrics /metrics
 * really serves: every exported family is documented (with its labels, for
 * cutover's own), and every metric the dashboard queries exists.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { request } from 'undici';
import { validateConfig } from '../../../src/config/load.ts';
import { startCutover, type CutoverRuntime } from '../../../src/controlplane/runtime.ts';
import { createTelemetry } from '../../../src/controlplane/telemetry/index.ts';
import { createSqliteStore } from '../../../src/storage/sqlite/sqlite-store.ts';
import type { Store } from '../../../src/storage/store.ts';
import { startBackend, type Backend } from '../../helpers/backends.ts';
import { parsePromText, type PromFamily } from '../../helpers/prom-text.ts';

const root = new URL('../../../', import.meta.url);
const doc = readFileSync(new URL('docs/metrics.md', root), 'utf8');
const dashboard = JSON.parse(readFileSync(new URL('docs/grafana-dashboard.json', root), 'utf8')) as {
  panels: Array<{ targets?: Array<{ expr: string }> }>;
};

/** `a_{x,y}_b` → a_x_b, a_y_b */
function expand(name: string): string[] {
  const m = /^(.*)\{([^}]+)\}(.*)$/.exec(name);
  return m ? m[2]!.split(',').flatMap((part) => expand(`${m[1]}${part}${m[3]}`)) : [name];
}

/** Metric names in the doc's tables, with the labels their row lists. */
function documented(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of doc.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const cells = line.split('|').map((c) => c.trim());
    for (const m of cells[1]!.matchAll(/`([a-z0-9_{},]+)`/g)) for (const name of expand(m[1]!)) out.set(name, cells[3] ?? '');
  }
  return out;
}

describe('metrics documentation', () => {
  let backend: Backend;
  let store: Store;
  let runtime: CutoverRuntime;
  let families: Map<string, PromFamily>;

  before(async () => {
    backend = await startBackend('legacy');
    store = createSqliteStore({ path: ':memory:' });
    await store.init();
    const config = validateConfig({
      listen: '127.0.0.1:0',
      admin: { listen: '127.0.0.1:0' },
      backends: { legacy: { url: backend.url }, candidate: { url: backend.url } },
      routes: [{ id: 'r', match: { path: '/r' }, mode: 'shadow' }],
    });
    runtime = await startCutover({ config, store, logger: pino({ level: 'silent' }), features: [(ctx) => createTelemetry(ctx)] });
    for (let i = 0; i < 3; i++) await (await request(`http://127.0.0.1:${runtime.proxyAddress.port}/r`)).body.text();
    await new Promise((r) => setTimeout(r, 100));
    families = parsePromText(await (await request(`http://127.0.0.1:${runtime.adminAddress.port}/metrics`)).body.text());
  });

  after(async () => {
    await runtime?.close();
    await store?.close();
    await backend?.close();
  });

  it('documents every family /metrics serves', () => {
    const names = documented();
    const missing = [...families.keys()].filter((n) => !names.has(n));
    assert.deepEqual(missing, []);
  });

  it("lists the labels of cutover's own families", () => {
    const names = documented();
    for (const [name, f] of families) {
      if (!name.startsWith('cutover_')) continue;
      const labels = new Set(f.samples.flatMap((s) => Object.keys(s.labels)).filter((l) => l !== 'le'));
      for (const label of labels) assert.match(names.get(name)!, new RegExp(`\\b${label}\\b`), `${name}: label ${label} is not documented`);
    }
  });

  it('documents nothing that does not exist', () => {
    const stale = [...documented().keys()].filter((n) => n.startsWith('cutover_') && !families.has(n));
    assert.deepEqual(stale, []);
  });

  it('has a dashboard that queries only existing metrics', () => {
    const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
    assert.ok(exprs.length > 10);
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:cutover|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!)));
    const known = (n: string) => families.has(n) || families.has(n.replace(/_(bucket|sum|count)$/, ''));
    assert.deepEqual([...used].filter((n) => !known(n)), []);
  });
});
