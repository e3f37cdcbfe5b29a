import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import type { CharmArchive } from '@sigil/api';
import { SigilError, describeChange, exportBundle, loadBundle, planBundle, type Bundle, type BundleCharm, type Change } from '@sigil/core';
import type { Services } from '../services.ts';
import { bundleState } from './bundle-state.ts';
import { parseArchive } from './charms.ts';
import { readCharmFiles, type CharmLibrary } from './gui-library.ts';

interface Planned {
  bundle: Bundle;
  changes: Change[];
  /** By charm path as the plan names it: the files to upload. */
  uploads: Map<string, { files: CharmArchive['files']; source: string }>;
}

/**
 * Bundles from the browser: the same loader and planner as `sigil deploy bundle.yaml`,
 * with charms found on the controller's side. An absolute charm path is read if the
 * controller can read it (export-bundle writes those for charms deployed by path);
 * otherwise a charm path names the library's or an uploaded charm by its last part, so
 * `charm: ./sink` and an exported `charm: /home/me/charms/sink` both find "sink".
 */
export class GuiBundles {
  constructor(private readonly svc: Services, private readonly library: CharmLibrary) {}

  export(model: string): string {
    const doc = bundleState(this.svc.store, model);
    return exportBundle({ ...doc.state, charmPaths: doc.charmPaths }, doc.charms);
  }

  plan(model: string, yaml: string): { changes: string[]; applications: string[] } {
    const p = this.planned(model, yaml);
    return { changes: p.changes.map(describeChange), applications: Object.keys(p.bundle.applications) };
  }

  /**
   * Plans again (the model may have moved since the user saw the plan) and applies every
   * change in one transaction: an import lands whole or not at all.
   */
  apply(model: string, yaml: string): { changes: string[] } {
    const p = this.planned(model, yaml);
    const svc = this.svc;
    svc.store.tx(() => {
      const urls = new Map<string, string>();
      const machines = new Map<string, string>();
      const upload = (path: string) => {
        let url = urls.get(path);
        if (url === undefined) {
          const u = p.uploads.get(path);
          if (u === undefined) throw new SigilError('internal', `no charm read for ${path}`);
          url = svc.charms.add(model, u).url;
          urls.set(path, url);
        }
        return url;
      };
      const place = (to: string[]) => to.map((t) => {
        if (t === 'new') return t;
        if (machines.has(t)) return machines.get(t)!;
        if (!t.includes('/')) return t;
        const m = svc.reads.unit(model, t)?.machine;
        if (m === undefined || m === null) throw new SigilError('not-found', `placement "${t}": no such unit with a machine`, 'place units on machines or on existing units');
        return m;
      });
      for (const ch of p.changes) {
        try {
          applyChange(ch);
        } catch (e) {
          if (e instanceof SigilError) throw new SigilError(e.code, `${describeChange(ch)}: ${e.message} (nothing was applied)`, e.hint);
          throw e;
        }
      }
      function applyChange(ch: Change): void {
        switch (ch.kind) {
          case 'add-charm': upload(ch.path); break;
          case 'add-machine': machines.set(ch.id, svc.machines.add(model, { constraints: ch.constraints, autoRemove: false, ...(ch.annotations ? { annotations: ch.annotations } : {}) }).id); break;
          case 'deploy': svc.applications.deploy({ model, app: ch.app, charmUrl: upload(ch.charmPath), numUnits: ch.numUnits, config: ch.options, constraints: ch.constraints, to: place(ch.to) }); break;
          case 'refresh': svc.applications.refresh(model, ch.app, upload(ch.charmPath)); break;
          case 'set-config':
            if (Object.keys(ch.set).length > 0) svc.applications.setConfig(model, ch.app, ch.set);
            if (ch.reset.length > 0) svc.applications.resetConfig(model, ch.app, ch.reset);
            break;
          case 'set-constraints': svc.applications.setConstraints(model, ch.app, ch.constraints); break;
          case 'add-unit': svc.units.add(model, ch.app, ch.n, place(ch.to)); break;
          case 'relate': svc.relations.integrate(model, ch.a, ch.b); break;
          case 'expose':
          case 'unexpose': svc.applications.setExposed(model, ch.app, ch.kind === 'expose'); break;
          case 'set-annotations': svc.applications.setAnnotations(model, ch.app, ch.annotations); break;
        }
      }
    });
    svc.wake();
    return { changes: p.changes.map(describeChange) };
  }

  private planned(model: string, yaml: string): Planned {
    this.svc.models.mustGet(model);
    // A pasted bundle has no directory: its relative charm paths (`./sink`) name charms.
    const bundle = loadBundle({ path: 'bundle.yaml', text: yaml }, [], () => {
      throw new SigilError('bad-request', 'include-file:// and include-base64:// are not supported in a bundle imported through the GUI', 'inline the values, or deploy the bundle with `sigil deploy FILE`');
    });
    const uploads: Planned['uploads'] = new Map();
    const charms: Record<string, BundleCharm> = {};
    for (const [app, spec] of Object.entries(bundle.applications)) {
      // A revision is part of the charm's key in the plan, as the CLI's `library:NAME@REV`.
      const key = spec.revision === undefined ? spec.charm : `${spec.charm}@${spec.revision}`;
      const u = uploads.get(key) ?? this.charmFiles(app, spec.charm, spec.revision);
      uploads.set(key, u);
      spec.charm = key;
      charms[app] = { hash: createHash('sha256').update(JSON.stringify({ files: u.files })).digest('hex'), charm: parseArchive({ files: u.files }) };
    }
    const current = bundleState(this.svc.store, model);
    return { bundle, changes: planBundle(bundle, current.state, charms, current.charms), uploads };
  }

  private charmFiles(app: string, charm: string, revision: number | undefined): { files: CharmArchive['files']; source: string } {
    if (charm.startsWith('/') && existsSync(charm) && statSync(charm).isDirectory()) return { files: readCharmFiles(charm), source: charm };
    const name = charm.split('/').pop() ?? '';
    const id = this.library.byName(name, revision);
    if (id !== undefined) return this.library.archiveOf(id);
    throw new SigilError(
      'not-found',
      `application "${app}": no charm named "${name}" in the library or on the controller${charm.startsWith('/') ? `, and ${charm} is not a directory the controller can read` : ''}`,
      'name a charm the deploy search finds, e.g. "charm: ./sink"',
    );
  }
}
