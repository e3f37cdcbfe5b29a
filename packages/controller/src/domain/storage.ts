import type { StorageInstanceDoc, StoragePoolDoc, UnitStorageView } from '@sigil/api';
import { SigilError, humanizeMiB, type StorageDirective, type StorageSpec } from '@sigil/core';
import type { Store } from '../store/store.ts';
import { StorageRepository, type DirectiveRow, type StorageRow } from '../state/storage.ts';
import { Reads } from '../state/rows.ts';

/**
 * The pools every Sigil machine offers, as Juju's built-in machine pools: `rootfs` is a
 * directory (no size limit), `loop` a file of the requested size behind a loop device (a
 * real size limit; on local-process a block store is that file itself).
 */
export const STORAGE_POOLS: readonly StoragePoolDoc[] = [
  { name: 'loop', provider: 'loop', attributes: {}, kinds: ['filesystem', 'block'] },
  { name: 'rootfs', provider: 'rootfs', attributes: {}, kinds: ['filesystem'] },
];

const DEFAULT_POOL = { filesystem: 'rootfs', block: 'loop' } as const;
/** Juju's default size when neither the directive nor the charm gives one: 1 GiB. */
const DEFAULT_SIZE_MIB = 1024;

/**
 * Storage instances (issue 20), with Juju's rules: a unit gets its charm's stores when it
 * is added (counts, pools and sizes from `deploy --storage`), more with `add-storage` or
 * the `storage-add` hook tool; detaching runs `<name>-storage-detaching` on the unit and
 * keeps the data unless it is to be destroyed; ids are never reused. Every check runs
 * before anything is written, so a refused request changes nothing.
 */
export class StorageService {
  private readonly repo: StorageRepository;
  private readonly reads: Reads;

  constructor(private readonly s: Store) {
    this.repo = new StorageRepository(s);
    this.reads = new Reads(s);
  }

  pools(): StoragePoolDoc[] {
    return STORAGE_POOLS.map((p) => ({ ...p, attributes: { ...p.attributes }, kinds: [...p.kinds] }));
  }

  /** Checks `deploy --storage` against the charm and returns each store's directive (defaults filled in). */
  resolveDirectives(charmName: string, stores: Record<string, StorageSpec>, given: Record<string, StorageDirective>): DirectiveRow[] {
    for (const name of Object.keys(given)) {
      if (!Object.hasOwn(stores, name)) throw noStore(charmName, name, stores);
    }
    return Object.values(stores).map((spec) => this.directive(charmName, spec, given[spec.name] ?? {}, undefined));
  }

  saveDirectives(model: string, app: string, rows: DirectiveRow[]): void {
    for (const d of rows) this.repo.setDirective(model, app, d);
  }

  /** Creates a new unit's storage from its application's directives. */
  createForUnit(model: string, app: string, unit: string, machine: string | null): void {
    for (const d of this.repo.directives(model, app)) {
      for (let i = 0; i < d.count; i++) this.create(model, app, unit, machine, d, this.kindOf(model, app, d.name));
    }
  }

  /** `add-storage UNIT NAME=…` and the `storage-add` hook tool: more instances of a store on a unit. */
  add(model: string, unitName: string, given: Record<string, StorageDirective>): string[] {
    return this.s.tx(() => {
      const unit = this.reads.mustUnit(model, unitName);
      if (unit.life !== 'alive') throw new SigilError('conflict', `unit "${unitName}" is being removed`, 'add storage to a unit that is alive');
      const { charm } = this.reads.charm(model, this.reads.mustApp(model, unit.app).charmUrl);
      const stores = charm.meta.storage ?? {};
      const saved = new Map(this.repo.directives(model, unit.app).map((d) => [d.name, d]));
      const plan: [DirectiveRow, 'filesystem' | 'block'][] = [];
      for (const [name, g] of Object.entries(given)) {
        const spec = stores[name];
        if (!spec) throw noStore(charm.meta.name, name, stores);
        // add-storage without a size or pool takes the application's (Juju uses the
        // deploy-time directive); the count defaults to 1.
        const d = this.directive(charm.meta.name, spec, { pool: g.pool ?? saved.get(name)?.pool, size: g.size ?? saved.get(name)?.size, count: g.count ?? 1 } as StorageDirective, 'add');
        const have = this.repo.ofUnit(model, unitName).filter((r) => r.name === name && r.life === 'alive').length;
        if (spec.countMax !== -1 && have + d.count > spec.countMax) {
          throw new SigilError('bad-request', `adding ${d.count} instance(s) of "${name}" to unit ${unitName} would exceed the maximum of ${spec.countMax} (it has ${have})`, `charm "${charm.meta.name}" allows at most ${spec.countMax} "${name}" per unit`);
        }
        plan.push([d, spec.type]);
      }
      const ids: string[] = [];
      for (const [d, kind] of plan) for (let i = 0; i < d.count; i++) ids.push(this.create(model, unit.app, unitName, unit.machine, d, kind));
      return ids;
    });
  }

  /** `detach-storage ID…`: the unit runs `<name>-storage-detaching`, then the storage stays, detached. */
  detach(model: string, ids: string[]): void {
    this.s.tx(() => {
      const rows = ids.map((id) => this.mustGet(model, id));
      for (const r of rows) {
        if (r.unit === '') throw new SigilError('conflict', `storage ${r.id} is not attached`, 'see `sigil storage`');
        const { charm } = this.reads.charm(model, this.reads.mustApp(model, r.app).charmUrl);
        const min = charm.meta.storage?.[r.name]?.countMin ?? 0;
        const left = this.repo.ofUnit(model, r.unit).filter((x) => x.name === r.name && x.life === 'alive' && !ids.includes(x.id)).length;
        if (left < min) {
          throw new SigilError('conflict', `cannot detach ${r.id}: unit ${r.unit} would have ${left} "${r.name}" storage, below the charm's minimum of ${min}`, 'attach or add another instance first, or remove the unit');
        }
      }
      for (const r of rows) this.markDetaching(model, r, r.destroy);
    });
  }

  /** `attach-storage UNIT ID…`: detached storage goes to a unit of an application whose charm has that store. */
  attach(model: string, unitName: string, ids: string[]): void {
    this.s.tx(() => {
      const unit = this.reads.mustUnit(model, unitName);
      if (unit.life !== 'alive') throw new SigilError('conflict', `unit "${unitName}" is being removed`);
      const { charm } = this.reads.charm(model, this.reads.mustApp(model, unit.app).charmUrl);
      const rows = ids.map((id) => this.mustGet(model, id));
      for (const r of rows) {
        if (r.unit !== '') throw new SigilError('conflict', `storage ${r.id} is attached to ${r.unit}`, `detach it first: \`sigil detach-storage ${r.id}\``);
        if (r.life !== 'alive') throw new SigilError('conflict', `storage ${r.id} is being removed`);
        const spec = charm.meta.storage?.[r.name];
        if (!spec) throw noStore(charm.meta.name, r.name, charm.meta.storage ?? {});
        if (spec.type !== r.kind) throw new SigilError('bad-request', `storage ${r.id} is a ${r.kind}, store "${r.name}" of charm "${charm.meta.name}" wants a ${spec.type}`);
        const have = this.repo.ofUnit(model, unitName).filter((x) => x.name === r.name && x.life === 'alive').length + rows.filter((x) => x.name === r.name && x.id < r.id).length;
        if (spec.countMax !== -1 && have + 1 > spec.countMax) {
          throw new SigilError('conflict', `attaching ${r.id} to unit ${unitName} would exceed the maximum of ${spec.countMax} "${r.name}"`, `detach one from ${unitName} first`);
        }
      }
      for (const r of rows) {
        this.repo.update(model, r.id, { unit: unitName, owner: unitName, machine: unit.machine ?? '', status: 'attaching', message: '', life: 'alive', destroy: false });
        this.s.changed(model, 'unit', unitName);
      }
    });
  }

  /**
   * `remove-storage ID…`: attached storage detaches first (its hook runs) and is then
   * destroyed; detached storage goes at once. Returns the ids whose data the provider
   * should remove now (detached and not `noDestroy`).
   */
  remove(model: string, ids: string[], noDestroy: boolean): string[] {
    return this.s.tx(() => {
      const rows = ids.map((id) => this.mustGet(model, id));
      const now: string[] = [];
      for (const r of rows) {
        if (r.unit === '') {
          this.repo.delete(model, r.id);
          this.s.changed(model, 'storage', r.id, 'remove');
          if (!noDestroy) now.push(r.id);
        } else this.markDetaching(model, r, !noDestroy, true);
      }
      return now;
    });
  }

  /** A unit going away: with `--destroy-storage` its storage is destroyed after detaching, otherwise kept. */
  unitRemoved(model: string, unit: string, destroyStorage: boolean): void {
    if (!destroyStorage) return;
    for (const r of this.repo.ofUnit(model, unit)) this.repo.update(model, r.id, { destroy: true });
    this.s.changed(model, 'unit', unit);
  }

  /**
   * A dead unit's storage that its agent never detached (the unit died before attaching it):
   * kept detached, or dropped if it was to be destroyed. Returns the ids to destroy.
   */
  unitGone(model: string, unit: string): string[] {
    const gone: string[] = [];
    for (const r of this.repo.ofUnit(model, unit)) {
      if (r.destroy) {
        this.repo.delete(model, r.id);
        gone.push(r.id);
      } else this.repo.update(model, r.id, { unit: '', status: 'detached', life: 'alive', message: '' });
      this.s.changed(model, 'storage', r.id);
    }
    return gone;
  }

  /** The agent's report: attached (with where), detached (then kept or dropped), or an error provisioning it. */
  report(model: string, unit: string, id: string, status: 'attached' | 'detached' | 'error', location: string, message: string): void {
    this.s.tx(() => {
      const r = this.repo.get(model, id);
      if (!r || r.unit !== unit) return;
      if (status === 'attached') this.repo.update(model, id, { status: 'attached', location, message: '' });
      else if (status === 'error') this.repo.update(model, id, { message });
      else if (r.destroy) this.repo.delete(model, id);
      else this.repo.update(model, id, { unit: '', status: 'detached', life: 'alive', location: '', message: '' });
      this.s.changed(model, 'unit', unit);
      this.s.changed(model, 'storage', id);
    });
  }

  unitView(model: string, unit: string, app: string): UnitStorageView[] {
    const rows = this.repo.ofUnit(model, unit);
    if (rows.length === 0) return [];
    const { charm } = this.reads.charm(model, this.reads.mustApp(model, app).charmUrl);
    return rows.map((r) => {
      const spec = charm.meta.storage?.[r.name];
      return {
        id: r.id, name: r.name, kind: r.kind, pool: r.pool, size: r.size,
        location: spec?.location ?? '', multiple: spec !== undefined && spec.countMax !== 1,
        life: r.life === 'alive' ? 'alive' : 'dying', destroy: r.destroy, status: r.status,
      };
    });
  }

  list(model: string): StorageInstanceDoc[] {
    return this.repo.list(model).map((r) => ({
      id: r.id, name: r.name, kind: r.kind, pool: r.pool, size: r.size, unit: r.unit, owner: r.unit === '' ? '' : r.owner,
      machine: r.machine, location: r.location, status: r.status, message: r.message,
      life: r.life, persistent: false, since: r.since,
    }));
  }

  private markDetaching(model: string, r: StorageRow, destroy: boolean, removing = false): void {
    this.repo.update(model, r.id, { life: 'dying', status: removing && destroy ? 'destroying' : 'detaching', destroy });
    this.s.changed(model, 'unit', r.unit);
    this.s.changed(model, 'storage', r.id);
  }

  private mustGet(model: string, id: string): StorageRow {
    const r = this.repo.get(model, id);
    if (!r) throw new SigilError('not-found', `storage ${id} not found`, 'see the ids in `sigil storage`');
    return r;
  }

  private kindOf(model: string, app: string, name: string): 'filesystem' | 'block' {
    const { charm } = this.reads.charm(model, this.reads.mustApp(model, app).charmUrl);
    return charm.meta.storage?.[name]?.type ?? 'filesystem';
  }

  private create(model: string, app: string, unit: string, machine: string | null, d: DirectiveRow, kind: 'filesystem' | 'block'): string {
    const id = this.repo.nextId(model, d.name);
    this.repo.insert(model, { id, name: d.name, app, kind, pool: d.pool, size: d.size, unit, owner: unit, machine: machine ?? '', location: '', status: 'pending', message: '', life: 'alive', destroy: false });
    this.s.changed(model, 'unit', unit);
    this.s.changed(model, 'storage', id);
    return id;
  }

  /** One store's directive with Juju's defaults, checked against the charm and the pools. */
  private directive(charmName: string, spec: StorageSpec, g: StorageDirective, mode: 'add' | undefined): DirectiveRow {
    const poolName = g.pool ?? DEFAULT_POOL[spec.type];
    const pool = STORAGE_POOLS.find((p) => p.name === poolName);
    if (!pool) throw new SigilError('not-found', `pool "${poolName}" not found`, `storage pools here: ${STORAGE_POOLS.map((p) => p.name).join(', ')} (see \`sigil storage-pools\`)`);
    if (!pool.kinds.includes(spec.type)) {
      throw new SigilError('bad-request', `pool "${poolName}" cannot provide ${spec.type} storage for store "${spec.name}"`, `use ${STORAGE_POOLS.filter((p) => p.kinds.includes(spec.type)).map((p) => `"${p.name}"`).join(' or ')}`);
    }
    const size = g.size ?? Math.max(spec.minimumSize, DEFAULT_SIZE_MIB);
    if (size < spec.minimumSize) {
      throw new SigilError('bad-request', `charm "${charmName}" store "${spec.name}": minimum storage size is ${humanizeMiB(spec.minimumSize)}, ${humanizeMiB(size)} specified`, `give at least ${spec.minimumSize}M, e.g. --storage ${spec.name}=${Math.ceil(spec.minimumSize / 1024)}G`);
    }
    const count = g.count ?? spec.countMin;
    if (mode === undefined && count < spec.countMin) {
      throw new SigilError('bad-request', `charm "${charmName}" store "${spec.name}": at least ${spec.countMin} instances must be specified`, `the charm's range for "${spec.name}" starts at ${spec.countMin}`);
    }
    if (spec.countMax !== -1 && count > spec.countMax) {
      throw new SigilError('bad-request', `charm "${charmName}" store "${spec.name}": at most ${spec.countMax} instances supported, ${count} specified`, `give a count of at most ${spec.countMax}`);
    }
    return { name: spec.name, pool: poolName, size, count };
  }
}

function noStore(charm: string, name: string, stores: Record<string, StorageSpec>): SigilError {
  const names = Object.keys(stores).sort();
  return new SigilError('not-found', `charm "${charm}" has no store called "${name}"`, names.length ? `its stores: ${names.join(', ')}` : 'its metadata.yaml declares no storage');
}
