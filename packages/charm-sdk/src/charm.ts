/**
 * A charm as typed event handlers. `dispatch` (the charm's entry point) runs the handlers
 * for the event the agent names in JUJU_DISPATCH_PATH, with the hook tools called in
 * process. Handlers are async functions of a Context; they throw to fail the hook.
 */
import { type Backend, type LogLevel, type Port, SocketBackend } from './backend.ts';
import { Relation } from './relation.ts';
import type { ActionName, CharmSpec, ConfigOf, EndpointName, ParamsOf } from './spec.ts';
import { endpointDecl } from './spec.ts';
import { type Status, StatusError } from './status.ts';

export type LifecycleHook =
  | 'install'
  | 'start'
  | 'stop'
  | 'remove'
  | 'config-changed'
  | 'upgrade-charm'
  | 'update-status'
  | 'leader-elected'
  | 'leader-settings-changed';
export type RelationHook = 'relation-created' | 'relation-joined' | 'relation-changed' | 'relation-departed' | 'relation-broken';

/** What the agent asked the charm to handle. */
export type CharmEvent =
  | { readonly kind: 'lifecycle'; readonly hook: LifecycleHook }
  | {
      readonly kind: 'relation';
      readonly hook: RelationHook;
      readonly endpoint: string;
      readonly relationId: number;
      readonly remoteApp: string;
      readonly remoteUnit?: string;
      readonly departingUnit?: string;
    }
  | { readonly kind: 'action'; readonly action: string }
  /** A batch of relation and config changes for a holistic charm (metadata `sigil: {holistic: true}`). */
  | { readonly kind: 'reconcile'; readonly batch: readonly string[] };

const LIFECYCLE = new Set<string>(['install', 'start', 'stop', 'remove', 'config-changed', 'upgrade-charm', 'update-status', 'leader-elected', 'leader-settings-changed']);
const RELATION = /^(.+)-(relation-(?:created|joined|changed|departed|broken))$/;

/** Reads the event from the dispatch environment; undefined for one this SDK does not know. */
export function eventFromEnv(env: NodeJS.ProcessEnv): CharmEvent | undefined {
  const path = env.JUJU_DISPATCH_PATH ?? '';
  if (path.startsWith('actions/')) return { kind: 'action', action: path.slice('actions/'.length) };
  const hook = path.startsWith('hooks/') ? path.slice('hooks/'.length) : '';
  if (hook === 'reconcile') return { kind: 'reconcile', batch: (env.SIGIL_BATCH ?? '').split('\n').filter((l) => l !== '') };
  if (LIFECYCLE.has(hook)) return { kind: 'lifecycle', hook: hook as LifecycleHook };
  const m = RELATION.exec(hook);
  const ref = env.JUJU_RELATION_ID ?? '';
  if (!m || ref === '') return undefined;
  return {
    kind: 'relation',
    hook: m[2] as RelationHook,
    endpoint: env.JUJU_RELATION ?? m[1]!,
    relationId: Number(ref.slice(ref.lastIndexOf(':') + 1)),
    remoteApp: env.JUJU_REMOTE_APP ?? '',
    ...(env.JUJU_REMOTE_UNIT ? { remoteUnit: env.JUJU_REMOTE_UNIT } : {}),
    ...(env.JUJU_DEPARTING_UNIT ? { departingUnit: env.JUJU_DEPARTING_UNIT } : {}),
  };
}

export interface Identity {
  unit: string;
  model: string;
}

export class Context<S extends CharmSpec> {
  private stored: Record<string, string> | undefined;

  constructor(
    readonly spec: S,
    private readonly backend: Backend,
    readonly event: CharmEvent,
    /** This unit's name, e.g. `postgresql/0`. */
    readonly unitName: string,
    readonly modelName: string,
    readonly config: ConfigOf<S>,
    readonly isLeader: boolean,
  ) {}

  get appName(): string {
    return this.unitName.split('/')[0]!;
  }

  /** The unit's workload status. */
  async setStatus(status: Status): Promise<void> {
    await this.backend.statusSet(status.name, status.message, false);
  }

  /** The application's status: the leader's to set. */
  async setAppStatus(status: Status): Promise<void> {
    if (!this.isLeader) throw new Error(`cannot set the status of ${this.appName}: ${this.unitName} is not the leader\nhint: check ctx.isLeader first`);
    await this.backend.statusSet(status.name, status.message, true);
  }

  /** The relations on an endpoint, with their remote units (not the one a -broken hook is about). */
  async relations(endpoint: EndpointName<S>): Promise<Relation[]> {
    // Juju still lists a relation during its -broken hook; it is gone as far as the charm's
    // view of the model goes (as ops does).
    const e = this.event;
    const broken = e.kind === 'relation' && e.hook === 'relation-broken' ? e.relationId : undefined;
    const ids = (await this.backend.relationIds(endpoint)).filter((id) => id !== broken);
    return Promise.all(ids.map((id) => this.relation(id, endpoint)));
  }

  async relation(id: number, endpoint: EndpointName<S>): Promise<Relation> {
    const [units, app] = await Promise.all([this.backend.relationUnits(id), this.backend.relationApp(id)]);
    const peer = endpoint in this.spec.peers;
    return new Relation(this.backend, this.spec, id, endpoint, peer ? this.appName : app, [...units].sort(), { unit: this.unitName, app: this.appName, leader: this.isLeader });
  }

  /** The relation of the current relation event. */
  async eventRelation(): Promise<Relation> {
    const e = this.event;
    if (e.kind !== 'relation') throw new Error(`the ${describe(e)} event has no relation`);
    return this.relation(e.relationId, e.endpoint as EndpointName<S>);
  }

  /** Opens exactly these ports and closes any other this unit had open. */
  async setPorts(ports: readonly (number | Port)[]): Promise<void> {
    const want = ports.map((p) => (typeof p === 'number' ? { port: p, protocol: 'tcp' as const } : p));
    const key = (p: Port) => `${p.port}/${p.protocol}`;
    const have = await this.backend.openedPorts();
    for (const p of have) if (!want.some((w) => key(w) === key(p))) await this.backend.closePort(p);
    for (const p of want) if (!have.some((h) => key(h) === key(p))) await this.backend.openPort(p);
  }

  async setWorkloadVersion(version: string): Promise<void> {
    await this.backend.applicationVersionSet(version);
  }

  /** This unit's address on the model's network. */
  address(): Promise<string> {
    return this.backend.address();
  }

  /** Data the leader shares with every unit of the application. */
  leaderData(): Promise<Record<string, string>> {
    return this.backend.leaderGet();
  }

  async setLeaderData(data: Record<string, string>): Promise<void> {
    if (!this.isLeader) throw new Error(`cannot write leader data: ${this.unitName} is not the leader\nhint: check ctx.isLeader first`);
    await this.backend.leaderSet(data);
  }

  /**
   * The latest content of this application's Juju secret with `label` (every unit of the
   * application may read it); undefined when the leader has not made it yet.
   */
  appSecret(label: string): Promise<Record<string, string> | undefined> {
    return this.backend.appSecretGet(label);
  }

  /** The id of the application's secret `label`, for an operator's `sigil show-secret ID --reveal`; undefined before it exists. */
  appSecretId(label: string): Promise<string | undefined> {
    return this.backend.appSecretId(label);
  }

  /** Creates or updates (a new revision of) the application's secret `label`. Leader only. */
  async setAppSecret(label: string, content: Record<string, string>): Promise<void> {
    if (!this.isLeader) throw new Error(`cannot write the secret "${label}": ${this.unitName} is not the leader\nhint: check ctx.isLeader first`);
    await this.backend.appSecretSet(label, content);
  }

  /** Unit-local state kept by the controller across hooks (Juju's state-get/state-set). */
  async getStored(key: string): Promise<string | undefined> {
    this.stored ??= await this.backend.stateGet();
    return this.stored[key];
  }

  async setStored(data: Record<string, string>): Promise<void> {
    await this.backend.stateSet(data);
    this.stored = { ...(this.stored ?? {}), ...data };
  }

  readonly log = {
    debug: (message: string) => this.backend.log('DEBUG', message),
    info: (message: string) => this.backend.log('INFO', message),
    warning: (message: string) => this.backend.log('WARNING', message),
    error: (message: string) => this.backend.log('ERROR', message),
  } satisfies Record<string, (m: string) => Promise<void>>;
}

export interface RelationEvent {
  readonly relation: Relation;
  readonly remoteApp: string;
  /** The remote unit the hook is about (absent on -created, -broken and app-level -changed). */
  readonly remoteUnit: string | undefined;
  readonly departingUnit: string | undefined;
}

export interface ActionEvent<P> {
  readonly params: P;
  /** Adds to the action's results (`sigil run` prints them). Nested keys with dots: `a.b`. */
  set(results: Record<string, string | number | boolean>): Promise<void>;
  log(message: string): Promise<void>;
  /** Marks the action failed with this message; the handler may still set results. */
  fail(message: string): Promise<void>;
}

type Handler<S extends CharmSpec> = (ctx: Context<S>) => Promise<void> | void;
type RelationHandler<S extends CharmSpec> = (ctx: Context<S>, event: RelationEvent) => Promise<void> | void;
type ActionHandler<S extends CharmSpec, A extends ActionName<S>> = (ctx: Context<S>, event: ActionEvent<ParamsOf<S, A>>) => Promise<void> | void;

type AnyHandler = (ctx: Context<CharmSpec>, event?: unknown) => Promise<void> | void;

export class Charm<S extends CharmSpec> {
  private readonly handlers = new Map<string, AnyHandler[]>();
  private reconciler: Handler<S> | undefined;

  constructor(readonly spec: S) {}

  /** Registers handlers by event; names are checked against the charm's metadata. */
  readonly on = {
    install: (h: Handler<S>) => this.add('install', h),
    start: (h: Handler<S>) => this.add('start', h),
    stop: (h: Handler<S>) => this.add('stop', h),
    remove: (h: Handler<S>) => this.add('remove', h),
    configChanged: (h: Handler<S>) => this.add('config-changed', h),
    upgradeCharm: (h: Handler<S>) => this.add('upgrade-charm', h),
    updateStatus: (h: Handler<S>) => this.add('update-status', h),
    leaderElected: (h: Handler<S>) => this.add('leader-elected', h),
    leaderSettingsChanged: (h: Handler<S>) => this.add('leader-settings-changed', h),
    relationCreated: (endpoint: EndpointName<S>, h: RelationHandler<S>) => this.addRelation('relation-created', endpoint, h),
    relationJoined: (endpoint: EndpointName<S>, h: RelationHandler<S>) => this.addRelation('relation-joined', endpoint, h),
    relationChanged: (endpoint: EndpointName<S>, h: RelationHandler<S>) => this.addRelation('relation-changed', endpoint, h),
    relationDeparted: (endpoint: EndpointName<S>, h: RelationHandler<S>) => this.addRelation('relation-departed', endpoint, h),
    relationBroken: (endpoint: EndpointName<S>, h: RelationHandler<S>) => this.addRelation('relation-broken', endpoint, h),
    action: <A extends ActionName<S>>(name: A, h: ActionHandler<S, A>) => {
      if (!(name in this.spec.actions)) throw new Error(`charm ${this.spec.name} has no action "${name}" in actions.yaml`);
      this.add(`action:${name}`, h as unknown as AnyHandler);
      return this;
    },
  };

  /**
   * Holistic mode: one handler that converges the unit to everything it can see. It runs
   * after the specific handlers of every hook, and alone for a batch of relation and config
   * changes, so a relation with many units costs one run instead of one per unit.
   */
  reconcile(h: Handler<S>): this {
    if (this.reconciler) throw new Error(`charm ${this.spec.name} already has a reconcile handler (only one is allowed)`);
    this.reconciler = h;
    return this;
  }

  /** Runs the handlers for one event. Rejects when a handler fails (the hook fails). */
  async handle(event: CharmEvent, backend: Backend, who: Identity): Promise<void> {
    if (event.kind === 'relation' && endpointDecl(this.spec, event.endpoint) === undefined) {
      throw new Error(`charm ${this.spec.name} has no endpoint "${event.endpoint}" (hook ${event.endpoint}-${event.hook})`);
    }
    const [config, leader] = await Promise.all([backend.config(), backend.isLeader()]);
    const ctx = new Context<S>(this.spec, backend, event, who.unit, who.model, config as ConfigOf<S>, leader);
    try {
      if (event.kind === 'action') return await this.runAction(ctx, event.action, backend);
      if (event.kind === 'lifecycle') await this.run(event.hook, ctx);
      if (event.kind === 'relation') {
        const relation = await ctx.relation(event.relationId, event.endpoint as EndpointName<S>);
        await this.run(`${event.hook}:${event.endpoint}`, ctx, { relation, remoteApp: event.remoteApp, remoteUnit: event.remoteUnit, departingUnit: event.departingUnit } satisfies RelationEvent);
      }
      if (this.reconciler && !(event.kind === 'lifecycle' && event.hook === 'remove')) await this.reconciler(ctx);
    } catch (e) {
      if (!(e instanceof StatusError)) throw e;
      await ctx.setStatus(e.status);
    }
  }

  /** The charm's entry point under `dispatch`: exit code 0 on success, 1 (with the error on stderr) on failure. */
  async main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
    const event = eventFromEnv(env);
    if (!event) return; // A hook this charm does not handle is a success, as in Juju.
    const backend = new SocketBackend();
    try {
      await this.handle(event, backend, { unit: env.JUJU_UNIT_NAME ?? '', model: env.JUJU_MODEL_NAME ?? '' });
    } catch (e) {
      process.stderr.write(`${describe(event)} failed: ${e instanceof Error ? e.message : String(e)}\n`);
      if (e instanceof Error && e.stack && env.SIGIL_DEBUG) process.stderr.write(e.stack + '\n');
      process.exitCode = 1;
    } finally {
      backend.close();
    }
  }

  private add(key: string, h: unknown): this {
    const list = this.handlers.get(key) ?? [];
    list.push(h as AnyHandler);
    this.handlers.set(key, list);
    return this;
  }

  private addRelation(hook: RelationHook, endpoint: string, h: RelationHandler<S>): this {
    if (endpointDecl(this.spec, endpoint) === undefined) {
      throw new Error(`charm ${this.spec.name} has no endpoint "${endpoint}" in metadata.yaml (declared: ${Object.keys({ ...this.spec.provides, ...this.spec.requires, ...this.spec.peers }).join(', ')})`);
    }
    return this.add(`${hook}:${endpoint}`, h);
  }

  private async run(key: string, ctx: Context<S>, event?: unknown): Promise<void> {
    for (const h of this.handlers.get(key) ?? []) await h(ctx as unknown as Context<CharmSpec>, event);
  }

  private async runAction(ctx: Context<S>, name: string, backend: Backend): Promise<void> {
    const handlers = this.handlers.get(`action:${name}`);
    if (!handlers) {
      await backend.actionFail(`charm ${this.spec.name} has no handler for action "${name}"`);
      return;
    }
    const params = await backend.actionParams();
    const event: ActionEvent<unknown> = {
      params,
      set: (results) => backend.actionSet(Object.fromEntries(Object.entries(results).map(([k, v]) => [k, String(v)]))),
      log: (message) => backend.actionLog(message),
      fail: (message) => backend.actionFail(message),
    };
    try {
      for (const h of handlers) await h(ctx as unknown as Context<CharmSpec>, event);
    } catch (e) {
      // A failed action is a result the operator reads, not a unit in error.
      await backend.actionFail(e instanceof Error ? e.message : String(e));
    }
  }
}

export function describe(e: CharmEvent): string {
  switch (e.kind) {
    case 'lifecycle':
      return e.hook;
    case 'relation':
      return `${e.endpoint}-${e.hook}`;
    case 'action':
      return `action ${e.action}`;
    case 'reconcile':
      return 'reconcile';
  }
}

export type { LogLevel };
