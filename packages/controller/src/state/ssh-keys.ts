import type { Store } from '../store/store.ts';

export interface StoredSshKey {
  fingerprint: string;
  md5: string;
  comment: string;
  /** The key's authorized_keys line. */
  key: string;
  addedBy: string;
  added: number;
}

/** The `ssh_keys` table: a model's public keys, in the order they were added. */
export class SshKeyRepository {
  constructor(private readonly s: Store) {}

  list(model: string): StoredSshKey[] {
    return this.s.db
      .prepare('SELECT fingerprint, md5, comment, key, added_by AS addedBy, added FROM ssh_keys WHERE model = ? ORDER BY added, rowid')
      .all(model) as StoredSshKey[];
  }

  insert(model: string, k: Omit<StoredSshKey, 'added'>): StoredSshKey {
    const added = Date.now();
    this.s.db.prepare('INSERT INTO ssh_keys (model, fingerprint, md5, comment, key, added_by, added) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(model, k.fingerprint, k.md5, k.comment, k.key, k.addedBy, added);
    return { ...k, added };
  }

  delete(model: string, fingerprint: string): void {
    this.s.db.prepare('DELETE FROM ssh_keys WHERE model = ? AND fingerprint = ?').run(model, fingerprint);
  }
}
