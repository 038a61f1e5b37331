/**
 * One behavioural contract for every Store adapter, in the style of hono's
 * shared router tests: each adapter's test file calls runStoreContract with a
 * factory, and every adapter must pass the same cases. When the contract and
 * an adapter disagree, the contract (and src/storage/store.ts) wins.
 */
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { minuteOf } from '../../src/core/clock.ts';
import type {
  AuditEntry,
  ComparedMinuteRow,
  ComparisonCountRow,
  DiffObservation,
  NoiseRow,
  RouteOverride,
  Store,
  TelemetryBucketRow,
} from '../../src/storage/store.ts';

/** Realistic epoch milliseconds, so BIGINT handling (numbers, not strings) is exercised. */
const T0 = 1_760_000_000_000;
const MIN = 60_000;

/** A value that trips every JSON round-trip hazard we know about, except those JSON.stringify itself loses. */
export const AWKWARD_JSON = {
  nested: { deep: { deeper: [1, [2, [3, { four: 4 }]]] } },
  unicode: 'héllo wörld ✓ 日本語 עברית 🚀👩‍👩‍👧',
  escapes: 'quote " backslash \\ slash / newline \n tab \t cr \r bell \u0007',
  looksLikeEscape: '\\u0000 and \\ud800 written as text',
  numbers: [0, -1, 1.5, 0.1 + 0.2, 1e21, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 5e-324, -1e-7, 123456789.123456],
  bools: [true, false],
  nothing: null,
  empties: { s: '', a: [], o: {} },
  'odd keys': { '': 'empty key', 'a.b': 1, $x: 2, 'with space': 3, 'ключ': 4 },
  arrayOfObjects: [{ a: 1 }, { b: [null, 'x'] }],
  big: 'x'.repeat(100_000),
};

function override(route: string, patch: Partial<RouteOverride> = {}): RouteOverride {
  return { route, mode: 'canary', percent: 5, updatedAt: T0, updatedBy: 'api:token', ...patch };
}

function bucket(minute: number, route: string, patch: Partial<TelemetryBucketRow> = {}): TelemetryBucketRow {
  return { minute, route, endpoint: 'GET /items', backend: 'legacy', role: 'primary', instance: 'host-a_1', data: { n: 1 }, ...patch };
}

function cmp(minute: number, route: string, patch: Partial<ComparisonCountRow> = {}): ComparisonCountRow {
  return { minute, route, endpoint: 'GET /items', outcome: 'match', reason: '', count: 1, ...patch };
}

function obs(id: string, time: number, patch: Partial<DiffObservation> = {}): DiffObservation {
  return { id, route: 'checkout', method: 'GET', endpoint: 'GET /items', path: '$.price', kind: 'value', time, count: 1, ...patch };
}

function noise(path: string, patch: Partial<NoiseRow> = {}): NoiseRow {
  return { route: 'checkout', endpoint: 'GET /items', path, kind: 'value', rawCount: 10, noiseCount: 9, total: 100, status: 'learned', updatedAt: T0, ...patch };
}

async function rejectsWithStoreCode(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.equal((err as { code?: string }).code, 'CUTOVER_ERR_STORE');
    return true;
  });
}

/**
 * @param newStore returns a fresh, empty store each call (a new temp file, a new schema…); the contract calls init() and close().
 * @param cleanup runs once after every case, e.g. to drop schemas or temp dirs.
 * @example
 * runStoreContract('sqlite :memory:', async () => createSqliteStore({ path: ':memory:' }));
 */
export function runStoreContract(name: string, newStore: () => Promise<Store>, cleanup?: () => Promise<void> | void): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await newStore();
      await store.init();
    });
    afterEach(async () => {
      await store.close();
    });
    if (cleanup !== undefined) after(cleanup);

    describe('init and meta', () => {
      it('init is idempotent and keeps data', async () => {
        await store.setMeta('k', 'v');
        await store.init();
        assert.equal(await store.getMeta('k'), 'v');
      });

      it('records a numeric schema_version', async () => {
        const v = await store.getMeta('schema_version');
        assert.ok(v !== undefined && Number.isInteger(Number(v)) && Number(v) >= 1, `schema_version = ${v}`);
      });

      it('gets, sets and overwrites meta; missing keys are undefined', async () => {
        assert.equal(await store.getMeta('nope'), undefined);
        await store.setMeta('instance', 'a');
        await store.setMeta('instance', 'b');
        await store.setMeta('empty', '');
        assert.equal(await store.getMeta('instance'), 'b');
        assert.equal(await store.getMeta('empty'), '');
      });

      it('refuses to let callers write schema_version', async () => {
        const before = await store.getMeta('schema_version');
        await rejectsWithStoreCode(store.setMeta('schema_version', '999'));
        assert.equal(await store.getMeta('schema_version'), before);
      });

      it('close is idempotent', async () => {
        await store.close();
        await store.close();
        await store.init();
      });
    });

    describe('route overrides', () => {
      it('starts empty, lists by route, replaces on put, deletes', async () => {
        assert.deepEqual(await store.listRouteOverrides(), []);
        await store.putRouteOverride(override('zeta', { percent: 12.5 }));
        await store.putRouteOverride(override('alpha', { mode: 'shadow', percent: 0 }));
        assert.deepEqual(await store.listRouteOverrides(), [override('alpha', { mode: 'shadow', percent: 0 }), override('zeta', { percent: 12.5 })]);

        const replaced = override('zeta', { mode: 'live', percent: 100, updatedAt: T0 + 1, updatedBy: 'driver' });
        await store.putRouteOverride(replaced);
        assert.deepEqual((await store.listRouteOverrides())[1], replaced);

        await store.deleteRouteOverride('alpha');
        await store.deleteRouteOverride('never-existed');
        assert.deepEqual(await store.listRouteOverrides(), [replaced]);
      });

      it('orders text by code point, whatever the database locale', async () => {
        for (const route of ['b', 'B', 'a', 'A', '_x', 'é', 'Z']) await store.putRouteOverride(override(route));
        assert.deepEqual(
          (await store.listRouteOverrides()).map((o) => o.route),
          ['A', 'B', 'Z', '_x', 'a', 'b', 'é'],
        );
      });

      it('returns times and percents as numbers', async () => {
        await store.putRouteOverride(override('r', { percent: 0.01 }));
        const [o] = await store.listRouteOverrides();
        assert.equal(typeof o.updatedAt, 'number');
        assert.equal(o.percent, 0.01);
      });
    });

    describe('telemetry buckets', () => {
      it('replaces a bucket written again with the same key, across and within batches', async () => {
        await store.putTelemetryBuckets([bucket(T0, 'r', { data: { v: 1 } })]);
        await store.putTelemetryBuckets([bucket(T0, 'r', { data: { v: 2 } })]);
        assert.deepEqual(await store.listTelemetryBuckets({}), [bucket(T0, 'r', { data: { v: 2 } })]);

        await store.putTelemetryBuckets([bucket(T0, 'r', { data: { v: 3 } }), bucket(T0, 'r', { data: { v: 4 } })]);
        assert.deepEqual(await store.listTelemetryBuckets({}), [bucket(T0, 'r', { data: { v: 4 } })]);
      });

      it('treats every key column as part of the key', async () => {
        const rows = [
          bucket(T0, 'r'),
          bucket(T0 + MIN, 'r'),
          bucket(T0, 's'),
          bucket(T0, 'r', { endpoint: 'POST /items' }),
          bucket(T0, 'r', { backend: 'candidate' }),
          bucket(T0, 'r', { role: 'shadow' }),
          bucket(T0, 'r', { instance: 'host-b_1' }),
          bucket(T0, 'r', { instance: '' }),
        ];
        await store.putTelemetryBuckets(rows);
        assert.equal((await store.listTelemetryBuckets({})).length, rows.length);
      });

      it('keeps instances sharing a store apart: one never replaces another', async () => {
        await store.putTelemetryBuckets([bucket(T0, 'r', { data: { v: 1 } })]);
        await store.putTelemetryBuckets([bucket(T0, 'r', { instance: 'host-b_1', data: { v: 2 } })]);
        await store.putTelemetryBuckets([bucket(T0, 'r', { data: { v: 3 } })]);
        assert.deepEqual(await store.listTelemetryBuckets({}), [bucket(T0, 'r', { data: { v: 3 } }), bucket(T0, 'r', { instance: 'host-b_1', data: { v: 2 } })]);
        assert.deepEqual(await store.listTelemetryBuckets({ excludeInstance: 'host-a_1' }), [bucket(T0, 'r', { instance: 'host-b_1', data: { v: 2 } })], "another instance's rows only");
        assert.deepEqual(await store.listTelemetryBuckets({ excludeInstance: 'host-b_1', route: 'r', from: T0 }), [bucket(T0, 'r', { data: { v: 3 } })]);
      });

      it('filters by half-open minute range and by route, ordered by minute then key', async () => {
        await store.putTelemetryBuckets([
          bucket(T0 + 2 * MIN, 'b'),
          bucket(T0 + 2 * MIN, 'a'),
          bucket(T0, 'a'),
          bucket(T0 + MIN, 'a', { backend: 'legacy' }),
          bucket(T0 + MIN, 'a', { backend: 'candidate' }),
          bucket(T0 + 3 * MIN, 'a'),
        ]);
        const key = (r: TelemetryBucketRow): string => `${r.minute - T0}/${r.route}/${r.backend}`;
        assert.deepEqual((await store.listTelemetryBuckets({})).map(key), [
          '0/a/legacy',
          `${MIN}/a/candidate`,
          `${MIN}/a/legacy`,
          `${2 * MIN}/a/legacy`,
          `${2 * MIN}/b/legacy`,
          `${3 * MIN}/a/legacy`,
        ]);
        assert.deepEqual((await store.listTelemetryBuckets({ from: T0 + MIN, to: T0 + 3 * MIN })).map(key), [
          `${MIN}/a/candidate`,
          `${MIN}/a/legacy`,
          `${2 * MIN}/a/legacy`,
          `${2 * MIN}/b/legacy`,
        ]);
        assert.deepEqual((await store.listTelemetryBuckets({ route: 'b' })).map(key), [`${2 * MIN}/b/legacy`]);
        assert.deepEqual((await store.listTelemetryBuckets({ route: 'a', from: T0 + 2 * MIN })).map(key), [`${2 * MIN}/a/legacy`, `${3 * MIN}/a/legacy`]);
        assert.deepEqual(await store.listTelemetryBuckets({ route: 'a', to: T0 }), []);
        assert.deepEqual(await store.listTelemetryBuckets({ route: 'missing' }), []);
        const [first] = await store.listTelemetryBuckets({});
        assert.equal(typeof first.minute, 'number');
      });

      it('accepts an empty batch', async () => {
        await store.putTelemetryBuckets([]);
        assert.deepEqual(await store.listTelemetryBuckets({}), []);
      });
    });

    describe('comparison counts', () => {
      it('adds counts written with the same key, across and within batches', async () => {
        await store.addComparisonCounts([cmp(T0, 'r', { count: 3 })]);
        await store.addComparisonCounts([cmp(T0, 'r', { count: 4 }), cmp(T0, 'r', { count: 5 })]);
        assert.deepEqual(await store.listComparisonCounts({}), [cmp(T0, 'r', { count: 12 })]);
      });

      it('keeps outcomes and skip reasons apart, filters and orders like telemetry', async () => {
        await store.addComparisonCounts([
          cmp(T0 + MIN, 'r', { outcome: 'skipped', reason: 'timeout', count: 2 }),
          cmp(T0 + MIN, 'r', { outcome: 'skipped', reason: 'too-large', count: 1 }),
          cmp(T0 + MIN, 'r', { outcome: 'mismatch', count: 7 }),
          cmp(T0, 'r', { count: 9 }),
          cmp(T0, 's', { count: 1 }),
        ]);
        const all = await store.listComparisonCounts({});
        assert.deepEqual(
          all.map((c) => `${c.minute - T0}/${c.route}/${c.outcome}/${c.reason}=${c.count}`),
          ['0/r/match/=9', '0/s/match/=1', `${MIN}/r/mismatch/=7`, `${MIN}/r/skipped/timeout=2`, `${MIN}/r/skipped/too-large=1`],
        );
        assert.equal(typeof all[0].count, 'number');
        assert.equal(typeof all[0].minute, 'number');
        assert.equal((await store.listComparisonCounts({ route: 's' })).length, 1);
        assert.equal((await store.listComparisonCounts({ from: T0 + MIN })).length, 3);
        assert.equal((await store.listComparisonCounts({ to: T0 + MIN })).length, 2);
        assert.equal((await store.listComparisonCounts({ route: 'r', from: T0, to: T0 + MIN })).length, 1);
      });

      it('accepts an empty batch', async () => {
        await store.addComparisonCounts([]);
        assert.deepEqual(await store.listComparisonCounts({}), []);
      });
    });

    describe('diff groups', () => {
      it('creates an open group from its first observation', async () => {
        await store.recordDiffs([obs('g1', T0)], 5);
        assert.deepEqual(await store.getDiffGroup('g1'), {
          id: 'g1',
          route: 'checkout',
          method: 'GET',
          endpoint: 'GET /items',
          path: '$.price',
          kind: 'value',
          count: 1,
          total: 1,
          firstSeen: T0,
          lastSeen: T0,
          status: 'open',
        });
        assert.equal(await store.getDiffGroup('nope'), undefined);
      });

      it('folds counts and widens firstSeen/lastSeen whatever order observations arrive in', async () => {
        await store.recordDiffs([obs('g', T0 + 5_000, { count: 2 }), obs('g', T0 + 1_000), obs('h', T0)], 5);
        await store.recordDiffs([obs('g', T0 + 9_000, { count: 3 }), obs('g', T0 - 4_000)], 5);
        const g = await store.getDiffGroup('g');
        assert.equal(g?.count, 7);
        assert.equal(g?.total, 7, 'without a range, count is every occurrence');
        assert.equal(g?.firstSeen, T0 - 4_000);
        assert.equal(g?.lastSeen, T0 + 9_000);
        assert.equal(typeof g?.count, 'number');
        assert.equal((await store.getDiffGroup('h'))?.count, 1);
      });

      it('keeps the first maxSamples samples per group, across batches', async () => {
        await store.recordDiffs(
          [
            obs('g', T0, { sample: { n: 0 } }),
            obs('g', T0 + 1, { sample: { n: 1 } }),
            obs('other', T0, { sample: { n: 'o' } }),
          ],
          3,
        );
        await store.recordDiffs(
          [obs('g', T0 + 2, { sample: { n: 2 } }), obs('g', T0 + 3, { sample: { n: 3 } }), obs('g', T0 + 4, { sample: { n: 4 } })],
          3,
        );
        await store.recordDiffs([obs('g', T0 + 5, { sample: { n: 5 } })], 3);
        const samples = await store.listDiffSamples('g', 100);
        assert.deepEqual(
          samples.map((s) => s.sample),
          [{ n: 0 }, { n: 1 }, { n: 2 }],
        );
        assert.deepEqual(samples[0], { groupId: 'g', time: T0, sample: { n: 0 } });
        assert.equal((await store.getDiffGroup('g'))?.count, 6, 'dropped samples still count');
        assert.equal((await store.listDiffSamples('other', 100)).length, 1);
      });

      it('lists samples oldest first, arrival order for equal times, honouring limit', async () => {
        await store.recordDiffs(
          [
            obs('g', T0 + 20, { sample: 'late' }),
            obs('g', T0 + 10, { sample: 'early-a' }),
            obs('g', T0 + 10, { sample: 'early-b' }),
            obs('g', T0 + 30, { sample: 'latest' }),
          ],
          10,
        );
        assert.deepEqual(
          (await store.listDiffSamples('g', 10)).map((s) => s.sample),
          ['early-a', 'early-b', 'late', 'latest'],
        );
        assert.deepEqual(
          (await store.listDiffSamples('g', 2)).map((s) => s.sample),
          ['early-a', 'early-b'],
        );
        assert.deepEqual(await store.listDiffSamples('unknown', 10), []);
      });

      it('does not spend sample slots on observations without a sample; maxSamples 0 keeps none', async () => {
        await store.recordDiffs([obs('g', T0), obs('g', T0 + 1), obs('g', T0 + 2, { sample: 'kept' })], 1);
        assert.deepEqual(
          (await store.listDiffSamples('g', 10)).map((s) => s.sample),
          ['kept'],
        );
        await store.recordDiffs([obs('z', T0, { sample: 'dropped' })], 0);
        assert.deepEqual(await store.listDiffSamples('z', 10), []);
        assert.equal((await store.getDiffGroup('z'))?.count, 1);
      });

      it('holds the sample cap and exact counts under concurrent batches', async () => {
        const batches = Array.from({ length: 8 }, (_, b) =>
          Array.from({ length: 10 }, (_, i) => obs('hot', T0 + b * 10 + i, { sample: { b, i } })),
        );
        await Promise.all(batches.map((batch) => store.recordDiffs(batch, 5)));
        assert.equal((await store.getDiffGroup('hot'))?.count, 80);
        assert.equal((await store.listDiffSamples('hot', 100)).length, 5);
      });

      it('accepts an empty batch', async () => {
        await store.recordDiffs([], 5);
        assert.deepEqual(await store.listDiffGroups({}), []);
      });
    });

    describe('triage', () => {
      it('stores status and triage, including expiry, and later observations keep them', async () => {
        await store.recordDiffs([obs('g', T0)], 5);
        const triage = { status: 'accepted' as const, reason: 'rounding differs, harmless', by: 'api:alice', at: T0 + 10, expiresAt: T0 + 86_400_000 };
        const updated = await store.triageDiffGroup('g', triage);
        assert.equal(updated?.status, 'accepted');
        assert.deepEqual(updated?.triage, triage);
        assert.deepEqual(await store.getDiffGroup('g'), updated);
        assert.equal(typeof updated?.triage?.expiresAt, 'number');

        await store.recordDiffs([obs('g', T0 + 100)], 5);
        const after = await store.getDiffGroup('g');
        assert.equal(after?.status, 'accepted');
        assert.deepEqual(after?.triage, triage);
        assert.equal(after?.count, 2);
      });

      it('omits expiresAt when not given, can reopen, and returns undefined for unknown groups', async () => {
        await store.recordDiffs([obs('g', T0)], 5);
        const ignore = { status: 'ignored' as const, reason: 'r', by: 'cli', at: T0 };
        assert.deepEqual((await store.triageDiffGroup('g', ignore))?.triage, ignore);
        const reopen = { status: 'open' as const, reason: 'regressed', by: 'cli', at: T0 + 1 };
        const reopened = await store.triageDiffGroup('g', reopen);
        assert.equal(reopened?.status, 'open');
        assert.deepEqual(reopened?.triage, reopen);
        assert.equal(await store.triageDiffGroup('missing', ignore), undefined);
      });
    });

    describe('listing diff groups', () => {
      beforeEach(async () => {
        await store.recordDiffs(
          [
            // a: seen T0..T0+10min, count 5
            ...Array.from({ length: 5 }, (_, i) => obs('a', T0 + (i === 4 ? 10 * MIN : 0))),
            // b: seen only at T0+20min, count 2, other route
            obs('b', T0 + 20 * MIN, { route: 'search' }),
            obs('b', T0 + 20 * MIN, { route: 'search' }),
            // c: seen at T0+5min, count 2 (ties with b on count; older lastSeen)
            obs('c', T0 + 5 * MIN),
            obs('c', T0 + 5 * MIN),
            // d: count 1
            obs('d', T0 + 30 * MIN),
          ],
          0,
        );
        await store.triageDiffGroup('c', { status: 'ignored', reason: '', by: 'cli', at: T0 });
      });

      it('orders by count desc, then lastSeen desc, then id', async () => {
        assert.deepEqual(
          (await store.listDiffGroups({})).map((g) => g.id),
          ['a', 'b', 'c', 'd'],
        );
      });

      it('filters by route, status and limit', async () => {
        assert.deepEqual(
          (await store.listDiffGroups({ route: 'search' })).map((g) => g.id),
          ['b'],
        );
        assert.deepEqual(
          (await store.listDiffGroups({ status: 'ignored' })).map((g) => g.id),
          ['c'],
        );
        assert.deepEqual(
          (await store.listDiffGroups({ status: 'open', route: 'checkout' })).map((g) => g.id),
          ['a', 'd'],
        );
        assert.deepEqual(
          (await store.listDiffGroups({ limit: 2 })).map((g) => g.id),
          ['a', 'b'],
        );
        assert.deepEqual(await store.listDiffGroups({ status: 'accepted' }), []);
      });

      it('with a range, lists groups that occurred in minutes starting inside it, counting those minutes only', async () => {
        const M = minuteOf(T0);
        const list = async (filter: Parameters<Store['listDiffGroups']>[0]): Promise<Array<[string, number, number]>> =>
          (await store.listDiffGroups(filter)).map((g) => [g.id, g.count, g.total]);
        assert.deepEqual(await list({ from: M, to: M + MIN }), [['a', 4, 5]]);
        assert.deepEqual(await list({ from: M + 5 * MIN, to: M + 6 * MIN }), [['c', 2, 2]]);
        assert.deepEqual(await list({ from: M + 10 * MIN }), [['b', 2, 2], ['d', 1, 1], ['a', 1, 5]], 'ordered by the count inside the range');
        assert.deepEqual(await list({ to: M + 5 * MIN }), [['a', 4, 5]]);
        assert.deepEqual(await list({ from: M + 6 * MIN, to: M + 10 * MIN }), [], 'a spans the range without an occurrence inside it');
        assert.deepEqual(await list({ from: M + 31 * MIN }), []);
        assert.deepEqual(await list({ from: M + 20 * MIN + 1 }), [['d', 1, 1]], 'a minute that starts before the range is left out, as for comparison counts');
        assert.deepEqual(await list({ from: M, route: 'checkout', status: 'open' }), [['a', 5, 5], ['d', 1, 1]]);
        assert.deepEqual(await list({ from: M, limit: 1 }), [['a', 5, 5]]);
      });

      it('keeps adding to a minute across batches', async () => {
        const M = minuteOf(T0);
        await store.recordDiffs([obs('a', M + 30_000), obs('e', M + 59_999, { count: 3 })], 0);
        const got = (await store.listDiffGroups({ from: M, to: M + MIN })).map((g) => [g.id, g.count]);
        assert.deepEqual(got, [['a', 5], ['e', 3]]);
      });
    });

    describe('compared minutes', () => {
      const cm = (minute: number, route: string, patch: Partial<ComparedMinuteRow> = {}): ComparedMinuteRow => ({
        minute,
        route,
        method: 'GET',
        endpoint: '/items',
        match: 1,
        mismatch: 0,
        ...patch,
      });

      it('adds rows written with the same key, across and within batches', async () => {
        await store.addComparedMinutes([cm(T0, 'r'), cm(T0, 'r', { match: 2, mismatch: 1 })]);
        await store.addComparedMinutes([cm(T0, 'r', { match: 0, mismatch: 4 })]);
        assert.deepEqual(await store.listComparedMinutes({}), [cm(T0, 'r', { match: 3, mismatch: 5 })]);
      });

      it('keeps methods and endpoints apart, filters by route and half-open minute range, ordered by minute then key', async () => {
        await store.addComparedMinutes([
          cm(T0 + MIN, 'r', { method: 'HEAD' }),
          cm(T0 + MIN, 'r'),
          cm(T0, 's', { endpoint: '/b' }),
          cm(T0, 'r', { endpoint: '/a' }),
          cm(T0 + 2 * MIN, 'r'),
        ]);
        const keys = (rows: ComparedMinuteRow[]) => rows.map((r) => `${r.minute - T0}/${r.route}/${r.method}/${r.endpoint}`);
        assert.deepEqual(keys(await store.listComparedMinutes({})), [
          `0/r/GET//a`,
          `0/s/GET//b`,
          `${MIN}/r/GET//items`,
          `${MIN}/r/HEAD//items`,
          `${2 * MIN}/r/GET//items`,
        ]);
        assert.deepEqual(keys(await store.listComparedMinutes({ route: 'r', from: T0 + MIN, to: T0 + 2 * MIN })), [`${MIN}/r/GET//items`, `${MIN}/r/HEAD//items`]);
        const [row] = await store.listComparedMinutes({ route: 's' });
        assert.equal(typeof row!.minute, 'number');
        assert.equal(typeof row!.match, 'number');
      });

      it('accepts an empty batch', async () => {
        await store.addComparedMinutes([]);
        assert.deepEqual(await store.listComparedMinutes({}), []);
      });
    });

    describe('noise', () => {
      it('upserts, lists in key order, filters', async () => {
        await store.upsertNoise([noise('$.z'), noise('$.a', { route: 'search' }), noise('$.b', { status: 'confirmed' })]);
        assert.deepEqual(
          (await store.listNoise({})).map((n) => `${n.route}:${n.path}`),
          ['checkout:$.b', 'checkout:$.z', 'search:$.a'],
        );
        assert.deepEqual(
          (await store.listNoise({ route: 'search' })).map((n) => n.path),
          ['$.a'],
        );
        assert.deepEqual(
          (await store.listNoise({ status: 'confirmed' })).map((n) => n.path),
          ['$.b'],
        );
        assert.deepEqual(await store.listNoise({ route: 'checkout', status: 'rejected' }), []);
        const [first] = await store.listNoise({ route: 'search' });
        assert.deepEqual(first, noise('$.a', { route: 'search' }));
      });

      it('replaces counts on upsert, within a batch the last row wins', async () => {
        await store.upsertNoise([noise('$.p')]);
        await store.upsertNoise([noise('$.p', { rawCount: 1, noiseCount: 1, total: 2, updatedAt: T0 + 1 }), noise('$.p', { rawCount: 30, noiseCount: 20, total: 300, updatedAt: T0 + 2 })]);
        assert.deepEqual(await store.listNoise({}), [noise('$.p', { rawCount: 30, noiseCount: 20, total: 300, updatedAt: T0 + 2 })]);
      });

      it('setNoiseStatus changes status only, reports whether the row exists, and a human decision survives the learner', async () => {
        await store.upsertNoise([noise('$.p'), noise('$.q')]);
        assert.equal(await store.setNoiseStatus('checkout', 'GET /items', '$.p', 'value', 'rejected'), true);
        assert.equal(await store.setNoiseStatus('checkout', 'GET /items', '$.p', 'other-kind', 'rejected'), false);
        assert.deepEqual((await store.listNoise({ status: 'rejected' }))[0], noise('$.p', { status: 'rejected' }));

        await store.upsertNoise([noise('$.p', { status: 'learned', total: 500 }), noise('$.q', { status: 'confirmed' })]);
        const [p, q] = await store.listNoise({});
        assert.equal(p.status, 'rejected');
        assert.equal(p.total, 500);
        assert.equal(q.status, 'confirmed', 'learned may be promoted by the learner');
      });
    });

    describe('rollouts', () => {
      it('gets, puts, replaces and lists by key', async () => {
        assert.equal(await store.getRollout('checkout'), undefined);
        await store.putRollout('search', { step: 1 });
        await store.putRollout('checkout', { step: 0, history: [{ at: T0, percent: 1 }] });
        await store.putRollout('checkout', { step: 2, history: [] });
        assert.deepEqual(await store.getRollout('checkout'), { step: 2, history: [] });
        assert.deepEqual(await store.listRollouts(), [
          { key: 'checkout', state: { step: 2, history: [] } },
          { key: 'search', state: { step: 1 } },
        ]);
      });

      it('keeps scalar and null states distinct from a missing rollout', async () => {
        await store.putRollout('null', null);
        await store.putRollout('str', 'paused');
        await store.putRollout('num', 3);
        await store.putRollout('arr', [1, 'two']);
        assert.equal(await store.getRollout('null'), null);
        assert.equal(await store.getRollout('str'), 'paused');
        assert.equal(await store.getRollout('num'), 3);
        assert.deepEqual(await store.getRollout('arr'), [1, 'two']);
      });
    });

    describe('audit', () => {
      it('returns strictly increasing numeric ids', async () => {
        const ids: number[] = [];
        for (let i = 0; i < 5; i++) ids.push(await store.appendAudit({ time: T0, subject: 'r', action: 'a', actor: 'cli' }));
        for (const id of ids) assert.equal(typeof id, 'number');
        for (let i = 1; i < ids.length; i++) assert.ok(ids[i] > ids[i - 1], `ids ${ids.join(',')}`);
      });

      it('round-trips optional JSON fields, keeping absent and null apart', async () => {
        const full: AuditEntry = {
          time: T0,
          subject: 'checkout',
          action: 'advance',
          actor: 'driver',
          from: { mode: 'canary', percent: 5 },
          to: { mode: 'canary', percent: 25 },
          evidence: { gates: [{ name: 'errorRate', value: 0.001, threshold: 0.01, n: 12000, pass: true }] },
        };
        const fullId = await store.appendAudit(full);
        const bareId = await store.appendAudit({ time: T0 + 1, subject: 'checkout', action: 'note', actor: 'cli', from: null });
        const [bare, got] = await store.listAudit({});
        assert.deepEqual(got, { ...full, id: fullId });
        assert.deepEqual(bare, { id: bareId, time: T0 + 1, subject: 'checkout', action: 'note', actor: 'cli', from: null });
        assert.ok(!('to' in bare) && !('evidence' in bare));
      });

      it('lists newest first, filtered by subject and half-open time, with limit', async () => {
        // Appended out of time order: newest means latest time, not latest id.
        const a = await store.appendAudit({ time: T0 + 2_000, subject: 'checkout', action: 'a', actor: 'cli' });
        const b = await store.appendAudit({ time: T0, subject: '*', action: 'kill', actor: 'kill-switch:env' });
        const c = await store.appendAudit({ time: T0 + 1_000, subject: 'checkout', action: 'c', actor: 'cli' });
        const d = await store.appendAudit({ time: T0 + 1_000, subject: 'checkout', action: 'd', actor: 'cli' });
        const ids = async (f: Parameters<Store['listAudit']>[0]): Promise<Array<number | undefined>> => (await store.listAudit(f)).map((e) => e.id);
        assert.deepEqual(await ids({}), [a, d, c, b]);
        assert.deepEqual(await ids({ subject: 'checkout' }), [a, d, c]);
        assert.deepEqual(await ids({ subject: '*' }), [b]);
        assert.deepEqual(await ids({ from: T0 + 1_000, to: T0 + 2_000 }), [d, c]);
        assert.deepEqual(await ids({ limit: 2 }), [a, d]);
        assert.deepEqual(await ids({ subject: 'checkout', from: T0 + 1_000, limit: 1 }), [a]);
        assert.deepEqual(await ids({ subject: 'nobody' }), []);
        assert.equal(typeof (await store.listAudit({ limit: 1 }))[0].time, 'number');
      });
    });

    describe('prune', () => {
      it('drops time-series data and open groups last seen before the cutoff, keeps the rest', async () => {
        const cutoff = T0 + 10 * MIN;
        await store.putTelemetryBuckets([bucket(T0, 'r'), bucket(cutoff, 'r')]);
        await store.addComparisonCounts([cmp(T0, 'r'), cmp(cutoff, 'r')]);
        await store.addComparedMinutes([
          { minute: T0, route: 'r', method: 'GET', endpoint: '/items', match: 1, mismatch: 0 },
          { minute: cutoff, route: 'r', method: 'GET', endpoint: '/items', match: 1, mismatch: 0 },
        ]);
        await store.recordDiffs(
          [
            obs('old-open', T0, { sample: 'old' }),
            obs('spanning', T0, { sample: 'span-old' }),
            obs('spanning', cutoff + 1, { sample: 'span-new' }),
            // T0 is not on a minute boundary: cutoff + 1 falls in a minute that starts before the cutoff.
            obs('spanning', cutoff + MIN),
            obs('old-accepted', T0),
            obs('old-expired', T0),
            obs('old-ignored-forever', T0),
          ],
          5,
        );
        await store.triageDiffGroup('old-accepted', { status: 'accepted', reason: '', by: 'cli', at: T0, expiresAt: cutoff + MIN });
        await store.triageDiffGroup('old-expired', { status: 'accepted', reason: '', by: 'cli', at: T0, expiresAt: T0 + MIN });
        await store.triageDiffGroup('old-ignored-forever', { status: 'ignored', reason: '', by: 'cli', at: T0 });
        await store.putRouteOverride(override('r', { updatedAt: T0 - 1_000 }));
        await store.upsertNoise([noise('$.p', { updatedAt: T0 - 1_000 })]);
        await store.putRollout('r', { step: 1 });
        await store.appendAudit({ time: T0 - 1_000, subject: 'r', action: 'x', actor: 'cli' });

        await store.prune({ olderThan: cutoff, maxRows: 1_000 });

        assert.deepEqual(
          (await store.listTelemetryBuckets({})).map((b) => b.minute),
          [cutoff],
        );
        assert.deepEqual(
          (await store.listComparisonCounts({})).map((c) => c.minute),
          [cutoff],
        );
        assert.deepEqual(
          (await store.listComparedMinutes({})).map((c) => c.minute),
          [cutoff],
        );
        assert.deepEqual(
          (await store.listDiffGroups({})).map((g) => g.id).sort(),
          ['old-accepted', 'old-ignored-forever', 'spanning'],
        );
        assert.deepEqual(
          (await store.listDiffGroups({ from: 0 })).map((g) => [g.id, g.count, g.total]),
          [['spanning', 1, 3]],
          'minutes that start before the cutoff are gone; the lifetime total stays',
        );
        assert.deepEqual(await store.listDiffSamples('old-open', 10), []);
        assert.deepEqual(
          (await store.listDiffSamples('spanning', 10)).map((s) => s.sample),
          ['span-new'],
        );
        assert.equal((await store.listRouteOverrides()).length, 1);
        assert.equal((await store.listNoise({})).length, 1);
        assert.equal((await store.listRollouts()).length, 1);
        assert.equal((await store.listAudit({})).length, 1);
      });

      it('trims samples beyond maxRows, oldest first, and the freed room takes new samples', async () => {
        await store.recordDiffs(
          Array.from({ length: 10 }, (_, i) => obs(i % 2 === 0 ? 'even' : 'odd', T0 + i, { sample: i })),
          5,
        );
        await store.prune({ olderThan: 0, maxRows: 4 });
        assert.deepEqual(
          (await store.listDiffSamples('even', 10)).map((s) => s.sample),
          [6, 8],
        );
        assert.deepEqual(
          (await store.listDiffSamples('odd', 10)).map((s) => s.sample),
          [7, 9],
        );
        assert.equal((await store.getDiffGroup('even'))?.count, 5, 'groups survive sample trimming');

        await store.recordDiffs([obs('even', T0 + 20, { sample: 20 })], 3);
        assert.deepEqual(
          (await store.listDiffSamples('even', 10)).map((s) => s.sample),
          [6, 8, 20],
        );

        await store.prune({ olderThan: 0, maxRows: 0 });
        assert.deepEqual(await store.listDiffSamples('even', 10), []);
      });

      it('is a no-op on an empty store', async () => {
        await store.prune({ olderThan: T0, maxRows: 10 });
      });
    });

    describe('JSON round-trip fidelity', () => {
      it('returns every JSON-valued field deep-equal to what went in', async () => {
        await store.putTelemetryBuckets([bucket(T0, 'r', { data: AWKWARD_JSON })]);
        assert.deepEqual((await store.listTelemetryBuckets({}))[0].data, AWKWARD_JSON);

        await store.recordDiffs([obs('g', T0, { sample: AWKWARD_JSON })], 1);
        assert.deepEqual((await store.listDiffSamples('g', 1))[0].sample, AWKWARD_JSON);

        const triage = { status: 'accepted' as const, reason: AWKWARD_JSON.unicode + AWKWARD_JSON.escapes, by: 'api:ünïcode', at: T0 };
        assert.deepEqual((await store.triageDiffGroup('g', triage))?.triage, triage);

        await store.putRollout('r', AWKWARD_JSON);
        assert.deepEqual(await store.getRollout('r'), AWKWARD_JSON);

        await store.appendAudit({ time: T0, subject: 'r', action: 'a', actor: 'cli', from: AWKWARD_JSON.numbers, to: AWKWARD_JSON['odd keys'], evidence: AWKWARD_JSON });
        const [entry] = await store.listAudit({});
        assert.deepEqual(entry.from, AWKWARD_JSON.numbers);
        assert.deepEqual(entry.to, AWKWARD_JSON['odd keys']);
        assert.deepEqual(entry.evidence, AWKWARD_JSON);
      });

      it('stores scalar JSON values and unusual text in key columns', async () => {
        const route = 'route/with spaces/ünïcode/🚀/\'quote"';
        await store.putTelemetryBuckets([bucket(T0, route, { data: 42 }), bucket(T0, 'str', { data: 'text' }), bucket(T0, 'nul', { data: null })]);
        const rows = await store.listTelemetryBuckets({});
        assert.deepEqual(
          rows.map((r) => [r.route, r.data]),
          [
            ['nul', null],
            [route, 42],
            ['str', 'text'],
          ],
        );
        assert.equal((await store.listTelemetryBuckets({ route })).length, 1);
      });
    });
  });
}
