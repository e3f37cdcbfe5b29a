import { createHash } from 'node:crypto';
import { SigilError, effectiveConfig } from '@sigil/core';
import { VIEW_HASH_LENGTH, interestOf, type ContainerView, type Interest, type InterestUnit, type MachineView, type MachineViewDelta, type OperationView, PROXY_KEYS, type ProxySettings, type RelationPart, type RelationView, type UnitCore, type UnitPart } from '@sigil/api';
import { json, type Store } from '../store/store.ts';
import { Reads, remoteApp, type AppRow, type CharmRow, type RelationRow, type SettingsRow, type UnitRow } from '../state/rows.ts';
import { Models, type ModelConfig } from './models.ts';
import { CharmSecrets } from './secrets.ts';
import { SecretRepository } from '../state/secrets.ts';
import { SshKeyRepository } from '../state/ssh-keys.ts';
import { Machines } from './machines.ts';
import { RelationChaos } from './chaos.ts';
import { RolloutRepository } from '../state/rollouts.ts';
import { OperationRepository } from '../state/operations.ts';
import { InventoryRepository } from '../state/inventory.ts';
import { StorageService } from './storage.ts';
import { Resources } from './resources.ts';
import { Offers } from './offers.ts';

type Bag = Record<string, string>;
/** A relation view whose bags are still the stored JSON text: what a part's hash is taken over. */
type RawRelationView = Omit<RelationView, 'unitData' | 'appData'> & { unitData: Record<string, string>; appData: Record<string, string> };

const appOf = (unit: string) => unit.slice(0, unit.lastIndexOf('/'));

/**
 * Builds one machine's view, cut into hashed parts (decision 0008). Everything is read in
 * one transaction, and each application, relation and bag once per view however many units
 * share it, so a view costs a fixed number of queries per application and relation of the
 * machine's units, never per pair of units. A part whose hash is in `known` is sent without
 * its body, and its bags are not even parsed.
 */
export class AgentViews {
  private readonly reads: Reads;
  private readonly models: Models;

  constructor(private readonly s: Store) {
    this.reads = new Reads(s);
    this.models = new Models(s);
  }

  /**
   * `onInterest` receives the interest (see `interestOf` in @sigil/api) of an agent holding
   * this view, computed from the same reads.
   */
  delta(model: string, machineId: string, known: ReadonlySet<string> = new Set(), onInterest?: (i: Interest) => void): MachineViewDelta {
    return this.s.db.transaction(() => {
      const read = new ViewRead(this.s, this.reads, model);
      const d = read.build(this.models, machineId, known);
      onInterest?.(interestOf(machineId, read.interest));
      return d;
    })();
  }

  /** The whole view (every part's body), as an agent with nothing yet sees it. */
  full(model: string, machineId: string): MachineView {
    const d = this.delta(model, machineId);
    return {
      revision: d.revision,
      model: d.model,
      machine: d.machine,
      units: d.units.map((u) => ({ ...u.core!, relations: u.relations.map((r) => r.view!) })),
    };
  }
}

/** The reads of one view, each done at most once. */
class ViewRead {
  private readonly apps = new Map<string, AppRow>();
  private readonly charms = new Map<string, CharmRow>();
  private readonly appUnits = new Map<string, UnitRow[]>();
  private readonly relationData = new Map<string, { scope: string[]; settings: SettingsRow[] }>();
  private allRelations: RelationRow[] | undefined;
  private readonly secrets: CharmSecrets;
  private readonly offers: Offers;
  private rollout: { pins: Map<string, string>; drained: Set<string>; epochs: Map<number, number> } | undefined;
  /** The units of the view as `interestOf` needs them, filled by `build`. */
  readonly interest: InterestUnit[] = [];

  constructor(private readonly s: Store, private readonly reads: Reads, private readonly model: string) {
    this.secrets = new CharmSecrets(s, new SecretRepository(s), () => {});
    this.offers = new Offers(s);
  }

  build(models: Models, machineId: string, known: ReadonlySet<string>): MachineViewDelta {
    const m = models.mustGet(this.model);
    const machine = this.reads.machine(this.model, machineId);
    if (!machine) throw new SigilError('not-found', `machine ${machineId} not found`);
    const units = this.reads.unitsOn(this.model, machineId);
    const subordinates = this.reads.subordinatesOf(this.model, units.map((u) => u.name));
    const operations = this.operations(units.map((u) => u.name));
    return {
      revision: this.s.revision(),
      model: { name: m.name, uuid: m.uuid, life: m.life, updateStatusInterval: m.config['update-status-hook-interval'], retryHooks: m.config['automatically-retry-hooks'], proxy: proxySettings(m.config) },
      machine: {
        id: machine.id,
        life: machine.life,
        address: machine.address ?? '',
        hostname: machine.hostname ?? '',
        sshKeys: new SshKeyRepository(this.s).list(this.model).map((k) => k.key),
        rotateCredential: new Machines(this.s).rotationPending(this.model, machineId),
        ...this.auditRequests(units.map((u) => u.name)),
        ...this.containers(machineId),
      },
      units: units.map((u) => this.unitPart(u, subordinates.get(u.name) ?? [], operations.get(u.name) ?? [], known)),
    };
  }

  private containers(machineId: string): { containers?: ContainerView[] } {
    const list = new Machines(this.s).containersOf(this.model, machineId);
    if (list.length === 0) return {};
    return { containers: list.map((c) => ({ id: c.id, life: c.life, provisioned: c.instanceId !== null, units: this.reads.unitsOn(this.model, c.id).length, constraints: c.constraints })) };
  }

  private auditRequests(units: string[]): { auditRequests?: Record<string, number> } {
    const pending = new InventoryRepository(this.s).pending(this.model, units);
    return pending.size > 0 ? { auditRequests: Object.fromEntries(pending) } : {};
  }

  private unitPart(u: UnitRow, subordinates: string[], operations: OperationView[], known: ReadonlySet<string>): UnitPart {
    const app = this.app(u.app);
    // A roll-out may run this unit on another revision than its application's (issue 18).
    const charmUrl = this.rollouts().pins.get(u.name) ?? app.charmUrl;
    const charm = this.charm(charmUrl);
    const leader = app.leader === u.name;
    const core: UnitCore = {
      name: u.name,
      app: u.app,
      life: u.life,
      principal: u.principal,
      subordinates,
      charmUrl,
      charmHash: charm.hash,
      config: effectiveConfig(charm.charm.config, app.config),
      leader,
      leaderSettings: app.leaderSettings,
      leaderSettingsVersion: app.leaderSettingsVersion,
      resolved: u.resolved,
      operations,
      workload: { status: u.workload.current, message: u.workload.message, byCharm: u.workload.byCharm === true },
      // Only the leader may read the application's status and its units' (status-get
      // --application); leaving them out of the others' views spares them a re-read on
      // every status change of every unit.
      appStatus: leader && app.status ? { status: app.status.current, message: app.status.message } : { status: 'unknown', message: '' },
      appUnitStatuses: leader ? Object.fromEntries(this.unitsOf(u.app).map((x) => [x.name, { status: x.workload.current, message: x.workload.message }])) : {},
      agentStatus: u.agent.current,
      ports: u.ports,
      state: u.state,
    };
    // Secret metadata only (no content); absent for units without secrets, as before secrets existed.
    const secrets = this.secrets.unitView(this.model, { name: u.name, app: u.app, leader });
    if (secrets) core.secrets = secrets;
    // Storage and resources (issue 20): absent when there are none, so other units' parts keep their hashes.
    const storage = new StorageService(this.s).unitView(this.model, u.name, u.app);
    if (storage.length > 0) core.storage = storage;
    const resources = new Resources(this.s).unitView(this.model, u.app, charm.charm.meta.resources ?? {});
    if (resources.length > 0) core.resources = resources;
    const hash = partHash('u', u.name, JSON.stringify(core));
    const related = this.relations().filter((r) => r.endpoints.some((e) => e.app === u.app));
    this.interest.push({ name: u.name, app: u.app, leader, relations: related.map((r) => ({ id: r.id, remoteApp: remoteApp(r, u.app) })) });
    const relations = related.map((r) => this.relationPart(r, u, leader, known));
    return known.has(hash) ? { name: u.name, hash, relations } : { name: u.name, hash, core, relations };
  }

  private relationPart(r: RelationRow, u: UnitRow, leader: boolean, known: ReadonlySet<string>): RelationPart {
    const local = r.endpoints.find((e) => e.app === u.app)!;
    const remote = r.endpoints.find((e) => e.app !== u.app) ?? local;
    const { scope, settings } = this.data(r.id, remote.app, u);
    const unitVersions = new Map<string, number>();
    const unitData: Record<string, string> = {};
    const appData: Record<string, string> = {};
    let remoteAppVersion = 0;
    for (const row of settings) {
      if (row.isApp) {
        if (row.owner === remote.app) remoteAppVersion = row.version;
        // The other side's bag; our own application's only in a peer relation (where
        // remote is local) or for the leader (reference §4.1).
        if (row.owner === remote.app || (row.owner === u.app && leader)) appData[row.owner] = row.data;
      } else {
        unitVersions.set(row.owner, row.version);
        // Our own bag and the other side's units' (in a peer relation, our application's).
        if (row.owner === u.name || appOf(row.owner) === remote.app) unitData[row.owner] = row.data;
      }
    }
    const members: Record<string, number> = {};
    if (u.life !== 'dead') {
      for (const other of scope) {
        if (other === u.name || appOf(other) !== remote.app) continue;
        if (local.scope === 'container' && !this.sameContainer(u, other)) continue;
        members[other] = unitVersions.get(other) ?? 0;
      }
    }
    // Relation chaos (issue 17): a consumer sees the provider's units through the proxies.
    const chaos = new RelationChaos(this.s).overlay(this.model, r.id, u.app);
    if (chaos) {
      for (const owner of Object.keys(unitData)) if (appOf(owner) === remote.app) unitData[owner] = chaos.rewrite(owner, unitData[owner]!);
      for (const other of Object.keys(members)) members[other] = members[other]! + chaos.epoch;
    }
    // Rolling refresh (issue 18): a load balancer sees the units a roll-out drains as busy.
    const drain = this.drainOverlay(r, remote);
    if (drain > 0) {
      const { drained } = this.rollouts();
      for (const owner of Object.keys(unitData)) if (drained.has(owner)) unitData[owner] = withBusy(unitData[owner]!);
      for (const other of Object.keys(members)) members[other] = members[other]! + drain;
    }
    const raw: RawRelationView = {
      id: r.id,
      life: r.life,
      endpoint: local.name,
      interface: local.interface,
      role: local.role,
      scope: local.scope,
      remoteApp: remote.app,
      inScope: scope.includes(u.name),
      members,
      remoteAppVersion,
      unitData,
      appData,
    };
    const hash = partHash('r', u.name, JSON.stringify(raw));
    if (known.has(hash)) return { id: r.id, hash };
    return { id: r.id, hash, view: { ...raw, unitData: parseBags(unitData), appData: parseBags(appData) } };
  }

  private rollouts(): { pins: Map<string, string>; drained: Set<string>; epochs: Map<number, number> } {
    if (!this.rollout) {
      const repo = new RolloutRepository(this.s);
      this.rollout = { pins: repo.unitCharms(this.model), drained: repo.drained(this.model), epochs: repo.drainEpochs(this.model) };
    }
    return this.rollout;
  }

  /** The drain epoch to add to the remote side's bag versions: only on the consumer side of an `http` relation. */
  private drainOverlay(r: RelationRow, remote: RelationRow['endpoints'][number]): number {
    if (remote.interface !== 'http' || remote.role !== 'provider') return 0;
    return this.rollouts().epochs.get(r.id) ?? 0;
  }

  private sameContainer(u: UnitRow, otherName: string): boolean {
    const other = this.unitsOf(appOf(otherName)).find((x) => x.name === otherName);
    if (!other) return false;
    const principalOf = (x: UnitRow) => x.principal ?? x.name;
    return principalOf(u) === principalOf(other);
  }

  private app(name: string): AppRow {
    let a = this.apps.get(name);
    if (!a) this.apps.set(name, (a = this.reads.mustApp(this.model, name)));
    return a;
  }

  private charm(url: string): CharmRow {
    let c = this.charms.get(url);
    if (!c) this.charms.set(url, (c = this.reads.charm(this.model, url)));
    return c;
  }

  private unitsOf(app: string): UnitRow[] {
    let us = this.appUnits.get(app);
    if (!us) this.appUnits.set(app, (us = this.reads.units(this.model, app).sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))));
    return us;
  }

  private relations(): RelationRow[] {
    return (this.allRelations ??= this.reads.relations(this.model));
  }

  /**
   * What a unit reads of a relation: the scope and bags of the other side's units and
   * application, and its own (its application's too, for the leader). Only those rows are
   * read: a unit of a 1,000-unit application related to a database reads the database's
   * bags, not its 999 siblings' (which made every view O(units)).
   */
  private data(id: number, remoteApp: string, u: UnitRow): { scope: string[]; settings: SettingsRow[] } {
    const key = `${id}|${remoteApp}|${u.name}`;
    let d = this.relationData.get(key);
    if (!d) {
      const of = { apps: [...new Set([remoteApp, u.app])], unitsOf: remoteApp, unit: u.name };
      const scope = this.reads.relationScope(this.model, id, of);
      const settings = this.reads.relationSettings(this.model, id, of);
      // A relation across models (issue 20): the remote side's units and bags live in the other model.
      const peer = this.offers.peerData(this.model, id);
      d = peer ? { scope: [...scope, ...peer.scope].sort(), settings: [...settings, ...peer.settings] } : { scope, settings };
      this.relationData.set(key, d);
    }
    return d;
  }

  private operations(units: string[]): Map<string, OperationView[]> {
    const out = new Map<string, OperationView[]>();
    if (units.length === 0) return out;
    for (const { unit, ...o } of new OperationRepository(this.s).pendingOfUnits(this.model, units)) out.set(unit, [...(out.get(unit) ?? []), o]);
    return out;
  }
}

function partHash(kind: 'u' | 'r', unit: string, body: string): string {
  return createHash('sha1').update(`${kind}\0${unit}\0${body}`).digest('hex').slice(0, VIEW_HASH_LENGTH);
}

/** A unit's bag (JSON text) with `busy: "true"` added: the haproxy charm drains such a server. */
function withBusy(data: string): string {
  return JSON.stringify({ ...json<Bag>(data, {}), busy: 'true' });
}

function parseBags(raw: Record<string, string>): Record<string, Bag> {
  return Object.fromEntries(Object.entries(raw).map(([owner, data]) => [owner, json<Bag>(data, {})]));
}

/** The proxy keys of a model's config, as agents receive them. */
function proxySettings(c: ModelConfig): ProxySettings {
  return Object.fromEntries(PROXY_KEYS.map((k) => [k, c[k]])) as ProxySettings;
}
