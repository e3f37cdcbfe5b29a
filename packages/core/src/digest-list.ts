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

/**
 * A parsed digest list. Each line is kept as a slice of the list's text and read when its
 * path is asked for: a machine's list can hold tens of thousands of files, and most are
 * never asked for by one collection.
 */
export class DigestList {
  private readonly lines = new Map<string, string>();

  /** The entries of a digest list's text; lines that do not parse (and a list with another header) are left out. */
  constructor(text = '') {
    if (!text.startsWith(DIGEST_LIST_HEADER + '\n')) return;
    for (let at = DIGEST_LIST_HEADER.length + 1; at < text.length;) {
      let end = text.indexOf('\n', at);
      if (end === -1) end = text.length;
      const line = text.slice(at, end);
      at = end + 1;
      // md5, size, mtime, ctime, then the path (which may hold spaces) from the 4th space on.
      let sp = -1;
      for (let i = 0; i < 4 && (sp = line.indexOf(' ', sp + 1)) !== -1; i++);
      if (sp !== -1 && line[sp + 1] === '/' && LINE.test(line.slice(0, sp + 1))) this.lines.set(line.slice(sp + 1), line.slice(0, sp));
    }
  }

  get size(): number {
    return this.lines.size;
  }

  get(path: string): DigestEntry | undefined {
    const head = this.lines.get(path);
    if (head === undefined) return undefined;
    const [md5, size, mtimeMs, ctimeMs] = head.split(' ');
    return { md5: md5!, size: Number(size), mtimeMs: Number(mtimeMs), ctimeMs: Number(ctimeMs) };
  }

  paths(): IterableIterator<string> {
    return this.lines.keys();
  }
}

const LINE = /^[0-9a-f]{32} \d+ \d+(?:\.\d+)? \d+(?:\.\d+)? $/;

/** The entries of a digest list's text (see `DigestList`). */
export function parseDigestList(text: string): DigestList {
  return new DigestList(text);
}

/** Whether a file's stat still vouches for a recorded digest. */
export function stillVouches(e: DigestEntry, st: { size: number; mtimeMs: number; ctimeMs: number }): boolean {
  return e.size === st.size && e.mtimeMs === st.mtimeMs && e.ctimeMs === st.ctimeMs;
}
