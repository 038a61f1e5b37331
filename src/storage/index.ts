/**
 * Picks and opens the store named by the `store` section of cutover.yaml.
 */
import { join, resolve } from 'node:path';
import { CutoverError, ErrorCodes, isCutoverError } from '../core/errors.ts';
import { createPostgresStore, redactUrl } from './postgres/postgres-store.ts';
import { createSqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

export type { Store } from './store.ts';
export { createSqliteStore } from './sqlite/sqlite-store.ts';
export { createPostgresStore } from './postgres/postgres-store.ts';

export interface OpenStoreConfig {
  kind: 'sqlite' | 'postgres';
  /** Required for postgres: postgres://user[:password]@host[:port]/database */
  url?: string;
  /** The SQLite file lives at `<dataDir>/cutover.db`; the directory is created if missing. */
  dataDir: string;
  /** Postgres schema for the tables (tests isolate themselves with this). */
  schema?: string;
}

/** Where a SQLite store for this dataDir keeps its file. */
export function sqlitePath(dataDir: string): string {
  return join(dataDir, 'cutover.db');
}

/**
 * Creates the configured store and runs `init()`, so what comes back is ready
 * to use. Every failure is a CutoverError with code CUTOVER_ERR_STORE naming
 * the file or (password-free) URL, with a hint.
 *
 * @example
 * const store = await openStore({ kind: config.store.kind, url: config.store.url, dataDir: config.dataDir });
 * try {
 *   await store.appendAudit({ time: Date.now(), subject: '*', action: 'start', actor: 'cli' });
 * } finally {
 *   await store.close();
 * }
 */
export async function openStore(config: OpenStoreConfig): Promise<Store> {
  let store: Store;
  if (config.kind === 'postgres') {
    if (config.url === undefined || config.url === '') {
      throw new CutoverError(ErrorCodes.STORE, 'store.kind is postgres but store.url is not set', {
        hint: 'set store.url: postgres://user@host:5432/database, or set store.kind: sqlite',
      });
    }
    if (!/^postgres(ql)?:\/\//.test(config.url)) {
      throw new CutoverError(ErrorCodes.STORE, `store.url "${redactUrl(config.url)}" is not a postgres:// URL`, {
        hint: 'write it as postgres://user[:password]@host[:port]/database',
      });
    }
    store = createPostgresStore({ url: config.url, schema: config.schema });
  } else if (config.kind === 'sqlite') {
    store = createSqliteStore({ path: sqlitePath(resolve(config.dataDir)) });
  } else {
    throw new CutoverError(ErrorCodes.STORE, `unknown store.kind "${String((config as { kind: unknown }).kind)}"`, {
      hint: 'use sqlite or postgres',
    });
  }
  try {
    await store.init();
  } catch (err) {
    await store.close().catch(() => {});
    if (isCutoverError(err)) throw err;
    throw new CutoverError(ErrorCodes.STORE, `opening the ${config.kind} store failed: ${String(err)}`, { cause: err });
  }
  return store;
}
