import { createHash } from 'node:crypto';
/**
 * The charm test kit: state in → event → state out, with no agent and no containers (as
 * ops' Scenario). States are plain, frozen objects; `run` never changes its input. A
 * scenario that could not happen in a real model (an unknown endpoint, a config value of
 * the wrong type, a departed unit still listed) is refused with InconsistentScenarioError
 * before the charm sees it.
 */
import type { Backend, LogLevel, Port, StatusName } from './backend.ts';
import type { Charm, CharmEvent } from './charm.ts';
import { describe } from './charm.ts';
import type { CharmSpec, ConfigOf } from './spec.ts';
import { endpointRole } from './spec.ts';
import type { Status } from './status.ts';

type Data = Readonly<Record<string, string>>;

export interface RelationState {
  readonly id: number;
  readonly endpoint: string;
  /** The application at the other end; for a peer relation, this application. */
  readonly remoteApp: string;
  /** Remote units in scope and their unit bags. */
  readonly remoteUnits: Readonly<Record<string, Data>>;
  readonly remoteAppData: Data;
  readonly localUnitData: Data;
  readonly localAppData: Data;
}

export interface State<S extends CharmSpec = CharmSpec> {
  readonly unit: string;
  readonly leader: boolean;
  readonly config: Partial<ConfigOf<S>>;
  readonly relations: readonly RelationState[];
  readonly leaderData: Data;
  readonly stored: Data;
  readonly ports: readonly Port[];
  readonly address: string;
  readonly unitStatus: Status | undefined;
  readonly appStatus: Status | undefined;
  readonly workloadVersion: string | undefined;
  readonly logs: readonly { readonly level: LogLevel; readonly message: string }[];
  /** The application's Juju secrets by label (latest content). */
  readonly appSecrets: Readonly<Record<string, Data>>;
}

export interface ActionOutcome {
  readonly results: Data;
  readonly failed: string | undefined;
  readonly logs: readonly string[];
}

export type Output<S extends CharmSpec> = State<S> & { readonly action?: ActionOutcome };

export class InconsistentScenarioError extends Error {
  constructor(readonly problems: string[]) {
    super(`inconsistent scenario:\n  - ${problems.join('\n  - ')}`);
    this.name = 'InconsistentScenarioError';
  }
}

type RelationInput = Partial<Omit<RelationState, 'endpoint'>> & { readonly endpoint: string };

/** A relation for a state; omitted fields are empty, ids are assigned in order. */
export function relation(r: RelationInput): RelationInput {
  return deepFreeze({ ...r });
}

let nextRelationId = 100;

/** A full, frozen state from the parts a test cares about. */
export function state<S extends CharmSpec>(
  spec: S,
  s: Partial<Omit<State<S>, 'relations'>> & { readonly relations?: readonly (RelationInput | RelationState)[] } = {},
): State<S> {
  const unit = s.unit ?? `${spec.name}/0`;
  const app = unit.split('/')[0]!;
  const defaults = Object.fromEntries(Object.entries(spec.config).filter(([, o]) => o.default !== undefined).map(([k, o]) => [k, o.default]));
  return deepFreeze({
    unit,
    leader: s.leader ?? false,
    config: { ...defaults, ...(s.config ?? {}) } as Partial<ConfigOf<S>>,
    relations: (s.relations ?? []).map((r) => ({
      id: r.id ?? nextRelationId++,
      endpoint: r.endpoint,
      remoteApp: r.remoteApp ?? (endpointRole(spec, r.endpoint) === 'peers' ? app : 'remote'),
      remoteUnits: r.remoteUnits ?? {},
      remoteAppData: r.remoteAppData ?? {},
      localUnitData: r.localUnitData ?? {},
      localAppData: r.localAppData ?? {},
    })),
    leaderData: s.leaderData ?? {},
    stored: s.stored ?? {},
    ports: s.ports ?? [],
    address: s.address ?? '10.0.0.10',
    unitStatus: s.unitStatus,
    appStatus: s.appStatus,
    workloadVersion: s.workloadVersion,
    logs: s.logs ?? [],
    appSecrets: s.appSecrets ?? {},
  });
}

/** Events, by the relation (from the state) they concern. */
export const event = {
  install: (): CharmEvent => ({ kind: 'lifecycle', hook: 'install' }),
  start: (): CharmEvent => ({ kind: 'lifecycle', hook: 'start' }),
  stop: (): CharmEvent => ({ kind: 'lifecycle', hook: 'stop' }),
  remove: (): CharmEvent => ({ kind: 'lifecycle', hook: 'remove' }),
  configChanged: (): CharmEvent => ({ kind: 'lifecycle', hook: 'config-changed' }),
  upgradeCharm: (): CharmEvent => ({ kind: 'lifecycle', hook: 'upgrade-charm' }),
  updateStatus: (): CharmEvent => ({ kind: 'lifecycle', hook: 'update-status' }),
  leaderElected: (): CharmEvent => ({ kind: 'lifecycle', hook: 'leader-elected' }),
  leaderSettingsChanged: (): CharmEvent => ({ kind: 'lifecycle', hook: 'leader-settings-changed' }),
  relationCreated: (r: RelationState): CharmEvent => relEvent('relation-created', r),
  relationJoined: (r: RelationState, unit: string): CharmEvent => relEvent('relation-joined', r, unit),
  relationChanged: (r: RelationState, unit?: string): CharmEvent => relEvent('relation-changed', r, unit),
  relationDeparted: (r: RelationState, unit: string, departing = unit): CharmEvent => relEvent('relation-departed', r, unit, departing),
  relationBroken: (r: RelationState): CharmEvent => relEvent('relation-broken', r),
  action: (name: string, params: Record<string, unknown> = {}): CharmEvent & { params: Record<string, unknown> } => ({ kind: 'action', action: name, params }),
  reconcile: (): CharmEvent => ({ kind: 'reconcile', batch: [] }),
};

function relEvent(hook: Extract<CharmEvent, { kind: 'relation' }>['hook'], r: RelationState, unit?: string, departing?: string): CharmEvent {
  return { kind: 'relation', hook, endpoint: r.endpoint, relationId: r.id, remoteApp: r.remoteApp, ...(unit ? { remoteUnit: unit } : {}), ...(departing ? { departingUnit: departing } : {}) };
}

/** Every way `input` and `ev` could not happen for this charm; empty when consistent. */
export function inconsistencies<S extends CharmSpec>(spec: S, input: State<S>, ev: CharmEvent): string[] {
  const problems: string[] = [];
  const app = input.unit.split('/')[0]!;
  if (!/^[a-z][a-z0-9-]*\/[0-9]+$/.test(input.unit)) problems.push(`unit "${input.unit}" is not a unit name (app/N)`);
  for (const [k, v] of Object.entries(input.config)) {
    const o = spec.config[k];
    if (!o) problems.push(`config "${k}" is not in config.yaml`);
    else if (v !== undefined && !typeMatches(o.type, v)) problems.push(`config "${k}" is ${JSON.stringify(v)}, but config.yaml says ${o.type}`);
  }
  const ids = new Set<number>();
  for (const r of input.relations) {
    if (ids.has(r.id)) problems.push(`relation id ${r.id} is used twice`);
    ids.add(r.id);
    const role = endpointRole(spec, r.endpoint);
    if (!role) problems.push(`relation on "${r.endpoint}": the charm has no such endpoint`);
    if (role === 'peers' && r.remoteApp !== app) problems.push(`peer relation ${r.endpoint}:${r.id} must have remoteApp "${app}", not "${r.remoteApp}"`);
    for (const u of Object.keys(r.remoteUnits)) {
      if (u.split('/')[0] !== r.remoteApp) problems.push(`relation ${r.endpoint}:${r.id}: remote unit ${u} is not a unit of ${r.remoteApp}`);
      if (u === input.unit) problems.push(`relation ${r.endpoint}:${r.id}: a unit is never its own remote unit`);
    }
  }
  if (ev.kind === 'relation') {
    const r = input.relations.find((x) => x.id === ev.relationId);
    if (!r) problems.push(`${describe(ev)}: relation ${ev.relationId} is not in the state`);
    else {
      const units = Object.keys(r.remoteUnits);
      if ((ev.hook === 'relation-joined' || (ev.hook === 'relation-changed' && ev.remoteUnit)) && !units.includes(ev.remoteUnit ?? '')) {
        problems.push(`${describe(ev)}: ${ev.remoteUnit ?? '(no unit)'} must be among the relation's remote units (${units.join(', ') || 'none'})`);
      }
      if (ev.hook === 'relation-departed' && ev.remoteUnit && units.includes(ev.remoteUnit)) problems.push(`${describe(ev)}: the departing unit ${ev.remoteUnit} is no longer listed in the relation`);
      if (ev.hook === 'relation-broken' && units.length) problems.push(`${describe(ev)}: a broken relation has no remote units left`);
    }
  }
  if (ev.kind === 'lifecycle' && ev.hook === 'leader-elected' && !input.leader) problems.push('leader-elected runs only on the leader (set leader: true)');
  if (ev.kind === 'action') {
    const a = spec.actions[ev.action];
    const params = (ev as { params?: Record<string, unknown> }).params ?? {};
    if (!a) problems.push(`action "${ev.action}" is not in actions.yaml`);
    else {
      for (const req of a.required) if (!(req in params)) problems.push(`action "${ev.action}" needs parameter "${req}"`);
      for (const [k, v] of Object.entries(params)) {
        const p = a.params[k];
        if (!p) problems.push(`action "${ev.action}" has no parameter "${k}"`);
        else if (p.type && !jsonTypeMatches(p.type, v)) problems.push(`action "${ev.action}" parameter "${k}" is ${JSON.stringify(v)}, expected ${p.type}`);
      }
    }
  }
  return problems;
}

/**
 * Runs one event against a state and returns the state after it. Rejects with the
 * charm's error when the hook would fail, and with InconsistentScenarioError when the
 * scenario is impossible.
 */
export async function run<S extends CharmSpec>(charm: Charm<S>, ev: CharmEvent, input: State<S>): Promise<Output<S>> {
  const problems = inconsistencies(charm.spec, input, ev);
  if (problems.length) throw new InconsistentScenarioError(problems);
  const mem = new MemoryBackend(input, (ev as { params?: Record<string, unknown> }).params ?? {});
  await charm.handle(ev, mem, { unit: input.unit, model: 'test' });
  return mem.output(ev.kind === 'action') as Output<S>;
}

function typeMatches(type: string, v: unknown): boolean {
  if (type === 'int') return Number.isInteger(v);
  if (type === 'float') return typeof v === 'number';
  if (type === 'boolean') return typeof v === 'boolean';
  return typeof v === 'string';
}

function jsonTypeMatches(type: string, v: unknown): boolean {
  if (type === 'integer') return Number.isInteger(v);
  if (type === 'number') return typeof v === 'number';
  if (type === 'array') return Array.isArray(v);
  if (type === 'object') return typeof v === 'object' && v !== null && !Array.isArray(v);
  return typeof v === type;
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** The agent's behaviour, in memory: the hook tools' rules, against a copy of the state. */
class MemoryBackend implements Backend {
  private s: {
    -readonly [K in keyof State]: State[K] extends readonly (infer E)[] ? E[] : State[K];
  };
  private relations: Map<number, { -readonly [K in keyof RelationState]: RelationState[K] }>;
  private readonly results: Record<string, string> = {};
  private failed: string | undefined;
  private readonly actionLogs: string[] = [];
  private readonly app: string;

  constructor(input: State, private readonly params: Record<string, unknown>) {
    this.s = { ...input, relations: [...input.relations], ports: [...input.ports], logs: [...input.logs] };
    this.relations = new Map(input.relations.map((r) => [r.id, { ...r }]));
    this.app = input.unit.split('/')[0]!;
  }

  output(action: boolean): Output<CharmSpec> {
    const out: Output<CharmSpec> = {
      ...this.s,
      relations: this.s.relations.map((r) => this.relations.get(r.id)!),
      ...(action ? { action: { results: this.results, failed: this.failed, logs: this.actionLogs } } : {}),
    };
    return deepFreeze(out);
  }

  private rel(id: number) {
    const r = this.relations.get(id);
    if (!r) throw new Error(`relation-get: relation ${id} not found`);
    return r;
  }

  async config() {
    return Object.fromEntries(Object.entries(this.s.config).filter(([, v]) => v !== undefined)) as Record<string, string | number | boolean>;
  }
  async isLeader() {
    return this.s.leader;
  }
  async relationIds(endpoint: string) {
    return this.s.relations.filter((r) => r.endpoint === endpoint).map((r) => r.id);
  }
  async relationUnits(id: number) {
    return Object.keys(this.rel(id).remoteUnits);
  }
  async relationApp(id: number) {
    return this.rel(id).remoteApp;
  }
  async relationGet(id: number, owner: string, app: boolean) {
    const r = this.rel(id);
    if (!app) return owner === this.s.unit ? r.localUnitData : (r.remoteUnits[owner] ?? {});
    if (owner === this.app) {
      if (!this.s.leader) throw new Error(`permission denied: only the leader may read the application bag of ${this.app}`);
      return r.localAppData;
    }
    return r.remoteAppData;
  }
  async relationSet(id: number, data: Record<string, string>, app: boolean) {
    const r = this.rel(id);
    if (app && !this.s.leader) throw new Error(`permission denied: only the leader may write the application bag of ${this.app}`);
    const merged: Record<string, string> = { ...(app ? r.localAppData : r.localUnitData) };
    for (const [k, v] of Object.entries(data)) {
      if (v === '') delete merged[k];
      else merged[k] = v;
    }
    if (app) r.localAppData = merged;
    else r.localUnitData = merged;
  }
  async statusSet(name: StatusName, message: string, app: boolean) {
    if (app) this.s.appStatus = { name, message };
    else this.s.unitStatus = { name, message };
  }
  async openPort(p: Port) {
    if (!this.s.ports.some((x) => x.port === p.port && x.protocol === p.protocol)) this.s.ports = [...this.s.ports, p];
  }
  async closePort(p: Port) {
    this.s.ports = this.s.ports.filter((x) => !(x.port === p.port && x.protocol === p.protocol));
  }
  async openedPorts() {
    return [...this.s.ports];
  }
  async applicationVersionSet(version: string) {
    this.s.workloadVersion = version;
  }
  async leaderGet() {
    return { ...this.s.leaderData };
  }
  async leaderSet(data: Record<string, string>) {
    const next: Record<string, string> = { ...this.s.leaderData };
    for (const [k, v] of Object.entries(data)) {
      if (v === '') delete next[k];
      else next[k] = v;
    }
    this.s.leaderData = next;
  }
  async stateGet() {
    return { ...this.s.stored };
  }
  async stateSet(data: Record<string, string>) {
    this.s.stored = { ...this.s.stored, ...data };
  }
  async address() {
    return this.s.address;
  }
  async log(level: LogLevel, message: string) {
    this.s.logs = [...this.s.logs, { level, message }];
  }
  async actionParams() {
    return { ...this.params };
  }
  async actionSet(results: Record<string, string>) {
    Object.assign(this.results, results);
  }
  async actionFail(message: string) {
    this.failed = message;
  }
  async actionLog(message: string) {
    this.actionLogs.push(message);
  }
  async appSecretGet(label: string) {
    const c = this.s.appSecrets[label];
    return c === undefined ? undefined : { ...c };
  }
  async appSecretId(label: string) {
    // A stable id per label, in Juju's 20-character form.
    return this.s.appSecrets[label] === undefined ? undefined : createHash('sha256').update(label).digest('hex').slice(0, 20);
  }
  async appSecretSet(label: string, content: Record<string, string>) {
    if (!this.s.leader) throw new Error(`secret-set failed (exit 1): cannot update secret "${label}": this unit is not the leader`);
    this.s.appSecrets = { ...this.s.appSecrets, [label]: { ...content } };
  }
}
