import type { SecretContent } from '@sigil/api';
import type { Store } from '../store/store.ts';
import type { SecretCipher } from './secrets-crypto.ts';

export type SecretOwnerKind = 'model' | 'application' | 'unit';

export interface SecretRow {
  model: string;
  id: string;
  ownerKind: SecretOwnerKind;
  /** The application or unit name; '' for a user (model) secret. */
  owner: string;
  name: string;
  label: string;
  description: string;
  rotatePolicy: string;
  nextRotate: number | null;
  latestRevision: number;
  created: number;
  updated: number;
}

export interface RevisionRow {
  revision: number;
  expire: number | null;
  created: number;
}

export interface GrantRow {
  subjectKind: 'application' | 'unit';
  subject: string;
  relationId: number | null;
}

export interface ConsumerRow {
  unit: string;
  revision: number;
  label: string;
}

const SECRET_COLS = 'model, id, owner_kind AS ownerKind, owner, name, label, description, rotate_policy AS rotatePolicy, next_rotate AS nextRotate, latest_revision AS latestRevision, created, updated';

/**
 * Every SQL statement about secrets. Content goes in and out only through the cipher:
 * `putRevision` seals before the INSERT and `content` opens after the SELECT, so no code
 * path can write plaintext into the database.
 */
export class SecretRepository {
  /** Without a cipher the repository reads and writes metadata only (the agent view needs no content). */
  constructor(private readonly s: Store, private readonly cipherOrNone?: SecretCipher) {}

  private get cipher(): SecretCipher {
    if (!this.cipherOrNone) throw new Error('secret content needs the controller key: this repository was built for metadata only');
    return this.cipherOrNone;
  }

  get(model: string, id: string): SecretRow | undefined {
    return this.s.db.prepare(`SELECT ${SECRET_COLS} FROM secrets WHERE model = ? AND id = ?`).get(model, id) as SecretRow | undefined;
  }

  byName(model: string, name: string): SecretRow | undefined {
    return this.s.db.prepare(`SELECT ${SECRET_COLS} FROM secrets WHERE model = ? AND owner_kind = 'model' AND name = ?`).get(model, name) as SecretRow | undefined;
  }

  byOwnerLabel(model: string, ownerKind: SecretOwnerKind, owner: string, label: string): SecretRow | undefined {
    return this.s.db.prepare(`SELECT ${SECRET_COLS} FROM secrets WHERE model = ? AND owner_kind = ? AND owner = ? AND label = ?`).get(model, ownerKind, owner, label) as SecretRow | undefined;
  }

  list(model: string): SecretRow[] {
    return this.s.db.prepare(`SELECT ${SECRET_COLS} FROM secrets WHERE model = ? ORDER BY created, id`).all(model) as SecretRow[];
  }

  /** A unit as secret access sees it: its application, and whether it leads it. */
  unitRef(model: string, unit: string): { name: string; app: string; leader: boolean } | undefined {
    const u = this.s.db.prepare('SELECT u.name, u.app, a.leader FROM units u JOIN applications a ON a.model = u.model AND a.name = u.app WHERE u.model = ? AND u.name = ?').get(model, unit) as { name: string; app: string; leader: string | null } | undefined;
    return u && { name: u.name, app: u.app, leader: u.leader === u.name };
  }

  /** Secrets owned by the unit or by its application. */
  ownedBy(model: string, app: string, unit: string): SecretRow[] {
    return this.s.db
      .prepare(`SELECT ${SECRET_COLS} FROM secrets WHERE model = ? AND ((owner_kind = 'application' AND owner = ?) OR (owner_kind = 'unit' AND owner = ?)) ORDER BY created, id`)
      .all(model, app, unit) as SecretRow[];
  }

  /** Secrets granted to the application or the unit (relation grants only while the relation exists). */
  grantedTo(model: string, app: string, unit: string): SecretRow[] {
    return this.s.db
      .prepare(`SELECT ${SECRET_COLS.split(', ').map((c) => 's.' + c).join(', ')} FROM secrets s WHERE s.model = ? AND EXISTS (
        SELECT 1 FROM secret_grants g WHERE g.model = s.model AND g.id = s.id
          AND ((g.subject_kind = 'application' AND g.subject = ?) OR (g.subject_kind = 'unit' AND g.subject = ?))
          AND (g.relation_id IS NULL OR EXISTS (SELECT 1 FROM relations r WHERE r.model = g.model AND r.id = g.relation_id)))
        ORDER BY s.created, s.id`)
      .all(model, app, unit) as SecretRow[];
  }

  insert(r: SecretRow): void {
    this.s.db
      .prepare('INSERT INTO secrets (model, id, owner_kind, owner, name, label, description, rotate_policy, next_rotate, latest_revision, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(r.model, r.id, r.ownerKind, r.owner, r.name, r.label, r.description, r.rotatePolicy, r.nextRotate, r.latestRevision, r.created, r.updated);
  }

  update(r: SecretRow): void {
    this.s.db
      .prepare('UPDATE secrets SET name = ?, label = ?, description = ?, rotate_policy = ?, next_rotate = ?, latest_revision = ?, updated = ? WHERE model = ? AND id = ?')
      .run(r.name, r.label, r.description, r.rotatePolicy, r.nextRotate, r.latestRevision, r.updated, r.model, r.id);
  }

  delete(model: string, id: string): void {
    for (const t of ['secrets', 'secret_revisions', 'secret_grants', 'secret_consumers']) this.s.db.prepare(`DELETE FROM ${t} WHERE model = ? AND id = ?`).run(model, id);
  }

  putRevision(model: string, id: string, revision: number, content: SecretContent, expire: number | null, now: number): void {
    const sealed = this.cipher.seal(Buffer.from(JSON.stringify(content), 'utf8'), aad(model, id, revision));
    this.s.db.prepare('INSERT INTO secret_revisions (model, id, revision, content, expire, created) VALUES (?, ?, ?, ?, ?, ?)').run(model, id, revision, sealed, expire, now);
  }

  setRevisionExpire(model: string, id: string, revision: number, expire: number | null): void {
    this.s.db.prepare('UPDATE secret_revisions SET expire = ? WHERE model = ? AND id = ? AND revision = ?').run(expire, model, id, revision);
  }

  revisions(model: string, id: string): RevisionRow[] {
    return this.s.db.prepare('SELECT revision, expire, created FROM secret_revisions WHERE model = ? AND id = ? ORDER BY revision').all(model, id) as RevisionRow[];
  }

  deleteRevision(model: string, id: string, revision: number): boolean {
    return this.s.db.prepare('DELETE FROM secret_revisions WHERE model = ? AND id = ? AND revision = ?').run(model, id, revision).changes > 0;
  }

  /** A revision's decrypted content; undefined when that revision does not exist. */
  content(model: string, id: string, revision: number): SecretContent | undefined {
    const row = this.s.db.prepare('SELECT content FROM secret_revisions WHERE model = ? AND id = ? AND revision = ?').get(model, id, revision) as { content: Buffer } | undefined;
    if (!row) return undefined;
    return JSON.parse(this.cipher.open(row.content, aad(model, id, revision)).toString('utf8')) as SecretContent;
  }

  grants(model: string, id: string): GrantRow[] {
    return this.s.db
      .prepare(`SELECT g.subject_kind AS subjectKind, g.subject, g.relation_id AS relationId FROM secret_grants g WHERE g.model = ? AND g.id = ?
        AND (g.relation_id IS NULL OR EXISTS (SELECT 1 FROM relations r WHERE r.model = g.model AND r.id = g.relation_id)) ORDER BY g.subject_kind, g.subject`)
      .all(model, id) as GrantRow[];
  }

  grant(model: string, id: string, g: GrantRow): void {
    this.s.db.prepare('INSERT OR REPLACE INTO secret_grants (model, id, subject_kind, subject, relation_id) VALUES (?, ?, ?, ?, ?)').run(model, id, g.subjectKind, g.subject, g.relationId);
  }

  revoke(model: string, id: string, subjectKind: 'application' | 'unit', subject: string): boolean {
    return this.s.db.prepare('DELETE FROM secret_grants WHERE model = ? AND id = ? AND subject_kind = ? AND subject = ?').run(model, id, subjectKind, subject).changes > 0;
  }

  consumers(model: string, id: string): ConsumerRow[] {
    return this.s.db.prepare('SELECT unit, revision, label FROM secret_consumers WHERE model = ? AND id = ? ORDER BY unit').all(model, id) as ConsumerRow[];
  }

  consumer(model: string, id: string, unit: string): ConsumerRow | undefined {
    return this.s.db.prepare('SELECT unit, revision, label FROM secret_consumers WHERE model = ? AND id = ? AND unit = ?').get(model, id, unit) as ConsumerRow | undefined;
  }

  consumerByLabel(model: string, unit: string, label: string): string | undefined {
    return (this.s.db.prepare('SELECT id FROM secret_consumers WHERE model = ? AND unit = ? AND label = ?').get(model, unit, label) as { id: string } | undefined)?.id;
  }

  putConsumer(model: string, id: string, c: ConsumerRow): void {
    this.s.db.prepare('INSERT OR REPLACE INTO secret_consumers (model, id, unit, revision, label) VALUES (?, ?, ?, ?, ?)').run(model, id, c.unit, c.revision, c.label);
  }

  deleteConsumer(model: string, id: string, unit: string): void {
    this.s.db.prepare('DELETE FROM secret_consumers WHERE model = ? AND id = ? AND unit = ?').run(model, id, unit);
  }

  /**
   * Drops what removed entities leave: secrets whose owning unit or application is gone
   * (Juju removes a charm's secrets with their owner), and grants and consumer pins of
   * units and applications that no longer exist. Returns how many secrets went.
   */
  pruneOrphans(model: string): number {
    const gone = this.s.db
      .prepare(`SELECT id FROM secrets s WHERE s.model = ? AND (
        (s.owner_kind = 'application' AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.model = s.model AND a.name = s.owner))
        OR (s.owner_kind = 'unit' AND NOT EXISTS (SELECT 1 FROM units u WHERE u.model = s.model AND u.name = s.owner)))`)
      .all(model) as { id: string }[];
    for (const { id } of gone) this.delete(model, id);
    this.s.db.prepare(`DELETE FROM secret_consumers WHERE model = ? AND NOT EXISTS (SELECT 1 FROM units u WHERE u.model = secret_consumers.model AND u.name = secret_consumers.unit)`).run(model);
    this.s.db.prepare(`DELETE FROM secret_grants WHERE model = ? AND (
      (subject_kind = 'application' AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.model = secret_grants.model AND a.name = secret_grants.subject))
      OR (subject_kind = 'unit' AND NOT EXISTS (SELECT 1 FROM units u WHERE u.model = secret_grants.model AND u.name = secret_grants.subject)))`).run(model);
    return gone.length;
  }

  /** Everything a removed model leaves behind. */
  deleteModel(model: string): void {
    for (const t of ['secrets', 'secret_revisions', 'secret_grants', 'secret_consumers']) this.s.db.prepare(`DELETE FROM ${t} WHERE model = ?`).run(model);
  }
}

function aad(model: string, id: string, revision: number): string {
  return `sigil-secret\0${model}\0${id}\0${revision}`;
}
