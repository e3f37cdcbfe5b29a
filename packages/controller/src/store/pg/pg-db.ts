import { createHash } from 'node:crypto';
import type { CommitOrder, Db, RunResult, Statement } from '../db.ts';
import { SCHEMA, SCHEMA_VERSION } from '../schema.ts';
import { SyncPg, type PgConnection } from './bridge.ts';
import { ddl, tables, translate, type TableInfo, type Translated } from './dialect.ts';
import { PG_TRIGGERS } from './triggers.ts';

/** The advisory lock keys (one namespace for Sigil, then what the lock guards). */
const LOCK_MIGRATE = 0x5161_0001;
const LOCK_COMMIT_ORDER = 0x5161_0002;

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
      lock: () => void this.pg.query('', `SELECT pg_advisory_xact_lock(${LOCK_COMMIT_ORDER})`, []),
      notify: (rev) => void this.pg.query('', 'SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, String(rev)]),
    };
  }

  get inTransaction(): boolean {
    return this.depth > 0;
  }

  prepare(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      const t = translate(sql, this.schema);
      s = new PgStatement(this.pg, t, `s${createHash('sha1').update(t.text).digest('hex').slice(0, 16)}`);
      this.statements.set(sql, s);
    }
    return s;
  }

  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    return (...args: A): R => {
      const savepoint = `sigil_sp_${this.depth}`;
      if (this.depth === 0) this.pg.begin();
      else this.pg.query('', `SAVEPOINT ${savepoint}`, []);
      this.depth++;
      let result: R;
      try {
        result = fn(...args);
      } catch (e) {
        this.depth--;
        if (this.depth === 0) this.pg.rollback();
        else this.pg.query('', `ROLLBACK TO SAVEPOINT ${savepoint}`, []);
        throw e;
      }
      this.depth--;
      try {
        if (this.depth === 0) this.pg.commit();
        else this.pg.query('', `RELEASE SAVEPOINT ${savepoint}`, []);
      } catch (e) {
        if (this.depth === 0) safely(() => this.pg.rollback());
        throw e;
      }
      return result;
    };
  }

  exec(sql: string): void {
    this.pg.exec(sql);
  }

  close(): void {
    this.pg.close();
  }
}

class PgStatement implements Statement {
  constructor(
    private readonly pg: SyncPg,
    private readonly t: Translated,
    private readonly id: string,
  ) {}

  run(...params: unknown[]): RunResult {
    const r = this.pg.query(this.id, this.t.text, bind(params));
    const last = this.t.returning ? r.rows[r.rows.length - 1]?.[this.t.returning] : undefined;
    return { changes: r.rowCount, lastInsertRowid: typeof last === 'number' ? last : 0 };
  }

  get(...params: unknown[]): unknown {
    return this.pg.query(this.id, this.t.text, bind(params)).rows[0];
  }

  all(...params: unknown[]): unknown[] {
    return this.pg.query(this.id, this.t.text, bind(params)).rows;
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
