import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { SigilError, parseCharm, type Charm, type CharmFiles } from '@sigil/core';
import type { CharmArchive } from '@sigil/api';
import { buildCharm, isSdkCharm } from '@sigil/charm-sdk/build';
import AdmZip from 'adm-zip';

const ALWAYS_IGNORED = new Set(['.git', '.jujuignore', 'node_modules', '.venv', '__pycache__']);

/**
 * Reads a local charm — a directory or a packed `.charm` archive — validating it first so
 * a bad charm is refused before anything is sent: the error names the file and line. A
 * TypeScript charm directory (src/charm.ts) is built first, so what deploys is what the
 * source says.
 */
export function readCharmDir(path: string): { charm: Charm; archive: CharmArchive } {
  const dir = resolve(path);
  if (!existsSync(dir)) throw new SigilError('not-found', `charm path "${path}" does not exist`, 'give the path of a charm directory containing metadata.yaml, or a .charm file');
  if (statSync(dir).isFile() && dir.endsWith('.charm')) return readCharmArchive(path);
  if (!statSync(dir).isDirectory()) throw new SigilError('invalid-charm', `"${path}" is not a directory`, 'deploy a charm directory (with metadata.yaml), a .charm archive, or a bundle .yaml file');
  const text = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : undefined);
  const charm = parseCharmFiles(path, text);
  if (isSdkCharm(dir)) buildCharm(dir);
  const ignore = (text('.jujuignore') ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const archive: CharmArchive = { files: [] };
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      const rel = relative(dir, full);
      if (ALWAYS_IGNORED.has(name) || name.endsWith('.charm') || ignore.some((p) => p.replace(/^\//, '').replace(/\/$/, '') === rel || p === name)) continue;
      const st = statSync(full);
      if (st.isDirectory()) walk(full);
      else if (st.isFile()) archive.files.push({ path: rel, mode: st.mode & 0o777, data: readFileSync(full).toString('base64') });
    }
  };
  walk(dir);
  return { charm, archive };
}

/** Reads a `.charm` (zip) archive as `sigil charm pack` or charmcraft writes it. */
export function readCharmArchive(path: string): { charm: Charm; archive: CharmArchive } {
  let entries: AdmZip.IZipEntry[];
  try {
    entries = new AdmZip(path).getEntries();
  } catch (e) {
    throw new SigilError('invalid-charm', `"${path}" is not a charm archive: ${(e as Error).message}`, 'make one with `sigil charm pack <dir>`, or deploy the charm directory');
  }
  const files = entries.filter((e) => !e.isDirectory);
  const text = (f: string) => files.find((e) => e.entryName === f)?.getData().toString('utf8');
  const charm = parseCharmFiles(path, text);
  const archive: CharmArchive = {
    files: files.map((e) => {
      // Unix permissions live in the high half of the external attributes (0 from non-Unix zips).
      const mode = (e.attr >>> 16) & 0o777;
      const executable = /^(dispatch|hooks\/[^/]+|actions\/[^/]+)$/.test(e.entryName);
      return { path: e.entryName, mode: mode || (executable ? 0o755 : 0o644), data: e.getData().toString('base64') };
    }),
  };
  return { charm, archive };
}

function parseCharmFiles(path: string, text: (file: string) => string | undefined): Charm {
  const metadata = text('metadata.yaml');
  if (metadata === undefined) throw new SigilError('invalid-charm', `"${path}" has no metadata.yaml`, 'a charm needs metadata.yaml with name, summary and description');
  const files: CharmFiles = { metadata };
  for (const [key, file] of [['config', 'config.yaml'], ['actions', 'actions.yaml'], ['version', 'version']] as const) {
    const t = text(file);
    if (t !== undefined) files[key] = t;
  }
  try {
    return parseCharm(files);
  } catch (e) {
    if (e instanceof SigilError) throw new SigilError(e.code, `charm at ${path}: ${e.message}`, e.hint);
    throw e;
  }
}

/** Writes a charm directory as a `.charm` zip with Unix modes kept; returns the file's path. */
export function packCharm(path: string, output?: string): { file: string; charm: Charm; files: number } {
  const { charm, archive } = readCharmDir(path);
  const zip = new AdmZip();
  for (const f of archive.files) zip.addFile(f.path, Buffer.from(f.data, 'base64'), '', f.mode);
  const file = resolve(output ?? `${charm.meta.name}.charm`);
  zip.writeZip(file);
  return { file, charm, files: archive.files.length };
}
