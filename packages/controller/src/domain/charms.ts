import { createHash } from 'node:crypto';
import { SigilError, archiveCharmFiles, checkArchiveEntries, parseCharm, type Charm } from '@sigil/core';
import type { CharmArchive, CharmUpload } from '@sigil/api';
import type { Store } from '../store/store.ts';
import { Reads, type CharmRow } from './rows.ts';
import { archiveProvenance } from './charm-provenance.ts';

/**
 * Local charms uploaded by the CLI. The archive is kept as a blob so agents fetch exactly
 * what was deployed, whatever happens to the directory on the user's disk later.
 * Re-uploading identical content reuses the revision; a change bumps it (`local:name-N`).
 */
export class Charms {
  private readonly reads: Reads;
  constructor(private readonly s: Store) {
    this.reads = new Reads(s);
  }

  add(model: string, upload: CharmUpload): CharmRow {
    // Only the fields the archive format defines are kept, so nothing else reaches the blob.
    const archive: CharmArchive = { files: upload.files.map((f) => (f.link === undefined ? { path: f.path, mode: f.mode, data: f.data } : { path: f.path, mode: f.mode, data: '', link: f.link })) };
    const charm = parseArchive(archive);
    const data = Buffer.from(JSON.stringify(archive));
    const hash = createHash('sha256').update(data).digest('hex');
    return this.s.tx(() => {
      const same = this.s.db.prepare('SELECT url FROM charms WHERE model = ? AND name = ? AND hash = ?').get(model, charm.meta.name, hash) as { url: string } | undefined;
      if (same) {
        if (upload.source) this.s.db.prepare('UPDATE charms SET source = ? WHERE model = ? AND url = ?').run(upload.source, model, same.url);
        return this.reads.charm(model, same.url);
      }
      const rev = (this.s.db.prepare('SELECT COALESCE(MAX(revision), -1) + 1 AS r FROM charms WHERE model = ? AND name = ?').get(model, charm.meta.name) as { r: number }).r;
      const url = `local:${charm.meta.name}-${rev}`;
      this.s.db.prepare('INSERT OR IGNORE INTO blobs (hash, data) VALUES (?, ?)').run(hash, data);
      this.s.db.prepare('INSERT INTO charms (model, url, name, revision, hash, charm, source) VALUES (?, ?, ?, ?, ?, ?, ?)').run(model, url, charm.meta.name, rev, hash, JSON.stringify(charm), upload.source ?? '');
      const provenance = archiveProvenance(archive);
      if (provenance) this.s.db.prepare('INSERT OR REPLACE INTO charm_provenance (model, url, data) VALUES (?, ?, ?)').run(model, url, JSON.stringify(provenance));
      this.s.changed(model, 'charm', url);
      return this.reads.charm(model, url);
    });
  }

  blob(hash: string): Buffer {
    const r = this.s.db.prepare('SELECT data FROM blobs WHERE hash = ?').get(hash) as { data: Buffer } | undefined;
    if (!r) throw new SigilError('not-found', `charm archive ${hash} not found`);
    return r.data;
  }
}

/**
 * Checks an archive from outside — every entry name and link target contained, as core's
 * checkArchiveEntries defines — and parses the charm it holds, reading its YAML through
 * links inside the archive. Throws 'invalid-charm' naming the entry; nothing is stored.
 */
export function parseArchive(archive: CharmArchive): Charm {
  checkArchiveEntries(archive.files);
  const files = archiveCharmFiles(archive.files, (f) => Buffer.from(f.data, 'base64').toString('utf8'));
  if (files.metadata === undefined) {
    throw new SigilError('invalid-charm', 'charm has no metadata.yaml', 'a charm directory needs metadata.yaml with name, summary and description');
  }
  return parseCharm(files);
}
