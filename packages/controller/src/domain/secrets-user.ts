import type { SecretContent, SecretSummary } from '@sigil/api';
import { SigilError, decodeSecretContent, newSecretId, parseSecretUri, secretUri } from '@sigil/core';
import type { Store } from '../store/store.ts';
import type { SecretRepository, SecretRow } from '../state/secrets.ts';
import { Reads } from '../state/rows.ts';
import type { CharmSecrets } from './secrets.ts';

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,255}$/;

/**
 * User secrets (`sigil add-secret`, Juju 3.3+): owned by the model, managed by model admins,
 * granted to applications that read them with `secret-get` (usually through a config option
 * of type `secret`). Also the listing and `show-secret` of every secret in the model.
 */
export class UserSecrets {
  private readonly reads: Reads;

  constructor(private readonly s: Store, private readonly repo: SecretRepository, private readonly charm: CharmSecrets, private readonly onWrite: () => void) {
    this.reads = new Reads(s);
  }

  add(model: string, name: string, content: SecretContent, info = '', now = Date.now()): { uri: string } {
    if (!NAME_RE.test(name)) throw new SigilError('bad-request', `secret name "${name}" not valid`, 'use letters, digits, ".", "_" and "-", starting with a letter or digit');
    if (Object.keys(content).length === 0) throw new SigilError('bad-request', 'missing secret value or filename', 'give key=value pairs or --file');
    const id = newSecretId();
    this.write(model, () => {
      if (this.repo.byName(model, name)) throw new SigilError('already-exists', `secret with name "${name}" already exists`, 'choose another name, or change it with `sigil update-secret`');
      this.repo.insert({ model, id, ownerKind: 'model', owner: '', name, label: '', description: info, rotatePolicy: '', nextRotate: null, latestRevision: 1, created: now, updated: now });
      this.repo.putRevision(model, id, 1, content, null, now);
    });
    return { uri: secretUri(id) };
  }

  /** A secret by URI, bare id or (for user secrets) name, as `show-secret` accepts. */
  resolve(model: string, ref: string): SecretRow {
    const uri = parseSecretUri(ref);
    const row = (uri && this.repo.get(model, uri.id)) || this.repo.byName(model, ref);
    if (!row) throw new SigilError('not-found', `secret "${ref}" not found`, 'see `sigil secrets` for the secrets in this model');
    return row;
  }

  private userSecret(model: string, ref: string): SecretRow {
    const row = this.resolve(model, ref);
    if (row.ownerKind !== 'model') throw new SigilError('forbidden', `secret "${ref}" is owned by ${row.owner}`, 'only user secrets (from `sigil add-secret`) are managed from the CLI; charm secrets are managed by their charm');
    return row;
  }

  list(model: string): SecretSummary[] {
    return this.s.db.transaction(() => this.repo.list(model).map((r) => this.summary(model, r, false)))();
  }

  /** `show-secret`: metadata, with `reveal` the values of one revision (the caller checked the admin role). */
  show(model: string, ref: string, o: { reveal: boolean; revisions: boolean; revision?: number }): SecretSummary {
    return this.s.db.transaction(() => {
      const row = this.resolve(model, ref);
      const out = this.summary(model, row, o.revisions);
      if (o.reveal) {
        const rev = o.revision ?? row.latestRevision;
        const content = this.repo.content(model, row.id, rev);
        if (!content) throw new SigilError('not-found', `secret revision ${rev} for ${secretUri(row.id)} not found`, `its revisions: ${this.repo.revisions(model, row.id).map((r) => r.revision).join(', ')}`);
        out.content = decodeSecretContent(content);
      }
      return out;
    })();
  }

  update(model: string, ref: string, u: { content?: SecretContent; info?: string; name?: string }, now = Date.now()): void {
    this.write(model, () => {
      const row = this.userSecret(model, ref);
      const next: SecretRow = { ...row, updated: now };
      if (u.name !== undefined && u.name !== row.name) {
        if (!NAME_RE.test(u.name)) throw new SigilError('bad-request', `secret name "${u.name}" not valid`);
        if (this.repo.byName(model, u.name)) throw new SigilError('already-exists', `secret with name "${u.name}" already exists`);
        next.name = u.name;
      }
      if (u.info !== undefined) next.description = u.info;
      if (u.content !== undefined && Object.keys(u.content).length > 0) {
        next.latestRevision = row.latestRevision + 1;
        this.repo.putRevision(model, row.id, next.latestRevision, u.content, null, now);
      }
      this.repo.update(next);
      this.touch(model, row.id);
    });
  }

  remove(model: string, ref: string, revision?: number): void {
    this.write(model, () => {
      const row = this.userSecret(model, ref);
      this.touch(model, row.id);
      if (revision === undefined) return this.repo.delete(model, row.id);
      if (!this.repo.deleteRevision(model, row.id, revision)) throw new SigilError('not-found', `secret revision ${revision} for ${secretUri(row.id)} not found`);
      if (this.repo.revisions(model, row.id).length === 0) this.repo.delete(model, row.id);
    });
  }

  grant(model: string, ref: string, apps: readonly string[]): void {
    this.write(model, () => {
      const row = this.userSecret(model, ref);
      for (const app of apps) {
        if (!this.reads.app(model, app)) throw new SigilError('not-found', `application "${app}" not found`, 'see `sigil status` for the applications in this model');
        this.repo.grant(model, row.id, { subjectKind: 'application', subject: app, relationId: null });
      }
      this.touch(model, row.id);
    });
  }

  revoke(model: string, ref: string, apps: readonly string[]): void {
    this.write(model, () => {
      const row = this.userSecret(model, ref);
      this.touch(model, row.id);
      for (const app of apps) {
        if (!this.repo.revoke(model, row.id, 'application', app)) throw new SigilError('not-found', `application "${app}" has no access to secret "${ref}"`);
        for (const c of this.repo.consumers(model, row.id)) if (c.unit.startsWith(app + '/')) this.repo.deleteConsumer(model, row.id, c.unit);
      }
    });
  }

  private write(model: string, fn: () => void): void {
    this.s.tx(fn);
    this.onWrite();
  }

  /** Wakes the agents of every application that can read the secret. */
  private touch(model: string, id: string): void {
    for (const g of this.repo.grants(model, id)) this.s.changed(model, 'secret', g.subjectKind === 'unit' ? g.subject.slice(0, g.subject.lastIndexOf('/')) : g.subject);
  }

  private summary(model: string, r: SecretRow, withRevisions: boolean): SecretSummary {
    const revisions = this.repo.revisions(model, r.id);
    const latest = revisions.find((x) => x.revision === r.latestRevision);
    const out: SecretSummary = {
      id: r.id,
      owner: r.ownerKind === 'model' ? '<model>' : r.owner,
      ownerKind: r.ownerKind,
      name: r.name,
      label: r.label,
      description: r.description,
      revision: r.latestRevision,
      rotation: r.rotatePolicy,
      created: r.created,
      updated: r.updated,
      access: this.charm.accessInfo(model, r.id),
    };
    if (r.nextRotate !== null) out.rotates = r.nextRotate;
    if (latest?.expire != null) out.expires = latest.expire;
    if (withRevisions) out.revisions = revisions.map((x) => ({ revision: x.revision, created: x.created, ...(x.expire != null ? { expires: x.expire } : {}) }));
    return out;
  }
}
