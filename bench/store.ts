/**
 * How fast the store ingests the control plane's once-a-second batches.
 * Batches of 500, file-backed SQLite in a temp dir (WAL, NORMAL) by default;
 * `--postgres [url]` measures the Postgres adapter too, in a throwaway schema.
 *
 * @example
 * node bench/store.ts
 * node bench/store.ts --postgres postgres://postgres@127.0.0.1:5432/test
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createPostgresStore } from '../src/storage/postgres/postgres-store.ts';
import { createSqliteStore } from '../src/storage/sqlite/sqlite-store.ts';
import type { DiffObservation, Store, TelemetryBucketRow, ComparisonCountRow } from '../src/storage/store.ts';

const BATCH = 500;
const T0 = 1_760_000_000_000;

/** A captured mismatch about the size the compare module keeps after redaction. */
const SAMPLE = {
  request: { method: 'GET', url: '/api/items?page=2', headers: { accept: 'application/json', 'x-request-id': 'abc123' } },
  legacy: { status: 200, body: { items: Array.from({ length: 8 }, (_, i) => ({ id: i, price: 9.99 + i, name: `item ${i}` })) } },
  candidate: { status: 200, body: { items: Array.from({ length: 8 }, (_, i) => ({ id: i, price: 9.98 + i, name: `item ${i}` })) } },
  differences: [{ path: '$.items[*].price', kind: 'value', legacy: 9.99, candidate: 9.98 }],
};

/** Roughly what a serialized per-minute sketch plus counters weighs. */
const TELEMETRY_DATA = {
  requests: 1234,
  errors: { '5xx': 3, '4xx': 17, connect: 0, timeout: 1 },
  latency: { sketch: Array.from({ length: 60 }, (_, i) => [i * 7, (i * 13) % 97]), min: 1.2, max: 842.5, sum: 51234.5 },
};

interface Result {
  label: string;
  rows: number;
  ms: number;
}

async function timeBatches<T>(label: string, total: number, make: (i: number) => T, write: (batch: T[]) => Promise<void>): Promise<Result> {
  const batches: T[][] = [];
  for (let start = 0; start < total; start += BATCH) batches.push(Array.from({ length: Math.min(BATCH, total - start) }, (_, j) => make(start + j)));
  const t = performance.now();
  for (const b of batches) await write(b);
  return { label, rows: total, ms: performance.now() - t };
}

async function run(name: string, store: Store): Promise<Result[]> {
  await store.init();
  const out: Result[] = [];
  const hotGroups = 200;
  out.push(
    await timeBatches(
      `diff observations, ${hotGroups} recurring groups, sample on each (maxSamples 5)`,
      200_000,
      (i): DiffObservation => ({
        id: `g${i % hotGroups}`,
        route: `route-${i % 10}`,
        method: 'GET',
        endpoint: 'GET /api/items',
        path: `$.items[*].f${i % hotGroups}`,
        kind: 'value',
        time: T0 + i,
        count: 1,
        sample: SAMPLE,
      }),
      (b) => store.recordDiffs(b, 5),
    ),
  );
  out.push(
    await timeBatches(
      'diff observations, every one a new group with a stored sample (worst case)',
      50_000,
      (i): DiffObservation => ({
        id: `new${i}`,
        route: 'r',
        method: 'GET',
        endpoint: 'GET /api/items',
        path: `$.f${i}`,
        kind: 'value',
        time: T0 + i,
        count: 1,
        sample: SAMPLE,
      }),
      (b) => store.recordDiffs(b, 5),
    ),
  );
  out.push(
    await timeBatches(
      'telemetry bucket rows (~1.3 KB JSON each)',
      200_000,
      (i): TelemetryBucketRow => ({
        minute: T0 + Math.floor(i / 2_000) * 60_000,
        route: `route-${i % 20}`,
        endpoint: `GET /e${Math.floor(i / 20) % 25}`,
        backend: ['legacy', 'candidate'][Math.floor(i / 500) % 2],
        role: ['primary', 'shadow'][Math.floor(i / 1_000) % 2],
        instance: 'bench_1',
        data: TELEMETRY_DATA,
      }),
      (b) => store.putTelemetryBuckets(b),
    ),
  );
  out.push(
    await timeBatches(
      'comparison count rows (add on same key)',
      200_000,
      (i): ComparisonCountRow => ({
        minute: T0 + Math.floor(i / 5_000) * 60_000,
        route: `route-${i % 20}`,
        endpoint: `GET /e${i % 50}`,
        outcome: (['match', 'mismatch', 'skipped'] as const)[i % 3],
        reason: i % 3 === 2 ? 'timeout' : '',
        count: 1,
      }),
      (b) => store.addComparisonCounts(b),
    ),
  );
  await store.close();
  console.log(`\n${name}`);
  for (const r of out) {
    const perSec = Math.round((r.rows / r.ms) * 1000);
    console.log(`  ${perSec.toLocaleString('en-US').padStart(9)} rows/s  ${(r.ms / (r.rows / BATCH)).toFixed(2).padStart(6)} ms/batch  ${r.label}`);
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'cutover-bench-'));
try {
  await run(`sqlite file (node:sqlite ${process.versions.sqlite}, WAL, synchronous=NORMAL), batches of ${BATCH}`, createSqliteStore({ path: join(dir, 'cutover.db') }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const pgFlag = process.argv.indexOf('--postgres');
if (pgFlag !== -1) {
  const url = process.argv[pgFlag + 1] ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `cutover_bench_${process.pid}`;
  try {
    await run(`postgres ${url.replace(/:[^:@/]*@/, ':***@')}, batches of ${BATCH}`, createPostgresStore({ url, schema }));
  } finally {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
}
