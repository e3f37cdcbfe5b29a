import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SigilError, archiveCharmFiles, loadBundle, parseCharm, type Bundle, type BundleCharm } from '@sigil/core';
import type { CharmArchive } from '@sigil/api';
import { readCharmDir } from '../charm-dir.ts';

export interface ReadBundle {
  bundle: Bundle;
  /** Per application: its charm, content hash and archive (uploaded only if the plan needs it). */
  charms: Record<string, BundleCharm & { archive: CharmArchive; path: string; source?: string }>;
}

/** Finds a charm a bundle names by bare name (`charm: postgresql`) in the controller's library. */
export type LibraryLookup = (app: string, name: string, revision: number | undefined) => Promise<{ archive: CharmArchive; source: string }>;

function source(path: string) {
  const abs = resolve(path);
  try {
    return { path: abs, text: readFileSync(abs, 'utf8') };
  } catch (e) {
    throw new SigilError('not-found', `cannot read bundle "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'give the path of a bundle YAML file');
  }
}

/**
 * Reads a bundle, its overlays and every charm it names: local directories from disk, bare
 * names from the controller's library (read only: nothing is uploaded or changed). A library
 * charm's key in the plan is `library:NAME` (`library:NAME@REV` with `revision:`).
 */
export async function readBundle(path: string, overlays: string[], library: LibraryLookup): Promise<ReadBundle> {
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
    if (!spec.charm.startsWith('/')) {
      const key = `library:${spec.charm}${spec.revision !== undefined ? `@${spec.revision}` : ''}`;
      let c = byPath.get(key);
      if (!c) {
        const where = bundle.locations?.[`applications.${app}.charm`];
        const { archive } = await library(app, spec.charm, spec.revision).catch((e: unknown) => {
          throw e instanceof SigilError && where !== undefined ? new SigilError(e.code, `${where}: ${e.message}`, e.hint) : e;
        });
        const charm = parseCharm(archiveCharmFiles(archive.files, (f) => Buffer.from(f.data, 'base64').toString('utf8')));
        // Recorded as the charm's source, so export-bundle writes `charm: NAME` back.
        c = { charm, archive, path: key, source: spec.charm, hash: hashOf(archive) };
        byPath.set(key, c);
      }
      spec.charm = key;
      charms[app] = c;
      continue;
    }
    let c = byPath.get(spec.charm);
    if (!c) {
      const { charm, archive } = readCharmDir(spec.charm);
      c = { charm, archive, path: spec.charm, hash: hashOf(archive) };
      byPath.set(spec.charm, c);
    }
    charms[app] = c;
  }
  return { bundle, charms };
}

/** As the controller hashes an upload, so an unchanged charm plans no refresh. */
function hashOf(archive: CharmArchive): string {
  return createHash('sha256').update(JSON.stringify({ files: archive.files.map((f) => (f.link === undefined ? { path: f.path, mode: f.mode, data: f.data } : { path: f.path, mode: f.mode, data: '', link: f.link })) })).digest('hex');
}

export function isBundlePath(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}
