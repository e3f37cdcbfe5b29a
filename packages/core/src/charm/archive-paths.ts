import { SigilError } from '../errors.ts';
import type { CharmFiles } from './types.ts';

/**
 * The names inside a charm archive, checked where an archive crosses an edge: the CLI reading
 * a directory or `.charm` file, the controller taking an upload, the agent unpacking as root.
 * Pure, so all three apply exactly the same rules.
 *
 * An entry is a regular file, or — when `link` is set — a symbolic link whose target is
 * relative. What the rules guarantee, taken together: unpacking the entries into an empty
 * directory (directories and files first, links last) writes nothing outside it, and no link
 * resolves outside it, whatever the links point to among themselves.
 */
export interface ArchiveEntryRef {
  path: string;
  link?: string | undefined;
}

/** Longest entry name or link target accepted, in characters (Linux PATH_MAX). */
export const MAX_ARCHIVE_PATH = 4096;

/** Link hops followed when reading a file through links before calling it a loop (Linux's limit). */
const MAX_HOPS = 40;

// C0 controls, DEL and backslash: no charm file needs them, and they hide what a name is.
const FORBIDDEN_CHAR = /[\u0000-\u001f\u007f\\]/;

const PATH_HINT =
  'charm files must be named by relative paths inside the charm, with no "..", ".", or empty components, ' +
  'no leading "/", and no backslashes or control characters; pack the charm again with `sigil charm pack`';
const LINK_HINT =
  'a symlink in a charm must point inside the charm with a relative target such as ../src/charm.py; ' +
  'copy what it points to into the charm instead of linking to it';

/** A name as it can be shown safely: quoted, control characters escaped. */
export function quoteArchivePath(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);
}

/**
 * Checks one entry name and returns its components. Refused with 'invalid-charm', naming the
 * entry: empty names, absolute paths, `..`, `.` or empty components, backslashes, control
 * characters, and names longer than MAX_ARCHIVE_PATH.
 */
export function checkArchivePath(path: string): string[] {
  const bad = (why: string) => new SigilError('invalid-charm', `charm entry ${quoteArchivePath(String(path))} ${why}`, PATH_HINT);
  if (typeof path !== 'string' || path === '') throw bad('has an empty name');
  if (path.length > MAX_ARCHIVE_PATH) throw bad(`has a name longer than ${MAX_ARCHIVE_PATH} characters`);
  if (FORBIDDEN_CHAR.test(path)) throw bad('has a backslash or control character in its name');
  if (path.startsWith('/')) throw bad('is an absolute path');
  const parts = path.split('/');
  if (parts.includes('..')) throw bad('climbs out of the charm with ".."');
  if (parts.some((p) => p === '' || p === '.')) throw bad('has an empty or "." component');
  return parts;
}

/**
 * Checks the target of the link at `path` (itself already checked) and returns the archive
 * path it points to. The target must be relative, may start with `..` components but have
 * none after a name, and may climb no higher than the charm root. `..` after a name is
 * refused rather than normalised because the name may itself be a link, which would make
 * the text lie about where the target is.
 */
export function checkArchiveLink(path: string, target: string): string {
  const bad = (why: string) =>
    new SigilError('invalid-charm', `symlink ${quoteArchivePath(path)} ${why} (-> ${quoteArchivePath(String(target))})`, LINK_HINT);
  if (typeof target !== 'string' || target === '') throw bad('has an empty target');
  if (target.length > MAX_ARCHIVE_PATH) throw bad(`has a target longer than ${MAX_ARCHIVE_PATH} characters`);
  if (FORBIDDEN_CHAR.test(target)) throw bad('has a backslash or control character in its target');
  if (target.startsWith('/')) throw bad('points outside the charm with an absolute target');
  const at = path.split('/').slice(0, -1);
  let named = false;
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (named) throw bad('has ".." after a directory name in its target');
      if (at.length === 0) throw bad('points outside the charm');
      at.pop();
    } else {
      named = true;
      at.push(part);
    }
  }
  return at.join('/');
}

/**
 * Checks a whole archive: every name and link target, no name twice, and nothing stored
 * beneath a file or a link (which would make unpacking write through the link). Throws the
 * first problem found as 'invalid-charm'.
 */
export function checkArchiveEntries(entries: readonly ArchiveEntryRef[]): void {
  const kinds = new Map<string, 'file' | 'link'>();
  for (const e of entries) {
    checkArchivePath(e.path);
    if (e.link !== undefined) checkArchiveLink(e.path, e.link);
    if (kinds.has(e.path)) {
      throw new SigilError('invalid-charm', `charm entry ${quoteArchivePath(e.path)} appears more than once`, PATH_HINT);
    }
    kinds.set(e.path, e.link === undefined ? 'file' : 'link');
  }
  for (const e of entries) {
    const parts = e.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const above = parts.slice(0, i).join('/');
      const kind = kinds.get(above);
      if (kind !== undefined) {
        throw new SigilError('invalid-charm', `charm entry ${quoteArchivePath(e.path)} lies beneath the ${kind === 'link' ? 'symlink' : 'file'} ${quoteArchivePath(above)}`, PATH_HINT);
      }
    }
  }
}

/**
 * Finds the regular file an archive path names, following links inside the archive (in the
 * path's directories too), as the filesystem would once unpacked. Undefined when nothing is
 * there or a link dangles; a loop is an 'invalid-charm' error. The entries must have passed
 * checkArchiveEntries.
 */
export function findArchiveFile<T extends ArchiveEntryRef>(entries: readonly T[], path: string): T | undefined {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  let rest = path.split('/');
  let at: string[] = [];
  let hops = 0;
  while (rest.length > 0) {
    const [part, ...tail] = rest as [string, ...string[]];
    rest = tail;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (at.length === 0) return undefined;
      at.pop();
      continue;
    }
    at.push(part);
    const e = byPath.get(at.join('/'));
    if (e?.link === undefined) continue;
    if (++hops > MAX_HOPS) {
      throw new SigilError('invalid-charm', `symlink ${quoteArchivePath(e.path)} is part of a loop (reading ${quoteArchivePath(path)})`, LINK_HINT);
    }
    // The target is relative to the link's directory; resolving it component by component
    // follows any further links on the way.
    at.pop();
    rest = [...e.link.split('/'), ...rest];
  }
  const found = byPath.get(at.join('/'));
  return found?.link === undefined ? found : undefined;
}

/**
 * The text of the files parseCharm reads, taken from a checked archive: metadata.yaml,
 * config.yaml, actions.yaml and version at its root, read through links inside the charm.
 */
export function archiveCharmFiles<T extends ArchiveEntryRef>(entries: readonly T[], text: (entry: T) => string): CharmFiles {
  const files: CharmFiles = {};
  for (const [key, name] of [['metadata', 'metadata.yaml'], ['config', 'config.yaml'], ['actions', 'actions.yaml'], ['version', 'version']] as const) {
    const e = findArchiveFile(entries, name);
    if (e !== undefined) files[key] = text(e);
  }
  return files;
}
