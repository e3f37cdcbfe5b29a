import { SigilError } from '../errors.ts';
import { validateConfigValues } from '../charm/config.ts';
import { inferRelation, type AppEndpoints } from '../charm/endpoints.ts';
import type { Charm, CharmMeta, ConfigValue } from '../charm/types.ts';
import { naturalCompare } from '../names.ts';
import { placementOrder } from './load.ts';
import type { Bundle, BundleApplication, BundleCharm, Change, ModelApp, ModelState, ModelUnit } from './types.ts';

type Of<K extends Change['kind']> = Extract<Change, { kind: K }>;

/** A placement on a machine the model has already (`--map-machines`): `machine:<id>`. */
export const EXISTING_MACHINE = 'machine:';


/**
 * The ordered changes that take `model` to `bundle`, in Juju's bundlechanges order:
 * add-charm, add-machine, deploy, refresh, set-config and set-constraints, add-unit,
 * relate, expose and unexpose, set-annotations. Pure and level-based: a model that already
 * matches yields [], and only what differs is changed. Applications, relations and options
 * the bundle does not mention are left alone, and so are units: as in Juju, a bundle only
 * ever adds units (an application with more units than its num_units keeps them all).
 *
 * `charms` holds the charm read for each bundle application; `modelCharms` the charm of
 * each model application (by application name), used for relations that name model
 * applications absent from the bundle.
 */
export function planBundle(
  bundle: Bundle,
  model: ModelState,
  charms: Record<string, BundleCharm>,
  modelCharms: Record<string, Charm>,
  /** `--map-machines`: bundle machine id → existing model machine id (see parseMapMachines). */
  mapMachines: ReadonlyMap<string, string> = new Map(),
): Change[] {
  const names = Object.keys(bundle.applications);
  const charmOf = (name: string): BundleCharm => {
    const c = Object.hasOwn(charms, name) ? charms[name] : undefined;
    if (c === undefined) throw new SigilError('internal', `no charm was read for application "${name}"`, 'read the charm directory of every bundle application before planning');
    return c;
  };
  const where = (key: string, label: string) => `${bundle.locations?.[key] ?? 'bundle'}: ${label}`;
  const relocate = (key: string, label: string, e: unknown): never => {
    if (e instanceof SigilError) throw new SigilError(e.code, `${where(key, label)}: ${e.message}`, e.hint);
    throw e;
  };

  const targets = (app: BundleApplication) => app.to.filter((p) => p.includes('/')).map(placementApp).filter((t) => Object.hasOwn(bundle.applications, t));
  const deps = new Map(names.map((n) => [n, new Set(targets(bundle.applications[n]!))]));
  const order = placementOrder(names, deps, (app, cycle) => {
    const label = `applications.${app}.to`;
    throw new SigilError('bad-request', `${where(label, label)}: placements form a cycle: ${cycle.join(' → ')}`, 'place each application only on units of applications that are not placed on it');
  });
  const machineUnits = realisedMachines(bundle, model);
  const neededMachines = new Set<string>();
  // A placement as the executor can apply it: see Change.
  const place = (p: string): string => {
    if (/^[0-9]+$/.test(p)) {
      // A bundle machine mapped onto a model machine: units go straight onto it (marked, so
      // the executor never mistakes it for a bundle machine of the same number).
      const mapped = mapMachines.get(p);
      if (mapped !== undefined) return `${EXISTING_MACHINE}${mapped}`;
      const unit = machineUnits.get(p);
      if (unit !== undefined) return unit;
      neededMachines.add(p);
      return p;
    }
    const [target, n] = p.split('/');
    const existing = target === undefined ? undefined : model.applications[target];
    if (existing === undefined || n === undefined) return p;
    return sortedUnits(existing)[Number(n)]?.name ?? p;
  };

  const addCharm: Of<'add-charm'>[] = [];
  const deploy: Of<'deploy'>[] = [];
  const refresh: Of<'refresh'>[] = [];
  const settings: (Of<'set-config'> | Of<'set-constraints'>)[] = [];
  const units: Of<'add-unit'>[] = [];
  const exposure: Of<'expose' | 'unexpose'>[] = [];
  const annotate: Of<'set-annotations'>[] = [];
  const upload = (app: string, path: string) => {
    if (!addCharm.some((c) => c.path === path)) addCharm.push({ kind: 'add-charm', app, path });
  };

  for (const name of order) {
    const app = bundle.applications[name]!;
    const { hash, charm } = charmOf(name);
    const sub = charm.meta.subordinate;
    if (sub && app.to.length > 0) {
      throw new SigilError('bad-request', `${where(`applications.${name}.to`, `applications.${name}.to`)}: application "${name}" is subordinate but has placements`, 'subordinate units are placed beside the principal units they are related to; remove "to"');
    }
    const options = typedOptions(name, app, charm, relocate);
    const m = model.applications[name];
    if (m === undefined) {
      upload(name, app.charm);
      const set = Object.fromEntries(Object.entries(options).filter((e): e is [string, ConfigValue] => e[1] !== undefined));
      deploy.push({ kind: 'deploy', app: name, charmPath: app.charm, numUnits: sub ? 0 : app.numUnits, to: sub ? [] : app.to.map(place), options: set, constraints: app.constraints });
      if (app.expose) exposure.push({ kind: 'expose', app: name });
      if (Object.keys(app.annotations).length > 0) annotate.push({ kind: 'set-annotations', app: name, annotations: { ...app.annotations } });
      continue;
    }
    if (m.charmName !== charm.meta.name) {
      throw new SigilError(
        'conflict',
        `${where(`applications.${name}.charm`, `applications.${name}.charm`)}: application "${name}" runs charm "${m.charmName}", but the bundle gives it charm "${charm.meta.name}"`,
        `an application cannot change to a different charm; remove "${name}" first, or deploy the bundle's charm under another name`,
      );
    }
    if (m.charmHash !== hash) {
      upload(name, app.charm);
      refresh.push({ kind: 'refresh', app: name, charmPath: app.charm });
    }
    const config = configChange(name, options, m, charm);
    if (config !== undefined) settings.push(config);
    if (app.constraints !== '' && normConstraints(app.constraints) !== normConstraints(m.constraints)) {
      settings.push({ kind: 'set-constraints', app: name, constraints: app.constraints });
    }
    if (!sub) {
      const current = sortedUnits(m);
      if (app.numUnits > current.length) {
        const to = app.to.length === 0 ? [] : Array.from({ length: app.numUnits - current.length }, (_, i) => place(app.to[Math.min(current.length + i, app.to.length - 1)]!));
        units.push({ kind: 'add-unit', app: name, n: app.numUnits - current.length, to });
      }
    }
    if (app.expose !== m.exposed) exposure.push({ kind: app.expose ? 'expose' : 'unexpose', app: name });
    const changed = Object.entries(app.annotations).filter(([k, v]) => m.annotations[k] !== v);
    if (changed.length > 0) annotate.push({ kind: 'set-annotations', app: name, annotations: Object.fromEntries(changed) });
  }

  const relate = relationChanges(bundle, model, (app) => (Object.hasOwn(charms, app) ? charms[app]?.charm.meta : undefined) ?? modelCharms[app]?.meta, relocate);
  const addMachine = [...neededMachines].sort(naturalCompare).map((id): Of<'add-machine'> => {
    const machine = Object.hasOwn(bundle.machines, id) ? bundle.machines[id] : undefined;
    if (machine === undefined) throw new SigilError('bad-request', `placement "${id}" refers to machine "${id}", which is not declared under "machines"`, `declare it: machines: {"${id}": {}}`);
    return { kind: 'add-machine', id, constraints: machine.constraints, ...(Object.keys(machine.annotations).length > 0 ? { annotations: { ...machine.annotations } } : {}) };
  });
  return [...addCharm, ...addMachine, ...deploy, ...refresh, ...settings, ...units, ...relate, ...exposure, ...annotate];
}

/** The application of a unit placement: `mysql/0` → `mysql`. */
function placementApp(placement: string): string {
  return placement.slice(0, placement.indexOf('/'));
}

/** Units in natural order of their numbers: `app/2` before `app/10`. */
function sortedUnits(app: ModelApp): ModelUnit[] {
  return [...app.units].sort((a, b) => naturalCompare(a.name, b.name));
}

/**
 * Bundle machines already realised in the model, each as the name of a unit on it: the
 * i-th unit of an application whose i-th placement names the machine. Placing a new unit
 * beside that unit puts it on the same machine, so no new machine is needed.
 */
function realisedMachines(bundle: Bundle, model: ModelState): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, app] of Object.entries(bundle.applications)) {
    const m = model.applications[name];
    if (m === undefined || m.subordinate || app.to.length === 0) continue;
    sortedUnits(m).slice(0, app.numUnits).forEach((unit, i) => {
      const p = app.to[Math.min(i, app.to.length - 1)]!;
      if (/^[0-9]+$/.test(p) && unit.machine !== null && !out.has(p)) out.set(p, unit.name);
    });
  }
  return out;
}

/** The bundle's options typed by the charm; `undefined` for a value equal to the default. */
function typedOptions(name: string, app: BundleApplication, charm: Charm, relocate: (key: string, label: string, e: unknown) => never): Record<string, ConfigValue | undefined> {
  const out: Record<string, ConfigValue | undefined> = {};
  for (const [key, value] of Object.entries(app.options)) {
    let typed: ConfigValue | undefined;
    try {
      typed = validateConfigValues(charm.meta.name, charm.config, { [key]: value })[key];
    } catch (e) {
      return relocate(`applications.${name}.options.${key}`, `applications.${name}.options.${key}`, e);
    }
    out[key] = typed === charm.config[key]?.default ? undefined : typed;
  }
  return out;
}

/** Only keys the bundle mentions: set those that differ, reset those the bundle puts back to default. */
function configChange(name: string, options: Record<string, ConfigValue | undefined>, m: ModelApp, charm: Charm): Of<'set-config'> | undefined {
  const set: Record<string, ConfigValue> = {};
  const reset: string[] = [];
  for (const [key, want] of Object.entries(options)) {
    const raw = Object.hasOwn(m.config, key) ? m.config[key] : undefined;
    const have = raw === charm.config[key]?.default ? undefined : raw;
    if (want === have) continue;
    if (want === undefined) reset.push(key);
    else set[key] = want;
  }
  return Object.keys(set).length === 0 && reset.length === 0 ? undefined : { kind: 'set-config', app: name, set, reset };
}

function normConstraints(c: string): string {
  return c.split(/\s+/).filter(Boolean).sort().join(' ');
}

/** Relations to add: each bundle relation with its endpoints inferred, unless the model has it. */
function relationChanges(
  bundle: Bundle,
  model: ModelState,
  metaOf: (app: string) => CharmMeta | undefined,
  relocate: (key: string, label: string, e: unknown) => never,
): Of<'relate'>[] {
  const pairKey = (a: string, b: string) => [a, b].sort().join(' ');
  const seen = new Set(model.relations.filter((r) => r.endpoints.length === 2).map((r) => pairKey(...(r.endpoints.map((e) => `${e.app}:${e.name}`) as [string, string]))));
  const out: Of<'relate'>[] = [];
  bundle.relations.forEach((pair, i) => {
    const key = `relations.${i}`;
    const label = `relation ${JSON.stringify(pair)}`;
    let a: string;
    let b: string;
    try {
      const [x, y] = pair.map((s): AppEndpoints => {
        const [app, endpoint] = s.split(':') as [string, string | undefined];
        const meta = metaOf(app);
        if (meta === undefined) throw new SigilError('bad-request', `endpoint "${s}" names unknown application "${app}"`, `applications in the bundle: ${Object.keys(bundle.applications).join(', ')}`);
        return endpoint === undefined ? { app, meta } : { app, endpoint, meta };
      }) as [AppEndpoints, AppEndpoints];
      const [ra, rb] = inferRelation(x, y);
      a = `${ra.app}:${ra.spec.name}`;
      b = `${rb.app}:${rb.spec.name}`;
    } catch (e) {
      return relocate(key, label, e);
    }
    if (seen.has(pairKey(a, b))) return;
    seen.add(pairKey(a, b));
    out.push({ kind: 'relate', a, b });
  });
  return out;
}
