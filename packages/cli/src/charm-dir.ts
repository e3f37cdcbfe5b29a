import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { SigilError, parseCharm, type Charm, type CharmFiles } from '@sigil/core';
import type { CharmArchive } from '@sigil/api';

const ALWAYS_IGNORED = new Set(['.git', '.jujuignore', 'node_modules', '.venv', '__pycache__']);

/**
 * Reads a local charm directory into an archive, validating it first so a bad charm is
 * refused before anything is sent: the error names the file and line.
 */
export function readCharmDir(path: string): { charm: Charm; archive: CharmArchive } {
  const dir = resolve(path);
  if (!existsSync(dir)) throw new SigilError('not-found', `charm path "${path}" does not exist`, 'give the path of a charm directory containing metadata.yaml');
  if (!statSync(dir).isDirectory()) throw new SigilError('invalid-charm', `"${path}" is not a directory`, 'deploy a charm directory (with metadata.yaml), or a bundle .yaml file');
  const text = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : undefined);
  const metadata = text('metadata.yaml');
  if (metadata === undefined) throw new SigilError('invalid-charm', `"${path}" has no metadata.yaml`, 'a charm directory needs metadata.yaml with name, summary and description');
  const files: CharmFiles = { metadata };
  for (const [key, file] of [['config', 'config.yaml'], ['actions', 'actions.yaml'], ['version', 'version']] as const) {
    const t = text(file);
    if (t !== undefined) files[key] = t;
  }
  let charm: Charm;
  try {
    charm = parseCharm(files);
  } catch (e) {
    if (e instanceof SigilError) throw new SigilError(e.code, `charm at ${path}: ${e.message}`, e.hint);
    throw e;
  }
  const ignore = (text('.jujuignore') ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const archive: CharmArchive = { files: [] };
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      const rel = relative(dir, full);
      if (ALWAYS_IGNORED.has(name) || ignore.some((p) => p.replace(/^\//, '').replace(/\/$/, '') === rel || p === name)) continue;
      const st = statSync(full);
      if (st.isDirectory()) walk(full);
      else if (st.isFile()) archive.files.push({ path: rel, mode: st.mode & 0o777, data: readFileSync(full).toString('base64') });
    }
  };
  walk(dir);
  return { charm, archive };
}
