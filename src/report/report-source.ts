/**
 * Reads what buildReport needs from a store, and nothing else: list calls
 * only, so it can run beside a live cutover (SQLite in WAL mode lets readers
 * in while the writer works).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CutoverError, ErrorCodes } from '../core/errors.ts';
import { openStore, sqlitePath, type OpenStoreConfig } from '../storage/index.ts';
import type { Store } from '../storage/store.ts';
import type { ReportInput } from './build-report.ts';

/** Samples are fetched for at most this many groups (the largest first); the report lists only the top few per endpoint anyway. */
const SAMPLE_GROUPS = 500;
const AUDIT_LIMIT = 10_000;

export type StoreRows = Omit<ReportInput, 'criteria' | 'topDifferences'>;

/**
 * @example
 * const rows = await readReportRows(store, { now, from: now - 86_400_000, to: now, route: 'checkout' });
 * const report = buildReport({ ...rows, criteria: DEFAULT_CRITERIA });
 */
export async function readReportRows(store: Store, window: { now: number; from: number; to: number; route?: string }): Promise<StoreRows> {
  const range = { from: window.from, to: window.to, route: window.route };
  const [counts, buckets, groups, noise, rollouts, audit] = await Promise.all([
    store.listComparisonCounts(range),
    store.listTelemetryBuckets(range),
    store.listDiffGroups(range),
    store.listNoise({ route: window.route }),
    store.listRollouts(),
    store.listAudit({ limit: AUDIT_LIMIT }),
  ]);
  const samples = new Map<string, unknown>();
  for (const g of groups.slice(0, SAMPLE_GROUPS)) {
    const [first] = await store.listDiffSamples(g.id, 1);
    if (first !== undefined) samples.set(g.id, first.sample);
  }
  const out: StoreRows = { now: window.now, from: window.from, to: window.to, counts, buckets, groups, samples, noise, rollouts, audit };
  if (window.route !== undefined) out.route = window.route;
  return out;
}

/**
 * Opens an existing store for reading. A report on a data dir with no
 * database would otherwise create an empty one and call it "insufficient
 * data", hiding a mistyped path.
 */
export async function openExistingStore(config: OpenStoreConfig): Promise<Store> {
  if (config.kind === 'sqlite' && !existsSync(sqlitePath(resolve(config.dataDir)))) {
    throw new CutoverError(ErrorCodes.STORE, `no cutover data in ${resolve(config.dataDir)} (${sqlitePath(config.dataDir)} does not exist)`, {
      hint: 'pass the data dir of the cutover you ran with --data-dir DIR, or its config with -c cutover.yaml',
    });
  }
  return openStore(config);
}
