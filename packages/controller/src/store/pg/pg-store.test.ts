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
import { openPgDb, type PgDb } from './pg-db.ts';

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
