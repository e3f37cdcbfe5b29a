/**
 * A list of file digests with the stat fields that vouch for them: a file whose size,
 * modification time and change time are the ones recorded still has the recorded content
 * (its change time moves with any write, and cannot be set back). The base image carries one
 * for its own files, written when it is built; a machine's agent keeps one for the files it
 * hashed, so the software inventory hashes only what changed since.
 *
 * One file per line, `MD5 SIZE MTIME_MS CTIME_MS PATH`, after a header line; paths are
 * absolute within the machine's root and may hold spaces (the path is the rest of the line).
 */
export const DIGEST_LIST_HEADER = 'sigil-digests 1';

/** Where the base image keeps the digests of its files (outside the inventory's search roots). */
export const IMAGE_DIGESTS_PATH = '/var/lib/sigil-image/digests';

export interface DigestEntry {
  md5: string;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

export function digestLine(path: string, e: DigestEntry): string {
  return `${e.md5} ${e.size} ${e.mtimeMs} ${e.ctimeMs} ${path}\n`;
}

/** The entries of a digest list; lines that do not parse (and a list with another header) are ignored. */
export function parseDigestList(text: string): Map<string, DigestEntry> {
  const out = new Map<string, DigestEntry>();
  if (!text.startsWith(DIGEST_LIST_HEADER + '\n')) return out;
  for (const line of text.split('\n').slice(1)) {
    const m = /^([0-9a-f]{32}) (\d+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\/.*)$/.exec(line);
    if (m) out.set(m[5]!, { md5: m[1]!, size: Number(m[2]), mtimeMs: Number(m[3]), ctimeMs: Number(m[4]) });
  }
  return out;
}

/** Whether a file's stat still vouches for a recorded digest. */
export function stillVouches(e: DigestEntry, st: { size: number; mtimeMs: number; ctimeMs: number }): boolean {
  return e.size === st.size && e.mtimeMs === st.mtimeMs && e.ctimeMs === st.ctimeMs;
}
