import type { ConsumedSecretView, OwnedSecretView, SecretContent, SecretContentResponse, SecretOp, UnitSecretsView } from '@sigil/api';
import { ROTATE_POLICIES, SECRET_ID_RE, SigilError, isRotatePolicy, secretUri } from '@sigil/core';
import type { Store } from '../store/store.ts';
import { ModelRepository } from '../state/models.ts';
import { type SecretRepository, type SecretRow } from '../state/secrets.ts';
import { Reads } from '../state/rows.ts';

/** How a unit stands towards a secret: it manages it, reads it as its application's, or was granted it. */
export type SecretAccess = 'manage' | 'owner-app' | 'granted';

export interface UnitRef {
  name: string;
  app: string;
  leader: boolean;
}

/**
 * The charm side of Juju secrets: what a unit may see (its view and the content its next hook
 * may read) and the operations its hooks commit. Every refusal that could tell a unit about
 * a secret it may not read says only "not found or not granted".
 */
export class CharmSecrets {
  private readonly reads: Reads;
  private readonly models: ModelRepository;

  constructor(private readonly s: Store, private readonly repo: SecretRepository, private readonly onWrite: () => void) {
    this.reads = new Reads(s);
    this.models = new ModelRepository(s);
  }

  access(model: string, u: UnitRef, row: SecretRow): SecretAccess | undefined {
    if (row.ownerKind === 'unit' && row.owner === u.name) return 'manage';
    if (row.ownerKind === 'application' && row.owner === u.app) return u.leader ? 'manage' : 'owner-app';
    const granted = this.repo.grants(model, row.id).some((g) => (g.subjectKind === 'application' && g.subject === u.app) || (g.subjectKind === 'unit' && g.subject === u.name));
    return granted ? 'granted' : undefined;
  }

  /** The unit's secrets for its view: metadata only. Undefined when it has none (the view stays as before secrets). */
  unitView(model: string, u: UnitRef): UnitSecretsView | undefined {
    const owned: OwnedSecretView[] = [];
    const consumed: ConsumedSecretView[] = [];
    const seen = new Set<string>();
    for (const row of [...this.repo.ownedBy(model, u.app, u.name), ...this.repo.grantedTo(model, u.app, u.name)]) {
      if (seen.has(row.id)) continue;
      seen.add(row.id);
      const access = this.access(model, u, row);
      if (access === 'manage') owned.push(this.ownedView(model, row));
      else if (access !== undefined) {
        const c = this.repo.consumer(model, row.id, u.name);
        consumed.push({ id: row.id, label: c?.label || (access === 'owner-app' ? row.label : ''), tracked: access === 'owner-app' ? row.latestRevision : (c?.revision ?? 0), latest: row.latestRevision, ownerApp: access === 'owner-app' });
      }
    }
    return owned.length + consumed.length === 0 ? undefined : { owned, consumed };
  }

  private ownedView(model: string, row: SecretRow): OwnedSecretView {
    const revisions = this.repo.revisions(model, row.id);
    const tracked = new Set(this.repo.consumers(model, row.id).map((c) => c.revision));
    const latest = revisions.find((r) => r.revision === row.latestRevision);
    return {
      id: row.id,
      owner: row.ownerKind === 'unit' ? 'unit' : 'application',
      label: row.label,
      description: row.description,
      revision: row.latestRevision,
      rotation: row.rotatePolicy,
      ...(row.nextRotate !== null ? { rotateAt: row.nextRotate } : {}),
      ...(latest?.expire != null ? { expireAt: latest.expire } : {}),
      obsolete: revisions.filter((r) => r.revision < row.latestRevision && !tracked.has(r.revision)).map((r) => r.revision),
      access: this.accessInfo(model, row.id),
    };
  }

  /** Juju's AccessInfo: who was granted the secret, in which scope. */
  accessInfo(model: string, id: string): { target: string; scope: string; role: 'view' }[] {
    const relations = new Map(this.reads.relations(model).map((r) => [r.id, r.key]));
    const uuid = this.models.uuid(model) ?? '';
    return this.repo.grants(model, id).map((g) => ({
      target: g.subjectKind === 'application' ? `application-${g.subject}` : `unit-${g.subject.replace('/', '-')}`,
      scope: g.relationId === null ? `model-${uuid}` : `relation-${relations.get(g.relationId) ?? g.relationId}`,
      role: 'view' as const,
    }));
  }

  /**
   * The content the unit's next hook may read: the latest revision of what it manages or
   * reads as its application's, and the pinned and latest revisions of what it was granted.
   * Asking for a secret by id that it may not read is refused (403) without saying whether
   * the secret exists.
   */
  content(model: string, u: UnitRef, ids?: readonly string[]): SecretContentResponse {
    return this.s.db.transaction(() => {
      const out: SecretContentResponse = { secrets: [], view: this.unitView(model, u) ?? { owned: [], consumed: [] } };
      const rows = ids === undefined
        ? [...new Map([...this.repo.ownedBy(model, u.app, u.name), ...this.repo.grantedTo(model, u.app, u.name)].map((r) => [r.id, r])).values()]
        : ids.map((id) => this.readable(model, u, id));
      for (const row of rows) {
        const access = this.access(model, u, row);
        if (access === undefined) continue;
        const wanted = new Set([row.latestRevision]);
        const c = access === 'granted' ? this.repo.consumer(model, row.id, u.name) : undefined;
        if (c) wanted.add(c.revision);
        const revisions: Record<string, SecretContent> = {};
        for (const rev of wanted) {
          const content = this.repo.content(model, row.id, rev);
          if (content) revisions[String(rev)] = content;
        }
        out.secrets.push({ id: row.id, revisions });
      }
      return out;
    })();
  }

  private readable(model: string, u: UnitRef, id: string): SecretRow {
    const row = SECRET_ID_RE.test(id) ? this.repo.get(model, id) : undefined;
    if (!row || this.access(model, u, row) === undefined) throw notGranted(id, u.name);
    return row;
  }

  private managed(model: string, u: UnitRef, id: string): SecretRow {
    const row = this.readable(model, u, id);
    const access = this.access(model, u, row);
    if (access !== 'manage') {
      const why = row.ownerKind === 'application' && row.owner === u.app ? `only the leader of ${u.app} may change its application's secrets` : 'only its owner may change it';
      throw new SigilError('forbidden', `${u.name} may not change ${secretUri(id)}: ${why}`, 'run this from the leader (is-leader), or create the secret with --owner unit');
    }
    return row;
  }

  /** Applies a hook's secret operations in order, inside the hook's commit transaction. */
  apply(model: string, u: UnitRef, ops: readonly SecretOp[], now = Date.now()): void {
    if (ops.length === 0) return;
    this.s.tx(() => {
      const touched = new Set<string>();
      for (const op of ops) this.applyOne(model, u, op, now, touched);
      for (const app of touched) this.s.changed(model, 'secret', app);
    });
    this.onWrite();
  }

  private applyOne(model: string, u: UnitRef, op: SecretOp, now: number, touched: Set<string>): void {
    const touch = (row: SecretRow) => {
      touched.add(row.ownerKind === 'unit' ? row.owner.slice(0, row.owner.lastIndexOf('/')) : row.owner);
      for (const g of this.repo.grants(model, row.id)) touched.add(g.subjectKind === 'unit' ? g.subject.slice(0, g.subject.lastIndexOf('/')) : g.subject);
    };
    switch (op.op) {
      case 'add': {
        if (!SECRET_ID_RE.test(op.id)) throw new SigilError('bad-request', `secret id "${op.id}" not valid`);
        if (this.repo.get(model, op.id)) throw new SigilError('already-exists', `secret ${secretUri(op.id)} already exists`);
        if (op.owner === 'application' && !u.leader) throw new SigilError('forbidden', `${u.name} may not add an application secret: it is not the leader of ${u.app}`, 'use --owner unit, or add it from the leader');
        const ownerKind = op.owner;
        const owner = op.owner === 'unit' ? u.name : u.app;
        if (Object.keys(op.content).length === 0) throw new SigilError('bad-request', 'empty secret value not valid');
        const label = op.label ?? '';
        if (label !== '' && this.repo.byOwnerLabel(model, ownerKind, owner, label)) throw new SigilError('already-exists', `secret with label "${label}" already exists`);
        const rotate = checkRotate(op.rotate ?? '');
        const row: SecretRow = { model, id: op.id, ownerKind, owner, name: '', label, description: op.description ?? '', rotatePolicy: rotate, nextRotate: nextRotate(rotate, now), latestRevision: 1, created: now, updated: now };
        this.repo.insert(row);
        this.repo.putRevision(model, op.id, 1, op.content, op.expire ?? null, now);
        touch(row);
        return;
      }
      case 'set': {
        const row = this.managed(model, u, op.id);
        if (op.label !== undefined && op.label !== row.label && op.label !== '' && this.repo.byOwnerLabel(model, row.ownerKind, row.owner, op.label)) {
          throw new SigilError('already-exists', `secret with label "${op.label}" already exists`);
        }
        const next: SecretRow = { ...row, updated: now };
        if (op.label !== undefined) next.label = op.label;
        if (op.description !== undefined) next.description = op.description;
        if (op.rotate !== undefined) {
          next.rotatePolicy = checkRotate(op.rotate);
          next.nextRotate = nextRotate(next.rotatePolicy, now);
        }
        if (op.content !== undefined && Object.keys(op.content).length > 0) {
          next.latestRevision = row.latestRevision + 1;
          this.repo.putRevision(model, row.id, next.latestRevision, op.content, op.expire ?? null, now);
        } else if (op.expire !== undefined) {
          this.repo.setRevisionExpire(model, row.id, row.latestRevision, op.expire);
        }
        this.repo.update(next);
        touch(next);
        return;
      }
      case 'grant': {
        const row = this.managed(model, u, op.id);
        const rel = this.reads.relation(model, op.relation);
        if (!rel || !rel.endpoints.some((e) => e.app === u.app) || !rel.endpoints.some((e) => e.app === op.app)) {
          throw new SigilError('not-found', `relation ${op.relation} between ${u.app} and ${op.app} not found`);
        }
        if (op.unit !== undefined && op.unit.slice(0, op.unit.lastIndexOf('/')) !== op.app) throw new SigilError('bad-request', `cannot specify unit "${op.unit}" in relation to application "${op.app}"`);
        this.repo.grant(model, row.id, op.unit === undefined ? { subjectKind: 'application', subject: op.app, relationId: op.relation } : { subjectKind: 'unit', subject: op.unit, relationId: op.relation });
        touch(row);
        return;
      }
      case 'revoke': {
        const row = this.managed(model, u, op.id);
        touch(row);
        let app = op.app;
        if (app === undefined && op.unit === undefined && op.relation !== undefined) app = this.reads.relation(model, op.relation)?.endpoints.find((e) => e.app !== u.app)?.app;
        if (app !== undefined) this.repo.revoke(model, row.id, 'application', app);
        if (op.unit !== undefined) this.repo.revoke(model, row.id, 'unit', op.unit);
        this.dropConsumersWithoutAccess(model, row);
        return;
      }
      case 'remove': {
        const row = this.managed(model, u, op.id);
        touch(row);
        if (op.revision === undefined) {
          this.repo.delete(model, row.id);
          return;
        }
        if (!this.repo.deleteRevision(model, row.id, op.revision)) throw new SigilError('not-found', `secret revision ${op.revision} for ${secretUri(row.id)} not found`);
        if (this.repo.revisions(model, row.id).length === 0) this.repo.delete(model, row.id);
        return;
      }
      case 'track': {
        const row = this.readable(model, u, op.id);
        if (this.access(model, u, row) !== 'granted') return;
        if (op.revision > row.latestRevision) throw new SigilError('bad-request', `secret ${secretUri(row.id)} has no revision ${op.revision}`);
        const prev = this.repo.consumer(model, row.id, u.name);
        const label = op.label ?? prev?.label ?? '';
        if (label !== '') {
          const other = this.repo.consumerByLabel(model, u.name, label);
          if (other !== undefined && other !== row.id) throw new SigilError('already-exists', `secret with label "${label}" already exists`);
        }
        this.repo.putConsumer(model, row.id, { unit: u.name, revision: op.revision, label });
        touch(row);
        return;
      }
      case 'rotated': {
        const row = this.managed(model, u, op.id);
        this.repo.update({ ...row, nextRotate: nextRotate(row.rotatePolicy, now) });
        touch(row);
        return;
      }
    }
  }

  /** After a revoke, units that can no longer read the secret stop tracking it (their pins no longer hold revisions). */
  private dropConsumersWithoutAccess(model: string, row: SecretRow): void {
    for (const c of this.repo.consumers(model, row.id)) {
      const unit = this.reads.unit(model, c.unit);
      const app = unit?.app ?? '';
      const leader = unit !== undefined && this.reads.app(model, app)?.leader === unit.name;
      if (!unit || this.access(model, { name: c.unit, app, leader }, row) === undefined) this.repo.deleteConsumer(model, row.id, c.unit);
    }
  }
}

export function notGranted(id: string, unit: string): SigilError {
  return new SigilError('forbidden', `secret ${SECRET_ID_RE.test(id) ? secretUri(id) : JSON.stringify(id)} not found or not granted to ${unit}`, 'the secret\'s owner grants it with secret-grant over a relation, or a model admin with `sigil grant-secret`');
}

function checkRotate(policy: string): string {
  if (policy === '' || isRotatePolicy(policy)) return policy === 'never' ? '' : policy;
  throw new SigilError('bad-request', `rotate policy "${policy}" not valid`, `use one of ${Object.keys(ROTATE_POLICIES).join(', ')}`);
}

function nextRotate(policy: string, now: number): number | null {
  return policy !== '' && isRotatePolicy(policy) && ROTATE_POLICIES[policy] > 0 ? now + ROTATE_POLICIES[policy] : null;
}
