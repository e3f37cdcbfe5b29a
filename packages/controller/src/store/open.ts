import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openDb, type Db } from './db.ts';
import type { PgConnection } from './pg/bridge.ts';

/** Where a controller keeps its model: the embedded SQLite file (the default) or PostgreSQL. */
export interface StoreConfig {
  /** postgresql://USER@HOST[:PORT]/DB, without a password. */
  url: string;
}

/** The file beside controller.json holding the store's password (0600), written by bootstrap. */
export const STORE_PASSWORD_FILE = 'store-password';

export function storeConnection(dir: string, store: StoreConfig): PgConnection {
  const file = join(dir, STORE_PASSWORD_FILE);
  return existsSync(file) ? { url: store.url, password: readFileSync(file, 'utf8').replace(/\r?\n$/, '') } : { url: store.url };
}

/** In a backup of a controller on PostgreSQL: the store's pg_dump (custom format). */
export const PG_DUMP_FILE = 'state.pgdump';

/**
 * `restore-backup` of a controller on PostgreSQL leaves the store's dump in its directory:
 * loaded into the store (replacing what is there) once, before the controller opens it.
 */
export async function restoreStoreDump(dir: string, store: StoreConfig | undefined, log: (msg: string, fields?: Record<string, unknown>) => void): Promise<void> {
  const dump = join(dir, PG_DUMP_FILE);
  if (!existsSync(dump)) return;
  if (!store) throw new Error(`${dump} is a PostgreSQL dump but this controller has no PostgreSQL store in controller.json`);
  const { runPgTool } = await import('./pg/tools.ts');
  await runPgTool('pg_restore', ['--clean', '--if-exists', '--no-owner', '--no-privileges', '--single-transaction', dump], storeConnection(dir, store));
  rmSync(dump);
  log('store restored from the backup', { store: store.url });
}

/** Opens the controller's store: PostgreSQL when bootstrap was given `--store`, else `state.db`. */
export async function openStoreDb(dir: string, store: StoreConfig | undefined): Promise<Db> {
  if (!store) return openDb(join(dir, 'state.db'));
  const { openPgDb } = await import('./pg/pg-db.ts');
  return openPgDb(storeConnection(dir, store));
}
