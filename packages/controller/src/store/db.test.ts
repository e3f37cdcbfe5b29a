// The SQLite database's statement cache: a statement is compiled once per SQL text, and a
// statement still being iterated does not stop the same SQL from running meanwhile.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from './db.ts';

describe('openDb statement cache', () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sigil-db-'));
    db = openDb(join(dir, 'state.db'));
    for (let i = 0; i < 5; i++) db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(`k${i}`, String(i));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands back the same statement for the same SQL', () => {
    const sql = "SELECT value FROM meta WHERE key = ?";
    expect(db.prepare(sql)).toBe(db.prepare(sql));
    expect(db.prepare(sql).get('k3')).toEqual({ value: '3' });
  });

  it('runs the same SQL while a statement of it is being iterated', () => {
    const sql = "SELECT key, value FROM meta WHERE key LIKE 'k%' ORDER BY key";
    const seen: string[] = [];
    for (const r of db.prepare(sql).iterate() as Iterable<{ key: string }>) {
      seen.push(r.key);
      // The same text again, mid-iteration: a fresh statement, not the busy one.
      expect((db.prepare(sql).all() as unknown[]).length).toBe(5);
    }
    expect(seen).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
  });
});
