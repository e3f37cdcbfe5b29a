// The model log against a real SQLite file: paged reads from both ends, and pruning by age
// and size per model.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogLine } from '@sigil/api';
import { openTestDb } from '../store/test-store.ts';
import { Store } from '../store/store.ts';
import { LogRepository } from './logs.ts';

let dir: string;
let store: Store;
let logs: LogRepository;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sigil-logs-'));
  store = new Store(openTestDb(dir));
  logs = new LogRepository(store);
});
afterEach(() => {
  store.db.close();
  rmSync(dir, { recursive: true, force: true });
});

const line = (i: number, entity = 'unit-a-0', at = 1_000 + i): LogLine => ({ entity, level: i % 2 === 0 ? 'INFO' : 'DEBUG', module: 'm', message: `line ${i}`, at });

describe('LogRepository', () => {
  it('returns the last n matching lines across pages, oldest first, for one model only', () => {
    logs.append('m', Array.from({ length: 1_300 }, (_, i) => line(i)));
    logs.append('other', [line(9_999)]);
    expect(logs.last('m', 3, () => true).map((r) => r.message)).toEqual(['line 1297', 'line 1298', 'line 1299']);
    // Only every other line is INFO: the 600 wanted reach back over three pages.
    const info = logs.last('m', 600, (r) => r.level === 'INFO');
    expect(info).toHaveLength(600);
    expect(info[0]!.message).toBe('line 100');
    expect(info.at(-1)!.message).toBe('line 1298');
    expect(logs.last('m', 5, (r) => r.entity === 'nobody')).toEqual([]);
  });

  it('reads forward from a position, so a reader can resume after the last line it has', () => {
    const stored = logs.append('m', Array.from({ length: 1_200 }, (_, i) => line(i)));
    expect([...logs.forward('m')]).toHaveLength(1_200);
    const rest = [...logs.forward('m', stored[1_000]!.id)];
    expect(rest.map((r) => r.message)).toEqual(Array.from({ length: 199 }, (_, i) => `line ${1_001 + i}`));
  });

  it('prunes lines older than the age limit, then the oldest until under the size limit, per model', () => {
    const now = 10_000_000;
    logs.append('m', [line(0, 'unit-a-0', now - 100_000), line(1, 'unit-a-0', now - 100_000)]);
    logs.append('m', Array.from({ length: 1_000 }, (_, i) => ({ ...line(i + 2, 'unit-a-0', now), message: 'x'.repeat(1_000) })));
    logs.append('other', [line(0, 'unit-b-0', now - 100_000)]);
    const removed = logs.prune('m', 500_000, 50_000, now);
    const left = [...logs.forward('m')];
    expect(removed).toBe(1_002 - left.length);
    expect(left.every((r) => r.at === now)).toBe(true);
    const bytes = left.reduce((n, r) => n + r.message.length + r.entity.length + r.module.length + 48, 0);
    expect(bytes).toBeLessThanOrEqual(0.9 * 500_000);
    expect(bytes).toBeGreaterThan(0.9 * 500_000 - 1_100);
    expect(left.at(-1)!.id).toBeGreaterThan(left[0]!.id);
    expect([...logs.forward('other')]).toHaveLength(1);
    expect(logs.prune('m', 500_000, 50_000, now)).toBe(0);
  });
});
