/**
 * Relations and their data bags, with Juju's rules enforced before anything reaches the
 * agent: a unit writes its own bag; only the leader reads or writes its application's bag;
 * nobody writes a remote bag.
 */
import type { Backend } from './backend.ts';
import type { CharmSpec } from './spec.ts';
import { endpointDecl } from './spec.ts';

export class RelationDataError extends Error {
  constructor(message: string, readonly hint: string) {
    super(`${message}\nhint: ${hint}`);
    this.name = 'RelationDataError';
  }
}

export type BagValue = string | number | boolean | null | undefined;

export class DataBag {
  private cache: Record<string, string> | undefined;

  constructor(
    private readonly backend: Backend,
    private readonly relation: { id: number; endpoint: string },
    /** The unit or application that owns the bag. */
    readonly owner: string,
    readonly kind: 'unit' | 'app',
    private readonly access: { read: true } | { read: false; why: string; hint: string },
    private readonly write: { ok: true } | { ok: false; why: string; hint: string },
  ) {}

  get writable(): boolean {
    return this.write.ok;
  }

  /** The bag's contents (this hook's own writes included). */
  async read(): Promise<Readonly<Record<string, string>>> {
    if (!this.access.read) throw new RelationDataError(`cannot read ${this.describe()}: ${this.access.why}`, this.access.hint);
    this.cache ??= await this.backend.relationGet(this.relation.id, this.owner, this.kind === 'app');
    return this.cache;
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.read())[key];
  }

  /** Sets keys; null, undefined and '' delete them. Numbers and booleans are written as text. */
  async update(data: Readonly<Record<string, BagValue>>): Promise<void> {
    if (!this.write.ok) throw new RelationDataError(`cannot write ${this.describe()}: ${this.write.why}`, this.write.hint);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(data)) out[k] = v === null || v === undefined ? '' : String(v);
    await this.backend.relationSet(this.relation.id, out, this.kind === 'app');
    if (this.cache) {
      const next = { ...this.cache };
      for (const [k, v] of Object.entries(out)) {
        if (v === '') delete next[k];
        else next[k] = v;
      }
      this.cache = next;
    }
  }

  private describe(): string {
    return `the ${this.kind === 'app' ? 'application' : 'unit'} bag of ${this.owner} on relation ${this.relation.endpoint}:${this.relation.id}`;
  }
}

export class Relation {
  readonly interface: string;
  /** This unit's own bag. */
  readonly local: DataBag;
  /** This application's bag: readable and writable by the leader only. */
  readonly localApp: DataBag;
  /** The remote application's bag (for a peer relation: the application's shared bag). */
  readonly remoteApp: DataBag;

  constructor(
    private readonly backend: Backend,
    spec: CharmSpec,
    readonly id: number,
    readonly endpoint: string,
    /** The application at the other end (for peers, this application). */
    readonly app: string,
    /** The remote units in scope, sorted. */
    readonly units: readonly string[],
    self: { unit: string; app: string; leader: boolean },
  ) {
    this.interface = endpointDecl(spec, endpoint)?.interface ?? '';
    const ref = { id, endpoint };
    const remoteWrite = { ok: false as const, why: 'it belongs to the other side of the relation', hint: 'write your own bag (relation.local) or, as leader, your application bag (relation.localApp)' };
    const notLeader = {
      why: `${self.unit} is not the leader of ${self.app}`,
      hint: 'only the leader uses the application bag: check ctx.isLeader first, or do it in a leaderElected handler',
    };
    this.local = new DataBag(backend, ref, self.unit, 'unit', { read: true }, { ok: true });
    this.localApp = new DataBag(backend, ref, self.app, 'app', self.leader ? { read: true } : { read: false, ...notLeader }, self.leader ? { ok: true } : { ok: false, ...notLeader });
    const peer = app === self.app;
    this.remoteApp = peer ? this.localApp : new DataBag(backend, ref, app, 'app', { read: true }, remoteWrite);
    this.remoteWrite = remoteWrite;
  }

  private readonly remoteWrite: { ok: false; why: string; hint: string };

  /** A remote unit's bag (read-only). */
  unit(name: string): DataBag {
    if (!this.units.includes(name)) {
      throw new RelationDataError(
        `${name} is not in relation ${this.endpoint}:${this.id}`,
        this.units.length ? `units in this relation: ${this.units.join(', ')}` : 'no remote unit has joined this relation yet',
      );
    }
    return new DataBag(this.backend, { id: this.id, endpoint: this.endpoint }, name, 'unit', { read: true }, this.remoteWrite);
  }

  /** Every remote unit's data, by unit name. */
  async unitsData(): Promise<Record<string, Readonly<Record<string, string>>>> {
    const entries = await Promise.all(this.units.map(async (u) => [u, await this.unit(u).read()] as const));
    return Object.fromEntries(entries);
  }
}
