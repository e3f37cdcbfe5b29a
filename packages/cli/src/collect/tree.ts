import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import YAML from 'yaml';
import { SigilError, checkArchiveEntries, checkArchiveLink, quoteArchivePath } from '@sigil/core';
import type { TarEntry } from './tar.ts';

/** Codetree's provenance file, written into every collected directory. */
export const COLLECT_INFO = 'codetree-collect-info.yaml';

/** Names Sigil never deploys with a charm, so they are neither hashed nor checked for drift. */
const NOT_DEPLOYED = new Set(['node_modules', '__pycache__']);

export interface CollectInfo {
  collect_date: string;
  collect_url: string;
  hashes: Record<string, string>;
}

/** Codetree's `str(datetime.now())`, in UTC: `2017-11-01 14:32:55.815503`. */
export function collectDate(d: Date): string {
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 23)}000`;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The `.jujuignore` rules `sigil deploy` applies: a pattern names a relative path or a file name. */
function jujuIgnore(dir: string): string[] {
  const f = join(dir, '.jujuignore');
  if (!existsSync(f) || !lstatSync(f).isFile()) return [];
  return readFileSync(f, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.replace(/^\//, '').replace(/\/$/, ''));
}

/**
 * The sha256 of every file under `dir`, by relative path, as Codetree's collect-info records
 * them: hidden names (any component starting with `.`) and the info file itself are left out,
 * a link to a file is hashed through, dangling links and links to directories are skipped.
 * Sigil also leaves out what its deploy never sends (node_modules, __pycache__, `.jujuignore`
 * entries, packed `.charm` files) so that a deployed charm can be checked against the hashes.
 */
export function hashTree(dir: string): Record<string, string> {
  const ignore = jujuIgnore(dir);
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      const rel = relative(dir, full).split(sep).join('/');
      if (name.startsWith('.') || NOT_DEPLOYED.has(name) || name.endsWith('.charm') || rel === COLLECT_INFO || ignore.includes(rel) || ignore.includes(name)) continue;
      const l = lstatSync(full);
      if (l.isDirectory()) walk(full);
      else if (l.isFile()) out[rel] = sha256(readFileSync(full));
      else if (l.isSymbolicLink()) {
        let st;
        try {
          st = statSync(full);
        } catch {
          continue;
        }
        if (st.isFile()) out[rel] = sha256(readFileSync(full));
      }
    }
  };
  walk(dir);
  return out;
}

/** One digest for a whole tree: what `;sha256=` pins for local and tarball sources. */
export function treeDigest(hashes: Record<string, string>): string {
  return sha256(Object.keys(hashes).sort().map((k) => `${k}\0${hashes[k]}\n`).join(''));
}

export function readCollectInfo(dir: string): CollectInfo | undefined {
  const f = join(dir, COLLECT_INFO);
  if (!existsSync(f) || !lstatSync(f).isFile()) return undefined;
  try {
    const doc = YAML.parse(readFileSync(f, 'utf8')) as Partial<CollectInfo> | null;
    if (!doc || typeof doc.collect_url !== 'string' || typeof doc.hashes !== 'object' || doc.hashes === null) return undefined;
    return { collect_date: String(doc.collect_date ?? ''), collect_url: doc.collect_url, hashes: doc.hashes };
  } catch {
    return undefined;
  }
}

export function renderCollectInfo(info: CollectInfo): string {
  const hashes = Object.fromEntries(Object.keys(info.hashes).sort().map((k) => [k, info.hashes[k]!]));
  // As PyYAML writes it for Codetree: the date quoted (it would read back as a timestamp), the rest plain.
  const date = new YAML.Scalar(info.collect_date);
  date.type = 'QUOTE_SINGLE';
  return YAML.stringify({ collect_date: date, collect_url: info.collect_url, hashes }, { lineWidth: 0 });
}

/**
 * Writes the info file for a freshly collected directory. When the previous collection of the
 * same place recorded the same source and the same hashes, its file (and date) is kept, so
 * collecting an unchanged tree again changes no byte of it — and a charm built from it stays
 * the same charm, which is what keeps a re-run spec from refreshing anything.
 */
export function writeCollectInfo(dir: string, url: string, hashes: Record<string, string>, previous: CollectInfo | undefined, now: Date): CollectInfo {
  const same = previous !== undefined && previous.collect_url === url && treeDigest(previous.hashes) === treeDigest(hashes);
  const info = same ? previous : { collect_date: collectDate(now), collect_url: url, hashes };
  writeFileSync(join(dir, COLLECT_INFO), renderCollectInfo(info));
  return info;
}

/** A file tree read from a local source, checked, to be written elsewhere. */
export type TreeEntry = TarEntry;

/**
 * Reads a local directory for copying: regular files and directories, and links kept as
 * links when they point inside the directory (an absolute target inside becomes relative);
 * a link out of it refuses the whole source, naming the link. `.git` is not copied.
 */
export function readLocalTree(root: string, name: string): TreeEntry[] {
  const real = resolve(root);
  const out: TreeEntry[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      if (n === '.git') continue;
      const full = join(d, n);
      const rel = relative(real, full).split(sep).join('/');
      const l = lstatSync(full);
      if (l.isDirectory()) {
        out.push({ type: 'dir', path: rel, mode: l.mode & 0o777 });
        walk(full);
      } else if (l.isFile()) out.push({ type: 'file', path: rel, mode: l.mode & 0o777, data: readFileSync(full) });
      else if (l.isSymbolicLink()) {
        const target = readlinkSync(full, 'utf8');
        const at = resolve(dirname(full), target);
        if (at !== real && !at.startsWith(real + sep)) {
          throw new SigilError('bad-request', `${name}: symlink ${quoteArchivePath(rel)} points outside the source (-> ${quoteArchivePath(target)})`, 'a collected tree may link only inside itself; copy what the link points to into the source instead');
        }
        const link = relative(dirname(full), at) || '.';
        try {
          checkArchiveLink(rel, link);
        } catch (e) {
          throw new SigilError('bad-request', `${name}: ${(e as Error).message}`, 'a collected tree may link only inside itself');
        }
        out.push({ type: 'symlink', path: rel, link });
      }
      // Sockets, FIFOs and devices are not collected.
    }
  };
  walk(real);
  try {
    checkArchiveEntries(out.flatMap((e) => (e.type === 'symlink' ? [{ path: e.path, link: e.link }] : e.type === 'file' ? [{ path: e.path }] : [])));
  } catch (e) {
    throw new SigilError('bad-request', `${name}: ${(e as Error).message}`, 'a collected tree may hold only relative names inside itself');
  }
  return out;
}

/**
 * Writes checked entries into the empty directory `dir`: directories and files first, links
 * last, so no write goes through a link.
 */
export function writeTree(dir: string, entries: readonly TreeEntry[]): void {
  mkdirSync(dir, { recursive: true });
  for (const e of entries) {
    if (e.type === 'dir') mkdirSync(join(dir, e.path), { recursive: true, mode: e.mode | 0o700 });
  }
  for (const e of entries) {
    if (e.type !== 'file') continue;
    mkdirSync(dirname(join(dir, e.path)), { recursive: true });
    writeFileSync(join(dir, e.path), e.data, { mode: e.mode || 0o644, flag: 'wx' });
  }
  for (const e of entries) {
    if (e.type !== 'symlink') continue;
    mkdirSync(dirname(join(dir, e.path)), { recursive: true });
    symlinkSync(e.link, join(dir, e.path));
  }
}

/**
 * Refuses a destination whose path inside `root` passes through a symlink (a link there would
 * carry the collection out of the root). Components that do not exist yet are fine.
 */
export function checkDestOnDisk(root: string, dest: string, where: string): string {
  let at = resolve(root);
  for (const part of dest.split('/')) {
    at = join(at, part);
    let st;
    try {
      st = lstatSync(at);
    } catch {
      break;
    }
    if (st.isSymbolicLink()) throw new SigilError('bad-request', `${where}: destination "${dest}" passes through the symlink ${relative(root, at)}`, 'collection never writes through links; remove the link or choose another destination');
  }
  return join(resolve(root), dest);
}

/** The files of a checkout (not .git) that are links out of it: a checkout carrying one is refused. */
export function linksOutOf(root: string): string[] {
  const real = resolve(root);
  const bad: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      if (d === real && n === '.git') continue;
      const full = join(d, n);
      const l = lstatSync(full);
      if (l.isDirectory()) walk(full);
      else if (l.isSymbolicLink()) {
        const rel = relative(real, full).split(sep).join('/');
        const target = readlinkSync(full, 'utf8');
        const at = resolve(dirname(full), target);
        if (target.startsWith('/') || (at !== real && !at.startsWith(real + sep))) bad.push(`${rel} -> ${target}`);
      }
    }
  };
  walk(real);
  return bad;
}
