import { createHash } from 'node:crypto';
import { SigilError, archiveCharmFiles, checkArchiveEntries, parseCharm, type Charm } from '@sigil/core';
import type { CharmArchive, CharmUpload } from '@sigil/api';
import type { Store } from '../store/store.ts';
import { CharmRepository } from '../state/charms.ts';
import { Reads, type CharmRow } from '../state/rows.ts';
import { archiveProvenance } from './charm-provenance.ts';

/**
 * Local charms uploaded by the CLI. The archive is kept as a blob so agents fetch exactly
 * what was deployed, whatever happens to the directory on the user's disk later.
 * Re-uploading identical content reuses the revision; a change bumps it (`local:name-N`).
 */
export class Charms {
  private readonly reads: Reads;
  private readonly repo: CharmRepository;
  constructor(private readonly s: Store) {
    this.reads = new Reads(s);
    this.repo = new CharmRepository(s);
  }

  add(model: string, upload: CharmUpload): CharmRow {
    // Only the fields the archive format defines are kept, so nothing else reaches the blob.
    const archive: CharmArchive = { files: upload.files.map((f) => (f.link === undefined ? { path: f.path, mode: f.mode, data: f.data } : { path: f.path, mode: f.mode, data: '', link: f.link })) };
    const charm = parseArchive(archive);
    const data = Buffer.from(JSON.stringify(archive));
    const hash = createHash('sha256').update(data).digest('hex');
    return this.s.tx(() => {
      const same = this.repo.urlByHash(model, charm.meta.name, hash);
      if (same !== undefined) {
        if (upload.source) this.repo.setSource(model, same, upload.source);
        return this.reads.charm(model, same);
      }
      const rev = this.repo.nextRevision(model, charm.meta.name);
      const url = `local:${charm.meta.name}-${rev}`;
      this.repo.putBlob(hash, data);
      this.repo.insert(model, { url, name: charm.meta.name, revision: rev, hash, charm, source: upload.source ?? '' });
      const provenance = archiveProvenance(archive);
      if (provenance) this.repo.setProvenance(model, url, provenance);
      return this.reads.charm(model, url);
    });
  }

  blob(hash: string): Buffer {
    const data = this.repo.blob(hash);
    if (!data) throw new SigilError('not-found', `charm archive ${hash} not found`);
    return data;
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
