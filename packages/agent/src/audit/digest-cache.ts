import { lstatSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { DIGEST_LIST_HEADER, IMAGE_DIGESTS_PATH, DigestList, digestLine, parseDigestList, stillVouches } from '@sigil/core';
import { MERGED_USR } from './dpkg.ts';
import { digestFileSync, type FileStat, type Md5 } from './walk.ts';

/**
 * A file changed this recently may change again within the same clock tick with the same
 * size, leaving its stat as it was: its digest is not kept (git's "racily clean" entries).
 */
const SETTLED_MS = 2_000;

/**
 * The md5 of a machine's files, hashed only when their stat no longer vouches for a digest
 * already known: from the base image's list (its files, hashed once per host when the image
 * was built) or from this machine's own list (what earlier collections hashed). Most of a
 * machine's files are the image's, untouched, so a collection reads their stat and not
 * their content.
 */
export class DigestCache {
  /** What this collection read, or found still valid in the machine's own list: the next list, as bytes. */
  private readonly kept = new ByteSink(DIGEST_LIST_HEADER + '\n');
  hits = 0;
  hashed = 0;

  private constructor(
    private readonly root: string,
    private readonly image: DigestList,
    private readonly own: DigestList,
    private readonly ownFile: string | undefined,
    private readonly now: number,
  ) {}

  /** The image's list under `root` and the machine's own list in `ownFile` (either may be missing). */
  static async load(root: string, ownFile: string | undefined, now = Date.now()): Promise<DigestCache> {
    const read = (p: string) => readFile(p, 'utf8').then(parseDigestList, () => new DigestList());
    const [image, own] = await Promise.all([read(join(root, IMAGE_DIGESTS_PATH)), ownFile ? read(ownFile) : new DigestList()]);
    return new DigestCache(root, image, own, ownFile, now);
  }

  readonly md5: Md5 = (path, skips, maxSize, buf, lstat) => {
    const rel = path.startsWith(this.root) ? path.slice(this.root.length).replace(/^\/*/, '/') : path;
    const own = this.own.get(rel);
    // dpkg names merged-/usr files by their old paths (lib/…), the image's list by where they are.
    const known = own ?? this.image.get(rel) ?? (MERGED_USR.test(rel.slice(1)) ? this.image.get(`/usr${rel}`) : undefined);
    // Only a known file costs a stat of its own: the others are read, and their stat comes with them.
    if (known) {
      const st = lstat ?? lstatSync(path, { throwIfNoEntry: false });
      if (st?.isFile() && st.size <= maxSize && stillVouches(known, st)) {
        this.hits++;
        if (own) this.kept.write(digestLine(rel, own));
        return Buffer.from(known.md5, 'hex');
      }
    }
    const st: FileStat = { size: 0, mtimeMs: 0, ctimeMs: 0 };
    const digest = digestFileSync(path, 'md5', skips, maxSize, buf, st);
    this.hashed++;
    if (digest && !rel.includes('\n') && this.now - Math.max(st.mtimeMs, st.ctimeMs) > SETTLED_MS) {
      this.kept.write(digestLine(rel, { md5: digest.toString('hex'), ...st }));
    }
    return digest;
  };

  /** Writes the machine's own list (replaced whole, atomically): the files hashed or confirmed by this collection. */
  async save(): Promise<void> {
    if (!this.ownFile) return;
    await mkdir(dirname(this.ownFile), { recursive: true });
    await writeFile(this.ownFile + '.new', this.kept.chunks(), { mode: 0o600 });
    await rename(this.ownFile + '.new', this.ownFile);
  }
}

/**
 * Text written into fixed-size buffers as it comes: tens of thousands of lines are held as
 * their bytes, not as strings (each line's pieces would be kept alive by the string that
 * joins them), and written out without being joined.
 */
class ByteSink {
  private readonly full: Buffer[] = [];
  private buf = Buffer.allocUnsafe(SINK_CHUNK);
  private used = 0;

  constructor(first: string) {
    this.write(first);
  }

  write(text: string): void {
    const n = Buffer.byteLength(text);
    if (this.used + n > this.buf.length) {
      this.full.push(this.buf.subarray(0, this.used));
      this.buf = Buffer.allocUnsafe(Math.max(SINK_CHUNK, n));
      this.used = 0;
    }
    this.used += this.buf.write(text, this.used);
  }

  chunks(): Readable {
    return Readable.from([...this.full, this.buf.subarray(0, this.used)]);
  }
}

const SINK_CHUNK = 256 * 1024;
