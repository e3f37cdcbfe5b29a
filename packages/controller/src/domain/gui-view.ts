import type { ChaosEntry, GuiApp, GuiCharm, GuiDelta, GuiMachine, GuiModel, GuiRelation, GuiUnit } from '@sigil/api';
import { charmEndpoints } from '@sigil/core';
import type { Change, Store } from '../store/store.ts';
import { Reads, type AppRow, type CharmRow, type MachineRow, type PortSpec, type RelationRow, type UnitRow } from '../state/rows.ts';
import { Models } from './models.ts';
import { archiveFile } from './gui-library.ts';
import { RelationChaos } from './chaos.ts';

/** What the GUI view needs to know beyond the store: presence and published ports are in memory. */
export interface GuiPresence {
  connected(model: string, machine: string): boolean;
  published(model: string, unit: string): string[];
}

/**
 * The model as the web GUI shows it, and the deltas that keep a browser's copy current.
 * Deltas are computed from the change feed's (kind, key) entries by re-reading just those
 * entities, so a commit that touches one unit costs one row read, whatever the model size.
 */
export class GuiView {
  private readonly reads: Reads;
  private readonly chaos: RelationChaos;
  /** Icons by charm content hash: an archive never changes, so neither does its icon. */
  private readonly icons = new Map<string, string | undefined>();

  constructor(private readonly s: Store, private readonly presence: GuiPresence) {
    this.reads = new Reads(s);
    this.chaos = new RelationChaos(s);
  }

  snapshot(model: string): { rev: number; model: GuiModel } {
    return this.s.db.transaction(() => {
      new Models(this.s).mustGet(model);
      const out: GuiModel = { name: model, apps: {}, units: {}, relations: {}, machines: {}, charms: {} };
      for (const a of this.reads.apps(model)) out.apps[a.name] = app(a);
      for (const u of this.reads.units(model)) out.units[u.name] = this.unit(u);
      const chaos = new Map(this.chaos.list(model).map((e) => [e.relationId, e]));
      for (const r of this.reads.relations(model)) out.relations[String(r.id)] = relation(r, chaos.get(r.id));
      for (const m of this.reads.machines(model)) out.machines[m.id] = this.machine(m);
      for (const c of this.reads.charms(model)) out.charms[c.url] = this.charm(c);
      return { rev: this.s.revision(), model: out };
    })();
  }

  /** The current state of every entity the changes name (each once), or its removal. */
  deltas(model: string, changes: readonly Change[]): GuiDelta[] {
    const seen = new Set<string>();
    const out: GuiDelta[] = [];
    this.s.db.transaction(() => {
      for (const c of changes) {
        if (c.model !== model || seen.has(`${c.kind}\0${c.key}`)) continue;
        seen.add(`${c.kind}\0${c.key}`);
        const d = this.delta(model, c.kind, c.key);
        if (d !== undefined) out.push(d);
      }
    })();
    return out;
  }

  /** Machines whose presence differs from `known` (which is updated): presence is not in the change log. */
  presenceDeltas(model: string, known: Map<string, boolean>): GuiDelta[] {
    const out: GuiDelta[] = [];
    for (const m of this.reads.machines(model)) {
      const doc = this.machine(m);
      if (known.get(m.id) !== doc.up) out.push({ kind: 'machine', op: 'put', value: doc });
      known.set(m.id, doc.up);
    }
    return out;
  }

  private delta(model: string, kind: string, key: string): GuiDelta | undefined {
    switch (kind) {
      case 'application': {
        const a = this.reads.app(model, key);
        return a ? { kind: 'app', op: 'put', value: app(a) } : { kind: 'app', op: 'remove', key };
      }
      case 'unit': {
        const u = this.reads.unit(model, key);
        return u ? { kind: 'unit', op: 'put', value: this.unit(u) } : { kind: 'unit', op: 'remove', key };
      }
      case 'relation': {
        const r = /^\d+$/.test(key) ? this.reads.relation(model, Number(key)) : undefined;
        return r ? { kind: 'relation', op: 'put', value: relation(r, this.chaos.get(model, r.id)) } : { kind: 'relation', op: 'remove', key };
      }
      case 'machine': {
        const m = this.reads.machine(model, key);
        return m ? { kind: 'machine', op: 'put', value: this.machine(m) } : { kind: 'machine', op: 'remove', key };
      }
      case 'charm': {
        const c = this.reads.charms(model).find((x) => x.url === key);
        return c ? { kind: 'charm', op: 'put', value: this.charm(c) } : { kind: 'charm', op: 'remove', key };
      }
      case 'operation':
        return { kind: 'operation', op: 'put', key };
      default:
        return undefined;
    }
  }

  private unit(u: UnitRow): GuiUnit {
    return {
      name: u.name,
      app: u.app,
      machine: u.machine,
      principal: u.principal,
      life: u.life,
      workload: { current: u.workload.current, message: u.workload.message },
      agent: { current: u.agent.current, message: u.agent.message },
      ports: u.ports.map(portString),
      published: this.presence.published(u.model, u.name),
    };
  }

  machine(m: MachineRow): GuiMachine {
    return {
      id: m.id,
      address: m.address,
      up: m.instanceId !== null && this.presence.connected(m.model, m.id),
      status: { current: m.status.current, message: m.status.message },
    };
  }

  private charm(c: CharmRow): GuiCharm {
    if (!this.icons.has(c.hash)) this.icons.set(c.hash, archiveFile(this.s, c.hash, 'icon.svg'));
    const icon = this.icons.get(c.hash);
    return {
      url: c.url,
      name: c.name,
      summary: c.charm.meta.summary,
      subordinate: c.charm.meta.subordinate,
      endpoints: charmEndpoints(c.charm.meta),
      config: c.charm.config,
      actions: c.charm.actions,
      ...(icon !== undefined ? { icon } : {}),
      ...(c.provenance ? { provenance: c.provenance } : {}),
    };
  }
}

function app(a: AppRow): GuiApp {
  return {
    name: a.name,
    charmUrl: a.charmUrl,
    exposed: a.exposed,
    scale: a.scale,
    life: a.life,
    annotations: a.annotations,
    status: a.status ? { current: a.status.current, message: a.status.message } : null,
    leader: a.leader,
  };
}

function relation(r: RelationRow, chaos: ChaosEntry | undefined): GuiRelation {
  const out: GuiRelation = { id: r.id, key: r.key, life: r.life, endpoints: r.endpoints.map((e) => ({ ...e })) };
  if (chaos && r.life === 'alive') out.chaos = { faults: chaos.faults, listeners: chaos.listeners };
  return out;
}

function portString(p: PortSpec): string {
  if (p.protocol === 'icmp') return 'icmp';
  return p.from === p.to ? `${p.from}/${p.protocol}` : `${p.from}-${p.to}/${p.protocol}`;
}
