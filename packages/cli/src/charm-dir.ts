import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { SigilError, archiveCharmFiles, checkArchiveEntries, checkArchiveLink, parseCharm, quoteArchivePath, type Charm } from '@sigil/core';
import type { CharmArchive, CharmArchiveFile } from '@sigil/api';
import { buildCharm, isPartialBuild, isSdkCharm } from '@sigil/charm-sdk/build';
import AdmZip from 'adm-zip';

/** Where the CLI remembers charm builds (issue 21): SIGIL_HOME/cache/charm-build. */
export function charmBuildCache(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.SIGIL_HOME || join(env.HOME ?? homedir(), '.local', 'share', 'sigil'), 'cache', 'charm-build');
}

const ALWAYS_IGNORED = new Set(['.git', '.jujuignore', 'node_modules', '.venv', '__pycache__']);

/** Unix file-type bits in a zip entry's external attributes (high half) and `stat` modes. */
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

const OUTSIDE_HINT = 'a symlink in a charm must point inside the charm (e.g. hooks/install -> ../src/charm.py); copy what it points to into the charm instead of linking to it';

/** A charm file found on disk: a regular file read when needed, or a link kept as a link. */
type DiskEntry = { path: string; mode: number; full: string; link?: undefined } | { path: string; mode: number; full?: undefined; link: string };

/**
 * Reads a local charm — a directory or a packed `.charm` archive — validating it first so
 * a bad charm is refused before anything is sent: the error names the file and line. A
 * TypeScript charm directory (src/charm.ts) is built first, so what deploys is what the
 * source says. No link is followed: a link pointing inside the charm travels as a link, one
 * pointing outside refuses the charm, naming it — before the build reads anything.
 */
export function readCharmDir(path: string): { charm: Charm; archive: CharmArchive } {
  const dir = resolve(path);
  if (!existsSync(dir)) throw new SigilError('not-found', `charm path "${path}" does not exist`, 'give the path of a charm directory containing metadata.yaml, or a .charm file');
  if (statSync(dir).isFile() && dir.endsWith('.charm')) return readCharmArchive(path);
  if (!statSync(dir).isDirectory()) throw new SigilError('invalid-charm', `"${path}" is not a directory`, 'deploy a charm directory (with metadata.yaml), a .charm archive, or a bundle .yaml file');
  let entries = walkCharm(path, dir);
  const charm = parseEntries(path, entries, (e) => (e.full === undefined ? '' : readFileSync(e.full, 'utf8')));
  if (isSdkCharm(dir)) {
    buildCharm(dir, { cacheDir: charmBuildCache() });
    entries = walkCharm(path, dir);
  }
  const files = entries.map((e): CharmArchiveFile =>
    e.link === undefined ? { path: e.path, mode: e.mode, data: readFileSync(e.full).toString('base64') } : { path: e.path, mode: e.mode, data: '', link: e.link });
  return { charm, archive: { files } };
}

/** Lists a charm directory without following links (lstat), skipping what `.jujuignore` and ALWAYS_IGNORED name, and checks the result. */
function walkCharm(path: string, dir: string): DiskEntry[] {
  const roots = [dir, realpathSync(dir)];
  const ignore = (readInside(path, roots[1] ?? dir, '.jujuignore') ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const entries: DiskEntry[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      const rel = relative(dir, full);
      if (ALWAYS_IGNORED.has(name) || name.endsWith('.charm') || isPartialBuild(name) || ignore.some((p) => p.replace(/^\//, '').replace(/\/$/, '') === rel || p === name)) continue;
      const st = lstatSync(full);
      if (st.isSymbolicLink()) entries.push({ path: rel, mode: 0o777, link: linkTarget(path, roots, full, rel) });
      else if (st.isDirectory()) walk(full);
      else if (st.isFile()) entries.push({ path: rel, mode: st.mode & 0o777, full });
    }
  };
  walk(dir);
  checkEntries(path, entries);
  return entries;
}

/**
 * The target of the link at `full`, written relative to the link's directory. The target is
 * resolved as text, without touching the disk, so a dangling link or a loop is kept as a
 * link; one that lands outside the charm refuses it. An absolute target inside the charm
 * becomes relative, since the charm is unpacked somewhere else.
 */
function linkTarget(path: string, roots: string[], full: string, rel: string): string {
  const target = readlinkSync(full, 'utf8');
  for (const root of roots) {
    const at = resolve(root, dirname(rel), target);
    if (at !== root && !at.startsWith(root + sep)) continue;
    const canonical = relative(resolve(root, dirname(rel)), at) || '.';
    try {
      checkArchiveLink(rel, canonical);
    } catch (e) {
      throw inCharm(path, e);
    }
    return canonical;
  }
  throw new SigilError('invalid-charm', `charm at ${path}: symlink ${quoteArchivePath(rel)} points outside the charm (-> ${quoteArchivePath(target)})`, OUTSIDE_HINT);
}

/** The text of `name` in the charm directory `real` (a real path), refusing a link that leads out of it; undefined when absent. */
function readInside(path: string, real: string, name: string): string | undefined {
  let at: string;
  try {
    at = realpathSync(join(real, name));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SigilError('invalid-charm', `charm at ${path}: cannot read ${quoteArchivePath(name)}: ${(e as Error).message}`, OUTSIDE_HINT);
  }
  if (!at.startsWith(real + sep)) throw new SigilError('invalid-charm', `charm at ${path}: symlink ${quoteArchivePath(name)} points outside the charm`, OUTSIDE_HINT);
  return statSync(at).isFile() ? readFileSync(at, 'utf8') : undefined;
}

/** Reads a `.charm` (zip) archive as `sigil charm pack` or charmcraft writes it; symlink entries stay links. */
export function readCharmArchive(path: string): { charm: Charm; archive: CharmArchive } {
  let entries: AdmZip.IZipEntry[];
  try {
    entries = new AdmZip(path).getEntries();
  } catch (e) {
    throw new SigilError('invalid-charm', `"${path}" is not a charm archive: ${(e as Error).message}`, 'make one with `sigil charm pack <dir>`, or deploy the charm directory');
  }
  const files = entries.filter((e) => !e.isDirectory).map((e): CharmArchiveFile => {
    // Unix type and permissions live in the high half of the external attributes (0 from non-Unix zips).
    const unix = e.attr >>> 16;
    if ((unix & S_IFMT) === S_IFLNK) return { path: e.entryName, mode: 0o777, data: '', link: e.getData().toString('utf8') };
    const executable = /^(dispatch|hooks\/[^/]+|actions\/[^/]+)$/.test(e.entryName);
    return { path: e.entryName, mode: unix & 0o777 || (executable ? 0o755 : 0o644), data: e.getData().toString('base64') };
  });
  checkEntries(path, files);
  const charm = parseEntries(path, files, (f) => Buffer.from(f.data, 'base64').toString('utf8'));
  return { charm, archive: { files } };
}

function checkEntries(path: string, entries: readonly { path: string; link?: string | undefined }[]): void {
  try {
    checkArchiveEntries(entries);
  } catch (e) {
    throw inCharm(path, e);
  }
}

/** Parses the charm's YAML from checked entries, reading through links inside the charm only. */
function parseEntries<T extends { path: string; link?: string | undefined }>(path: string, entries: readonly T[], text: (e: T) => string): Charm {
  try {
    const files = archiveCharmFiles(entries, text);
    if (files.metadata === undefined) throw new SigilError('invalid-charm', `"${path}" has no metadata.yaml`, 'a charm needs metadata.yaml with name, summary and description');
    return parseCharm(files);
  } catch (e) {
    throw inCharm(path, e);
  }
}

function inCharm(path: string, e: unknown): unknown {
  if (!(e instanceof SigilError) || e.message.startsWith(`charm at ${path}: `) || e.message.startsWith(`"${path}"`)) return e;
  return new SigilError(e.code, `charm at ${path}: ${e.message}`, e.hint);
}

/** Writes a charm directory as a `.charm` zip with Unix modes kept, links as zip symlink entries; returns the file's path. */
export function packCharm(path: string, output?: string): { file: string; charm: Charm; files: number } {
  const { charm, archive } = readCharmDir(path);
  const zip = new AdmZip();
  for (const f of archive.files) {
    if (f.link === undefined) {
      zip.addFile(f.path, Buffer.from(f.data, 'base64'), '', f.mode);
      continue;
    }
    zip.addFile(f.path, Buffer.from(f.link, 'utf8'), '', 0o777);
    const entry = zip.getEntry(f.path);
    if (entry) entry.attr = ((S_IFLNK | 0o777) << 16) >>> 0;
  }
  const file = resolve(output ?? `${charm.meta.name}.charm`);
  zip.writeZip(file);
  return { file, charm, files: archive.files.length };
}
