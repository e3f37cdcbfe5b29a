import type { StatusHistoryEntry, StatusHistoryKind } from '@sigil/api';
import { STATUS_HISTORY_KEEP } from '../store/schema.ts';
import { json, type Store } from '../store/store.ts';

/**
 * The `status_history` table (filled by the schema's triggers): the newest `limit`
 * entries of an entity's chosen kinds, returned oldest first as show-status-log prints them.
 */
export class StatusHistoryRepository {
  constructor(private readonly s: Store) {}

  list(model: string, entity: string, kinds: readonly StatusHistoryKind[], limit: number): StatusHistoryEntry[] {
    const rows = this.s.db
      .prepare(`SELECT kind, status, message, data, at FROM status_history WHERE model = ? AND entity = ? AND kind IN (${kinds.map(() => '?').join(', ')}) ORDER BY at DESC, id DESC LIMIT ?`)
      .all(model, entity, ...kinds, limit) as { kind: StatusHistoryKind; status: string; message: string; data: string; at: number }[];
    return rows.reverse().map((r) => ({ type: r.kind, status: r.status, message: r.message, data: json<Record<string, unknown>>(r.data, {}), since: r.at }));
  }

  /**
   * Appends an entry that no status column holds, e.g. a machine agent connecting (issue 21:
   * `status --timeline` shows when each agent came up), bounded like the triggers' entries.
   */
  append(model: string, entity: string, kind: StatusHistoryKind, status: string, message: string, at: number): void {
    // Kept for people: a commit of it does not wait on the disk where that is slow.
    this.s.txRelaxed(() => {
      this.s.db.prepare('INSERT INTO status_history (model, entity, kind, status, message, data, at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(model, entity, kind, status, message, '{}', at);
      this.s.db
        .prepare('DELETE FROM status_history WHERE model = ? AND entity = ? AND kind = ? AND id <= (SELECT id FROM status_history WHERE model = ? AND entity = ? AND kind = ? ORDER BY id DESC LIMIT 1 OFFSET ?)')
        .run(model, entity, kind, model, entity, kind, STATUS_HISTORY_KEEP);
    });
  }
}
