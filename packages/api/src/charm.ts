import { Type } from '@sinclair/typebox';
import { MAX_ARCHIVE_PATH } from '@sigil/core';

/**
 * One entry of a charm archive. A regular file carries its bytes in `data` (base64) and its
 * permission bits in `mode`; a symbolic link carries its relative target in `link`, with
 * `data` empty. Names and targets obey core's checkArchiveEntries wherever an archive
 * crosses an edge.
 */
export interface CharmArchiveFile {
  path: string;
  mode: number;
  data: string;
  link?: string;
}

/** A local charm as uploaded by the CLI: every file of the directory, base64-encoded. */
export interface CharmArchive {
  files: CharmArchiveFile[];
}

/** An upload: the archive, and where it came from (kept for export-bundle; not part of the charm's hash). */
export interface CharmUpload extends CharmArchive {
  source?: string;
}

/**
 * The upload body's shape and bounds. Containment (no `..`, no absolute names, links that
 * stay inside) is checked by the charms domain, so the refusal names the entry and says
 * what to do.
 */
export const CharmArchiveSchema = Type.Object({
  files: Type.Array(Type.Object({
    path: Type.String({ minLength: 1, maxLength: MAX_ARCHIVE_PATH }),
    mode: Type.Integer({ minimum: 0, maximum: 0o7777 }),
    data: Type.String(),
    link: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_ARCHIVE_PATH })),
  }, { additionalProperties: false })),
  source: Type.Optional(Type.String()),
}, { additionalProperties: false });
