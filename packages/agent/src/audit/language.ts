import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { LanguagePackage } from '@sigil/api';
import type { Skips } from './walk.ts';

const MAX_MANIFEST = 8 * 1024 * 1024;
const NAME = /^[\w@./+~-]{1,214}$/;
const VERSION = /^[\w.+~:-]{1,128}$/;

/** Whether a listed file is a manifest that names language packages. */
export function isManifest(path: string): boolean {
  const b = basename(path);
  const d = basename(dirname(path));
  return (b === 'package.json' && path.includes('/node_modules/'))
    || (b === 'METADATA' && d.endsWith('.dist-info'))
    || (b === 'PKG-INFO' && d.endsWith('.egg-info'))
    || b === 'composer.lock'
    || b === 'go.sum'
    || (b.endsWith('.gemspec') && d === 'specifications')
    || b === 'Gemfile.lock';
}

/**
 * The packages one manifest names. A manifest that does not parse (binary junk, truncated
 * JSON) is a skip with its reason, never an exception.
 */
export async function readManifest(path: string, skips: Skips): Promise<LanguagePackage[]> {
  const size = (await stat(path).catch(() => undefined))?.size ?? 0;
  if (size > MAX_MANIFEST) {
    skips.add(path, 'manifest larger than 8 MiB');
    return [];
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    skips.add(path, 'unreadable');
    return [];
  }
  try {
    return parseManifest(path, text).filter((p) => NAME.test(p.name) && VERSION.test(p.version));
  } catch (e) {
    skips.add(path, `manifest does not parse: ${(e as Error).message.slice(0, 80)}`);
    return [];
  }
}

/** Pure: the packages named by a manifest's text, by the file's kind. */
export function parseManifest(path: string, text: string): LanguagePackage[] {
  const b = basename(path);
  if (b === 'package.json') {
    const j = JSON.parse(text) as { name?: unknown; version?: unknown };
    return typeof j.name === 'string' && typeof j.version === 'string' ? [{ ecosystem: 'npm', name: j.name, version: j.version, path }] : [];
  }
  if (b === 'METADATA' || b === 'PKG-INFO') {
    const head = text.split(/\n\n/, 1)[0] ?? '';
    const name = /^Name:\s*(.+)$/m.exec(head)?.[1]?.trim();
    const version = /^Version:\s*(.+)$/m.exec(head)?.[1]?.trim();
    if (!name || !version) throw new Error('no Name or Version field');
    return [{ ecosystem: 'PyPI', name, version, path }];
  }
  if (b === 'composer.lock') {
    const j = JSON.parse(text) as { packages?: unknown; 'packages-dev'?: unknown };
    const list = [...(Array.isArray(j.packages) ? j.packages : []), ...(Array.isArray(j['packages-dev']) ? j['packages-dev'] : [])] as { name?: unknown; version?: unknown }[];
    return list.filter((p) => typeof p.name === 'string' && typeof p.version === 'string').map((p) => ({ ecosystem: 'Packagist', name: p.name as string, version: String(p.version).replace(/^v/, ''), path }));
  }
  if (b === 'go.sum') {
    const seen = new Map<string, LanguagePackage>();
    for (const line of text.split('\n')) {
      const m = /^(\S+) (v[^\s/]+)(\/go\.mod)? h1:/.exec(line);
      if (m) seen.set(`${m[1]}@${m[2]}`, { ecosystem: 'Go', name: m[1]!, version: m[2]!.replace(/^v/, '').replace(/\+incompatible$/, ''), path });
    }
    return [...seen.values()];
  }
  if (b.endsWith('.gemspec')) {
    const m = /^(.+)-(\d[\w.]*)\.gemspec$/.exec(b);
    return m ? [{ ecosystem: 'RubyGems', name: m[1]!, version: m[2]!, path }] : [];
  }
  if (b === 'Gemfile.lock') {
    const out: LanguagePackage[] = [];
    for (const line of text.split('\n')) {
      const m = /^ {4}([\w.-]+) \(([\w.]+)\)$/.exec(line);
      if (m) out.push({ ecosystem: 'RubyGems', name: m[1]!, version: m[2]!, path });
    }
    return out;
  }
  return [];
}
