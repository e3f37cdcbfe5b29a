import { createHash, hash as oneShotHash } from 'node:crypto';
import type { Dirent, Stats } from 'node:fs';
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { SkipSummary } from '@sigil/api';
import { HashedFiles } from './hashed-files.ts';

export interface WalkLimits {
  /** Files listed at most, over all roots; the walk stops there and says so. */
  maxFiles: number;
  /** Larger files are listed as skipped, not hashed. */
  maxFileSize: number;
  maxDepth: number;
}

export const DEFAULT_LIMITS: WalkLimits = { maxFiles: 200_000, maxFileSize: 64 * 1024 ** 2, maxDepth: 48 };

/** Counts what the collector passed over, keeping a few examples for the report. */
export class Skips {
  count = 0;
  readonly byReason: Record<string, number> = {};
  readonly samples: { path: string; reason: string }[] = [];

  add(path: string, reason: string): void {
    this.count++;
    this.byReason[reason] = (this.byReason[reason] ?? 0) + 1;
    if (this.samples.length < 20) this.samples.push({ path, reason });
  }

  summary(): SkipSummary {
    return { count: this.count, byReason: { ...this.byReason }, samples: [...this.samples] };
  }
}

function reasonOf(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM' ? 'unreadable' : code === 'ENOENT' ? 'vanished' : code === 'ELOOP' ? 'symbolic link (not followed)' : `error ${code ?? 'unknown'}`;
}

/**
 * Synchronous file-system calls in short slices: one call costs a few microseconds where a
 * promise through libuv's thread pool costs tens, and tens of thousands of files are the
 * normal case. After each slice the event loop runs, so the agent stays responsive.
 */
export class Slicer {
  private started = performance.now();
  constructor(private readonly sliceMs = 8) {}

  async maybeYield(): Promise<void> {
    if (performance.now() - this.started < this.sliceMs) return;
    await yieldToLoop();
    this.started = performance.now();
  }
}

/**
 * Lists the regular files under `roots`, never following a symbolic link (a link is not
 * content, and following one can leave the root or loop), never entering a directory twice
 * (bind mounts can loop too), and stopping at the limits with a skip that says so.
 * `exclude` tells paths to leave out (files a package owns); excluded files are not skips.
 */
export async function listFiles(roots: string[], limits: WalkLimits, skips: Skips, exclude: (path: string) => boolean = () => false, slicer = new Slicer()): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  let full = false;
  for (const root of roots) {
    let st;
    try {
      st = lstatSync(root);
    } catch {
      continue;
    }
    if (!st.isDirectory()) continue;
    const stack: { dir: string; depth: number }[] = [{ dir: root, depth: 0 }];
    while (stack.length > 0 && !full) {
      await slicer.maybeYield();
      const { dir, depth } = stack.pop()!;
      let entries;
      try {
        const ds = lstatSync(dir);
        const id = `${ds.dev}:${ds.ino}`;
        if (seen.has(id)) {
          skips.add(dir, 'directory seen before (loop)');
          continue;
        }
        seen.add(id);
        entries = readdirSync(dir, { withFileTypes: true });
      } catch (e) {
        skips.add(dir, reasonOf(e));
        continue;
      }
      entries.sort((a, b) => (a.name < b.name ? 1 : -1));
      for (const e of entries) {
        const path = join(dir, e.name);
        if (e.isDirectory()) {
          if (depth + 1 > limits.maxDepth) skips.add(path, 'too deep');
          else stack.push({ dir: path, depth: depth + 1 });
        } else if (e.isSymbolicLink()) {
          skips.add(path, 'symbolic link (not followed)');
        } else if (e.isFile()) {
          if (exclude(path)) continue;
          if (out.length >= limits.maxFiles) {
            skips.add(path, `file limit reached (${limits.maxFiles}): the rest of the tree was not listed`);
            full = true;
            break;
          }
          out.push(path);
        }
        // Sockets, fifos and devices hold no content to compare: passed over silently.
      }
    }
  }
  return out;
}

const CHUNK = 1024 * 1024;

/**
 * The digest of one file (md5 or sha256), or undefined (with a skip) when it cannot be
 * read or is over the size limit. O_NOFOLLOW: a file swapped for a link since it was listed
 * is not followed. `buf` is a reusable read buffer of at least 1 MiB; a file that fits in
 * it is hashed in one call, without a Hash object. `statOut` receives the stat of what was read.
 */
export function digestFileSync(path: string, algorithm: 'md5' | 'sha256', skips: Skips, maxSize: number, buf: Buffer, statOut?: FileStat): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (statOut) {
      statOut.size = st.size;
      statOut.mtimeMs = st.mtimeMs;
      statOut.ctimeMs = st.ctimeMs;
    }
    if (!st.isFile()) {
      skips.add(path, 'not a regular file');
      return undefined;
    }
    if (st.size > maxSize) {
      skips.add(path, `larger than ${Math.round(maxSize / 1024 ** 2)} MiB`);
      return undefined;
    }
    let n = readSync(fd, buf, 0, CHUNK, null);
    if (n < CHUNK && n >= st.size) return oneShotHash(algorithm, buf.subarray(0, n), 'buffer');
    const h = createHash(algorithm);
    while (n > 0) {
      h.update(buf.subarray(0, n));
      n = readSync(fd, buf, 0, CHUNK, null);
    }
    return h.digest();
  } catch (e) {
    skips.add(path, reasonOf(e));
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The stat fields that vouch for a file's content (see `DigestCache`). */
export interface FileStat {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

/**
 * An md5 of one file, or undefined (with a skip): `digestFileSync`'s contract (a `DigestCache`
 * answers it from known digests). `lstat` is the file's, when the caller has just taken it.
 */
export type Md5 = (path: string, skips: Skips, maxSize: number, buf: Buffer, lstat?: Stats) => Buffer | undefined;

export const plainMd5: Md5 = (path, skips, maxSize, buf) => digestFileSync(path, 'md5', skips, maxSize, buf);

/** `digestFileSync` as hex. */
export function hashFileSync(path: string, algorithm: 'md5' | 'sha256', skips: Skips, maxSize: number, buf: Buffer): string | undefined {
  return digestFileSync(path, algorithm, skips, maxSize, buf)?.toString('hex');
}

/**
 * Walks `roots` as `listFiles` does (no links followed, no directory entered twice, the
 * same limits and skips) and md5-hashes each file as it reaches it, so no list of paths is
 * ever built: the walk goes depth first through each directory's entries in name order
 * (a directory sorted as its name and "/"), which adds the files in path order. `onFile`
 * sees every hashed file's path (the collector looks for language manifests there). `md5`
 * may answer from digests already known.
 */
export async function hashTree(roots: string[], limits: WalkLimits, skips: Skips, exclude: (path: string) => boolean, slicer = new Slicer(), onFile: (path: string) => void = () => {}, md5: Md5 = plainMd5): Promise<HashedFiles> {
  const out = new HashedFiles();
  const buf = Buffer.allocUnsafe(CHUNK);
  const seen = new Set<string>();
  let listed = 0;
  const key = (e: Dirent) => (e.isDirectory() ? `${e.name}/` : e.name);
  /** Opens a directory: its entries in order, or undefined (a skip) when it cannot be read or was seen. */
  const open = (dir: string): Dirent[] | undefined => {
    try {
      const ds = lstatSync(dir);
      const id = `${ds.dev}:${ds.ino}`;
      if (seen.has(id)) {
        skips.add(dir, 'directory seen before (loop)');
        return undefined;
      }
      seen.add(id);
      return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (key(a) < key(b) ? -1 : 1));
    } catch (e) {
      skips.add(dir, reasonOf(e));
      return undefined;
    }
  };
  for (const root of [...roots].sort((a, b) => (`${a}/` < `${b}/` ? -1 : 1))) {
    try {
      if (!lstatSync(root).isDirectory()) continue;
    } catch {
      continue;
    }
    const first = open(root);
    if (!first) continue;
    const stack = [{ dir: root, entries: first, next: 0, index: -1, depth: 0 }];
    while (stack.length > 0) {
      await slicer.maybeYield();
      const top = stack[stack.length - 1]!;
      const e = top.entries[top.next++];
      if (e === undefined) {
        stack.pop();
        continue;
      }
      const path = `${top.dir}/${e.name}`;
      if (e.isDirectory()) {
        if (top.depth + 1 > limits.maxDepth) {
          skips.add(path, 'too deep');
          continue;
        }
        const entries = open(path);
        if (entries) stack.push({ dir: path, entries, next: 0, index: -1, depth: top.depth + 1 });
      } else if (e.isSymbolicLink()) {
        skips.add(path, 'symbolic link (not followed)');
      } else if (e.isFile()) {
        if (exclude(path)) continue;
        if (listed >= limits.maxFiles) {
          skips.add(path, `file limit reached (${limits.maxFiles}): the rest of the tree was not listed`);
          return out;
        }
        listed++;
        const digest = md5(path, skips, limits.maxFileSize, buf);
        if (digest === undefined) continue;
        if (top.index === -1) top.index = out.addDir(top.dir);
        out.add(top.index, e.name, digest);
        onFile(path);
      }
      // Sockets, fifos and devices hold no content to compare: passed over silently.
    }
  }
  return out;
}

/** Hashes files in slices (see `Slicer`); the result keeps the input's order, unreadable files left out. */
export async function hashFiles(paths: readonly string[], algorithm: 'md5' | 'sha256', skips: Skips, maxSize: number, slicer = new Slicer()): Promise<[string, string][]> {
  const buf = Buffer.allocUnsafe(CHUNK);
  const out: [string, string][] = [];
  for (const p of paths) {
    await slicer.maybeYield();
    const h = hashFileSync(p, algorithm, skips, maxSize, buf);
    if (h !== undefined) out.push([p, h]);
  }
  return out;
}
