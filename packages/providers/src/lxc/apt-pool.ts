import { copyFile, link, mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

/**
 * The packages every controller on a host has fetched, kept beside the base image so the
 * next controller's apt cache starts with them: a package is fetched from the archive once
 * per host, not once per controller.
 *
 * Only what apt-cacher-ng keeps under a `pool/` directory is shared: a Debian package's file
 * name carries its version, so the file never changes. Index files (`dists/`) change and
 * stay with each cache. A package is shared only when complete (its `.head`'s Content-Length
 * is its size), as a hard link (a copy across filesystems); its `.head` is copied, so the
 * daemon rewriting one never touches another's. A newer version of a package replaces the
 * older ones in the pool, which bounds its size by what the hosts' controllers install.
 */
/** The pool's directory under the images directory. */
export const APT_POOL_DIR = 'apt-packages';

export interface PoolCounts {
  /** Packages linked or copied. */
  files: number;
  bytes: number;
}

/** Adds the complete packages of an apt-cacher-ng `cacheDir` the pool lacks; each replaces its older versions there. */
export function publishToPool(cacheDir: string, pool: string): Promise<PoolCounts> {
  return placeMissing(cacheDir, pool, (rel) => replaceOlder(pool, rel));
}

/** Gives an apt-cacher-ng `cacheDir` the pool's complete packages it lacks. */
export function seedFromPool(pool: string, cacheDir: string): Promise<PoolCounts> {
  return placeMissing(pool, cacheDir);
}

/** Places in `to` every complete package of `from` that `to` lacks, then calls `placed` with its path. */
async function placeMissing(from: string, to: string, placed?: (rel: string) => Promise<void>): Promise<PoolCounts> {
  const counts: PoolCounts = { files: 0, bytes: 0 };
  for (const rel of await packagesUnder(from)) {
    if (await exists(join(to, rel))) continue;
    const size = await completeSize(from, rel);
    if (size === undefined) continue;
    await place(join(from, rel), join(to, rel));
    await placed?.(rel);
    counts.files++;
    counts.bytes += size;
  }
  return counts;
}

/** The package files (not their `.head`s) below a `pool/` directory of `root`, relative to it. */
async function packagesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.deb'))
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .filter((rel) => rel.split(sep).includes('pool') && !rel.split(sep).some((p) => p.startsWith('_') || p === '..'));
}

/** The file's size when its `.head` says it is all there; undefined for a partial or unknown download. */
async function completeSize(root: string, rel: string): Promise<number | undefined> {
  const head = await readFile(join(root, `${rel}.head`), 'latin1').catch(() => '');
  if (!/^HTTP\/1\.[01] 200 /.test(head)) return undefined;
  const length = /^Content-Length:\s*(\d+)\s*$/im.exec(head)?.[1];
  const size = await stat(join(root, rel)).then((s) => s.size, () => -1);
  return length !== undefined && Number(length) === size ? size : undefined;
}

/** The package at `to`, linked from `from` (copied across filesystems), with a copy of its `.head`; each appears whole. */
async function place(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true, mode: 0o755 });
  const tmp = `${to}.sigil-${process.pid}`;
  await rm(tmp, { force: true });
  await copyFile(`${from}.head`, `${tmp}.head`);
  await rename(`${tmp}.head`, `${to}.head`);
  try {
    await link(from, tmp);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    await copyFile(from, tmp);
  }
  await rename(tmp, to);
}

/** Removes the pool's other versions of the package just added (`name_version_arch.deb`). */
async function replaceOlder(pool: string, rel: string): Promise<void> {
  const dir = dirname(join(pool, rel));
  const file = rel.slice(rel.lastIndexOf(sep) + 1);
  const m = /^([^_]+)_[^_]+_([^_]+)\.deb$/.exec(file);
  if (!m) return;
  for (const other of await readdir(dir).catch(() => [] as string[])) {
    if (other !== file && other.startsWith(`${m[1]}_`) && other.endsWith(`_${m[2]}.deb`) && other.split('_').length === 3) {
      await rm(join(dir, other), { force: true });
      await rm(join(dir, `${other}.head`), { force: true });
    }
  }
}

function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}
