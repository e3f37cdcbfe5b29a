import { lstatSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChangedFile, InventoryPackage, WantedPackage } from '@sigil/api';
import { Slicer, plainMd5, type Md5, type Skips } from './walk.ts';

/**
 * Parses dpkg's status database: the packages whose status is "install ok installed".
 * Stanzas that do not parse (binary junk, a truncated file) are counted, not fatal.
 */
export function parseDpkgStatus(text: string): { packages: InventoryPackage[]; bad: number } {
  const packages: InventoryPackage[] = [];
  let bad = 0;
  for (const stanza of text.split(/\n\s*\n/)) {
    if (stanza.trim() === '') continue;
    const f: Record<string, string> = {};
    for (const line of stanza.split('\n')) {
      const m = /^([A-Za-z][A-Za-z0-9-]*):\s?(.*)$/.exec(line);
      if (m) f[m[1]!.toLowerCase()] = m[2]!.trim();
    }
    const name = f.package;
    const version = f.version;
    if (!name || !/^[a-z0-9][a-z0-9+.-]*$/.test(name) || !version) {
      bad++;
      continue;
    }
    if (f.status !== 'install ok installed') continue;
    const source = f.source?.split(' ')[0];
    packages.push({ name, version, arch: f.architecture ?? '', ...(source && source !== name ? { source } : {}) });
  }
  packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { packages, bad };
}

/** `<md5>  <path>` lines of a package's md5sums file, paths relative to the root (no leading `/`). */
export function parseMd5sums(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{32}) [ *](.+)$/.exec(line);
    if (m && !m[2]!.split('/').includes('..')) out.push([m[2]!.replace(/^\/+/, ''), m[1]!]);
  }
  return out;
}

/** The top directories that merged /usr makes links into /usr: packages still list their files there. */
export const MERGED_USR = /^(bin|sbin|lib|lib32|lib64|libx32)\//;

export interface DpkgInventory {
  packages: InventoryPackage[];
  changed: ChangedFile[];
  /** Absolute paths of every file the packages own (left out of the embedded-copy search). */
  owned: Set<string>;
  checked: number;
}

/**
 * The packages installed under `root` and their files that changed, as `debsums` checks
 * them: each file listed in `<package>.md5sums` is hashed and compared; a different digest
 * is `modified`, an absent file `missing`. Without a dpkg database (a machine that is a
 * plain directory) the inventory is empty.
 */
export async function collectDpkg(root: string, skips: Skips, checkFiles = true, digest: Md5 = plainMd5): Promise<DpkgInventory> {
  const admin = join(root, 'var/lib/dpkg');
  const statusText = await readFile(join(admin, 'status'), 'latin1').catch(() => '');
  const { packages, bad } = parseDpkgStatus(statusText);
  if (bad > 0) skips.add(join(admin, 'status'), `dpkg status stanzas that do not parse: ${bad}`);
  const infoFiles = new Set(await readdir(join(admin, 'info')).catch(() => [] as string[]));
  const owned = new Set<string>();
  const changed: ChangedFile[] = [];
  let checked = 0;
  const slicer = new Slicer();
  const buf = Buffer.allocUnsafe(1024 * 1024);
  for (const p of packages) {
    const file = [`${p.name}:${p.arch}.md5sums`, `${p.name}.md5sums`].find((f) => infoFiles.has(f));
    if (!file) continue;
    const sums = parseMd5sums(await readFile(join(admin, 'info', file), 'utf8').catch(() => ''));
    for (const [rel] of sums) {
      owned.add(join(root, rel));
      // Merged /usr (Debian 12): dpkg lists `bin/gzip`, the file lives at /usr/bin/gzip.
      if (MERGED_USR.test(rel)) owned.add(join(root, 'usr', rel));
    }
    if (!checkFiles) continue;
    for (const [rel, md5] of sums) {
      await slicer.maybeYield();
      const path = join(root, rel);
      let st;
      try {
        st = lstatSync(path);
      } catch {
        changed.push({ package: p.name, path: '/' + rel, state: 'missing' });
        continue;
      }
      // A diverted or replaced-by-link file is not content dpkg shipped here: not compared.
      if (!st.isFile()) continue;
      checked++;
      const now = digest(path, skips, Number.MAX_SAFE_INTEGER, buf, st)?.toString('hex');
      if (now !== undefined && now !== md5) changed.push({ package: p.name, path: '/' + rel, state: 'modified' });
    }
  }
  return { packages, changed, owned, checked };
}

/**
 * The files of installed packages as dpkg's md5sums list them ([path relative to /, md5]),
 * for the controller's fingerprint index. A package without an md5sums file (or an empty
 * one) is left out.
 */
export async function packageFiles(root: string, wanted: readonly WantedPackage[]): Promise<{ name: string; version: string; files: [string, string][] }[]> {
  const info = join(root, 'var/lib/dpkg/info');
  const out: { name: string; version: string; files: [string, string][] }[] = [];
  for (const p of wanted) {
    let text = '';
    for (const file of [`${p.name}:${p.arch}.md5sums`, `${p.name}.md5sums`]) {
      text = await readFile(join(info, file), 'utf8').catch(() => '');
      if (text !== '') break;
    }
    const files = parseMd5sums(text);
    if (files.length > 0) out.push({ name: p.name, version: p.version, files });
  }
  return out;
}
