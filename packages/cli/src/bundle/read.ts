import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SigilError, loadBundle, type Bundle, type BundleCharm } from '@sigil/core';
import type { CharmArchive } from '@sigil/api';
import { readCharmDir } from '../charm-dir.ts';

export interface ReadBundle {
  bundle: Bundle;
  /** Per application: its charm, content hash and archive (uploaded only if the plan needs it). */
  charms: Record<string, BundleCharm & { archive: CharmArchive; path: string }>;
}

function source(path: string) {
  const abs = resolve(path);
  try {
    return { path: abs, text: readFileSync(abs, 'utf8') };
  } catch (e) {
    throw new SigilError('not-found', `cannot read bundle "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'give the path of a bundle YAML file');
  }
}

/** Reads a bundle, its overlays and every local charm it names; nothing is sent anywhere. */
export function readBundle(path: string, overlays: string[]): ReadBundle {
  const bundle = loadBundle(source(path), overlays.map(source), (p) => {
    try {
      return readFileSync(p);
    } catch (e) {
      throw new SigilError('not-found', `cannot read "${p}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'include-file:// and include-base64:// paths are relative to the file that names them');
    }
  });
  const byPath = new Map<string, ReadBundle['charms'][string]>();
  const charms: ReadBundle['charms'] = {};
  for (const [app, spec] of Object.entries(bundle.applications)) {
    let c = byPath.get(spec.charm);
    if (!c) {
      const { charm, archive } = readCharmDir(spec.charm);
      c = { charm, archive, path: spec.charm, hash: createHash('sha256').update(JSON.stringify({ files: archive.files })).digest('hex') };
      byPath.set(spec.charm, c);
    }
    charms[app] = c;
  }
  return { bundle, charms };
}

export function isBundlePath(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}
