import type { Charm, CharmProvenance } from '@sigil/core';
import type { Store } from '../store/store.ts';

/** An uploaded charm as the GUI's library lists it. */
export interface UploadedCharm {
  name: string;
  revision: number;
  hash: string;
  charm: Charm;
  source: string;
}

/**
 * The `charms` table (local charms uploaded to a model), `charm_provenance` and the
 * archives kept as `blobs` under their hash. Callers hold the transaction.
 */
export class CharmRepository {
  constructor(private readonly s: Store) {}

  /** The URL of the model's charm of this name with this archive, if it was uploaded already. */
  urlByHash(model: string, name: string, hash: string): string | undefined {
    return (this.s.db.prepare('SELECT url FROM charms WHERE model = ? AND name = ? AND hash = ?').get(model, name, hash) as { url: string } | undefined)?.url;
  }

  /** Where the charm was uploaded from, as the CLI last said. */
  setSource(model: string, url: string, source: string): void {
    this.s.db.prepare('UPDATE charms SET source = ? WHERE model = ? AND url = ?').run(source, model, url);
  }

  /** The next revision of a charm name in the model (0 for the first). */
  nextRevision(model: string, name: string): number {
    return (this.s.db.prepare('SELECT COALESCE(MAX(revision), -1) + 1 AS r FROM charms WHERE model = ? AND name = ?').get(model, name) as { r: number }).r;
  }

  /** Keeps an archive under its hash (once). */
  putBlob(hash: string, data: Buffer): void {
    this.s.db.prepare('INSERT OR IGNORE INTO blobs (hash, data) VALUES (?, ?)').run(hash, data);
  }

  blob(hash: string): Buffer | undefined {
    return (this.s.db.prepare('SELECT data FROM blobs WHERE hash = ?').get(hash) as { data: Buffer } | undefined)?.data;
  }

  /** A new charm revision. */
  insert(model: string, c: { url: string; name: string; revision: number; hash: string; charm: Charm; source: string }): void {
    this.s.db.prepare('INSERT INTO charms (model, url, name, revision, hash, charm, source) VALUES (?, ?, ?, ?, ?, ?, ?)').run(model, c.url, c.name, c.revision, c.hash, JSON.stringify(c.charm), c.source);
    this.s.changed(model, 'charm', c.url);
  }

  setProvenance(model: string, url: string, provenance: CharmProvenance): void {
    this.s.db.prepare('INSERT OR REPLACE INTO charm_provenance (model, url, data) VALUES (?, ?, ?)').run(model, url, JSON.stringify(provenance));
  }

  /** Every model's uploaded charms, newest first. */
  uploaded(): UploadedCharm[] {
    const rows = this.s.db.prepare('SELECT name, revision, hash, charm, source FROM charms ORDER BY rowid DESC').all() as (Omit<UploadedCharm, 'charm'> & { charm: string })[];
    return rows.map((r) => ({ ...r, charm: JSON.parse(r.charm) as Charm }));
  }
}
