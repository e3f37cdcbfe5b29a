import { SigilError, checkUnitName, parseContainerPlacement } from '@sigil/core';
import type { Store } from '../store/store.ts';
import { Reads, status, type UnitRow } from '../state/rows.ts';
import { Models } from './models.ts';
import { Machines } from './machines.ts';
import { checkUnitCount } from './limits.ts';
import { StorageService } from './storage.ts';
import { UnitRepository } from '../state/units.ts';
import { ApplicationRepository } from '../state/applications.ts';
import { LifecycleRepository } from '../state/lifecycle.ts';

export class Units {
  private readonly reads: Reads;
  private readonly machines: Machines;
  private readonly models: Models;
  private readonly units: UnitRepository;
  private readonly applications: ApplicationRepository;
  private readonly lifecycle: LifecycleRepository;

  constructor(private readonly s: Store) {
    this.reads = new Reads(s);
    this.machines = new Machines(s);
    this.models = new Models(s);
    this.units = new UnitRepository(s);
    this.applications = new ApplicationRepository(s);
    this.lifecycle = new LifecycleRepository(s);
  }

  /**
   * Adds `n` units. Placement follows Juju's `--to`: a machine id, `new`, `lxc:N` (a new container on machine N), or none (a new
   * machine per unit); a list shorter than n repeats its last entry.
   */
  add(model: string, app: string, n: number, to: string[] = []): string[] {
    if (!Number.isInteger(n) || n < 0) throw new SigilError('bad-request', `invalid number of units ${n}`, 'give a whole number, e.g. -n 3');
    return this.s.tx(() => {
      checkUnitCount(this.models.mustBeAlive(model).config, n);
      const a = this.reads.mustApp(model, app);
      if (a.life !== 'alive') throw new SigilError('conflict', `application "${app}" is being removed`);
      const { charm } = this.reads.charm(model, a.charmUrl);
      if (charm.meta.subordinate) {
        throw new SigilError('bad-request', `cannot add units to subordinate application "${app}"`, 'subordinate units follow the principal units they are related to');
      }
      const names: string[] = [];
      for (let i = 0; i < n; i++) {
        const placement = to[Math.min(i, to.length - 1)] ?? 'new';
        const container = parseContainerPlacement(placement);
        const machine = placement === 'new' ? this.machines.add(model, { constraints: a.constraints, autoRemove: true }).id
          : container ? this.machines.addContainer(model, container.parent, { constraints: a.constraints, autoRemove: true }).id
          : this.placeOn(model, placement);
        names.push(this.insert(model, app, a.nextUnit + i, machine, null));
        new StorageService(this.s).createForUnit(model, app, names[names.length - 1]!, machine);
      }
      this.applications.addUnits(model, app, n);
      return names;
    });
  }

  /** Creates the subordinate unit of `app` that lives beside `principal`. */
  addSubordinate(model: string, app: string, principal: UnitRow): string {
    return this.s.tx(() => {
      const a = this.reads.mustApp(model, app);
      const name = this.insert(model, app, a.nextUnit, principal.machine, principal.name);
      this.applications.addSubordinate(model, app);
      this.s.changed(model, 'unit', principal.name);
      return name;
    });
  }

  private insert(model: string, app: string, n: number, machine: string | null, principal: string | null): string {
    const name = `${app}/${n}`;
    this.units.insert(model, { name, app, machine, principal, workload: status('waiting', principal ? 'agent initialising' : 'waiting for machine'), agent: status('allocating') });
    return name;
  }

  private placeOn(model: string, placement: string): string {
    const m = this.reads.machine(model, placement);
    if (!m) {
      throw new SigilError('not-found', `machine "${placement}" not found for placement`, 'use an existing machine id from `sigil status`, or `--to new`');
    }
    if (m.life !== 'alive') throw new SigilError('conflict', `machine "${placement}" is being removed`);
    return m.id;
  }

  /** Marks units dying; each agent then runs departed/broken, stop and remove, and reports dead. */
  remove(model: string, names: string[], destroyStorage = false): void {
    this.s.tx(() => {
      for (const name of names) {
        checkUnitName(name);
        const u = this.reads.mustUnit(model, name);
        if (u.principal !== null) {
          throw new SigilError('bad-request', `unit "${name}" is a subordinate`, `remove the relation to its principal instead, e.g. \`sigil remove-relation ${u.app} ${u.principal.split('/')[0]}\``);
        }
        if (u.life !== 'alive') continue;
        new StorageService(this.s).unitRemoved(model, name, destroyStorage);
        this.lifecycle.markUnitDying(model, name);
        this.applications.decrementScale(model, u.app);
        this.s.changed(model, 'application', u.app);
      }
    });
  }

  resolve(model: string, name: string, retry: boolean): void {
    this.s.tx(() => {
      const u = this.reads.mustUnit(model, name);
      if (u.agent.current !== 'error') {
        throw new SigilError('bad-request', `unit "${name}" is not in an error state`, 'only units whose hook failed can be resolved; see `sigil status`');
      }
      this.units.setResolved(model, name, retry ? 'retry' : 'no-retry');
    });
  }
}
