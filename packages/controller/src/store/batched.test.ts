// Group commit against a real SQLite file: calls queued in one turn share a transaction,
// a failing call is undone alone, and listeners hear only what committed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestDb, testStoreKind } from './test-store.ts';
import { sqliteOf } from './db.ts';
import { Store, type Change } from './store.ts';

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sigil-batch-'));
  store = new Store(openTestDb(dir));
});
afterEach(() => {
  store.db.close();
  rmSync(dir, { recursive: true, force: true });
});

const put = (key: string) => () => {
  store.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(key, 'v');
  store.changed('m', 'thing', key);
  return key;
};
const keys = () => (store.db.prepare("SELECT key FROM meta WHERE key LIKE 'k%' ORDER BY key").all() as { key: string }[]).map((r) => r.key);

describe('Store.batched', () => {
  it('commits the calls of one turn in one transaction, undoing a failing one alone', async () => {
    const heard: Change[][] = [];
    store.subscribe((_rev, changes) => heard.push(changes));
    const results = await Promise.allSettled([
      store.batched(put('k1')),
      store.batched(() => {
        put('k2')();
        throw new Error('refused');
      }),
      store.batched(put('k3')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[0] as PromiseFulfilledResult<string>).value).toBe('k1');
    expect(((results[1] as PromiseRejectedResult).reason as Error).message).toBe('refused');
    expect(keys()).toEqual(['k1', 'k3']);
    // One commit, announced once, without the undone call's change.
    expect(heard.map((cs) => cs.map((c) => c.key))).toEqual([['k1', 'k3']]);
  });

  it('undoes a call of a batch that fails on its own (a duplicate key) alone', async () => {
    store.db.prepare("INSERT INTO meta (key, value) VALUES ('k0', 'v')").run();
    const results = await Promise.allSettled([store.batched(put('k1')), store.batched(put('k0'))]);
    // The second call fails on its own (duplicate key); the first commits.
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(keys()).toEqual(['k0', 'k1']);
  });

  // A database that cannot take the commit: SQLite out of pages (PostgreSQL's lost
  // connection is in store/pg/faults.test.ts).
  it.runIf(testStoreKind() === 'sqlite')('rejects every call of a batch whose commit fails, writing none of them', async () => {
    store.db.prepare("INSERT INTO meta (key, value) VALUES ('k0', 'v')").run();
    await store.batched(put('k1'));
    const lite = sqliteOf(store.db)!;
    lite.pragma(`max_page_count = ${lite.pragma('page_count', { simple: true }) as number}`);
    const big = () => {
      store.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('k9', 'x'.repeat(200_000));
      store.changed('m', 'thing', 'k9');
    };
    const both = await Promise.allSettled([store.batched(put('k2')), store.batched(big)]);
    expect(both.map((r) => r.status === 'rejected' && String((r.reason as Error).message))).toEqual(['database or disk is full', 'database or disk is full']);
    expect(keys()).toEqual(['k0', 'k1']);
  });
});
