import type { LogLine } from '@sigil/api';
import type { Store } from '../store/store.ts';

export interface LogRecord extends LogLine {
  id: number;
  model: string;
}

/** Roughly what a stored line costs: its text plus the row's fixed fields. */
const ROW_OVERHEAD = 48;
const PAGE = 500;

/**
 * The model log (`debug-log`): appended by agents and the controller, read from a
 * position through the (model, id) index, and pruned by size and age. Logs are not model
 * changes: a chatty hook never wakes anyone's watcher.
 */
export class LogRepository {
  constructor(private readonly s: Store) {}

  /** Stores the lines in one transaction; returns them with their ids. */
  append(model: string, lines: readonly LogLine[]): LogRecord[] {
    const insert = this.s.db.prepare('INSERT INTO logs (model, entity, level, module, message, at) VALUES (?, ?, ?, ?, ?, ?)');
    return this.s.tx(() => lines.map((l) => ({ ...l, model, id: Number(insert.run(model, l.entity, l.level, l.module, l.message, l.at).lastInsertRowid) })));
  }

  /** Lines after `afterId`, oldest first, a page at a time: a long log is never read whole. */
  *forward(model: string, afterId = 0): Generator<LogRecord> {
    const page = this.s.db.prepare('SELECT id, model, entity, level, module, message, at FROM logs WHERE model = ? AND id > ? ORDER BY id LIMIT ?');
    for (let after = afterId; ;) {
      const rows = page.all(model, after, PAGE) as LogRecord[];
      yield* rows;
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1]!.id;
    }
  }

  /** The last `n` lines that pass `keep`, oldest first, read backwards a page at a time. */
  last(model: string, n: number, keep: (r: LogRecord) => boolean): LogRecord[] {
    const page = this.s.db.prepare('SELECT id, model, entity, level, module, message, at FROM logs WHERE model = ? AND id < ? ORDER BY id DESC LIMIT ?');
    const found: LogRecord[] = [];
    for (let before = Number.MAX_SAFE_INTEGER; found.length < n;) {
      const rows = page.all(model, before, PAGE) as LogRecord[];
      for (const r of rows) if (found.length < n && keep(r)) found.push(r);
      if (rows.length < PAGE) break;
      before = rows[rows.length - 1]!.id;
    }
    return found.reverse();
  }

  /**
   * Drops a model's oldest lines: those older than `maxAgeMs`, then as many more as it takes
   * to bring the model's log under `maxBytes` (to 90 % of it, so pruning is not constant).
   * Returns how many lines went.
   */
  prune(model: string, maxBytes: number, maxAgeMs: number, now = Date.now()): number {
    return this.s.tx(() => {
      let removed = this.s.db.prepare('DELETE FROM logs WHERE model = ? AND at < ?').run(model, now - maxAgeMs).changes;
      const size = (this.s.db.prepare(`SELECT COALESCE(SUM(LENGTH(message) + LENGTH(entity) + LENGTH(module) + ${ROW_OVERHEAD}), 0) AS n FROM logs WHERE model = ?`).get(model) as { n: number }).n;
      if (size > maxBytes) {
        let excess = size - Math.floor(maxBytes * 0.9);
        let cutoff = 0;
        for (const r of this.s.db.prepare(`SELECT id, LENGTH(message) + LENGTH(entity) + LENGTH(module) + ${ROW_OVERHEAD} AS n FROM logs WHERE model = ? ORDER BY id`).iterate(model) as Iterable<{ id: number; n: number }>) {
          cutoff = r.id;
          excess -= r.n;
          if (excess <= 0) break;
        }
        removed += this.s.db.prepare('DELETE FROM logs WHERE model = ? AND id <= ?').run(model, cutoff).changes;
      }
      return removed;
    });
  }
}
