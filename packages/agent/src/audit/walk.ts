import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { SkipSummary } from '@sigil/api';

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
  return code === 'EACCES' || code === 'EPERM' ? 'unreadable' : code === 'ENOENT' ? 'vanished' : `error ${code ?? 'unknown'}`;
}

/**
 * Lists the regular files under `roots`, never following a symbolic link (a link is not
 * content, and following one can leave the root or loop), never entering a directory twice
 * (bind mounts can loop too), and stopping at the limits with a skip that says so.
 * `exclude` tells paths to leave out (files a package owns); excluded files are not skips.
 */
export async function listFiles(roots: string[], limits: WalkLimits, skips: Skips, exclude: (path: string) => boolean = () => false): Promise<{ path: string; size: number }[]> {
  const out: { path: string; size: number }[] = [];
  const seen = new Set<string>();
  let full = false;
  for (const root of roots) {
    const st = await lstat(root).catch(() => undefined);
    if (!st?.isDirectory()) continue;
    const stack: { dir: string; depth: number }[] = [{ dir: root, depth: 0 }];
    while (stack.length > 0 && !full) {
      const { dir, depth } = stack.pop()!;
      const ds = await lstat(dir).catch(() => undefined);
      if (!ds) continue;
      const id = `${ds.dev}:${ds.ino}`;
      if (seen.has(id)) {
        skips.add(dir, 'directory seen before (loop)');
        continue;
      }
      seen.add(id);
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
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
          const fst = await lstat(path).catch((err: unknown) => {
            skips.add(path, reasonOf(err));
            return undefined;
          });
          if (!fst) continue;
          if (fst.size > limits.maxFileSize) skips.add(path, `larger than ${Math.round(limits.maxFileSize / 1024 ** 2)} MiB`);
          else out.push({ path, size: fst.size });
        }
        // Sockets, fifos and devices hold no content to compare: passed over silently.
      }
    }
  }
  return out;
}

/** The hex digest of one file (md5 or sha256), or undefined (with a skip) when it cannot be read. */
export async function hashFile(path: string, size: number, algorithm: 'md5' | 'sha256', skips: Skips): Promise<string | undefined> {
  try {
    const h = createHash(algorithm);
    // O_NOFOLLOW: a file swapped for a link since it was listed is not followed.
    const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      if (size <= 1024 * 1024) h.update(await fh.readFile());
      else for await (const c of fh.createReadStream({ autoClose: false })) h.update(c as Buffer);
    } finally {
      await fh.close();
    }
    return h.digest('hex');
  } catch (e) {
    skips.add(path, reasonOf(e));
    return undefined;
  }
}

/** Runs `fn` over `items` with at most `width` in flight, keeping order in the result. */
export async function mapLimit<T, R>(items: readonly T[], width: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return out;
}
