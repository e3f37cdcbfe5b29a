import { SigilError, effectiveConfig } from '@sigil/core';
import type { AgentStatusReport, CommitResult, HookCommit, LogLine, MachineView, OperationResult, RelationView, UnitView } from '@sigil/api';
import { json, type Store } from '../store/store.ts';
import { Reads, status, type PortSpec, type RelationRow, type UnitRow } from './rows.ts';
import { Models } from './models.ts';

type Bag = Record<string, string>;

/** The controller side of everything a machine agent reads and reports. */
export class AgentFacade {
  private readonly reads: Reads;
  private readonly models: Models;

  constructor(private readonly s: Store) {
    this.reads = new Reads(s);
    this.models = new Models(s);
  }

  view(model: string, machineId: string): MachineView {
    const read = this.s.db.transaction(() => {
      const m = this.models.mustGet(model);
      const machine = this.reads.machine(model, machineId);
      if (!machine) throw new SigilError('not-found', `machine ${machineId} not found`);
      const units = this.reads.units(model).filter((u) => u.machine === machineId);
      return {
        revision: this.s.revision(),
        model: { name: m.name, uuid: m.uuid, life: m.life, updateStatusInterval: m.config['update-status-hook-interval'], retryHooks: m.config['automatically-retry-hooks'] },
        machine: { id: machine.id, life: machine.life, address: machine.address ?? '', hostname: machine.hostname ?? '' },
        units: units.map((u) => this.unitView(model, u)),
      };
    });
    return read();
  }

  private unitView(model: string, u: UnitRow): UnitView {
    const app = this.reads.mustApp(model, u.app);
    const charm = this.reads.charm(model, app.charmUrl);
    const appUnits = this.reads.units(model, u.app);
    const relations = this.reads.relations(model).filter((r) => r.endpoints.some((e) => e.app === u.app));
    const ops = this.s.db
      .prepare("SELECT id, kind, name, params, status FROM operations WHERE model = ? AND unit = ? AND status IN ('pending', 'running') ORDER BY id")
      .all(model, u.name) as { id: number; kind: 'action' | 'exec'; name: string; params: string; status: string }[];
    return {
      name: u.name,
      app: u.app,
      life: u.life,
      principal: u.principal,
      subordinates: this.reads.units(model).filter((x) => x.principal === u.name).map((x) => x.name),
      charmUrl: app.charmUrl,
      charmHash: charm.hash,
      config: effectiveConfig(charm.charm.config, app.config),
      leader: app.leader === u.name,
      leaderSettings: app.leaderSettings,
      leaderSettingsVersion: app.leaderSettingsVersion,
      resolved: u.resolved,
      relations: relations.map((r) => this.relationView(model, r, u)),
      operations: ops.map((o) => ({ ...o, params: json(o.params, {}) })),
      workload: { status: u.workload.current, message: u.workload.message, byCharm: u.workload.byCharm === true },
      appStatus: app.status ? { status: app.status.current, message: app.status.message } : { status: 'unknown', message: '' },
      appUnitStatuses: Object.fromEntries(appUnits.map((x) => [x.name, { status: x.workload.current, message: x.workload.message }])),
      agentStatus: u.agent.current,
      ports: u.ports,
      state: u.state,
    };
  }

  private relationView(model: string, r: RelationRow, u: UnitRow): RelationView {
    const local = r.endpoints.find((e) => e.app === u.app)!;
    const remote = r.endpoints.find((e) => e.app !== u.app) ?? local;
    const scope = new Set((this.s.db.prepare('SELECT unit FROM relation_scopes WHERE model = ? AND relation_id = ?').all(model, r.id) as { unit: string }[]).map((x) => x.unit));
    const settings = this.s.db.prepare('SELECT owner, is_app, data, version FROM relation_settings WHERE model = ? AND relation_id = ?').all(model, r.id) as { owner: string; is_app: number; data: string; version: number }[];
    const unitVersions = new Map<string, number>();
    const unitData: Record<string, Bag> = {};
    const appData: Record<string, Bag> = {};
    let remoteAppVersion = 0;
    for (const row of settings) {
      if (row.is_app === 1) {
        appData[row.owner] = json(row.data, {});
        if (row.owner === remote.app) remoteAppVersion = row.version;
      } else {
        unitData[row.owner] = json(row.data, {});
        unitVersions.set(row.owner, row.version);
      }
    }
    const members: Record<string, number> = {};
    if (u.life !== 'dead') {
      for (const other of scope) {
        if (other === u.name || other.slice(0, other.lastIndexOf('/')) !== remote.app) continue;
        if (local.scope === 'container' && !this.sameContainer(model, u, other)) continue;
        members[other] = unitVersions.get(other) ?? 0;
      }
    }
    return {
      id: r.id,
      life: r.life,
      endpoint: local.name,
      interface: local.interface,
      role: local.role,
      scope: local.scope,
      remoteApp: remote.app,
      inScope: scope.has(u.name),
      members,
      remoteAppVersion,
      unitData,
      appData,
    };
  }

  private sameContainer(model: string, u: UnitRow, otherName: string): boolean {
    const other = this.reads.unit(model, otherName);
    if (!other) return false;
    const principalOf = (x: UnitRow) => x.principal ?? x.name;
    return principalOf(u) === principalOf(other);
  }

  reportStatus(model: string, r: AgentStatusReport): void {
    this.s.tx(() => {
      const u = this.reads.mustUnit(model, r.unit);
      const agent = status(r.agent, r.message, r.data === undefined ? {} : { data: r.data });
      // Only starting the retry (or skip) consumes a resolve request; an action that runs
      // meanwhile does not.
      const resolved = r.resolvedAck === true ? '' : u.resolved;
      this.s.db.prepare('UPDATE units SET agent = ?, resolved = ? WHERE model = ? AND name = ?').run(JSON.stringify(agent), resolved, model, r.unit);
      // Juju's own statuses (installing, unknown after start) never hide one the charm set.
      const ownStatus = r.workload && (r.workload.status === 'unknown' || r.workload.message === 'installing charm software');
      if (r.workload && !(ownStatus && u.workload.byCharm === true)) {
        this.s.db.prepare('UPDATE units SET workload = ? WHERE model = ? AND name = ?')
          .run(JSON.stringify(status(r.workload.status, r.workload.message, { byCharm: u.workload.byCharm === true })), model, r.unit);
      }
      this.s.changed(model, 'unit', r.unit);
    });
  }

  /** A committed hook's buffered changes, applied atomically (Juju's CommitHookChanges). */
  commit(model: string, c: HookCommit): CommitResult {
    return this.s.tx(() => {
      const u = this.reads.mustUnit(model, c.unit);
      const app = this.reads.mustApp(model, u.app);
      const leader = app.leader === u.name;
      const appVersions: Record<string, number> = {};
      for (const [rel, changes] of Object.entries(c.relationUnit)) this.mergeBag(model, Number(rel), u.name, false, changes);
      for (const [rel, changes] of Object.entries(c.relationApp)) {
        if (!leader) throw new SigilError('permission-denied', `${u.name} is not the leader of ${u.app}`, 'only the leader may write its application bag');
        appVersions[rel] = this.mergeBag(model, Number(rel), u.app, true, changes);
      }
      if (c.unitStatus) {
        this.s.db.prepare('UPDATE units SET workload = ? WHERE model = ? AND name = ?')
          .run(JSON.stringify(status(c.unitStatus.status, c.unitStatus.message, { byCharm: true, ...(c.unitStatus.data ? { data: c.unitStatus.data } : {}) })), model, u.name);
      }
      if (c.appStatus && leader) {
        this.s.db.prepare('UPDATE applications SET status = ? WHERE model = ? AND name = ?').run(JSON.stringify(status(c.appStatus.status, c.appStatus.message)), model, u.app);
      }
      if (Object.keys(c.leaderSettings).length > 0) {
        if (!leader) throw new SigilError('permission-denied', `${u.name} is not the leader of ${u.app}`, 'only the leader may call leader-set');
        const next = applyBag(app.leaderSettings, c.leaderSettings);
        if (JSON.stringify(next) !== JSON.stringify(app.leaderSettings)) {
          this.s.db.prepare('UPDATE applications SET leader_settings = ?, leader_settings_version = leader_settings_version + 1 WHERE model = ? AND name = ?').run(JSON.stringify(next), model, u.app);
        }
      }
      const state = applyBag(u.state, c.unitState);
      const ports = applyPorts(u.ports, c.openPorts, c.closePorts);
      const version = c.applicationVersion ?? u.version;
      this.s.db.prepare('UPDATE units SET state = ?, ports = ?, version = ? WHERE model = ? AND name = ?').run(JSON.stringify(state), JSON.stringify(ports), version, model, u.name);
      this.s.changed(model, 'unit', u.name);
      this.s.changed(model, 'application', u.app);
      return { appVersions };
    });
  }

  /** Merges changes into a bag; bumps its version only when the content really changed. */
  private mergeBag(model: string, rel: number, owner: string, isApp: boolean, changes: Record<string, string | null>): number {
    const row = this.s.db.prepare('SELECT data, version FROM relation_settings WHERE model = ? AND relation_id = ? AND owner = ? AND is_app = ?').get(model, rel, owner, isApp ? 1 : 0) as { data: string; version: number } | undefined;
    const before = json<Bag>(row?.data, {});
    const after = applyBag(before, changes);
    if (row && JSON.stringify(after) === JSON.stringify(before)) return row.version;
    const version = (row?.version ?? 0) + 1;
    this.s.db.prepare('INSERT OR REPLACE INTO relation_settings (model, relation_id, owner, is_app, data, version) VALUES (?, ?, ?, ?, ?, ?)').run(model, rel, owner, isApp ? 1 : 0, JSON.stringify(after), version);
    this.s.changed(model, 'relation', String(rel));
    return version;
  }

  /** The unit joins a relation: its address keys are written first, so counterparts can always read them. */
  enterScope(model: string, unit: string, rel: number, address: string): void {
    this.s.tx(() => {
      const r = this.reads.relation(model, rel);
      if (!r || r.life !== 'alive') throw new SigilError('conflict', `relation ${rel} is not alive`);
      // The address keys are filled in (unless the charm already set them) before the unit
      // enters scope, so counterparts can always read them (a hook may have written other
      // keys already, in relation-created).
      const row = this.s.db.prepare('SELECT data FROM relation_settings WHERE model = ? AND relation_id = ? AND owner = ? AND is_app = 0').get(model, rel, unit) as { data: string } | undefined;
      const have = json<Bag>(row?.data, {});
      const defaults: Record<string, string> = { 'private-address': address, 'ingress-address': address, 'egress-subnets': `${address}/32` };
      const missing = Object.fromEntries(Object.entries(defaults).filter(([k]) => !(k in have)));
      if (Object.keys(missing).length > 0) this.mergeBag(model, rel, unit, false, missing);
      this.s.db.prepare('INSERT OR IGNORE INTO relation_scopes (model, relation_id, unit) VALUES (?, ?, ?)').run(model, rel, unit);
      this.s.changed(model, 'relation', String(rel));
    });
  }

  leaveScope(model: string, unit: string, rel: number): void {
    this.s.tx(() => {
      this.s.db.prepare('DELETE FROM relation_scopes WHERE model = ? AND relation_id = ? AND unit = ?').run(model, rel, unit);
      this.s.changed(model, 'relation', String(rel));
    });
  }

  /**
   * The unit's resolver found nothing to do with the view read at `revision`. Recorded as
   * its own change kind, which agents ignore, so settling never wakes anyone but waiters.
   */
  reportSettled(model: string, unit: string, revision: number): void {
    this.s.tx(() => {
      this.s.db.prepare('UPDATE units SET settled = ? WHERE model = ? AND name = ?').run(revision, model, unit);
      this.s.changed(model, 'settled', unit);
    });
  }

  /** The unit ran its last hook: it leaves the model. */
  setDead(model: string, unit: string): void {
    this.s.tx(() => {
      const u = this.reads.unit(model, unit);
      if (!u) return;
      this.s.db.prepare("UPDATE units SET life = 'dead' WHERE model = ? AND name = ?").run(model, unit);
      this.s.db.prepare('DELETE FROM relation_scopes WHERE model = ? AND unit = ?').run(model, unit);
      this.s.changed(model, 'unit', unit);
    });
  }

  /** Claims a pending operation for its unit; false when it was already claimed (run at most once). */
  startOperation(model: string, id: number): boolean {
    return this.s.tx(() => {
      const op = this.s.db.prepare("UPDATE operations SET status = 'running', started = ? WHERE model = ? AND id = ? AND status = 'pending' RETURNING unit").get(Date.now(), model, id) as { unit: string } | undefined;
      if (op) this.s.changed(model, 'operation', `${op.unit}#${id}`);
      return op !== undefined;
    });
  }

  finishOperation(model: string, r: OperationResult): void {
    this.s.tx(() => {
      const op = this.s.db.prepare('UPDATE operations SET status = ?, message = ?, results = ?, completed = ? WHERE model = ? AND id = ? RETURNING unit').get(r.status, r.message, JSON.stringify(r.results), Date.now(), model, r.id) as { unit: string } | undefined;
      if (op) this.s.changed(model, 'operation', `${op.unit}#${r.id}`);
    });
  }

  appendLogs(model: string, lines: LogLine[]): void {
    // Logs are not model changes: they go to the log table and the live log stream only,
    // so a chatty hook never wakes the agents' watchers.
    const insert = this.s.db.prepare('INSERT INTO logs (model, entity, level, module, message, at) VALUES (?, ?, ?, ?, ?, ?)');
    this.s.tx(() => {
      for (const l of lines) insert.run(model, l.entity, l.level, l.module, l.message, l.at);
    });
  }
}

function applyBag(before: Bag, changes: Record<string, string | null>): Bag {
  const after = { ...before };
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === '') delete after[k];
    else after[k] = v;
  }
  return Object.fromEntries(Object.entries(after).sort(([a], [b]) => a.localeCompare(b)));
}

function applyPorts(current: PortSpec[], open: PortSpec[], close: PortSpec[]): PortSpec[] {
  const key = (p: PortSpec) => `${p.from}-${p.to}/${p.protocol}`;
  const map = new Map(current.map((p) => [key(p), p]));
  for (const p of close) map.delete(key(p));
  for (const p of open) map.set(key(p), p);
  return [...map.values()].sort((a, b) => a.from - b.from || a.protocol.localeCompare(b.protocol));
}
