import Database from 'better-sqlite3';
import { SCHEMA, SCHEMA_VERSION } from './schema.ts';
import { BUSY_TIMEOUT_MS } from './errors.ts';

export interface RunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

/** A prepared statement: better-sqlite3's, or the PostgreSQL store's with the same calls. */
export interface Statement {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
}

/**
 * What a store with several writers (PostgreSQL replicas) adds to a commit that appends to
 * the change log: a lock held from the first append to the commit, so revisions commit in
 * order, and an announcement to the other replicas.
 */
export interface CommitOrder {
  lock(): void;
  notify(rev: number): void;
}

/**
 * The database the repositories use: the part of better-sqlite3's API they call, which the
 * PostgreSQL store (store/pg) implements too. SQL is written in SQLite's dialect.
 */
export interface Db {
  /** The file (SQLite) or the URL without its password (PostgreSQL), for messages. */
  readonly name: string;
  readonly inTransaction: boolean;
  prepare(sql: string): Statement;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
  exec(sql: string): unknown;
  close(): unknown;
  /** Set only where several processes write (PostgreSQL). */
  readonly commitOrder?: CommitOrder;
  /**
   * Where a read costs a round trip (PostgreSQL): runs `fn` with its reads answered from
   * memory while nothing they read has changed (see PgDb.cached).
   */
  cached?<T>(fn: () => T): T;
  /** Forgets every cached read: another process committed. */
  invalidate?(): void;
  /**
   * Lets the open transaction's commit return before its record is on disk (PostgreSQL's
   * `synchronous_commit = off`): a crash of the database server may lose the last such
   * commits, never corrupt them or reorder them. Not set where commits are cheap (SQLite).
   */
  relaxCommit?(): void;
}

/**
 * Opens the controller database. WAL with synchronous=FULL: a change the API has
 * acknowledged is on disk, so a SIGKILL (or power loss) at any moment loses nothing
 * acknowledged. Measured here: ~5k single-row commits/s, far above what users generate.
 */
export function openDb(path: string): Db {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.exec(SCHEMA);
  db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION));
  cacheStatements(db);
  return db;
}

/** How many prepared statements a database keeps (the tree's SQL is a few hundred fixed texts). */
const STATEMENT_CACHE = 1000;

/**
 * Keeps prepared statements by their SQL, so a statement is compiled once, not on every
 * call: with 1,000 agents compiling took 15 % of the controller's time (bench/scale). A
 * statement still being iterated is busy and cannot run again, so its SQL gets a fresh one
 * meanwhile. Least recently used texts go first (SQL built with a variable number of
 * placeholders makes new texts).
 */
function cacheStatements(db: Database.Database): void {
  const prepare = db.prepare.bind(db);
  const cache = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    const hit = cache.get(sql);
    if (hit && !hit.busy) {
      cache.delete(sql);
      cache.set(sql, hit);
      return hit;
    }
    const fresh = prepare(sql);
    if (hit) return fresh;
    cache.set(sql, fresh);
    if (cache.size > STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
    return fresh;
  }) as typeof db.prepare;
}

/** The SQLite database behind `db`, for what only SQLite has (online backup, pragmas); undefined on PostgreSQL. */
export function sqliteOf(db: Db): Database.Database | undefined {
  return db instanceof Database ? db : undefined;
}
