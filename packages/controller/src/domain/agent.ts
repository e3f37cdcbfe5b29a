import { SigilError } from '@sigil/core';
import { StorageService } from './storage.ts';
import type { AgentStatusReport, CommitResult, Interest, HookCommit, MachineView, MachineViewDelta, OperationResult } from '@sigil/api';
import type { Store } from '../store/store.ts';
import { AgentRepository } from '../state/agents.ts';
import { OperationRepository } from '../state/operations.ts';
import { Reads, status, type PortSpec } from '../state/rows.ts';
import { AgentViews } from './agent-view.ts';
import { Models } from './models.ts';
import { checkSize, storedSize } from './limits.ts';
import { Offers } from './offers.ts';

type Bag = Record<string, string>;

/** The controller side of everything a machine agent reads and reports. */
export class AgentFacade {
  private readonly reads: Reads;
  private readonly views: AgentViews;
  private readonly models: Models;
  private readonly offers: Offers;
  private readonly repo: AgentRepository;
  private readonly operations: OperationRepository;

  constructor(private readonly s: Store) {
    this.repo = new AgentRepository(s);
    this.operations = new OperationRepository(s);
    this.reads = new Reads(s);
    this.views = new AgentViews(s);
    this.models = new Models(s);
    this.offers = new Offers(s);
  }

  /** The machine's whole view (what an agent holding nothing receives). */
  view(model: string, machineId: string): MachineView {
    return this.s.cachedReads(() => this.views.full(model, machineId));
  }

  /**
   * The machine's view as hashed parts, with bodies only for the parts whose hashes are not
   * in `known` (a comma-separated list, as the agent sends it).
   */
  viewDelta(model: string, machineId: string, known = ''): MachineViewDelta {
    // The agents of a burst read the same application, charm and relation rows.
    return this.s.cachedReads(() => this.views.delta(model, machineId, new Set(known.split(',').filter((h) => h !== '')), (i) => this.interests.set(`${model}\0${machineId}`, i)));
  }

  /**
   * The interest of the machine's agent as of the last view it was served, or undefined
   * before its first: the change feed sends the agent only what concerns it (with the
   * agent's own rule), so a commit costs the watchers it concerns, not every agent.
   */
  interestOf(model: string, machineId: string): Interest | undefined {
    return this.interests.get(`${model}\0${machineId}`);
  }

  private readonly interests = new Map<string, Interest>();

  reportStatus(model: string, r: AgentStatusReport): void {
    this.s.tx(() => {
      const u = this.reads.mustUnit(model, r.unit);
      const agent = status(r.agent, r.message, r.data === undefined ? {} : { data: r.data });
      // Only starting the retry (or skip) consumes a resolve request; an action that runs
      // meanwhile does not.
      const resolved = r.resolvedAck === true ? '' : u.resolved;
      // Juju's own statuses (installing, unknown after start) never hide one the charm set.
      const ownStatus = r.workload && (r.workload.status === 'unknown' || r.workload.message === 'installing charm software');
      const workload = r.workload && !(ownStatus && u.workload.byCharm === true)
        ? status(r.workload.status, r.workload.message, { byCharm: u.workload.byCharm === true })
        : undefined;
      // A status change: only this unit's agent and its application's leader see it.
      this.repo.reportStatus(model, r.unit, agent, resolved, workload);
    });
  }

  /** A committed hook's buffered changes, applied atomically (Juju's CommitHookChanges). */
  commit(model: string, c: HookCommit): CommitResult {
    return this.s.tx(() => {
      const u = this.reads.mustUnit(model, c.unit);
      const app = this.reads.mustApp(model, u.app);
      const leader = app.leader === u.name;
      const appVersions: Record<string, number> = {};
      // A unit writes only to relations its application is in (Juju: relation-set -r on any
      // other relation is refused), its application's bags only as the leader. Writes to a
      // relation already removed (a relation-broken hook runs after its unit left scope, and
      // the relation may be gone by the time the hook commits) have no bag left to go to:
      // they are dropped, never stored, so no bag can be written ahead of a future relation.
      const gone = (rel: string) => this.reads.relation(model, Number(rel)) === undefined;
      const relationUnit = Object.entries(c.relationUnit).filter(([rel]) => !gone(rel));
      const relationApp = Object.entries(c.relationApp).filter(([rel]) => !gone(rel));
      for (const [rel] of [...relationUnit, ...relationApp]) this.mustBeMember(model, u, Number(rel));
      if (relationApp.length > 0 && !leader) {
        throw new SigilError('permission-denied', `${u.name} is not the leader of ${u.app}: it cannot write the application bag`, 'only the leader may call relation-set --app');
      }
      if (c.appStatus && !leader) throw new SigilError('permission-denied', `${u.name} is not the leader of ${u.app}: it cannot set the application status`, 'only the leader may call status-set --application');
      for (const [rel, changes] of relationUnit) this.mergeBag(model, Number(rel), u.name, false, changes);
      for (const [rel, changes] of relationApp) {
        appVersions[rel] = this.mergeBag(model, Number(rel), u.app, true, changes);
      }
      if (c.unitStatus) {
        this.repo.setWorkload(model, u.name, status(c.unitStatus.status, c.unitStatus.message, { byCharm: true, ...(c.unitStatus.data ? { data: c.unitStatus.data } : {}) }));
      }
      if (c.appStatus) {
        this.repo.setAppStatus(model, u.app, status(c.appStatus.status, c.appStatus.message));
      }
      if (Object.keys(c.leaderSettings).length > 0) {
        if (!leader) throw new SigilError('permission-denied', `${u.name} is not the leader of ${u.app}`, 'only the leader may call leader-set');
        const next = applyBag(app.leaderSettings, c.leaderSettings);
        if (JSON.stringify(next) !== JSON.stringify(app.leaderSettings)) {
          this.repo.setLeaderSettings(model, u.app, next);
        }
      }
      // storage-add: validated as add-storage is; a refusal fails the hook and changes nothing.
      if (c.storageAdd && Object.keys(c.storageAdd).length > 0) {
        new StorageService(this.s).add(model, u.name, Object.fromEntries(Object.entries(c.storageAdd).map(([name, count]) => [name, { count }])));
      }
      const state = applyBag(u.state, c.unitState);
      checkSize(this.models.config(model), 'max-charm-state-size', `the charm state of ${u.name}`, storedSize(state));
      const ports = applyPorts(u.ports, c.openPorts, c.closePorts);
      const version = c.applicationVersion ?? u.version;
      // The unit's own fields (statuses, state, ports, version): nobody else's view holds
      // them but the leader's status summary. Bags and application fields are announced
      // above, each only when it changed, so a hook wakes no other agent for nothing.
      this.repo.setUnitRuntime(model, u.name, state, ports, version);
      return { appVersions };
    });
  }

  /** Refuses a relation the unit's application is not an endpoint of (or that does not exist). */
  private mustBeMember(model: string, u: { name: string; app: string }, rel: number): void {
    const r = this.reads.relation(model, rel);
    if (!r || !r.endpoints.some((e) => e.app === u.app)) {
      throw new SigilError('forbidden', `${u.name} is not a member of relation ${rel}`, 'a unit reads and writes only the relations its application takes part in (relation-ids)');
    }
  }

  /** Merges changes into a bag; bumps its version only when the content really changed. */
  private mergeBag(model: string, rel: number, owner: string, isApp: boolean, changes: Record<string, string | null>): number {
    const row = this.repo.bag(model, rel, owner, isApp);
    const before = row?.data ?? {};
    const after = applyBag(before, changes);
    if (row && JSON.stringify(after) === JSON.stringify(before)) return row.version;
    checkSize(this.models.config(model), 'max-relation-bag-size', `the ${isApp ? 'application' : 'unit'} bag of ${owner} in relation ${rel}`, storedSize(after));
    const version = (row?.version ?? 0) + 1;
    this.repo.putBag(model, rel, owner, isApp, after, version);
    this.offers.touchPeer(model, rel);
    return version;
  }

  /** The unit joins a relation: its address keys are written first, so counterparts can always read them. */
  enterScope(model: string, unit: string, rel: number, address: string): void {
    this.s.tx(() => {
      this.mustBeMember(model, this.reads.mustUnit(model, unit), rel);
      const r = this.reads.relation(model, rel);
      if (!r || r.life !== 'alive') throw new SigilError('conflict', `relation ${rel} is not alive`);
      // The address keys are filled in (unless the charm already set them) before the unit
      // enters scope, so counterparts can always read them (a hook may have written other
      // keys already, in relation-created).
      const have = this.repo.unitBag(model, rel, unit);
      const defaults: Record<string, string> = { 'private-address': address, 'ingress-address': address, 'egress-subnets': `${address}/32` };
      const missing = Object.fromEntries(Object.entries(defaults).filter(([k]) => !(k in have)));
      if (Object.keys(missing).length > 0) this.mergeBag(model, rel, unit, false, missing);
      this.repo.enterScope(model, rel, unit);
      this.offers.touchPeer(model, rel);
    });
  }

  leaveScope(model: string, unit: string, rel: number): void {
    this.s.tx(() => {
      // A relation already removed has nothing left to leave; any other must be the unit's own.
      if (this.reads.relation(model, rel)) this.mustBeMember(model, this.reads.mustUnit(model, unit), rel);
      this.repo.leaveScope(model, rel, unit);
      this.offers.touchPeer(model, rel);
    });
  }

  /**
   * The unit's resolver found nothing to do with the view read at `revision`. Recorded as
   * its own change kind, which agents ignore, so settling never wakes anyone but waiters.
   */
  reportSettled(model: string, unit: string, revision: number): void {
    this.s.tx(() => this.repo.setSettled(model, unit, revision));
  }

  /** The unit ran its last hook: it leaves the model. */
  setDead(model: string, unit: string): void {
    this.s.tx(() => {
      const u = this.reads.unit(model, unit);
      if (!u) return;
      this.repo.setDead(model, unit);
      this.offers.touchPeers(model);
    });
  }

  /** Claims a pending operation for its unit; false when it was already claimed (run at most once). */
  startOperation(model: string, id: number): boolean {
    return this.s.tx(() => this.operations.start(model, id, Date.now()));
  }

  finishOperation(model: string, r: OperationResult): void {
    this.s.tx(() => this.operations.finish(model, r, Date.now()));
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
