/**
 * Throughput of the comparison engine on one core.
 *
 *   ./node_modules/.bin/node bench/compare.ts
 *
 * Rows: comparisons/s of a ~2 KiB JSON pair with rules active and a few
 * differences, and MB/s on large pairs (MB of one decoded body per second;
 * the engine reads both bodies, so bytes read per second are twice that).
 */
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { compareResponses, compileRules, type HttpMessage } from '../src/compare/index.ts';

const rules = compileRules({
  ignore: ['$.meta.request_id', '$..updated_at'],
  caseInsensitive: ['$.currency'],
  numbers: { paths: [{ path: '$.items[*].price', relative: 0.001 }] },
  timestamps: { paths: ['$.created_at'] },
  arrays: { keyed: [{ path: '$.items', key: 'sku' }] },
});
const plainRules = compileRules();

function order(seed: number, variant: boolean): unknown {
  return {
    id: 1000 + seed,
    status: variant ? 'shipped' : 'paid',
    currency: variant ? 'eur' : 'EUR',
    created_at: variant ? 1704067200000 : '2024-01-01T00:00:00Z',
    customer: { id: 42, name: 'Ada Lovelace', email: 'ada@example.com', tier: 'gold', tags: ['vip', 'early'] },
    shipping: { street: '12 Analytical Row', city: 'London', zip: 'N1 9GU', country: 'GB' },
    items: Array.from({ length: 12 }, (_, i) => ({
      sku: `SKU-${i}`,
      name: `Widget number ${i}`,
      qty: i + 1,
      price: variant && i === 3 ? 10.0001 : 10 + i * 1.5,
      discount: i % 2 === 0 ? null : 0.1,
      updated_at: variant ? `2024-01-0${(i % 9) + 1}` : '2023-12-31',
      attributes: { color: i % 2 ? 'red' : 'blue', size: 'M' },
    })).sort((a, b) => (variant ? b.sku.localeCompare(a.sku) : a.sku.localeCompare(b.sku))),
    totals: { subtotal: 198.0, tax: 39.6, total: variant ? 237.61 : 237.6 },
    meta: { request_id: variant ? 'b' : 'a', version: 3 },
  };
}

function json(value: unknown, encoding?: 'gzip'): HttpMessage {
  const raw = Buffer.from(JSON.stringify(value));
  const headers: Record<string, string> = { 'content-type': 'application/json', date: variantDate(value) };
  if (encoding === 'gzip') headers['content-encoding'] = 'gzip';
  return { status: 200, headers, body: encoding === 'gzip' ? zlib.gzipSync(raw) : raw };
}

function variantDate(value: unknown): string {
  return (value as { status?: string }).status === 'shipped' ? 'Mon, 01 Jan 2024 00:00:01 GMT' : 'Mon, 01 Jan 2024 00:00:00 GMT';
}

function largeJson(variant: boolean): unknown {
  return {
    data: Array.from({ length: 28_000 }, (_, i) => ({
      id: i,
      name: `record ${i}`,
      price: i * 1.25,
      active: i % 3 === 0,
      tags: ['alpha', 'beta', i % 2 ? 'gamma' : 'delta'],
      created_at: '2024-01-01T00:00:00Z',
      nested: { a: i, b: `value-${i}`, c: null },
      note: variant && i % 5000 === 7 ? 'changed' : 'unchanged',
    })),
  };
}

function largeText(variant: boolean): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < 80_000; i++) lines.push(variant && i % 20_000 === 11 ? `line ${i} was edited` : `line ${i}: the quick brown fox jumps over the lazy dog`);
  return Buffer.from(lines.join('\n'));
}

interface Row {
  name: string;
  bodyBytes: number;
  /** Comparisons per second of wall time, median of the rounds. */
  wall: number;
  /** Comparisons per second of this process's CPU time, median of the rounds. */
  cpu: number;
  differences: number;
}

// On a shared machine wall time also counts other processes' turns on the
// core; CPU time of this process (user + system, GC threads included, so it
// errs on the slow side) is what one core actually spends per comparison.
const ROUNDS = 7;
const ROUND_MS = 700;

function measure(name: string, legacy: HttpMessage, candidate: HttpMessage, r = rules, bodyBytes = legacy.body.byteLength): Row {
  const first = compareResponses(legacy, candidate, r);
  for (let i = 0; i < 20; i++) compareResponses(legacy, candidate, r);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let n = 0;
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    let elapsed = 0;
    do {
      compareResponses(legacy, candidate, r);
      n++;
      elapsed = performance.now() - started;
    } while (elapsed < ROUND_MS);
    const used = process.cpuUsage(cpuStart);
    wall.push((n * 1000) / elapsed);
    cpu.push((n * 1e6) / (used.user + used.system));
  }
  return { name, bodyBytes, wall: median(wall), cpu: median(cpu), differences: first.differences.length };
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const rows: Row[] = [];
rows.push(measure('2 KiB JSON, rules, diffs', json(order(1, false)), json(order(1, true))));
rows.push(measure('2 KiB JSON, identical', json(order(1, false)), json(order(1, false))));
rows.push(measure('2 KiB JSON, gzip vs identity', json(order(1, false), 'gzip'), json(order(1, true)), rules, json(order(1, false)).body.byteLength));

const bigA = json(largeJson(false));
const bigB = json(largeJson(true));
const bigBytes = bigA.body.byteLength;
rows.push(measure('large JSON, 6 diffs', bigA, bigB, plainRules));
rows.push(measure('large JSON, 6 diffs, rules', bigA, bigB));
rows.push(measure('large JSON, gzip vs identity', json(largeJson(false), 'gzip'), bigB, plainRules, bigBytes));
const reversed = largeJson(false) as { data: unknown[] };
reversed.data.reverse();
rows.push(measure('large JSON, array reordered', bigA, json(reversed), plainRules));
const withBigIds = (variant: boolean): HttpMessage => {
  const text = JSON.stringify(largeJson(variant)).replace(/"id":(\d+)/g, (_m, id: string) => `"id":${9_007_199_254_740_993n + BigInt(id)}`);
  return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(text) };
};
rows.push(measure('large JSON, 64-bit integer ids', withBigIds(false), withBigIds(true), plainRules));
const textHeaders = { 'content-type': 'text/plain; charset=utf-8' };
rows.push(measure('large text, 4 lines differ', { status: 200, headers: textHeaders, body: largeText(false) }, { status: 200, headers: textHeaders, body: largeText(true) }));
const binA = randomBytes(5 * 1024 * 1024);
const binB = Buffer.from(binA);
binB[binB.length - 1] ^= 0xff;
const binHeaders = { 'content-type': 'application/octet-stream' };
rows.push(measure('large binary, 1 byte differs', { status: 200, headers: binHeaders, body: binA }, { status: 200, headers: binHeaders, body: binB }));
rows.push(measure('large binary, identical', { status: 200, headers: binHeaders, body: binA }, { status: 200, headers: binHeaders, body: Buffer.from(binA) }));

const pad = (text: string, width: number): string => text.padEnd(width);
const rate = (n: number): string => Math.round(n).toLocaleString('en-US');
const mbps = (row: Row, n: number): string => ((row.bodyBytes * n) / 1e6).toFixed(1);
console.log(`node ${process.version}, ${process.arch}, single thread; medians of ${ROUNDS} rounds of ${ROUND_MS} ms`);
console.log(`${pad('case', 32)} ${pad('body', 9)} ${pad('diffs', 5)} ${pad('compares/s', 20)} MB/s of one body`);
console.log(`${pad('', 32)} ${pad('', 9)} ${pad('', 5)} ${pad('per CPU s / wall', 20)} per CPU s / wall`);
for (const row of rows) {
  const body = row.bodyBytes >= 1e6 ? `${(row.bodyBytes / 1e6).toFixed(1)} MB` : `${row.bodyBytes} B`;
  console.log(`${pad(row.name, 32)} ${pad(body, 9)} ${pad(String(row.differences), 5)} ${pad(`${rate(row.cpu)} / ${rate(row.wall)}`, 20)} ${mbps(row, row.cpu)} / ${mbps(row, row.wall)}`);
}
