import { SigilError, inferRelation, relationKey, type EndpointRef } from '@sigil/core';
import type { Store } from '../store/store.ts';
import { Reads, type RelationEndpoint, type RelationRow } from '../state/rows.ts';
import { Models } from './models.ts';
import { RelationRepository } from '../state/relations.ts';
import { Offers } from './offers.ts';

export class Relations {
  private readonly reads: Reads;
  private readonly models: Models;
  private readonly offers: Offers;
  private readonly relations: RelationRepository;

  constructor(private readonly s: Store) {
    this.reads = new Reads(s);
    this.models = new Models(s);
    this.offers = new Offers(s);
    this.relations = new RelationRepository(s);
  }

  /** `sigil integrate a[:ep] b[:ep]`, with Juju's endpoint inference and checks. */
  integrate(model: string, a: string, b: string): RelationRow {
    return this.s.tx(() => {
      this.models.mustBeAlive(model);
      // A consumed offer (a remote application) on either side makes a cross-model relation.
      const saasOf = (spec: string) => this.offers.saas(model, spec.split(':')[0] ?? '');
      if (saasOf(b)) return this.offers.integrate(model, a, b);
      if (saasOf(a)) return this.offers.integrate(model, b, a);
      const [ea, eb] = inferRelation(this.side(model, a), this.side(model, b));
      const key = relationKey(ea, eb);
      const existing = this.reads.relations(model).find((r) => r.key === key);
      if (existing) {
        throw new SigilError('already-exists', `relation "${key}" already exists`, existing.life === 'alive' ? 'nothing to do' : 'it is being removed; try again once it is gone');
      }
      for (const e of [ea, eb]) this.checkLimit(model, e);
      const container = ea.spec.scope === 'container' || eb.spec.scope === 'container';
      const endpoints: RelationEndpoint[] = [ea, eb].map((e) => ({
        app: e.app,
        name: e.spec.name,
        role: e.spec.role,
        interface: e.spec.interface,
        scope: container ? 'container' : 'global',
      }));
      const id = this.relations.nextId(model);
      this.relations.insert(model, id, key, endpoints);
      for (const e of endpoints) this.s.changed(model, 'application', e.app);
      return this.reads.relation(model, id)!;
    });
  }

  /** `sigil remove-relation a[:ep] b[:ep]` or by id. */
  remove(model: string, a: string, b?: string): void {
    this.s.tx(() => {
      const r = b === undefined ? this.byId(model, a) : this.find(model, a, b);
      if (r.endpoints.length === 1) throw new SigilError('bad-request', `cannot remove peer relation "${r.key}"`, 'peer relations live as long as their application');
      if (r.life !== 'alive') return;
      // Marks the relation dying, and its counterpart in the other model if it crosses models.
      this.offers.killRelation(model, r.id);
    });
  }

  private byId(model: string, id: string): RelationRow {
    const r = /^\d+$/.test(id) ? this.reads.relation(model, Number(id)) : undefined;
    if (!r) throw new SigilError('not-found', `relation ${id} not found`, 'name both sides, e.g. `sigil remove-relation wordpress mysql`, or see `sigil status --relations`');
    return r;
  }

  private find(model: string, a: string, b: string): RelationRow {
    const match = (spec: string, e: RelationEndpoint) => {
      const [app, ep] = spec.split(':');
      return e.app === app && (ep === undefined || e.name === ep);
    };
    const found = this.reads.relations(model).filter((r) =>
      r.endpoints.length === 2 &&
      ((match(a, r.endpoints[0]!) && match(b, r.endpoints[1]!)) || (match(b, r.endpoints[0]!) && match(a, r.endpoints[1]!))));
    if (found.length === 0) throw new SigilError('not-found', `no relation between "${a}" and "${b}"`, 'see `sigil status --relations` for existing relations');
    if (found.length > 1) {
      throw new SigilError('ambiguous-relation', `ambiguous relation: "${a} ${b}" could refer to ${found.map((r) => `"${r.key}"`).join('; ')}`, 'name the endpoints, e.g. app:endpoint');
    }
    return found[0]!;
  }

  private side(model: string, spec: string) {
    const [app, endpoint, extra] = spec.split(':');
    if (app === undefined || app === '' || extra !== undefined) {
      throw new SigilError('bad-request', `invalid endpoint "${spec}"`, 'write an application, optionally with an endpoint: "wordpress" or "wordpress:db"');
    }
    const row = this.reads.mustApp(model, app);
    if (row.life !== 'alive') throw new SigilError('conflict', `application "${app}" is being removed`);
    const meta = this.reads.charm(model, row.charmUrl).charm.meta;
    return endpoint === undefined ? { app, meta } : { app, endpoint, meta };
  }

  private checkLimit(model: string, e: EndpointRef): void {
    if (e.spec.limit === undefined || e.spec.limit === null) return;
    const used = this.reads.relations(model).filter((r) => r.endpoints.some((x) => x.app === e.app && x.name === e.spec.name)).length;
    if (used >= e.spec.limit) {
      throw new SigilError('conflict', `establishing a new relation for ${e.app}:${e.spec.name} would exceed its maximum relation limit of ${e.spec.limit}`, 'remove an existing relation on that endpoint first');
    }
  }
}
