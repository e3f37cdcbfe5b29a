// A database that cannot take a write, against a real SQLite file and the real server: a
// second connection holding the write lock, and a database that has run out of pages. The
// calls fail at once with a clear `unavailable` error (no stack trace, no hang), write
// nothing, and the same calls succeed as soon as the condition clears, with no restart.
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-server.ts';
import { BUSY_TIMEOUT_MS } from '../store/errors.ts';
import { sqliteOf } from '../store/db.ts';

let server: TestServer;
let locker: Database.Database | undefined;

// SQLite's own faults (this file runs on the SQLite store only; the PostgreSQL store's are in
// store/pg/faults.test.ts).
let lite: Database.Database;
beforeAll(async () => {
  server = await startTestServer('admin');
  lite = sqliteOf(server.svc.store.db)!;
});
afterEach(() => {
  if (locker?.inTransaction) locker.exec('ROLLBACK');
  locker?.close();
  locker = undefined;
  lite.pragma('max_page_count = 1073741823');
});
afterAll(() => server.close());

const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(server.url + path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }), headers: { authorization: 'Bearer admin', ...(body === undefined ? {} : { 'content-type': 'application/json' }) } });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string; hint?: string } } };
};
const models = () => (server.svc.store.db.prepare('SELECT name FROM models ORDER BY name').all() as { name: string }[]).map((r) => r.name);

describe('a database locked by another process', () => {
  it('fails mutating calls quickly with a clear error, changes nothing, and recovers when the lock goes', { timeout: 30_000 }, async () => {
    locker = new Database(server.svc.store.db.name);
    locker.exec('BEGIN EXCLUSIVE');
    const before = models();
    const t = performance.now();
    const r = await call('POST', '/api/models', { name: 'locked' });
    const took = performance.now() - t;
    expect(r.status).toBe(503);
    expect(r.body.error?.code).toBe('unavailable');
    expect(r.body.error?.message).toMatch(/^the controller's database is locked by another process \(database is locked\); nothing was changed$/);
    expect(r.body.error?.hint).toContain(server.svc.store.db.name);
    expect(JSON.stringify(r.body)).not.toMatch(/\bat \S+ \(|node_modules/);
    // It waited for the lock a little (the connection's busy timeout), not for seconds.
    expect(lite.pragma('busy_timeout', { simple: true })).toBe(BUSY_TIMEOUT_MS);
    expect(took).toBeGreaterThanOrEqual(BUSY_TIMEOUT_MS * 0.8);
    // Reads still answer while the lock is held (WAL).
    expect((await call('GET', '/api/models/m/config')).status).toBe(200);
    locker.exec('ROLLBACK');
    expect(models()).toEqual(before);
    const again = await call('POST', '/api/models', { name: 'locked' });
    expect(again.status).toBe(200);
    expect(models()).toEqual([...before, 'locked'].sort());
  });
});

describe('a full database', () => {
  it('fails a write that needs space with a clear error, writes nothing of it, and recovers when space returns', { timeout: 30_000 }, async () => {
    const db = lite;
    const charm = { files: [{ path: 'metadata.yaml', mode: 0o644, data: Buffer.from('name: big\nsummary: s\ndescription: d\n').toString('base64') }, { path: 'blob', mode: 0o644, data: Buffer.alloc(512 * 1024, 7).toString('base64') }] };
    const charmsBefore = (db.prepare('SELECT COUNT(*) AS n FROM charms').get() as { n: number }).n;
    const rev = server.svc.store.revision();
    // SQLite's own limit on the file's size: the same SQLITE_FULL a full disk gives.
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const r = await call('POST', '/api/models/m/charms', charm);
    expect(r.status).toBe(503);
    expect(r.body.error?.code).toBe('unavailable');
    expect(r.body.error?.message).toBe("the controller's database cannot be written: the disk (or the database) is full (database or disk is full); nothing was changed");
    expect(r.body.error?.hint).toMatch(/^free space on the filesystem holding \S+state\.db; the controller recovers by itself/);
    expect((db.prepare('SELECT COUNT(*) AS n FROM charms').get() as { n: number }).n).toBe(charmsBefore);
    expect(server.svc.store.revision()).toBe(rev);
    db.pragma('max_page_count = 1073741823');
    const again = await call('POST', '/api/models/m/charms', charm);
    expect(again.status).toBe(200);
    expect((db.prepare('SELECT COUNT(*) AS n FROM charms').get() as { n: number }).n).toBe(charmsBefore + 1);
  });
});
