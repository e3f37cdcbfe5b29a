import type { Store } from '../store/store.ts';

/**
 * The `credential_rotations` table: a machine whose agent was asked to take a new
 * credential, and the hash of the new token once the agent fetched it. Records no change
 * (the machine service does); callers hold the transaction.
 */
export class CredentialRotationRepository {
  constructor(private readonly s: Store) {}

  /** The machine whose pending (fetched, not yet used) token has this hash. */
  byPendingHash(hash: string): { model: string; id: string } | undefined {
    return this.s.db.prepare('SELECT model, machine AS id FROM credential_rotations WHERE pending_hash = ?').get(hash) as { model: string; id: string } | undefined;
  }

  /** A new request, replacing one already waiting (and any token it had issued). */
  request(model: string, machine: string): void {
    this.s.db.prepare('INSERT OR REPLACE INTO credential_rotations (model, machine, requested, pending_hash) VALUES (?, ?, ?, NULL)').run(model, machine, Date.now());
  }

  pending(model: string, machine: string): boolean {
    return this.s.db.prepare('SELECT 1 FROM credential_rotations WHERE model = ? AND machine = ?').get(model, machine) !== undefined;
  }

  /** Records the new token's hash; false when no rotation was requested. */
  setPendingHash(model: string, machine: string, hash: string): boolean {
    return this.s.db.prepare('UPDATE credential_rotations SET pending_hash = ? WHERE model = ? AND machine = ?').run(hash, model, machine).changes > 0;
  }

  delete(model: string, machine: string): void {
    this.s.db.prepare('DELETE FROM credential_rotations WHERE model = ? AND machine = ?').run(model, machine);
  }
}
