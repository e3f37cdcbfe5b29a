/** A local charm as uploaded by the CLI: every file of the directory, base64-encoded. */
export interface CharmArchive {
  files: { path: string; mode: number; data: string }[];
}
