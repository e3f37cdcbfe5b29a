/**
 * The files a collection hashed, held compactly: a run of 50,000 files costs a few
 * megabytes of Buffers and typed arrays instead of 100,000 JS strings and 50,000 arrays
 * (which, with the garbage of making them, took the agent past 100 MB in the benchmark).
 * Directories are kept once each as strings; each file is its directory's index, its name
 * as UTF-8 in one shared Buffer, and its 16-byte md5 in another. Files are kept in the
 * order they were added (the walk adds them in path order).
 */
export class HashedFiles {
  private readonly dirs: string[] = [];
  private dirOf: Uint32Array = new Uint32Array(1024);
  /** End offset of each file's name in `names` (its start is the previous file's end). */
  private nameEnd: Uint32Array = new Uint32Array(1024);
  private names: Buffer = Buffer.allocUnsafe(64 * 1024);
  private namesLength = 0;
  private digests: Buffer = Buffer.allocUnsafe(16 * 1024);
  length = 0;

  /** Starts a directory; the files added after it are in it, until the next call. */
  addDir(dir: string): number {
    this.dirs.push(dir);
    return this.dirs.length - 1;
  }

  /** Adds a file of directory `dir` (from `addDir`) with its raw 16-byte md5. */
  add(dir: number, name: string, md5: Uint8Array): void {
    const n = this.length;
    if (n === this.dirOf.length) {
      this.dirOf = grow(this.dirOf);
      this.nameEnd = grow(this.nameEnd);
    }
    if ((n + 1) * 16 > this.digests.length) this.digests = growBuffer(this.digests, (n + 1) * 16);
    const bytes = Buffer.byteLength(name);
    if (this.namesLength + bytes > this.names.length) this.names = growBuffer(this.names, this.namesLength + bytes);
    this.namesLength += this.names.write(name, this.namesLength, 'utf8');
    this.digests.set(md5, n * 16);
    this.dirOf[n] = dir;
    this.nameEnd[n] = this.namesLength;
    this.length = n + 1;
  }

  path(i: number): string {
    return `${this.dirs[this.dirOf[i]!]!}/${this.names.toString('utf8', i === 0 ? 0 : this.nameEnd[i - 1]!, this.nameEnd[i]!)}`;
  }

  md5(i: number): string {
    return this.digests.toString('hex', i * 16, i * 16 + 16);
  }

  *entries(): IterableIterator<[string, string]> {
    for (let i = 0; i < this.length; i++) yield [this.path(i), this.md5(i)];
  }

  /** The report's wire form, `[absolute path, md5 hex][]` (for JSON.stringify; `writeJson` does not build it). */
  toJSON(): [string, string][] {
    return [...this.entries()];
  }

  /** Appends the wire form as JSON text to `out`, a few hundred entries at a time. */
  writeJson(out: Buffer[]): void {
    const parts: string[] = [];
    for (let i = 0; i < this.length; i++) {
      parts.push(`${i === 0 ? '[' : ','}[${JSON.stringify(this.path(i))},"${this.md5(i)}"]`);
      if (parts.length === 512) out.push(Buffer.from(parts.splice(0).join('')));
    }
    parts.push(this.length === 0 ? '[]' : ']');
    out.push(Buffer.from(parts.join('')));
  }
}

function grow(a: Uint32Array): Uint32Array {
  const b = new Uint32Array(a.length * 2);
  b.set(a);
  return b;
}

function growBuffer(a: Buffer, need: number): Buffer {
  const b = Buffer.allocUnsafe(Math.max(need, a.length * 2));
  a.copy(b);
  return b;
}
