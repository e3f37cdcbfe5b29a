import type { Store } from '../store/store.ts';

/** One call in the audit trail. Never a request body: only what was called, on what, by whom. */
export interface AuditRecord {
  id: number;
  /** Epoch milliseconds. */
  at: number;
  /** The user's name, `machine-N` (with its model) for an agent, or `-` for no valid credential. */
  user: string;
  address: string;
  method: string;
  /** The matched route pattern (`POST /api/models/:model/applications`), or the raw path of an unmatched call. */
  route: string;
  model: string;
  summary: string;
  /** The HTTP status the call got. */
  status: number;
}

export interface AuditQuery {
  user?: string | undefined;
  model?: string | undefined;
  /** Epoch milliseconds: records at or after it. */
  since?: number | undefined;
  /** The newest `limit` matching records are returned, oldest first. */
  limit?: number | undefined;
}

/** The trail is bounded: past either limit the oldest records go (checked every PRUNE_EVERY records). */
export const AUDIT_MAX_RECORDS = 100_000;
export const AUDIT_MAX_AGE_MS = 90 * 24 * 3600_000;
const PRUNE_EVERY = 500;

/**
 * The audit trail: every mutating call by a user and every refused call, in the store. Not a
 * model change (nothing is appended to the change log), so recording a refused call leaves the
 * store's revision where it was.
 */
export class AuditRepository {
  private sincePrune = 0;

  constructor(private readonly s: Store, private readonly limits = { maxRecords: AUDIT_MAX_RECORDS, maxAgeMs: AUDIT_MAX_AGE_MS }) {}

  record(r: Omit<AuditRecord, 'id'>): void {
    const clip = (t: string, n: number) => (t.length > n ? t.slice(0, n - 1) + '…' : t);
    this.s.db
      .prepare('INSERT INTO audit (at, user, address, method, route, model, summary, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(r.at, clip(r.user, 128), clip(r.address, 64), clip(r.method, 16), clip(r.route, 256), clip(r.model, 128), clip(r.summary, 512), r.status);
    if (++this.sincePrune >= PRUNE_EVERY) {
      this.sincePrune = 0;
      this.prune();
    }
  }

  query(q: AuditQuery = {}): AuditRecord[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.user !== undefined) (where.push('user = ?'), args.push(q.user));
    if (q.model !== undefined) (where.push('model = ?'), args.push(q.model));
    if (q.since !== undefined) (where.push('at >= ?'), args.push(q.since));
    const limit = Math.max(1, Math.min(q.limit ?? 1000, 100_000));
    const rows = this.s.db.prepare(`SELECT * FROM audit ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`).all(...args, limit) as AuditRecord[];
    return rows.reverse();
  }

  /** Drops records older than the age limit, then the oldest past the count limit. Returns how many went. */
  prune(now = Date.now()): number {
    return this.s.tx(() => {
      let removed = this.s.db.prepare('DELETE FROM audit WHERE at < ?').run(now - this.limits.maxAgeMs).changes;
      const newest = (this.s.db.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM audit').get() as { id: number }).id;
      removed += this.s.db.prepare('DELETE FROM audit WHERE id <= ?').run(newest - this.limits.maxRecords).changes;
      return removed;
    });
  }
}
