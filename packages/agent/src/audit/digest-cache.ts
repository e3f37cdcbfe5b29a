import { lstatSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DIGEST_LIST_HEADER, IMAGE_DIGESTS_PATH, digestLine, parseDigestList, stillVouches, type DigestEntry } from '@sigil/core';
import { MERGED_USR } from './dpkg.ts';
import { plainMd5, type Md5 } from './walk.ts';

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
  /** What this collection hashed or found still valid in the machine's own list: the next list. */
  private readonly kept = new Map<string, DigestEntry>();
  hits = 0;
  hashed = 0;

  private constructor(
    private readonly root: string,
    private readonly image: Map<string, DigestEntry>,
    private readonly own: Map<string, DigestEntry>,
    private readonly ownFile: string | undefined,
    private readonly now: number,
  ) {}

  /** The image's list under `root` and the machine's own list in `ownFile` (either may be missing). */
  static async load(root: string, ownFile: string | undefined, now = Date.now()): Promise<DigestCache> {
    const read = (p: string) => readFile(p, 'utf8').then(parseDigestList, () => new Map<string, DigestEntry>());
    const [image, own] = await Promise.all([read(join(root, IMAGE_DIGESTS_PATH)), ownFile ? read(ownFile) : new Map<string, DigestEntry>()]);
    return new DigestCache(root, image, own, ownFile, now);
  }

  readonly md5: Md5 = (path, skips, maxSize, buf) => {
    const rel = path.startsWith(this.root) ? path.slice(this.root.length).replace(/^\/*/, '/') : path;
    let st;
    try {
      st = lstatSync(path);
    } catch {
      return plainMd5(path, skips, maxSize, buf);
    }
    if (st.isFile() && st.size <= maxSize) {
      const own = this.own.get(rel);
      // dpkg names merged-/usr files by their old paths (lib/…), the image's list by where they are.
      const known = own ?? this.image.get(rel) ?? (MERGED_USR.test(rel.slice(1)) ? this.image.get(`/usr${rel}`) : undefined);
      if (known && stillVouches(known, st)) {
        this.hits++;
        if (own) this.kept.set(rel, own);
        return Buffer.from(known.md5, 'hex');
      }
    }
    const digest = plainMd5(path, skips, maxSize, buf);
    this.hashed++;
    if (digest && st.isFile() && !rel.includes('\n') && this.now - Math.max(st.mtimeMs, st.ctimeMs) > SETTLED_MS) {
      this.kept.set(rel, { md5: digest.toString('hex'), size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs });
    }
    return digest;
  };

  /** Writes the machine's own list (replaced whole, atomically): the files hashed or confirmed by this collection. */
  async save(): Promise<void> {
    if (!this.ownFile) return;
    const parts = [DIGEST_LIST_HEADER + '\n'];
    for (const [path, e] of this.kept) parts.push(digestLine(path, e));
    await mkdir(dirname(this.ownFile), { recursive: true });
    await writeFile(this.ownFile + '.new', parts.join(''), { mode: 0o600 });
    await rename(this.ownFile + '.new', this.ownFile);
  }
}
