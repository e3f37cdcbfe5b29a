/** A local charm as uploaded by the CLI: every file of the directory, base64-encoded. */
export interface CharmArchive {
  files: { path: string; mode: number; data: string }[];
}

/** An upload: the archive, and where it came from (kept for export-bundle; not part of the charm's hash). */
export interface CharmUpload extends CharmArchive {
  source?: string;
}
