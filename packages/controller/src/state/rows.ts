import type { Charm, CharmProvenance, ConfigValue } from '@sigil/core';
import { SigilError } from '@sigil/core';
import { json, type Store } from '../store/store.ts';

/** Row shapes as the domain uses them (JSON columns parsed). */
export interface StatusDoc {
  current: string;
  message: string;
  since: number;
  data?: Record<string, unknown>;
  /** True once the charm itself called status-set (Juju shows `unknown` after start otherwise). */
  byCharm?: boolean;
}

export interface AppRow {
  model: string;
  name: string;
  charmUrl: string;
  config: Record<string, ConfigValue>;
  exposed: boolean;
  constraints: string;
  life: string;
  annotations: Record<string, string>;
  status: StatusDoc | null;
  leader: string | null;
  leaderSettings: Record<string, string>;
  leaderSettingsVersion: number;
  nextUnit: number;
  scale: number;
}

export interface UnitRow {
  model: string;
  name: string;
  app: string;
  machine: string | null;
  principal: string | null;
  life: string;
  workload: StatusDoc;
  agent: StatusDoc;
  ports: PortSpec[];
  version: string;
  state: Record<string, string>;
  resolved: '' | 'retry' | 'no-retry';
  /** The view revision at which the unit's agent last found nothing to do. */
  settled: number;
}

export interface PortSpec {
  from: number;
  to: number;
  protocol: 'tcp' | 'udp' | 'icmp';
  endpoints: string[];
}

export interface MachineRow {
  model: string;
  id: string;
  life: string;
  address: string | null;
  instanceId: string | null;
  hostname: string | null;
  status: StatusDoc;
  constraints: string;
  autoRemove: boolean;
  tokenHash: string | null;
}

export interface RelationEndpoint {
  app: string;
  name: string;
  role: 'provider' | 'requirer' | 'peer';
  interface: string;
  scope: 'global' | 'container';
}

export interface RelationRow {
  model: string;
  id: number;
  key: string;
  life: string;
  endpoints: RelationEndpoint[];
}

/** One relation bag as stored: `data` is the JSON text, left unparsed until needed. */
export interface SettingsRow {
  owner: string;
  isApp: boolean;
  data: string;
  version: number;
}

export interface CharmRow {
  url: string;
  /** The directory the charm was uploaded from, for export-bundle. */
  source: string;
  name: string;
  revision: number;
  hash: string;
  charm: Charm;
  /** Where a collected charm came from, from its collect-info (absent when it has none). */
  provenance?: CharmProvenance;
}

type Raw = Record<string, unknown>;

/** A charm row with its provenance, if recorded. */
const CHARM_SELECT = 'SELECT c.*, p.data AS provenance FROM charms c LEFT JOIN charm_provenance p ON p.model = c.model AND p.url = c.url';

export function toApp(r: Raw): AppRow {
  return {
    model: r.model as string,
    name: r.name as string,
    charmUrl: r.charm_url as string,
    config: json(r.config as string, {}),
    exposed: r.exposed === 1,
    constraints: r.constraints as string,
    life: r.life as string,
    annotations: json(r.annotations as string, {}),
    status: json<StatusDoc | null>(r.status as string | null, null),
    leader: (r.leader as string | null) ?? null,
    leaderSettings: json(r.leader_settings as string, {}),
    leaderSettingsVersion: r.leader_settings_version as number,
    nextUnit: r.next_unit as number,
    scale: r.scale as number,
  };
}

export function toUnit(r: Raw): UnitRow {
  return {
    model: r.model as string,
    name: r.name as string,
    app: r.app as string,
    machine: (r.machine as string | null) ?? null,
    principal: (r.principal as string | null) ?? null,
    life: r.life as string,
    workload: json(r.workload as string, { current: 'waiting', message: '', since: 0 }),
    agent: json(r.agent as string, { current: 'allocating', message: '', since: 0 }),
    ports: json(r.ports as string, []),
    version: r.version as string,
    state: json(r.state as string, {}),
    resolved: r.resolved as UnitRow['resolved'],
    settled: (r.settled as number | undefined) ?? 0,
  };
}

export function toMachine(r: Raw): MachineRow {
  return {
    model: r.model as string,
    id: r.id as string,
    life: r.life as string,
    address: (r.address as string | null) ?? null,
    instanceId: (r.instance_id as string | null) ?? null,
    hostname: (r.hostname as string | null) ?? null,
    status: json(r.status as string, { current: 'pending', message: '', since: 0 }),
    constraints: r.constraints as string,
    autoRemove: r.auto_remove === 1,
    tokenHash: (r.token_hash as string | null) ?? null,
  };
}

export function toRelation(r: Raw): RelationRow {
  return {
    model: r.model as string,
    id: r.id as number,
    key: r.key as string,
    life: r.life as string,
    endpoints: json(r.endpoints as string, []),
  };
}

/** The application at the other end of a relation from `app`'s; `app` itself in a peer relation. */
export function remoteApp(r: RelationRow, app: string): string {
  return (r.endpoints.find((e) => e.app !== app) ?? r.endpoints[0]!).app;
}

export function toCharm(r: Raw): CharmRow {
  return {
    url: r.url as string,
    source: (r.source as string | undefined) ?? '',
    name: r.name as string,
    revision: r.revision as number,
    hash: r.hash as string,
    charm: json(r.charm as string, {} as Charm),
    ...(typeof r.provenance === 'string' ? { provenance: json(r.provenance, {} as CharmProvenance) } : {}),
  };
}

export function status(current: string, message = '', extra: Partial<StatusDoc> = {}): StatusDoc {
  return { current, message, since: Date.now(), ...extra };
}

/** Typed reads shared by the domain services. */
/** Part of a relation one unit reads: some applications' bags, one application's units, one unit. */
export interface RelationSlice {
  apps: readonly string[];
  unitsOf: string;
  unit: string;
}

/**
 * The bounds of an application's unit names (`app/…`) in byte order: `app/` up to `app0`
 * ('0' follows '/'). A range the primary key answers, where `LIKE 'app/%'` scanned every
 * row of the relation (SQLite's LIKE is case-insensitive, so no index serves it): 1,001
 * rows for each view of a unit of a 1,000-unit application. PostgreSQL's text is
 * `COLLATE "C"` (byte order) too.
 */
const unitsRange = (app: string): [string, string] => [`${app}/`, `${app}0`];

export class Reads {
  constructor(private readonly s: Store) {}

  app(model: string, name: string): AppRow | undefined {
    const r = this.s.db.prepare('SELECT * FROM applications WHERE model = ? AND name = ?').get(model, name) as Raw | undefined;
    return r && toApp(r);
  }

  mustApp(model: string, name: string): AppRow {
    const a = this.app(model, name);
    if (!a) {
      throw new SigilError('not-found', `application "${name}" not found in model "${model}"`, 'see `sigil status` for the applications in this model');
    }
    return a;
  }

  apps(model: string): AppRow[] {
    return (this.s.db.prepare('SELECT * FROM applications WHERE model = ? ORDER BY name').all(model) as Raw[]).map(toApp);
  }

  unit(model: string, name: string): UnitRow | undefined {
    const r = this.s.db.prepare('SELECT * FROM units WHERE model = ? AND name = ?').get(model, name) as Raw | undefined;
    return r && toUnit(r);
  }

  mustUnit(model: string, name: string): UnitRow {
    const u = this.unit(model, name);
    if (!u) throw new SigilError('not-found', `unit "${name}" not found in model "${model}"`, 'see `sigil status` for the units in this model');
    return u;
  }

  units(model: string, app?: string): UnitRow[] {
    const rows = app === undefined
      ? this.s.db.prepare('SELECT * FROM units WHERE model = ?').all(model)
      : this.s.db.prepare('SELECT * FROM units WHERE model = ? AND app = ?').all(model, app);
    return (rows as Raw[]).map(toUnit);
  }

  /** The units placed on a machine, subordinates included. */
  unitsOn(model: string, machine: string): UnitRow[] {
    return (this.s.db.prepare('SELECT * FROM units WHERE model = ? AND machine = ? ORDER BY name').all(model, machine) as Raw[]).map(toUnit);
  }

  /** The subordinates of the given principal units, by principal. */
  subordinatesOf(model: string, principals: readonly string[]): Map<string, string[]> {
    const out = new Map<string, string[]>();
    if (principals.length === 0) return out;
    const rows = this.s.db
      .prepare(`SELECT name, principal FROM units WHERE model = ? AND principal IN (${principals.map(() => '?').join(', ')}) ORDER BY name`)
      .all(model, ...principals) as { name: string; principal: string }[];
    for (const r of rows) out.set(r.principal, [...(out.get(r.principal) ?? []), r.name]);
    return out;
  }

  /** The units in a relation's scope, sorted. */
  /** The units in scope of a relation; with `of`, only its units' and `of.unit`. */
  relationScope(model: string, id: number, of?: RelationSlice): string[] {
    const rows = of === undefined
      ? this.s.db.prepare('SELECT unit FROM relation_scopes WHERE model = ? AND relation_id = ? ORDER BY unit').all(model, id)
      : this.s.db
        .prepare('SELECT unit FROM relation_scopes WHERE model = ? AND relation_id = ? AND unit = ? UNION SELECT unit FROM relation_scopes WHERE model = ? AND relation_id = ? AND unit >= ? AND unit < ? ORDER BY unit')
        .all(model, id, of.unit, model, id, ...unitsRange(of.unitsOf));
    return (rows as { unit: string }[]).map((r) => r.unit);
  }

  /**
   * The bags of a relation, in a stable order (application bags first, then by owner); with
   * `of`, only those of its applications, of `of.unitsOf`'s units and of `of.unit`.
   */
  relationSettings(model: string, id: number, of?: RelationSlice): SettingsRow[] {
    const sql = 'SELECT owner, is_app, data, version FROM relation_settings WHERE model = ? AND relation_id = ?';
    const order = ' ORDER BY is_app DESC, owner';
    const rows = (of === undefined
      ? this.s.db.prepare(sql + order).all(model, id)
      : this.s.db.prepare(`${sql} AND is_app = 1 AND owner IN (${of.apps.map(() => '?').join(', ')}) UNION ${sql} AND is_app = 0 AND owner = ? UNION ${sql} AND is_app = 0 AND owner >= ? AND owner < ?${order}`)
        .all(model, id, ...of.apps, model, id, of.unit, model, id, ...unitsRange(of.unitsOf))) as { owner: string; is_app: number; data: string; version: number }[];
    return rows.map((r) => ({ owner: r.owner, isApp: r.is_app === 1, data: r.data, version: r.version }));
  }

  machine(model: string, id: string): MachineRow | undefined {
    const r = this.s.db.prepare('SELECT * FROM machines WHERE model = ? AND id = ?').get(model, id) as Raw | undefined;
    return r && toMachine(r);
  }

  /** The containers on a machine, nested ones' hosts included (`<parent>/lxc/…`): read by id, not the whole model. */
  containersUnder(model: string, parent: string): MachineRow[] {
    // A machine that never held a container has no sequence (the common case: one indexed read).
    if (this.s.db.prepare('SELECT 1 FROM container_sequences WHERE model = ? AND host = ?').get(model, parent) === undefined) return [];
    const pattern = `${parent.replace(/[\\%_]/g, (c) => `\\${c}`)}/lxc/%`;
    return (this.s.db.prepare("SELECT * FROM machines WHERE model = ? AND id LIKE ? ESCAPE '\\'").all(model, pattern) as Raw[]).map(toMachine);
  }

  machines(model?: string): MachineRow[] {
    const rows = model === undefined
      ? this.s.db.prepare('SELECT * FROM machines').all()
      : this.s.db.prepare('SELECT * FROM machines WHERE model = ?').all(model);
    return (rows as Raw[]).map(toMachine);
  }

  relations(model: string): RelationRow[] {
    return (this.s.db.prepare('SELECT * FROM relations WHERE model = ? ORDER BY id').all(model) as Raw[]).map(toRelation);
  }

  relation(model: string, id: number): RelationRow | undefined {
    const r = this.s.db.prepare('SELECT * FROM relations WHERE model = ? AND id = ?').get(model, id) as Raw | undefined;
    return r && toRelation(r);
  }

  charm(model: string, url: string): CharmRow {
    const r = this.s.db.prepare(`${CHARM_SELECT} WHERE c.model = ? AND c.url = ?`).get(model, url) as Raw | undefined;
    if (!r) throw new SigilError('not-found', `charm ${url} not found`);
    return toCharm(r);
  }

  charms(model: string): CharmRow[] {
    return (this.s.db.prepare(`${CHARM_SELECT} WHERE c.model = ?`).all(model) as Raw[]).map(toCharm);
  }
}
