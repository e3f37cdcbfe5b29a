import { SigilError, parseDuration, parseSize } from '@sigil/core';
import type { AuditRecord, ControllerConfig } from '@sigil/api';
import type { Store } from '../store/store.ts';

export type { AuditRecord };

export interface AuditQuery {
  user?: string | undefined;
  model?: string | undefined;
  /** Epoch milliseconds: records at or after it. */
  since?: number | undefined;
  /** The newest `limit` matching records are returned, oldest first. */
  limit?: number | undefined;
}

/**
 * Controller configuration for the trail (Juju's `controller-config` key
 * `audit-log-max-size`, and an age): past either, the oldest records go (checked every
 * PRUNE_EVERY records and on every change of the limits).
 */
/** The audit trail's bounds: the controller config's answer (`GET /api/controller/config`). */
export type AuditConfig = ControllerConfig;

export const DEFAULT_AUDIT_CONFIG: AuditConfig = { 'audit-log-max-size': '100M', 'audit-log-max-age': '2160h' };
/** What a record costs beside its text: its fixed fields and index entry. */
const ROW_OVERHEAD = 64;
const PRUNE_EVERY = 500;

/**
 * The audit trail: every mutating call by a user and every refused call, in the store. Not a
 * model change (nothing is appended to the change log), so recording a refused call leaves the
 * store's revision where it was.
 */
export class AuditRepository {
  private sincePrune = 0;

  constructor(private readonly s: Store) {}

  config(): AuditConfig {
    const r = this.s.db.prepare("SELECT value FROM meta WHERE key = 'audit-config'").get() as { value: string } | undefined;
    return { ...DEFAULT_AUDIT_CONFIG, ...(r ? (JSON.parse(r.value) as Partial<AuditConfig>) : {}) };
  }

  /** `sigil controller-config k=v`: checked whole before anything changes; the trail is pruned to the new limits. */
  setConfig(values: Record<string, string>): AuditConfig {
    const next = { ...this.config() };
    for (const [k, v] of Object.entries(values)) {
      if (k === 'audit-log-max-size') {
        if (parseSize(v) < 1024 ** 2) throw new SigilError('invalid-config', `audit-log-max-size ${v} is too small`, 'use at least 1M, e.g. audit-log-max-size=100M');
        next[k] = v;
      } else if (k === 'audit-log-max-age') {
        if (parseDuration(v) < 3600_000) throw new SigilError('invalid-config', `audit-log-max-age ${v} is too short`, 'use at least 1h, e.g. audit-log-max-age=2160h (90 days)');
        next[k] = v;
      } else {
        throw new SigilError('invalid-config', `unknown controller config key "${k}"`, `known keys: ${Object.keys(DEFAULT_AUDIT_CONFIG).join(', ')}`);
      }
    }
    this.s.tx(() => this.s.db.prepare("INSERT INTO meta (key, value) VALUES ('audit-config', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(JSON.stringify(next)));
    this.prune();
    return next;
  }

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

  /**
   * Drops records older than `audit-log-max-age`, then the oldest until the trail is under
   * `audit-log-max-size` (to 90 % of it, so pruning is not constant). Returns how many went.
   */
  prune(now = Date.now()): number {
    const c = this.config();
    const maxBytes = parseSize(c['audit-log-max-size']);
    const size = `LENGTH(user) + LENGTH(address) + LENGTH(method) + LENGTH(route) + LENGTH(model) + LENGTH(summary) + ${ROW_OVERHEAD}`;
    return this.s.tx(() => {
      let removed = this.s.db.prepare('DELETE FROM audit WHERE at < ?').run(now - parseDuration(c['audit-log-max-age'])).changes;
      const total = (this.s.db.prepare(`SELECT COALESCE(SUM(${size}), 0) AS n FROM audit`).get() as { n: number }).n;
      if (total > maxBytes) {
        let excess = total - Math.floor(maxBytes * 0.9);
        let cutoff = 0;
        for (const r of this.s.db.prepare(`SELECT id, ${size} AS n FROM audit ORDER BY id`).iterate() as Iterable<{ id: number; n: number }>) {
          cutoff = r.id;
          excess -= r.n;
          if (excess <= 0) break;
        }
        removed += this.s.db.prepare('DELETE FROM audit WHERE id <= ?').run(cutoff).changes;
      }
      return removed;
    });
  }
}
