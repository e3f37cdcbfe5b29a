// The PostgreSQL store's own behaviour: the dialect it translates to, the schema version it
// refuses, the change feed shared by several controller processes, and a server that goes
// away and comes back. The repositories' tests run on it too (the postgresql project).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSigilError } from '@sigil/core';
import { SCHEMA, SCHEMA_VERSION } from '../schema.ts';
import { Store, type Change } from '../store.ts';
import { storeError } from '../errors.ts';
import { openTestDb, testStoreKind } from '../test-store.ts';
import { PgError, SyncPg } from './bridge.ts';
import { startCluster, type Cluster } from './cluster.ts';
import { tables, translate } from './dialect.ts';
import { ChangeFollower } from './follow.ts';
import { openPgDb, tablesRead, tablesWritten, type PgDb } from './pg-db.ts';

const schema = tables(SCHEMA);
const t = (sql: string) => translate(sql, schema).text;

describe('the dialect', () => {
  it('numbers parameters outside string literals only', () => {
    expect(t("SELECT a FROM meta WHERE key = ? AND value = '?' AND x IN (?, ?)")).toBe("SELECT a FROM meta WHERE key = $1 AND value = '?' AND x IN ($2, $3)");
  });
  it('makes INSERT OR IGNORE and INSERT OR REPLACE conflict clauses on the primary key', () => {
    expect(t('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)')).toBe('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING');
    expect(t('INSERT OR REPLACE INTO relation_settings (model, relation_id, owner, is_app, data, version) VALUES (?, ?, ?, ?, ?, ?)')).toBe(
      'INSERT INTO relation_settings (model, relation_id, owner, is_app, data, version) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (model, relation_id, owner, is_app) DO UPDATE SET data = EXCLUDED.data, version = EXCLUDED.version',
    );
  });
  it('returns an identity column for lastInsertRowid, unless the statement returns something itself', () => {
    expect(translate('INSERT INTO logs (model, entity, level, module, message, at) VALUES (?, ?, ?, ?, ?, ?)', schema)).toEqual({ text: 'INSERT INTO logs (model, entity, level, module, message, at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id', returning: 'id' });
    expect(translate('INSERT INTO meta (key, value) VALUES (?, ?) RETURNING value', schema)).toEqual({ text: 'INSERT INTO meta (key, value) VALUES ($1, $2) RETURNING value' });
  });
  it("translates SQLite's scalar MIN/MAX, instr, reserved column names and camelCase aliases", () => {
    expect(t('UPDATE applications SET scale = MAX(scale - 1, 0) WHERE name = ?')).toBe('UPDATE applications SET scale = GREATEST(scale - 1, 0) WHERE name = $1');
    expect(t('SELECT MIN(rev) AS rev FROM change_log')).toBe('SELECT MIN(rev) AS rev FROM change_log');
    expect(t("SELECT user, added_by AS addedBy FROM user_tokens WHERE user = ? AND kind = 'user'")).toBe(`SELECT "user", added_by AS "addedBy" FROM user_tokens WHERE "user" = $1 AND kind = 'user'`);
    expect(t("SELECT substr(id, instr(id, '/') + 1) FROM x")).toBe("SELECT substr(id, strpos(id, '/') + 1) FROM x");
  });
});

describe.runIf(testStoreKind() === 'postgresql')('the PostgreSQL store', () => {
  const password = () => process.env.SIGIL_TEST_PG_PASSWORD!;
  // A store's name is its URL without the password.
  const connectionOf = (db: PgDb) => ({ url: db.name, password: password() });

  it('refuses a database made by another schema version, naming both, and changes nothing', () => {
    const db = openTestDb('') as PgDb;
    db.prepare("UPDATE meta SET value = '999' WHERE key = 'schema_version'").run();
    db.close();
    let caught: unknown;
    try {
      openPgDb(connectionOf(db)).close();
    } catch (e) {
      caught = e;
    }
    expect((caught as Error).message).toBe(`the store at ${db.name} has schema version 999, this controller runs version ${SCHEMA_VERSION}`);
  });

  it('gives every replica every revision in order, whoever committed it, and over LISTEN/NOTIFY without being asked', async () => {
    const first = openTestDb('') as PgDb;
    const a = new Store(first);
    const b = new Store(openPgDb(connectionOf(first)));
    const heard: Record<'a' | 'b', number[]> = { a: [], b: [] };
    a.subscribe((_r, cs: Change[]) => heard.a.push(...cs.map((c) => c.rev)));
    b.subscribe((_r, cs: Change[]) => heard.b.push(...cs.map((c) => c.rev)));
    const follower = new ChangeFollower(b, connectionOf(first), () => {});
    try {
      for (let i = 0; i < 10; i++) {
        const s = i % 3 === 0 ? b : a;
        s.tx(() => {
          s.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(`k${i}`, 'v');
          s.changed('m', 'thing', `k${i}`);
          s.changed('m', 'thing', `k${i}-2`);
        });
      }
      const all = a.changesSince(0).map((c) => c.rev);
      expect(all).toHaveLength(20);
      // b hears a's commits through the notification alone (no call on b here).
      for (let i = 0; i < 200 && heard.b.length < 20; i++) await new Promise((r) => setTimeout(r, 25));
      expect(heard.b).toEqual(all);
      a.catchUp();
      expect(heard.a).toEqual(all);
      expect([...all].sort((x, y) => x - y)).toEqual(all);
    } finally {
      await follower.stop();
      a.db.close();
      b.db.close();
    }
  });
});

describe.runIf(testStoreKind() === 'postgresql')('transactions on the bridge', () => {
  const meta = (db: PgDb, key: string) => db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;

  it('send BEGIN, savepoints and the commit-order lock with the next statement: one hop per statement plus COMMIT', () => {
    const db = openTestDb('') as PgDb;
    const store = new Store(db);
    try {
      const before = db.pg.calls;
      store.tx(() => {
        db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('one', '1');
        db.transaction(() => db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('two', '2'))();
        store.changed('m', 'thing', 'one');
      });
      // Two inserts, the change record (with the lock ahead of it), COMMIT (with the
      // RELEASE and the notification ahead of it).
      expect(db.pg.calls - before).toBe(4);
      expect([meta(db, 'one')?.value, meta(db, 'two')?.value]).toEqual(['1', '2']);
      // A transaction, or a savepoint, that ran no statement costs nothing to open and end.
      const idle = db.pg.calls;
      db.transaction(() => db.transaction(() => undefined)())();
      expect(db.pg.calls).toBe(idle);
      expect(db.pg.pending).toBe(0);
    } finally {
      db.close();
    }
  });

  it('undo a savepoint whose statements failed, and a whole transaction, as before', () => {
    const db = openTestDb('') as PgDb;
    try {
      const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      db.transaction(() => {
        put.run('kept', '1');
        expect(() => db.transaction(() => {
          put.run('undone', '1');
          put.run('kept', 'duplicate');
        })()).toThrow(/duplicate key/);
        // An inner level that throws before any statement leaves nothing to roll back.
        expect(() => db.transaction(() => {
          throw new Error('before any statement');
        })()).toThrow('before any statement');
        put.run('after', '1');
      })();
      expect([meta(db, 'kept')?.value, meta(db, 'undone'), meta(db, 'after')?.value]).toEqual(['1', undefined, '1']);
      expect(() => db.transaction(() => {
        put.run('gone', '1');
        throw new Error('undo all');
      })()).toThrow('undo all');
      expect(meta(db, 'gone')).toBeUndefined();
    } finally {
      db.close();
    }
  });

  it('commit a relaxed transaction without waiting for the disk, and only that one; one nested in a durable transaction stays durable', () => {
    const db = openTestDb('') as PgDb;
    const store = new Store(db);
    const setting = () => (db.prepare("SELECT current_setting('synchronous_commit') AS v").get() as { v: string }).v;
    try {
      // The test cluster is not durable at all; this connection is, as a real server's.
      db.exec('SET synchronous_commit TO on');
      const inside = store.txRelaxed(() => {
        db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('relaxed', '1');
        return setting();
      });
      expect(inside).toBe('off');
      expect(setting()).toBe('on');
      expect(meta(db, 'relaxed')?.value).toBe('1');
      expect(store.tx(() => store.txRelaxed(() => setting()))).toBe('on');
      // One that runs no statement costs nothing.
      const idle = db.pg.calls;
      store.txRelaxed(() => undefined);
      expect(db.pg.calls).toBe(idle);
      expect(db.pg.pending).toBe(0);
    } finally {
      db.close();
    }
  });

  it('fail the next call with a deferred statement\'s error, run nothing of that call, and roll back', () => {
    const db = openTestDb('') as PgDb;
    try {
      expect(() => db.transaction(() => {
        db.pg.defer('SELECT no_such_function()');
        db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('never', '1');
      })()).toThrow(/no_such_function/);
      expect(meta(db, 'never')).toBeUndefined();
      // The connection is usable again at once.
      db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('next', '1');
      expect(meta(db, 'next')?.value).toBe('1');
    } finally {
      db.close();
    }
  });
});

describe('what a statement reads and writes (for the read cache)', () => {
  it('names every table a read reads, joins and subqueries included', () => {
    expect(tablesRead(t('SELECT c.*, p.data AS provenance FROM charms c LEFT JOIN charm_provenance p ON p.url = c.url WHERE c.model = ?'))).toEqual(['charms', 'charm_provenance']);
    expect(tablesRead(t('SELECT id FROM status_history WHERE id <= (SELECT id FROM units WHERE name = ?)'))).toEqual(['status_history', 'units']);
  });
  it('names the table a write writes with what its triggers write, and knows when it cannot tell', () => {
    expect(tablesWritten(t('UPDATE units SET workload = ? WHERE model = ? AND name = ?'))).toEqual(['units', 'status_history']);
    expect(tablesWritten(t('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)'))).toEqual(['meta']);
    expect(tablesWritten(t('DELETE FROM machines WHERE model = ?'))).toEqual(['machines', 'status_history', 'machine_annotations']);
    expect(tablesWritten('WITH x AS (SELECT 1) UPDATE meta SET value = 1')).toBeUndefined();
  });
});

describe.runIf(testStoreKind() === 'postgresql')('the read cache of views and status', () => {
  it('answers a repeated read from memory until this process writes what it read, or another replica commits', async () => {
    const first = openTestDb('') as PgDb;
    const a = new Store(first);
    const b = new Store(openPgDb({ url: first.name, password: process.env.SIGIL_TEST_PG_PASSWORD! }));
    try {
      a.tx(() => a.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('k', 'one'));
      const value = () => (a.db.prepare('SELECT value FROM meta WHERE key = ?').get('k') as { value: string }).value;
      const hops = () => first.pg.calls;
      let h = hops();
      expect(a.cachedReads(() => [value(), value(), value()])).toEqual(['one', 'one', 'one']);
      expect(hops() - h).toBe(1);
      // A write to another table keeps it; a write to this one forgets it.
      a.tx(() => a.db.prepare('UPDATE models SET config = config WHERE name = ?').run('none'));
      h = hops();
      expect(a.cachedReads(value)).toBe('one');
      expect(hops() - h).toBe(0);
      a.tx(() => a.db.prepare('UPDATE meta SET value = ? WHERE key = ?').run('two', 'k'));
      expect(a.cachedReads(value)).toBe('two');
      // Outside cachedReads every read goes to the server; in a transaction, once it has
      // written anything (it must see its own writes).
      h = hops();
      value();
      expect(hops() - h).toBe(1);
      a.tx(() => a.cachedReads(() => {
        h = hops();
        expect(value()).toBe('two');
        a.db.prepare('UPDATE models SET config = config WHERE name = ?').run('none');
        const afterWrite = hops();
        expect(value()).toBe('two');
        expect([afterWrite - h, hops() - afterWrite]).toEqual([1, 1]);
      }));
      // Rows handed out are the caller's own.
      const row = a.cachedReads(() => a.db.prepare('SELECT value FROM meta WHERE key = ?').get('k') as { value: string });
      row.value = 'changed by the caller';
      expect(a.cachedReads(value)).toBe('two');
      // Another replica's commit, once announced here, forgets everything.
      b.tx(() => {
        b.db.prepare('UPDATE meta SET value = ? WHERE key = ?').run('three', 'k');
        b.changed('m', 'thing', 'k');
      });
      a.catchUp();
      expect(a.cachedReads(value)).toBe('three');
    } finally {
      a.db.close();
      b.db.close();
    }
  });
});

describe.runIf(testStoreKind() === 'postgresql')('a PostgreSQL server that goes away', () => {
  let cluster: Cluster;
  let store: Store;
  beforeAll(async () => {
    cluster = await startCluster();
    const admin = new SyncPg({ url: cluster.url(), password: cluster.password });
    admin.exec('CREATE DATABASE sigil');
    admin.close();
    store = new Store(openPgDb({ url: cluster.url('sigil'), password: cluster.password }));
  }, 60_000);
  afterAll(async () => {
    store?.db.close();
    await cluster?.destroy();
  });

  const put = (key: string) =>
    store.tx(() => {
      store.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(key, 'v');
      store.changed('m', 'thing', key);
    });

  it('fails calls with a clear unavailable error while it is down, writes nothing, and reconnects by itself', async () => {
    put('before');
    const rev = store.revision();
    await cluster.stop();
    let caught: unknown;
    try {
      put('during');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(PgError);
    expect((caught as PgError).lost).toBe(true);
    const clear = storeError(caught, store.db.name);
    expect(isSigilError(clear) && clear.code).toBe('unavailable');
    expect((clear as Error).message).toMatch(/^the controller's database \(PostgreSQL at postgresql:\/\/sigil@127\.0\.0\.1:\d+\/sigil\) cannot be reached: .*; nothing was changed$/);
    expect((clear as Error).message).not.toContain(cluster.password);
    await cluster.start();
    put('after');
    expect(store.revision()).toBe(rev + 1);
    const keys = (store.db.prepare("SELECT key FROM meta WHERE key IN ('before', 'during', 'after') ORDER BY key").all() as { key: string }[]).map((r) => r.key);
    expect(keys).toEqual(['after', 'before']);
  });
});
