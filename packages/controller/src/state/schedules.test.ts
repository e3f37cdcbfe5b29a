import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SigilError } from '@sigil/core';
import { openTestDb } from '../store/test-store.ts';
import { Store } from '../store/store.ts';
import { BackupStore } from '../domain/backup-store.ts';
import { formatEvery, parseEvery } from './schedules.ts';

describe('schedule intervals', () => {
  it.each([
    ['1m', 60_000, '1m'],
    ['90m', 5_400_000, '90m'],
    ['6h', 21_600_000, '6h'],
    ['1h30m', 5_400_000, '90m'],
    ['1d', 86_400_000, '1d'],
    ['14d', 14 * 86_400_000, '14d'],
  ])('%s is %d ms, shown as %s', (text, ms, shown) => {
    expect(parseEvery(text)).toBe(ms);
    expect(formatEvery(ms)).toBe(shown);
  });

  it.each([
    ['', 'is not an interval'],
    ['6 hours', 'is not an interval'],
    ['-1h', 'is not an interval'],
    ['30s', 'is outside 1m..366d'],
    ['400d', 'is outside 1m..366d'],
  ])('refuses %j', (text, why) => {
    try {
      parseEvery(text);
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(SigilError);
      expect((e as SigilError).message).toContain(why);
      expect((e as SigilError).hint).toMatch(/^give /);
    }
  });
});

describe('local backup store', () => {
  it('keeps copies, prunes beyond keep, and fetches one back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigil-store-'));
    try {
      const store = new Store(openTestDb(dir));
      const bs = new BackupStore(store, dir);
      await expect(bs.configure('local', 'relative/path', undefined)).rejects.toThrow('is not a clean absolute path');
      expect(bs.config()).toBeUndefined();
      await bs.configure('local', join(dir, 'store'), undefined);
      const ids: string[] = [];
      for (const v of ['one', 'two', 'three']) {
        const staged = join(dir, 'staging', 'dump');
        mkdirSync(staged, { recursive: true });
        writeFileSync(join(staged, 'data.txt'), v);
        ids.push((await bs.put({ model: 'm', schedule: 'nightly', unit: 'pg/0', app: 'pg', sourcePath: '/var/backups/x', staged })).id);
        rmSync(join(dir, 'staging'), { recursive: true });
      }
      expect(await bs.prune('m', 'nightly', 2)).toBe(1);
      expect(bs.list('m').map((s) => s.id)).toEqual(ids.slice(1));
      expect(existsSync(join(dir, 'store', 'm', 'pg', ids[0]!))).toBe(false);
      const back = await bs.fetch('m', ids[2]!, join(dir, 'out'));
      expect(readFileSync(join(back, 'data.txt'), 'utf8')).toBe('three');
      store.db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
