import { createHash } from 'node:crypto';
import type { CommitOrder, Db, RunResult, Statement } from '../db.ts';
import { SCHEMA, SCHEMA_VERSION } from '../schema.ts';
import { SyncPg, type PgConnection } from './bridge.ts';
import { ddl, tables, translate, type TableInfo, type Translated } from './dialect.ts';
import { PG_TRIGGERS } from './triggers.ts';

/** The advisory lock keys (one namespace for Sigil, then what the lock guards). */
const LOCK_MIGRATE = 0x5161_0001;
const LOCK_COMMIT_ORDER = 0x5161_0002;

/**
 * How long a cached read may be served (see PgDb.cached). Writes through this process and
 * every change another replica announces forget the cache at once; this bounds what no
 * announcement covers (a replica's presence and lease rows).
 */
const READ_CACHE_MS = 250;

/** Tables the triggers (triggers.ts) write when a statement writes the key table. */
const TRIGGERED: Record<string, string[]> = { units: ['status_history'], machines: ['status_history', 'machine_annotations'] };

/** The tables a read reads (every FROM and JOIN, subqueries included). */
export function tablesRead(text: string): string[] {
  return [...new Set([...text.matchAll(/\b(?:FROM|JOIN)\s+"?(\w+)/gi)].map((m) => m[1]!.toLowerCase()))];
}

/** The tables a write changes (with what its triggers write), or undefined when not known. */
export function tablesWritten(text: string): string[] | undefined {
  const m = /^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)/i.exec(text);
  if (!m) return undefined;
  const t = m[1]!.toLowerCase();
  return [t, ...(TRIGGERED[t] ?? [])];
}

/** The channel each commit that appended to the change log is announced on. */
export const CHANGES_CHANNEL = 'sigil_changes';

/** A store URL as it may be shown: without a password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return 'postgresql://(unparsable URL)';
  }
}

/**
 * The controller's store on PostgreSQL, with the same repositories as on SQLite: each
 * statement is translated once (dialect.ts) and runs through the synchronous bridge.
 * Transactions nest as better-sqlite3's do (savepoints), so `Store.batched` undoes one
 * call of a batch alone here too.
 */
export class PgDb implements Db {
  readonly kind = 'postgresql';
  readonly name: string;
  private depth = 0;
  private readonly statements = new Map<string, PgStatement>();
  private readonly schema: Map<string, TableInfo>;
  readonly commitOrder: CommitOrder;
  private caching = 0;
  /** Whether the open transaction has written anything (its reads must then see its writes). */
  private wrote = false;
  private readonly reads = new Map<string, { rows: Record<string, unknown>[]; at: number }>();
  /** The keys of `reads` by the tables they read. */
  private readonly readers = new Map<string, Set<string>>();

  constructor(
    readonly pg: SyncPg,
    url: string,
  ) {
    this.name = redactUrl(url);
    this.schema = tables(SCHEMA);
    this.commitOrder = {
      // Revisions come from an identity column; holding this lock from the first append to
      // commit makes their order the commit order, so a watcher reading `rev > n` never
      // misses a revision committed after a later one it has already seen.
      lock: () => this.pg.defer(`SELECT pg_advisory_xact_lock(${LOCK_COMMIT_ORDER})`),
      notify: (rev) => this.pg.defer('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, String(rev)]),
    };
  }

  get inTransaction(): boolean {
    return this.depth > 0;
  }

  prepare(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      const t = translate(sql, this.schema);
      s = new PgStatement(this, t, `s${createHash('sha1').update(t.text).digest('hex').slice(0, 16)}`);
      this.statements.set(sql, s);
    }
    return s;
  }

  /**
   * BEGIN, SAVEPOINT and RELEASE are deferred: they travel with the next statement, so a
   * transaction costs one thread hop per statement plus its COMMIT, and one that ran no
   * statement (or none since its savepoint) costs nothing to end.
   */
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    return (...args: A): R => {
      const savepoint = `sigil_sp_${this.depth}`;
      // Any call sends everything deferred before it: with no call since this level opened,
      // its BEGIN or SAVEPOINT (and all deferred after it) was never sent.
      const mark = this.pg.pending;
      const opened = this.pg.calls;
      const unsent = () => this.pg.calls === opened;
      if (this.depth === 0) {
        this.pg.begin();
        this.wrote = false;
      } else this.pg.defer(`SAVEPOINT ${savepoint}`);
      this.depth++;
      let result: R;
      try {
        result = fn(...args);
      } catch (e) {
        this.depth--;
        if (unsent()) this.pg.drop(mark);
        else if (this.depth === 0) this.pg.rollback();
        else this.pg.query('', `ROLLBACK TO SAVEPOINT ${savepoint}`, []);
        throw e;
      }
      this.depth--;
      try {
        if (unsent()) this.pg.drop(mark);
        else if (this.depth === 0) this.pg.commit();
        else this.pg.defer(`RELEASE SAVEPOINT ${savepoint}`);
      } catch (e) {
        if (this.depth === 0) safely(() => this.pg.rollback());
        throw e;
      }
      return result;
    };
  }

  relaxCommit(): void {
    // Travels with the transaction's first statement (after its deferred BEGIN); dropped with it if none comes.
    this.pg.defer('SET LOCAL synchronous_commit TO off');
  }

  exec(sql: string): void {
    this.invalidate();
    this.pg.exec(sql);
  }

  /**
   * Runs `fn` with its reads outside transactions answered from memory: the same statement
   * with the same parameters goes to PostgreSQL once until this process writes a table it
   * read, another replica's commit is announced, or READ_CACHE_MS pass. For the machine
   * views and status, which read the same application, charm and relation rows for every
   * agent of a burst; a read inside a transaction that has written goes to the server.
   */
  cached<T>(fn: () => T): T {
    this.caching++;
    try {
      return fn();
    } finally {
      this.caching--;
    }
  }

  /** Forgets the cached reads of `tables`, or all of them. */
  invalidate(tables?: readonly string[]): void {
    if (!tables) {
      this.reads.clear();
      this.readers.clear();
      return;
    }
    for (const t of tables) {
      for (const key of this.readers.get(t) ?? []) this.reads.delete(key);
      this.readers.delete(t);
    }
  }

  /** A write: forgets the cached reads of what it writes (all of them when not known). */
  write(id: string, text: string, params: unknown[], tables: readonly string[] | undefined) {
    this.invalidate(tables);
    if (this.depth > 0) this.wrote = true;
    return this.pg.query(id, text, params);
  }

  /**
   * A read, from the cache where `cached` allows it and `tables` (what it reads) are known:
   * outside transactions, and in one that has written nothing yet (a view read as one).
   */
  read(id: string, text: string, params: unknown[], tables: readonly string[] | undefined): Record<string, unknown>[] {
    if (!tables || this.caching === 0 || (this.depth > 0 && this.wrote)) return this.pg.query(id, text, params).rows;
    const key = `${id}\0${JSON.stringify(params)}`;
    const now = Date.now();
    let hit = this.reads.get(key);
    if (!hit || now - hit.at > READ_CACHE_MS) {
      hit = { rows: this.pg.query(id, text, params).rows, at: now };
      // A bound on memory: the cache only serves bursts.
      if (this.reads.size >= 20_000) this.invalidate();
      this.reads.set(key, hit);
      for (const t of tables) {
        let keys = this.readers.get(t);
        if (!keys) this.readers.set(t, (keys = new Set()));
        keys.add(key);
      }
    }
    // Callers may change the rows they are given: each gets its own.
    return hit.rows.map((r) => ({ ...r }));
  }

  close(): void {
    this.invalidate();
    this.pg.close();
  }
}

class PgStatement implements Statement {
  /** What a plain read reads (undefined: not cached); what a write writes (undefined: unknown). */
  private readonly reads: string[] | undefined;
  private readonly writes: string[] | undefined;

  constructor(
    private readonly db: PgDb,
    private readonly t: Translated,
    private readonly id: string,
  ) {
    const select = /^\s*SELECT\b/i.test(t.text) && !/\bFOR\s+(SHARE|UPDATE)\b/i.test(t.text);
    this.reads = select ? tablesRead(t.text) : undefined;
    this.writes = select ? [] : tablesWritten(t.text);
  }

  run(...params: unknown[]): RunResult {
    const r = this.db.write(this.id, this.t.text, bind(params), this.writes);
    const last = this.t.returning ? r.rows[r.rows.length - 1]?.[this.t.returning] : undefined;
    return { changes: r.rowCount, lastInsertRowid: typeof last === 'number' ? last : 0 };
  }

  get(...params: unknown[]): unknown {
    return this.db.read(this.id, this.t.text, bind(params), this.reads)[0];
  }

  all(...params: unknown[]): unknown[] {
    return this.db.read(this.id, this.t.text, bind(params), this.reads);
  }

  iterate(...params: unknown[]): IterableIterator<unknown> {
    return this.all(...params)[Symbol.iterator]();
  }
}

/** better-sqlite3 takes booleans as nothing; bigints as integers: the same here. */
function bind(params: unknown[]): unknown[] {
  return params.map((p) => (typeof p === 'bigint' ? p.toString() : p === undefined ? null : p));
}

function safely(f: () => void): void {
  try {
    f();
  } catch {
    /* the connection is gone: PostgreSQL rolled the transaction back itself */
  }
}

/**
 * Opens (and on first use creates) the store on a PostgreSQL database. The schema is applied
 * under an advisory lock, so replicas starting at once apply it once; a database made by a
 * different schema version is refused with the versions named.
 */
export function openPgDb(connection: PgConnection): PgDb {
  const pg = new SyncPg(connection);
  const db = new PgDb(pg, connection.url);
  pg.query('', `SELECT pg_advisory_lock(${LOCK_MIGRATE})`, []);
  try {
    pg.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT COLLATE "C" NOT NULL)');
    const found = pg.query('', "SELECT value FROM meta WHERE key = 'schema_version'", []).rows[0]?.value as string | undefined;
    if (found !== undefined && Number(found) !== SCHEMA_VERSION) {
      throw new SchemaMismatch(Number(found), db.name);
    }
    pg.exec(ddl(SCHEMA) + PG_TRIGGERS);
    pg.query('', "INSERT INTO meta (key, value) VALUES ('schema_version', $1) ON CONFLICT DO NOTHING", [String(SCHEMA_VERSION)]);
  } catch (e) {
    safely(() => pg.query('', `SELECT pg_advisory_unlock(${LOCK_MIGRATE})`, []));
    pg.close();
    throw e;
  }
  pg.query('', `SELECT pg_advisory_unlock(${LOCK_MIGRATE})`, []);
  return db;
}

export class SchemaMismatch extends Error {
  constructor(
    readonly found: number,
    where: string,
  ) {
    super(`the store at ${where} has schema version ${found}, this controller runs version ${SCHEMA_VERSION}`);
  }
}
