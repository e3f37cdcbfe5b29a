import { createHash } from 'node:crypto';
import { COLLECT_INFO_FILE, findArchiveFile, verifyCollectInfo, type CharmProvenance } from '@sigil/core';
import type { CharmArchive, CharmProvenanceDoc } from '@sigil/api';

/**
 * Provenance of an uploaded charm: when the archive holds a collect-info (the charm was
 * gathered with `sigil collect`), where it came from and whether the uploaded files still
 * match the hashes recorded at collection. Hashed as `sigil collect` hashes a tree: hidden
 * names and the info file itself left out, a link to a file hashed through.
 * Undefined when there is no collect-info or it does not parse: never an upload error.
 */
export function archiveProvenance(archive: CharmArchive): CharmProvenance | undefined {
  const info = archive.files.find((f) => f.path === COLLECT_INFO_FILE && f.link === undefined);
  if (!info) return undefined;
  const hashes: Record<string, string> = {};
  for (const f of archive.files) {
    if (f.path === COLLECT_INFO_FILE || f.path.split('/').some((part) => part.startsWith('.'))) continue;
    const target = f.link === undefined ? f : findArchiveFile(archive.files, f.path);
    if (!target || target.link !== undefined) continue;
    hashes[f.path] = createHash('sha256').update(Buffer.from(target.data, 'base64')).digest('hex');
  }
  return verifyCollectInfo(Buffer.from(info.data, 'base64').toString('utf8'), hashes);
}

/** The status form of a recorded provenance (status keys are kebab-case). */
export function provenanceDoc(p: CharmProvenance): CharmProvenanceDoc {
  return {
    source: p.source,
    url: p.url,
    ...(p.commit !== undefined ? { commit: p.commit } : {}),
    ...(p.digest !== undefined ? { sha256: p.digest } : {}),
    'collected-at': p.collected,
    files: p.files,
    matches: p.matches,
    modified: p.modified,
    missing: p.missing,
  };
}
