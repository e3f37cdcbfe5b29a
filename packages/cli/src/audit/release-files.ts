import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { SigilError } from '@sigil/core';

/** Files per release at most, and the largest file hashed. */
const MAX_FILES = 200_000;
const MAX_FILE = 256 * 1024 ** 2;

export interface ReleaseFiles {
  files: [string, string][];
  skipped: { path: string; reason: string }[];
  /** For a .deb: its Package and Version fields. */
  name?: string;
  version?: string;
}

/**
 * The md5 of every regular file under `dir`, paths relative to it. Links are not followed
 * (a release tree's link is not content), unreadable files are skipped with their reason,
 * and a tree past the file limit is refused rather than cut silently.
 */
export function hashTree(dir: string): ReleaseFiles {
  const files: [string, string][] = [];
  const skipped: { path: string; reason: string }[] = [];
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch (e) {
      skipped.push({ path: d, reason: `unreadable (${(e as NodeJS.ErrnoException).code ?? 'error'})` });
      continue;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isSymbolicLink()) skipped.push({ path: p, reason: 'symbolic link (not followed)' });
      else if (e.isFile()) {
        if (files.length >= MAX_FILES) throw new SigilError('too-large', `${dir} holds more than ${MAX_FILES} files: not one release`, 'index the release\'s own top directory, not a parent of many');
        try {
          if (lstatSync(p).size > MAX_FILE) {
            skipped.push({ path: p, reason: 'larger than 256 MiB' });
            continue;
          }
          files.push([relative(dir, p), createHash('md5').update(readFileSync(p)).digest('hex')]);
        } catch (e) {
          skipped.push({ path: p, reason: `unreadable (${(e as NodeJS.ErrnoException).code ?? 'error'})` });
        }
      }
    }
  }
  return { files: files.sort((a, b) => (a[0] < b[0] ? -1 : 1)), skipped };
}

/** A tree whose only entry is one directory (a tarball's `libfoo-0.31/`) is indexed from inside it. */
function topOf(dir: string): string {
  const entries = readdirSync(dir, { withFileTypes: true });
  return entries.length === 1 && entries[0]!.isDirectory() ? topOf(join(dir, entries[0]!.name)) : dir;
}

/**
 * The files of a release given as a directory, a tarball (any compression GNU tar reads) or
 * a Debian package (its md5sums, read with dpkg-deb). Paths are relative to the release's
 * top directory, so a copy under any other directory name still matches.
 */
export function releaseFiles(path: string): ReleaseFiles {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new SigilError('not-found', `nothing at ${path}`, 'pass a release directory, a tarball (.tar.gz, .tar.xz, .tgz …) or a .deb');
  }
  if (st.isDirectory()) return hashTree(topOf(path));
  if (path.endsWith('.deb')) return debFiles(path);
  if (!/\.(tar|tgz|tbz2|txz|tar\.(gz|xz|bz2|zst))$/.test(path)) throw new SigilError('bad-request', `${path} is neither a directory, a tarball nor a .deb`, 'pass a release directory, a tarball (.tar.gz, .tar.xz, .tgz …) or a .deb');
  const tmp = mkdtempSync(join(tmpdir(), 'sigil-index-'));
  try {
    try {
      // GNU tar refuses members with `..` and absolute names by default; no owners are kept.
      execFileSync('tar', ['-xf', path, '-C', tmp, '--no-same-owner', '--no-same-permissions'], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      throw new SigilError('bad-request', `cannot unpack ${path}: ${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim().split('\n')[0]}`, 'pass a tarball GNU tar can read, or unpack it and index the directory');
    }
    const r = hashTree(topOf(tmp));
    return { ...r, skipped: r.skipped.map((s) => ({ ...s, path: relative(tmp, s.path) })) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function debFiles(path: string): ReleaseFiles {
  let fields: string;
  let sums: string;
  try {
    fields = execFileSync('dpkg-deb', ['--field', path, 'Package', 'Version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    sums = execFileSync('dpkg-deb', ['--info', path, 'md5sums'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 ** 2 });
  } catch (e) {
    throw new SigilError('bad-request', `cannot read ${path} as a Debian package: ${String((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split('\n')[0]}`, 'a .deb with an md5sums control file (dpkg-deb must be installed)');
  }
  const name = /^Package:\s*(\S+)/m.exec(fields)?.[1];
  const version = /^Version:\s*(\S+)/m.exec(fields)?.[1];
  const files: [string, string][] = [];
  for (const line of sums.split('\n')) {
    const m = /^([0-9a-f]{32}) [ *](.+)$/.exec(line);
    if (m && !m[2]!.split('/').includes('..')) files.push([m[2]!.replace(/^\/+/, ''), m[1]!]);
  }
  return { files, skipped: [], ...(name ? { name } : {}), ...(version ? { version } : {}) };
}
