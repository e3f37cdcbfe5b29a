import { SigilError } from '../errors.ts';
import type { ConfigValue } from '../charm/types.ts';
import { appOf, parseDoc, type AppPart, type MachinePart, type ReadFile, type RelationPart } from './parse.ts';
import type { Bundle, BundleApplication, BundleSource } from './types.ts';
import { parseBundleDocs } from './yaml-docs.ts';

interface AppAcc {
  charm?: string;
  revision?: number;
  numUnits?: number;
  to?: string[];
  options: Record<string, ConfigValue>;
  expose?: boolean;
  constraints?: string;
  annotations: Record<string, string>;
  where: Record<string, string>;
}

/** A 'bad-request' error located at `where` (`file:line`) and `key`. */
function located(where: string, key: string, message: string, hint: string): SigilError {
  return new SigilError('bad-request', `${where}: ${key}: ${message}`, hint);
}

/**
 * Reads a bundle as `juju deploy bundle.yaml --overlay a.yaml …` does: the first YAML
 * document of `base` is the bundle, its other documents and then each overlay file (in
 * order) are overlays. Overlays merge application fields (options and annotations key by
 * key; null unsets a key), append relations (deduplicated), replace `machines` wholesale,
 * and remove an application listed with no fields, with every relation mentioning it.
 * The merged bundle is then checked as a whole: every error names the file, line and key.
 * Pure: `include-file://` and `include-base64://` files are read through `readFile`.
 */
export function loadBundle(base: BundleSource, overlays: BundleSource[], readFile: ReadFile): Bundle {
  const docs = [...parseBundleDocs(base), ...overlays.flatMap((o) => parseBundleDocs(o))];
  const first = docs[0];
  if (first === undefined || first.data === null || first.data === undefined) {
    throw new SigilError('bad-request', `${base.path}: the bundle is empty`, 'a bundle needs at least "applications", e.g. "applications: {wordpress: {charm: ./charms/wordpress, num_units: 1}}"');
  }
  const parts = docs.map((d) => parseDoc(d, readFile));

  let description = '';
  const apps = new Map<string, AppAcc>();
  let machines = new Map<string, MachinePart>();
  let relations: RelationPart[] = [];
  const pairKey = (p: [string, string]) => [...p].sort().join(' ');
  let seen = new Set<string>();
  parts.forEach((part, index) => {
    if (part.description !== undefined) description = part.description;
    for (const [name, app] of part.applications) {
      if (index > 0 && app.empty) {
        apps.delete(name);
        relations = relations.filter((r) => appOf(r.pair[0]) !== name && appOf(r.pair[1]) !== name);
        seen = new Set(relations.map((r) => pairKey(r.pair)));
      } else {
        mergeApp(apps, name, app);
      }
    }
    if (part.machines !== undefined) machines = part.machines;
    for (const r of part.relations) {
      if (seen.has(pairKey(r.pair))) continue;
      seen.add(pairKey(r.pair));
      relations.push(r);
    }
  });

  const applications: Record<string, BundleApplication> = {};
  for (const [name, a] of apps) {
    if (a.charm === undefined) {
      throw located(a.where['']!, `applications.${name}`, `application "${name}" has no charm`, `add the charm's directory, relative to the bundle file, e.g. "charm: ./charms/${name}"`);
    }
    applications[name] = {
      charm: a.charm,
      numUnits: a.numUnits ?? 0,
      to: a.to ?? [],
      options: a.options,
      expose: a.expose ?? false,
      constraints: a.constraints ?? '',
      annotations: a.annotations,
      ...(a.revision !== undefined && !a.charm.startsWith('/') ? { revision: a.revision } : {}),
    };
  }
  const used = checkPlacements(applications, apps, machines);
  for (const [id, m] of machines) {
    if (!used.has(id)) throw located(m.where, `machines.${id}`, `machine "${id}" is not used`, `place a unit on it (to: ["${id}"]) or remove it from "machines"`);
  }
  for (const r of relations) {
    for (const endpoint of r.pair) {
      const app = appOf(endpoint);
      if (applications[app] === undefined) {
        throw located(r.where, `relation ${JSON.stringify(r.pair)}`, `endpoint "${endpoint}" names unknown application "${app}"`, `applications in the bundle: ${Object.keys(applications).join(', ') || 'none'}`);
      }
    }
  }

  const locations: Record<string, string> = {};
  for (const [name, a] of apps) {
    for (const [key, where] of Object.entries(a.where)) locations[key === '' ? `applications.${name}` : `applications.${name}.${key}`] = where;
  }
  for (const [id, m] of machines) locations[`machines.${id}`] = m.where;
  relations.forEach((r, i) => (locations[`relations.${i}`] = r.where));
  return {
    description,
    applications,
    machines: Object.fromEntries([...machines].map(([id, m]) => [id, { constraints: m.constraints, annotations: m.annotations }])),
    relations: relations.map((r) => r.pair),
    locations,
  };
}

function mergeApp(apps: Map<string, AppAcc>, name: string, part: AppPart): void {
  const acc = apps.get(name) ?? { options: {}, annotations: {}, where: { '': part.where['']! } };
  apps.set(name, acc);
  if (part.charm !== undefined) {
    // A new charm drops a revision given for the old one, unless this part gives one too.
    if (acc.charm !== part.charm) delete acc.revision;
    acc.charm = part.charm;
  }
  if (part.revision !== undefined) acc.revision = part.revision;
  if (part.numUnits !== undefined) acc.numUnits = part.numUnits;
  if (part.to !== undefined) acc.to = part.to;
  if (part.expose !== undefined) acc.expose = part.expose;
  if (part.constraints !== undefined) acc.constraints = part.constraints;
  for (const [key, v] of Object.entries(part.options)) {
    if (v === null) delete acc.options[key];
    else acc.options[key] = v;
  }
  for (const [key, v] of Object.entries(part.annotations)) {
    if (v === null) delete acc.annotations[key];
    else acc.annotations[key] = v;
  }
  const { '': _, ...fields } = part.where;
  Object.assign(acc.where, fields);
}

/**
 * Checks every placement against the merged bundle (declared machines, known units, no
 * more placements than units, no cycles) and returns the machine ids placements use.
 */
function checkPlacements(applications: Record<string, BundleApplication>, accs: Map<string, AppAcc>, machines: Map<string, MachinePart>): Set<string> {
  const used = new Set<string>();
  const dependsOn = new Map<string, Set<string>>();
  for (const [name, app] of Object.entries(applications)) {
    const where = accs.get(name)!.where['to'] ?? accs.get(name)!.where['']!;
    const key = `applications.${name}.to`;
    const deps = new Set<string>();
    dependsOn.set(name, deps);
    if (app.to.length > app.numUnits) {
      throw located(where, key, `too many placements: ${app.to.length} for ${app.numUnits} unit(s) of "${name}"`, 'give at most one placement per unit, or raise num_units (the last placement repeats for the remaining units)');
    }
    for (const p of app.to) {
      if (p === 'new') continue;
      if (/^[0-9]+$/.test(p)) {
        if (!machines.has(p)) {
          const declared = [...machines.keys()];
          throw located(where, key, `placement "${p}" refers to machine "${p}", which is not declared under "machines"`, `declare it ("machines: {\\"${p}\\": {}}") or use "new"${declared.length ? `; declared machines: ${declared.join(', ')}` : ''}`);
        }
        used.add(p);
        continue;
      }
      const [target, n] = p.split('/') as [string, string];
      const other = applications[target];
      if (target === name) throw located(where, key, `placement "${p}" places "${name}" on its own unit`, 'place it on a machine or on a unit of another application');
      if (other === undefined) {
        throw located(where, key, `placement "${p}" refers to unknown application "${target}"`, `applications in the bundle: ${Object.keys(applications).join(', ')}`);
      }
      if (Number(n) >= other.numUnits) {
        throw located(where, key, `placement "${p}" names a unit beyond the ${other.numUnits} unit(s) of "${target}"`, `use a unit from "${target}/0" to "${target}/${Math.max(0, other.numUnits - 1)}", or raise its num_units`);
      }
      deps.add(target);
    }
  }
  placementOrder(Object.keys(applications), dependsOn, (app, cycle) => {
    throw located(accs.get(app)!.where['to']!, `applications.${app}.to`, `placements form a cycle: ${cycle.join(' → ')}`, 'each application may only be placed on units of applications that do not place themselves on it');
  });
  return used;
}

/**
 * Orders applications so that each comes after those whose units it is placed on, keeping
 * the given order otherwise. Calls `onCycle` (which must throw) if there is no such order.
 */
export function placementOrder(names: string[], dependsOn: Map<string, Set<string>>, onCycle: (app: string, cycle: string[]) => never): string[] {
  const done = new Set<string>();
  const out: string[] = [];
  const visit = (app: string, stack: string[]): void => {
    if (done.has(app)) return;
    const at = stack.indexOf(app);
    if (at >= 0) onCycle(app, [...stack.slice(at), app]);
    for (const dep of dependsOn.get(app) ?? []) visit(dep, [...stack, app]);
    done.add(app);
    out.push(app);
  };
  for (const name of names) visit(name, []);
  return out;
}
