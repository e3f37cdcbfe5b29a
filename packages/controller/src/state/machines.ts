import type { Store } from '../store/store.ts';
import { toMachine, type MachineRow, type StatusDoc } from './rows.ts';

/**
 * The writes of the `machines` table and its container numbering (`container_sequences`),
 * and the lookup by credential. Reads of whole machines are in `Reads`; callers hold the
 * transaction.
 */
export class MachineRepository {
  /** Prepared once: every agent request authenticates through it. */
  private byHash: ReturnType<Store['db']['prepare']> | undefined;

  constructor(private readonly s: Store) {}

  /** A new machine Sigil will provision (a container's host creates it). Records its change. */
  insert(model: string, id: string, m: { status: StatusDoc; constraints: string; autoRemove: boolean }): void {
    this.s.db
      .prepare('INSERT INTO machines (model, id, life, status, constraints, auto_remove, created) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(model, id, 'alive', JSON.stringify(m.status), m.constraints, m.autoRemove ? 1 : 0, Date.now());
    this.s.changed(model, 'machine', id);
  }

  /** An enlisted host: provisioned already, its credential issued. The caller records the change once the host is enlisted. */
  insertEnlisted(model: string, id: string, m: { status: StatusDoc; address: string; hostname: string; tokenHash: string }): void {
    this.s.db
      .prepare('INSERT INTO machines (model, id, life, status, constraints, auto_remove, created, instance_id, address, hostname, token_hash) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)')
      .run(model, id, 'alive', JSON.stringify(m.status), '', Date.now(), `manual:${m.address}`, m.address, m.hostname, m.tokenHash);
  }

  /** The host's next container number (from 0, never reused). */
  nextContainer(model: string, host: string): number {
    return (this.s.db.prepare('INSERT INTO container_sequences (model, host, next) VALUES (?, ?, 1) ON CONFLICT (model, host) DO UPDATE SET next = next + 1 RETURNING next - 1 AS n').get(model, host) as { n: number }).n;
  }

  /** The machine's credential, by hash. Records no change. */
  setTokenHash(model: string, id: string, hash: string): void {
    this.s.db.prepare('UPDATE machines SET token_hash = ? WHERE model = ? AND id = ?').run(hash, model, id);
  }

  /** The hash of the machine's credential: null before one is issued, undefined for no such machine. */
  tokenHash(model: string, id: string): string | null | undefined {
    const r = this.s.db.prepare('SELECT token_hash FROM machines WHERE model = ? AND id = ?').get(model, id) as { token_hash: string | null } | undefined;
    return r?.token_hash;
  }

  byTokenHash(hash: string): MachineRow | undefined {
    const r = (this.byHash ??= this.s.db.prepare('SELECT * FROM machines WHERE token_hash = ?')).get(hash) as Parameters<typeof toMachine>[0] | undefined;
    return r ? toMachine(r) : undefined;
  }

  /** The provider started the machine's instance. Records its change. */
  setProvisioned(model: string, id: string, info: { instanceId: string; address: string; hostname: string; status: StatusDoc }): void {
    this.s.db
      .prepare('UPDATE machines SET instance_id = ?, address = ?, hostname = ?, status = ? WHERE model = ? AND id = ?')
      .run(info.instanceId, info.address, info.hostname, JSON.stringify(info.status), model, id);
    this.s.changed(model, 'machine', id);
  }

  /** The machine's own status: a runtime field, recorded as a `status` change. */
  setStatus(model: string, id: string, status: StatusDoc): void {
    this.s.db.prepare('UPDATE machines SET status = ? WHERE model = ? AND id = ?').run(JSON.stringify(status), model, id);
    this.s.changed(model, 'machine', id, 'status');
  }

  /** The machine's row (its credential rotation and enlistment are the caller's). Records no change. */
  delete(model: string, id: string): void {
    this.s.db.prepare('DELETE FROM machines WHERE model = ? AND id = ?').run(model, id);
  }
}
