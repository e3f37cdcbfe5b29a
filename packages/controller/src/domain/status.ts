import { arch, cpus, totalmem } from 'node:os';
import { EnlistedRepository, type HostHardware } from '../state/enlisted.ts';
import { containerHost, deriveApplicationStatus, naturalCompare } from '@sigil/core';
import { InventoryRepository } from '../state/inventory.ts';
import type { ApplicationStatusDoc, MachineStatusDoc, ModelStatusDoc, RelationRow as RelationDoc, StatusInfoContents, UnitStatusDoc } from '@sigil/api';
import { provenanceDoc } from './charm-provenance.ts';
import type { Store } from '../store/store.ts';
import { RolloutRepository } from '../state/rollouts.ts';
import { ScheduleRepository } from '../state/schedules.ts';
import { Reads, type StatusDoc, type UnitRow } from '../state/rows.ts';
import { Models } from './models.ts';
import { RelationChaos, describeChaos } from './chaos.ts';
import { crossModelStatus } from './offer-status.ts';

export const SIGIL_VERSION = '0.1.0';
const BASE = { name: 'debian', channel: '12' };

/** Which machine agents are connected right now (in memory: presence is not model state). */
export interface Presence {
  connected(model: string, machine: string): boolean;
  /** Host ports published for an exposed unit (`*:<host port>-><port>/tcp`). */
  published?(model: string, unit: string): string[];
}

/**
 * Builds the whole model's status from one read transaction: a handful of table scans,
 * never a query per entity, so a 1,000-unit model costs the same few statements.
 */
export function buildStatus(s: Store, model: string, controller: string, presence: Presence): ModelStatusDoc {
  const reads = new Reads(s);
  return s.db.transaction(() => {
    const m = new Models(s).mustGet(model);
    const apps = reads.apps(model);
    const units = reads.units(model);
    const machines = reads.machines(model);
    const relations = reads.relations(model);
    const charms = new Map(reads.charms(model).map((c) => [c.url, c]));
    const machineById = new Map(machines.map((x) => [x.id, x]));
    const leaders = new Set(apps.map((a) => a.leader));
    const subsOf = new Map<string, UnitRow[]>();
    for (const u of units) if (u.principal !== null) subsOf.set(u.principal, [...(subsOf.get(u.principal) ?? []), u]);
    const rolloutRepo = new RolloutRepository(s);
    const pins = rolloutRepo.unitCharms(model);
    const rollouts = rolloutRepo.latestPerApp(model);
    const audits = new InventoryRepository(s).counts(model);
    const lastBackups = lastRuns(s, model);
    const machineUp = new Map(machines.map((x) => [x.id, x.instanceId !== null && presence.connected(model, x.id)]));

    const unitDoc = (u: UnitRow): UnitStatusDoc => {
      const machine = u.machine === null ? undefined : machineById.get(u.machine);
      let workload = info(u.workload);
      let agent = info(u.agent);
      if (u.agent.current === 'error') {
        workload = { ...info(u.agent), current: 'error' };
        agent = { current: 'idle', since: fmt(u.agent.since) };
      } else if (u.agent.current !== 'allocating' && u.machine !== null && !machineUp.get(u.machine)) {
        workload = { current: 'unknown', message: `agent lost, see 'sigil debug-log --include ${u.name}'`, since: fmt(u.agent.since) };
        agent = { current: 'lost', message: 'agent is not communicating with the server', since: fmt(u.agent.since) };
      }
      const doc: UnitStatusDoc = { 'workload-status': workload, 'juju-status': { ...agent, version: SIGIL_VERSION } };
      if (leaders.has(u.name)) doc.leader = true;
      if (u.principal === null && u.machine !== null) doc.machine = u.machine;
      if (u.ports.length > 0) doc['open-ports'] = u.ports.map((p) => (p.protocol === 'icmp' ? 'icmp' : p.from === p.to ? `${p.from}/${p.protocol}` : `${p.from}-${p.to}/${p.protocol}`));
      if (machine?.address) doc['public-address'] = machine.address;
      const published = presence.published?.(model, u.name) ?? [];
      if (published.length > 0) doc['published-ports'] = published;
      const pinned = pins.get(u.name);
      if (pinned !== undefined && charms.has(pinned)) doc['charm-rev'] = charms.get(pinned)!.revision;
      const rollout = rollouts.get(u.app);
      if (rollout && (rollout.status === 'running' || rollout.status === 'halted') && rollout.units[u.name] !== undefined) doc.rollout = rollout.units[u.name]!;
      const audit = audits.get(u.name);
      if (audit) doc.audit = { 'modified-files': audit.modified, 'embedded-copies': audit.embedded, packages: audit.packages, collected: fmt(audit.collectedAt) };
      const subs = (subsOf.get(u.name) ?? []).sort((a, b) => naturalCompare(a.name, b.name));
      if (subs.length > 0) doc.subordinates = Object.fromEntries(subs.map((x) => [x.name, unitDoc(x)]));
      return doc;
    };

    const applications: Record<string, ApplicationStatusDoc> = {};
    for (const a of apps) {
      const charm = charms.get(a.charmUrl);
      const appUnits = units.filter((u) => u.app === a.name).sort((x, y) => naturalCompare(x.name, y.name));
      const docs = appUnits.map((u) => [u.name, unitDoc(u)] as const);
      const derived = deriveApplicationStatus(docs.map(([, d]) => d['workload-status']));
      const appStatus: StatusInfoContents = a.status && !docs.some(([, d]) => d['workload-status'].current === 'error')
        ? info(a.status)
        : derived ?? { current: 'unknown', message: 'waiting for units' };
      const rels: Record<string, { 'related-application': string; interface: string; scope: 'global' | 'container' }[]> = {};
      for (const r of relations) {
        const local = r.endpoints.find((e) => e.app === a.name);
        if (!local) continue;
        const remote = r.endpoints.find((e) => e.app !== a.name) ?? local;
        (rels[local.name] ??= []).push({ 'related-application': remote.app, interface: local.interface, scope: local.scope });
      }
      const subordinate = charm?.charm.meta.subordinate === true;
      const doc: ApplicationStatusDoc = {
        charm: charm?.name ?? a.charmUrl,
        base: BASE,
        'charm-origin': 'local',
        'charm-name': charm?.name ?? a.charmUrl,
        'charm-rev': charm?.revision ?? 0,
        exposed: a.exposed,
        'application-status': appStatus,
        scale: a.scale,
      };
      if (charm?.charm.version) doc['charm-version'] = charm.charm.version;
      if (a.life !== 'alive') doc.life = a.life;
      if (Object.keys(rels).length > 0) doc.relations = rels;
      if (subordinate) {
        doc['subordinate-to'] = [...new Set(relations.filter((r) => r.endpoints.some((e) => e.app === a.name) && r.endpoints[0]?.scope === 'container').flatMap((r) => r.endpoints.map((e) => e.app)).filter((x) => x !== a.name))].sort();
      } else if (docs.length > 0) {
        doc.units = Object.fromEntries(docs);
      }
      const version = appUnits.map((u) => u.version).find((v) => v !== '');
      if (version) doc.version = version;
      if (a.constraints) doc.constraints = a.constraints;
      const rollout = rollouts.get(a.name);
      if (rollout) {
        const rev = (url: string) => `${charms.get(url)?.name ?? url}-${charms.get(url)?.revision ?? '?'}`;
        doc.rollout = { status: rollout.status, direction: rollout.direction, batch: `${Math.min(rollout.batch + 1, rollout.batches.length)}/${rollout.batches.length}`, phase: rollout.phase, from: rev(rollout.from), to: rev(rollout.to) };
        if (rollout.message) doc.rollout.message = rollout.message;
      }
      const last = lastBackups.get(a.name);
      if (last) doc['last-backup'] = last;
      if (charm?.provenance) doc['charm-provenance'] = provenanceDoc(charm.provenance);
      applications[a.name] = doc;
    }

    const machineDocs: Record<string, MachineStatusDoc> = {};
    const enlisted = new Map(new EnlistedRepository(s).list(model).map((e) => [e.id, e]));
    for (const x of machines.sort((p, q) => naturalCompare(p.id, q.id))) {
      const up = machineUp.get(x.id) === true;
      const agent: StatusInfoContents = x.instanceId === null
        ? { current: 'pending', since: fmt(x.status.since) }
        : up ? { current: 'started', since: fmt(x.status.since), version: SIGIL_VERSION } : { current: 'down', message: 'agent is not communicating with the server', since: fmt(x.status.since) };
      const doc: MachineStatusDoc = {
        'juju-status': x.life === 'alive' ? agent : { ...agent, life: x.life },
        'instance-id': x.instanceId ?? 'pending',
        'machine-status': info(x.status),
        base: enlisted.get(x.id)?.hardware.base ?? BASE,
      };
      if (x.hostname) doc.hostname = x.hostname;
      if (x.address) {
        doc['dns-name'] = x.address;
        doc['ip-addresses'] = [x.address];
      }
      if (x.constraints) doc.constraints = x.constraints;
      const host = enlisted.get(x.id);
      doc.hardware = host ? enlistedHardware(host.hardware) : hardware(x.constraints);
      machineDocs[x.id] = doc;
    }
    // Containers sit under their host, as in Juju's status (a host always sorts first).
    for (const id of Object.keys(machineDocs)) {
      const host = containerHost(id);
      const parent = host === undefined ? undefined : machineDocs[host];
      if (!parent) continue;
      (parent.containers ??= {})[id] = machineDocs[id]!;
      delete machineDocs[id];
    }

    const chaosOf = new Map(new RelationChaos(s).list(model).map((e) => [e.relationId, e]));
    const integrations: RelationDoc[] = relations.map((r) => {
      const provider = r.endpoints.find((e) => e.role !== 'requirer') ?? r.endpoints[0]!;
      const requirer = r.endpoints.find((e) => e.role === 'requirer') ?? provider;
      const type = r.endpoints.length === 1 ? 'peer' : r.endpoints[0]?.scope === 'container' ? 'subordinate' : 'regular';
      const row: RelationDoc = { id: r.id, provider: `${provider.app}:${provider.name}`, requirer: `${requirer.app}:${requirer.name}`, interface: provider.interface, type, status: r.life === 'alive' ? 'joined' : 'broken' };
      if (r.life !== 'alive') row.message = 'relation is being removed';
      // Relation chaos (issue 17) is shown on the relation, which stays joined.
      const chaos = r.life === 'alive' ? chaosOf.get(r.id) : undefined;
      if (chaos) row.message = describeChaos(chaos.faults);
      return row;
    });

    const cross = crossModelStatus(s, model, relations, fmt);
    const now = new Date();
    return {
      model: {
        name: m.name,
        type: 'iaas' as const,
        controller,
        cloud: 'local',
        version: SIGIL_VERSION,
        'model-status': { current: m.life === 'alive' ? 'available' : 'destroying', since: fmt(now.getTime()) },
        sla: 'unsupported',
      },
      machines: machineDocs,
      applications,
      'application-endpoints': cross.endpoints,
      offers: cross.offers,
      integrations,
      controller: { timestamp: now.toTimeString().slice(0, 8) + tzOffset(now) },
      revision: s.revision(),
    };
  })();
}

/**
 * Juju's hardware line. A machine gets what its constraints ask for (enforced as cgroup
 * limits by the lxc provider); what is not constrained is the host's.
 */
function hardware(constraints: string): string {
  const get = (k: string) => new RegExp(`(?:^|\\s)${k}=(\\S+)`).exec(constraints)?.[1];
  const mem = get('mem') ?? `${Math.round(totalmem() / 1048576)}M`;
  const cores = get('cores') ?? get('cpu-cores') ?? String(cpus().length);
  const disk = get('root-disk');
  return `arch=${arch() === 'x64' ? 'amd64' : arch()} cores=${cores} mem=${mem}${disk ? ` root-disk=${disk}` : ''}`;
}

/** What an enlisted host reported (Juju's names: amd64, arm64). */
function enlistedHardware(h: HostHardware): string {
  const a = ({ x86_64: 'amd64', aarch64: 'arm64', ppc64le: 'ppc64el' } as Record<string, string>)[h.arch] ?? h.arch;
  return `arch=${a} cores=${h.cores} mem=${h.mem}M root-disk=${h.disk}M`;
}

function info(st: StatusDoc): StatusInfoContents {
  const out: StatusInfoContents = { current: st.current, since: fmt(st.since) };
  if (st.message) out.message = st.message;
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Juju's status timestamp layout: `02 Jan 2006 15:04:05Z`. */
function fmt(ms: number): string {
  const d = new Date(ms);
  const mon = MONTHS[d.getUTCMonth()];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())} ${mon} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}Z`;
}

function tzOffset(d: Date): string {
  const off = -d.getTimezoneOffset();
  if (off === 0) return 'Z';
  const sign = off > 0 ? '+' : '-';
  const a = Math.abs(off);
  return `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** Per application, the most recent finished schedule run on it (status's `last-backup`). */
function lastRuns(s: Store, model: string): Map<string, NonNullable<ApplicationStatusDoc['last-backup']>> {
  const out = new Map<string, NonNullable<ApplicationStatusDoc['last-backup']>>();
  for (const sc of new ScheduleRepository(s).list(model)) {
    if (sc.lastRun === null) continue;
    const app = sc.unit.split('/')[0]!;
    const prev = out.get(app);
    if (prev && Date.parse(prev.at) >= sc.lastRun) continue;
    out.set(app, { schedule: sc.name, action: sc.action, at: new Date(sc.lastRun).toISOString(), status: sc.lastStatus, ...(sc.lastSnapshot ? { snapshot: sc.lastSnapshot } : {}), message: sc.lastMessage });
  }
  return out;
}
