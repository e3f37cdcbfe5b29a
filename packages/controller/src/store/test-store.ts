// For in-process tests: the store the test run asks for. The unit suite runs twice in the
// README's test command: on SQLite files, and with SIGIL_TEST_STORE=postgresql against a
// throwaway PostgreSQL cluster (tests/pg-global-setup.ts), each store in its own database
// cloned from a template that already has the schema.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { openDb, sqliteOf, type Db } from './db.ts';
import { SyncPg } from './pg/bridge.ts';
import { openPgDb } from './pg/pg-db.ts';

export type TestStoreKind = 'sqlite' | 'postgresql';

export function testStoreKind(): TestStoreKind {
  return process.env.SIGIL_TEST_STORE === 'postgresql' ? 'postgresql' : 'sqlite';
}

/** The test cluster's template database: the schema, applied once by the global setup. */
export const TEMPLATE_DB = 'sigil_template';

let made = 0;
/** Databases created ahead of the test that will open them (`prepareTestDb`). */
const prepared: string[] = [];

function cluster(): { url: string; password: string } {
  const url = process.env.SIGIL_TEST_PG_URL;
  const password = process.env.SIGIL_TEST_PG_PASSWORD;
  if (!url || password === undefined) throw new Error('SIGIL_TEST_STORE=postgresql needs the test cluster (SIGIL_TEST_PG_URL); hint: run the suite through vitest.config.ts, whose postgresql project starts it');
  return { url, password };
}

// Not the pid alone: each test file is a new process, the cluster keeps every database for
// the whole run, and pids wrap (pid_max is 32768 here) over a run's thousands of processes.
const nextName = () => `sigil_t${process.pid}_${++made}_${randomBytes(4).toString('hex')}`;

/**
 * Creates the next test's database ahead of it, asynchronously: a clone of the template costs
 * seconds on a busy machine, and made through the synchronous bridge it held the test
 * worker's event loop past vitest's 60 s RPC deadline (tests/pg-test-db.ts calls it before
 * every test). Nothing on SQLite.
 */
export async function prepareTestDb(): Promise<void> {
  if (testStoreKind() !== 'postgresql' || prepared.length > 0) return;
  const { url, password } = cluster();
  const name = nextName();
  const u = new URL(url);
  u.password = encodeURIComponent(password);
  const c = new pg.Client({ connectionString: u.toString(), connectionTimeoutMillis: 30_000 });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`);
  } finally {
    await c.end();
  }
  prepared.push(name);
}

/** A fresh, empty store: `dir/state.db`, or a new database in the test cluster. */
export function openTestDb(dir: string): Db {
  if (testStoreKind() === 'sqlite') return openDb(join(dir, 'state.db'));
  const { url, password } = cluster();
  let name = prepared.shift();
  if (name === undefined) {
    // A second store in one test, or one opened outside the hooks: made here and now.
    name = nextName();
    const admin = new SyncPg({ url, password });
    try {
      admin.exec(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`);
    } finally {
      admin.close();
    }
  }
  const u = new URL(url);
  u.pathname = `/${name}`;
  return openPgDb({ url: u.toString(), password });
}

/**
 * Every file the store keeps its data in, flushed first, so a test can look for what must
 * never be written in the clear: the SQLite file and its WAL, or the whole cluster's data
 * directory after a checkpoint.
 */
export function storeFiles(db: Db, dir: string): string[] {
  const lite = sqliteOf(db);
  if (lite) {
    lite.pragma('wal_checkpoint(TRUNCATE)');
    return readdirSync(dir).filter((f) => f.startsWith('state.db')).map((f) => join(dir, f));
  }
  db.exec('CHECKPOINT');
  // This database's own files and the write-ahead log every change passes through (the
  // server's files, read as root, as an attacker with the disk would).
  const data = process.env.SIGIL_TEST_PG_DATA!;
  const oid = (db.prepare('SELECT oid FROM pg_database WHERE datname = current_database()').get() as { oid: number }).oid;
  return execFileSync('find', [join(data, 'base', String(oid)), join(data, 'pg_wal'), '-type', 'f'], { encoding: 'utf8', maxBuffer: 1 << 26 })
    .split('\n')
    .filter((f) => f !== '' && statSync(f).size > 0);
}
