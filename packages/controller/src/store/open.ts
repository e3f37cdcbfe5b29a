import { existsSync, readFileSync } from 'node:fs';
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

/** Opens the controller's store: PostgreSQL when bootstrap was given `--store`, else `state.db`. */
export async function openStoreDb(dir: string, store: StoreConfig | undefined): Promise<Db> {
  if (!store) return openDb(join(dir, 'state.db'));
  const { openPgDb } = await import('./pg/pg-db.ts');
  return openPgDb(storeConnection(dir, store));
}
