import type { StatusHistoryEntry, StatusHistoryKind } from '@sigil/api';
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
}
