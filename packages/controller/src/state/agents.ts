import { json, type Store } from '../store/store.ts';
import type { PortSpec, StatusDoc } from './rows.ts';
import { leaveAllScopes, relationData } from './relations.ts';

type Bag = Record<string, string>;

/** A relation bag as stored: its keys and the version its writes have reached. */
export interface StoredBag {
  data: Bag;
  version: number;
}

/**
 * The writes of what machine agents report (statuses, a hook's committed changes, relation
 * scopes and bags, settling and death), and the machines agents run on. The caller holds the
 * transaction; each write records its change.
 */
export class AgentRepository {
  constructor(private readonly s: Store) {}

  /**
   * The unit's agent status, what is left of its resolve request and, when given, its
   * workload status: a status change.
   */
  reportStatus(model: string, unit: string, agent: StatusDoc, resolved: string, workload: StatusDoc | undefined): void {
    this.s.db.prepare('UPDATE units SET agent = ?, resolved = ? WHERE model = ? AND name = ?').run(JSON.stringify(agent), resolved, model, unit);
    if (workload) this.setWorkload(model, unit, workload);
    this.s.changed(model, 'unit', unit, 'status');
  }

  /** The unit's workload status; recorded with the runtime fields a commit writes after it (`setUnitRuntime`). */
  setWorkload(model: string, unit: string, workload: StatusDoc): void {
    this.s.db.prepare('UPDATE units SET workload = ? WHERE model = ? AND name = ?').run(JSON.stringify(workload), model, unit);
  }

  /** The application status its leader set: a status change. */
  setAppStatus(model: string, app: string, status: StatusDoc): void {
    this.s.db.prepare('UPDATE applications SET status = ? WHERE model = ? AND name = ?').run(JSON.stringify(status), model, app);
    this.s.changed(model, 'application', app, 'status');
  }

  /** New leader settings, and a new version of them. */
  setLeaderSettings(model: string, app: string, settings: Bag): void {
    this.s.db.prepare('UPDATE applications SET leader_settings = ?, leader_settings_version = leader_settings_version + 1 WHERE model = ? AND name = ?').run(JSON.stringify(settings), model, app);
    this.s.changed(model, 'application', app);
  }

  /**
   * The unit's charm state, open ports and workload version. Its own fields only: nobody
   * else's view holds them but the leader's status summary, so this is a status change.
   */
  setUnitRuntime(model: string, unit: string, state: Bag, ports: PortSpec[], version: string): void {
    this.s.db.prepare('UPDATE units SET state = ?, ports = ?, version = ? WHERE model = ? AND name = ?').run(JSON.stringify(state), JSON.stringify(ports), version, model, unit);
    this.s.changed(model, 'unit', unit, 'status');
  }

  /** A unit's or an application's bag in a relation, if it was ever written. */
  bag(model: string, relationId: number, owner: string, isApp: boolean): StoredBag | undefined {
    const row = this.s.db.prepare('SELECT data, version FROM relation_settings WHERE model = ? AND relation_id = ? AND owner = ? AND is_app = ?').get(model, relationId, owner, isApp ? 1 : 0) as { data: string; version: number } | undefined;
    return row && { data: json<Bag>(row.data, {}), version: row.version };
  }

  /** Just a unit's bag in a relation (empty when never written). */
  unitBag(model: string, relationId: number, unit: string): Bag {
    const row = this.s.db.prepare('SELECT data FROM relation_settings WHERE model = ? AND relation_id = ? AND owner = ? AND is_app = 0').get(model, relationId, unit) as { data: string } | undefined;
    return json<Bag>(row?.data, {});
  }

  /** Writes a bag at `version`. */
  putBag(model: string, relationId: number, owner: string, isApp: boolean, data: Bag, version: number): void {
    this.s.db.prepare('INSERT OR REPLACE INTO relation_settings (model, relation_id, owner, is_app, data, version) VALUES (?, ?, ?, ?, ?, ?)').run(model, relationId, owner, isApp ? 1 : 0, JSON.stringify(data), version);
    this.s.changed(model, 'relation-data', relationData(relationId, owner));
  }

  enterScope(model: string, relationId: number, unit: string): void {
    this.s.db.prepare('INSERT OR IGNORE INTO relation_scopes (model, relation_id, unit) VALUES (?, ?, ?)').run(model, relationId, unit);
    this.s.changed(model, 'relation-data', relationData(relationId, unit));
  }

  leaveScope(model: string, relationId: number, unit: string): void {
    this.s.db.prepare('DELETE FROM relation_scopes WHERE model = ? AND relation_id = ? AND unit = ?').run(model, relationId, unit);
    this.s.changed(model, 'relation-data', relationData(relationId, unit));
  }

  /** The view revision at which the unit's agent found nothing to do: its own change kind, which agents ignore. */
  setSettled(model: string, unit: string, revision: number): void {
    this.s.db.prepare('UPDATE units SET settled = ? WHERE model = ? AND name = ?').run(revision, model, unit);
    this.s.changed(model, 'settled', unit);
  }

  /** The unit ran its last hook: dead, and out of every relation's scope. */
  setDead(model: string, unit: string): void {
    this.s.db.prepare("UPDATE units SET life = 'dead' WHERE model = ? AND name = ?").run(model, unit);
    leaveAllScopes(this.s, model, unit);
    this.s.changed(model, 'unit', unit);
  }

  /** The machines that have (or had) an agent: provisioned or enlisted, not yet dead. */
  machinesWithAgents(): { model: string; id: string }[] {
    return this.s.db.prepare("SELECT model, id FROM machines WHERE life != 'dead' AND instance_id IS NOT NULL ORDER BY model, length(id), id").all() as { model: string; id: string }[];
  }
}
