import { createHash } from 'node:crypto';
import { MAX_RESOURCE_SIZE, type ResourceDoc, type UnitResourceView } from '@sigil/api';
import { SigilError, type ResourceSpec } from '@sigil/core';
import type { Store } from '../store/store.ts';
import { StorageRepository } from '../state/storage.ts';
import { Reads } from '../state/rows.ts';

/**
 * Charm resources (issue 20): files an operator uploads for an application
 * (`deploy --resource`, `attach-resource`). Each upload of new content is a new revision;
 * the application's units see the fingerprint move and run upgrade-charm, and their agents
 * fetch the content once per fingerprint.
 */
export class Resources {
  private readonly repo: StorageRepository;
  private readonly reads: Reads;

  constructor(private readonly s: Store) {
    this.repo = new StorageRepository(s);
    this.reads = new Reads(s);
  }

  /** Stores one upload. A name the charm does not declare, or content too large, changes nothing. */
  upload(model: string, app: string, name: string, data: Buffer, username: string): ResourceDoc {
    return this.s.tx(() => {
      const a = this.reads.mustApp(model, app);
      const spec = this.spec(model, a.charmUrl, app, name);
      if (spec.type !== 'file') throw new SigilError('bad-request', `resource "${name}" is an ${spec.type}, which machine charms cannot use`, 'only resources of type file can be uploaded here');
      if (data.length > MAX_RESOURCE_SIZE) {
        throw new SigilError('too-large', `resource "${name}" is ${data.length} bytes, over the limit of ${MAX_RESOURCE_SIZE} bytes`, 'upload a smaller file (the limit is 64 MiB)');
      }
      const fingerprint = createHash('sha384').update(data).digest('hex');
      const current = this.repo.resources(model, app).find((r) => r.name === name);
      if (current?.fingerprint !== fingerprint) {
        this.repo.putResource(model, { app, name, revision: (current?.revision ?? 0) + 1, fingerprint, size: data.length, filename: spec.filename, username, uploaded: Date.now() }, data);
        this.s.changed(model, 'application', app);
        for (const u of this.reads.units(model, app)) this.s.changed(model, 'unit', u.name);
      }
      return this.list(model, app).find((r) => r.name === name)!;
    });
  }

  /** Every resource the application's charm declares, uploaded or not (`sigil resources APP`). */
  list(model: string, app: string): ResourceDoc[] {
    const a = this.reads.mustApp(model, app);
    const specs = this.reads.charm(model, a.charmUrl).charm.meta.resources ?? {};
    const stored = new Map(this.repo.resources(model, app).map((r) => [r.name, r]));
    return Object.values(specs).sort((x, y) => x.name.localeCompare(y.name)).map((spec) => {
      const r = stored.get(spec.name);
      return {
        name: spec.name, type: spec.type, path: spec.filename, description: spec.description,
        revision: r?.revision ?? 0, fingerprint: r?.fingerprint ?? '', size: r?.size ?? 0,
        origin: r ? 'upload' : '', username: r?.username ?? '', timestamp: r?.uploaded ?? 0,
      };
    });
  }

  unitView(model: string, app: string, specs: Record<string, ResourceSpec>): UnitResourceView[] {
    if (Object.keys(specs).length === 0) return [];
    const stored = new Map(this.repo.resources(model, app).map((r) => [r.name, r]));
    return Object.values(specs).sort((x, y) => x.name.localeCompare(y.name)).map((s) => ({
      name: s.name, filename: s.filename, fingerprint: stored.get(s.name)?.fingerprint ?? '', size: stored.get(s.name)?.size ?? 0,
    }));
  }

  /** The content a unit of `app` fetches; a resource never uploaded is a clear 404. */
  content(model: string, app: string, name: string): { data: Buffer; fingerprint: string } {
    const r = this.repo.resources(model, app).find((x) => x.name === name);
    const data = r ? this.repo.resourceContent(r.fingerprint) : undefined;
    if (!r || !data) throw new SigilError('not-found', `resource "${name}" of application "${app}" has not been uploaded`, `upload it: \`sigil attach-resource ${app} ${name}=<file>\``);
    return { data, fingerprint: r.fingerprint };
  }

  private spec(model: string, charmUrl: string, app: string, name: string): ResourceSpec {
    const specs = this.reads.charm(model, charmUrl).charm.meta.resources ?? {};
    const spec = specs[name];
    if (!spec) {
      const names = Object.keys(specs).sort();
      throw new SigilError('not-found', `application "${app}" has no resource "${name}"`, names.length ? `its charm declares: ${names.join(', ')}` : 'its charm declares no resources');
    }
    return spec;
  }
}
