import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { CharmArchive, GuiCharmPage, GuiCharmSummary } from '@sigil/api';
import { SigilError, charmEndpoints, parseCharm, type Charm, type CharmFiles } from '@sigil/core';
import type { Store } from '../store/store.ts';
import { CharmRepository } from '../state/charms.ts';
import { Charms } from './charms.ts';
import type { CharmRow } from '../state/rows.ts';

const IGNORED = new Set(['.git', '.jujuignore', 'node_modules', '.venv', '__pycache__']);

interface Entry {
  page: GuiCharmPage;
  /** Reads the charm's files for upload into a model. */
  archive: () => { files: CharmArchive['files']; source: string };
  /** An upload's revision (as numbered in the model it was last uploaded to). */
  revision?: number;
}

/**
 * The charms the GUI offers for deployment: Sigil's charm library (`charms/*` of the
 * installation, read afresh on every search so a charm added there shows up at once) and
 * every charm already uploaded to the controller, in any model.
 */
export class CharmLibrary {
  /** README and icon of uploaded archives by content hash: an archive never changes. */
  private readonly docs = new Map<string, { readme: string; icon: string | undefined }>();

  constructor(private readonly s: Store, readonly dir: string | undefined) {}

  search(query: string): GuiCharmSummary[] {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const haystack = (p: GuiCharmPage) => [p.name, p.summary, ...p.interfaces].join(' ').toLowerCase();
    const uploads = this.uploaded();
    const revisionsOf = (name: string) => {
      const seen = new Set<number>();
      return uploads.filter((u) => u.page.name === name && u.revision !== undefined && !seen.has(u.revision) && seen.add(u.revision)).map((u) => ({ revision: u.revision!, id: u.page.id }));
    };
    return this.entries()
      .filter((e) => words.every((w) => haystack(e.page).includes(w)))
      .map(({ page, revision }) => {
        const revisions = revisionsOf(page.name);
        return {
          id: page.id, name: page.name, summary: page.summary, source: page.source, interfaces: page.interfaces,
          ...(page.icon !== undefined ? { icon: page.icon } : {}),
          ...(revision !== undefined ? { revision } : {}),
          ...(revisions.length ? { revisions } : {}),
        };
      });
  }

  page(id: string): GuiCharmPage {
    return this.entry(id).page;
  }

  /** Adds the charm to the model (reusing an identical upload) and returns its row. */
  addTo(model: string, id: string): CharmRow {
    return new Charms(this.s).add(model, this.archiveOf(id));
  }

  /** The charm's files, and where they came from (kept for export-bundle). */
  archiveOf(id: string): { files: CharmArchive['files']; source: string } {
    return this.entry(id).archive();
  }

  /**
   * The library or controller charm a bundle names by bare name (`charm: sink`), if any;
   * with `revision:`, that uploaded revision of it (an error listing the revisions there are).
   */
  byName(name: string, revision?: number): string | undefined {
    if (revision === undefined) return this.entries().find((e) => e.page.name === name)?.page.id;
    const uploads = this.uploaded().filter((e) => e.page.name === name);
    const hit = uploads.find((e) => e.revision === revision);
    if (hit) return hit.page.id;
    const there = [...new Set(uploads.map((e) => e.revision))].sort((a, b) => a! - b!);
    throw new SigilError('not-found', `charm "${name}" has no revision ${revision} on the controller`, there.length ? `revisions there are: ${there.join(', ')}` : `"${name}" has no uploaded revisions; drop "revision:" to use the library's`);
  }

  private entry(id: string): Entry {
    // Any upload, not only the newest of its name: `--revision` deploys older ones.
    const e = [...this.library(), ...this.uploaded()].find((x) => x.page.id === id);
    if (!e) throw new SigilError('not-found', `charm "${id}" not found`, 'search the charms again: the library may have changed');
    return e;
  }

  private entries(): Entry[] {
    const out = [...this.library(), ...this.uploaded()];
    const seen = new Set<string>();
    // A library charm wins over uploads of the same name; among uploads the newest wins.
    return out.filter((e) => !seen.has(e.page.name) && seen.add(e.page.name));
  }

  private library(): Entry[] {
    if (this.dir === undefined || !existsSync(this.dir)) return [];
    const out: Entry[] = [];
    for (const name of readdirSync(this.dir).sort()) {
      const dir = join(this.dir, name);
      if (!existsSync(join(dir, 'metadata.yaml'))) continue;
      const text = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : undefined);
      let charm: Charm;
      try {
        charm = parseFiles(text);
      } catch {
        continue; // A charm being written right now may not parse yet; it is not offered until it does.
      }
      out.push({ page: page(`library/${name}`, 'library', charm, text('README.md') ?? '', text('icon.svg')), archive: () => ({ files: readCharmFiles(dir), source: dir }) });
    }
    return out;
  }

  private uploaded(): Entry[] {
    const rows = new CharmRepository(this.s).uploaded();
    const hashes = new Set<string>();
    return rows.filter((r) => !hashes.has(r.hash) && hashes.add(r.hash)).map((r) => {
      let docs = this.docs.get(r.hash);
      if (docs === undefined) {
        docs = { readme: archiveFile(this.s, r.hash, 'README.md') ?? '', icon: archiveFile(this.s, r.hash, 'icon.svg') };
        this.docs.set(r.hash, docs);
      }
      return {
        page: page(`controller/${r.hash}`, 'controller', r.charm, docs.readme, docs.icon),
        archive: () => ({ files: (JSON.parse(this.blob(r.hash)) as CharmArchive).files, source: r.source }),
        revision: r.revision,
      };
    });
  }

  private blob(hash: string): string {
    return new Charms(this.s).blob(hash).toString('utf8');
  }
}

function parseFiles(text: (f: string) => string | undefined): Charm {
  const files: CharmFiles = { metadata: text('metadata.yaml') ?? '' };
  for (const [key, file] of [['config', 'config.yaml'], ['actions', 'actions.yaml'], ['version', 'version']] as const) {
    const t = text(file);
    if (t !== undefined) files[key] = t;
  }
  return parseCharm(files);
}

function page(id: string, source: 'library' | 'controller', charm: Charm, readme: string, icon: string | undefined): GuiCharmPage {
  const endpoints = charmEndpoints(charm.meta);
  return {
    id,
    name: charm.meta.name,
    summary: charm.meta.summary,
    source,
    interfaces: [...new Set(endpoints.map((e) => e.interface))],
    ...(icon !== undefined ? { icon } : {}),
    description: charm.meta.description,
    readme,
    subordinate: charm.meta.subordinate,
    endpoints,
    config: charm.config,
    actions: charm.actions,
  };
}

/** One file of an uploaded charm archive, as text. */
export function archiveFile(s: Store, hash: string, path: string): string | undefined {
  const archive = JSON.parse(new Charms(s).blob(hash).toString('utf8')) as CharmArchive;
  const f = archive.files.find((x) => x.path === path);
  return f === undefined ? undefined : Buffer.from(f.data, 'base64').toString('utf8');
}

/**
 * A library charm directory as an archive, skipping what `sigil deploy` skips. TypeScript
 * charms must have been built (`npm run build` builds the library), since the controller
 * runs no build tools.
 */
export function readCharmFiles(dir: string): CharmArchive['files'] {
  if (existsSync(join(dir, 'src', 'charm.ts')) && !existsSync(join(dir, 'dist'))) {
    throw new SigilError('invalid-charm', `library charm ${dir} is a TypeScript charm that has not been built`, 'run `npm run build` in the Sigil checkout, then deploy again');
  }
  const ignore = (existsSync(join(dir, '.jujuignore')) ? readFileSync(join(dir, '.jujuignore'), 'utf8') : '').split('\n').map((l) => l.trim().replace(/^\//, '').replace(/\/$/, '')).filter((l) => l !== '' && !l.startsWith('#'));
  const files: CharmArchive['files'] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      const rel = relative(dir, full);
      if (IGNORED.has(name) || name.endsWith('.charm') || ignore.includes(rel) || ignore.includes(name)) continue;
      const st = statSync(full);
      if (st.isDirectory()) walk(full);
      else if (st.isFile()) files.push({ path: rel, mode: st.mode & 0o777, data: readFileSync(full).toString('base64') });
    }
  };
  walk(dir);
  return files;
}
