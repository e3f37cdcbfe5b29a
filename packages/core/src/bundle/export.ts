import { Document, isScalar, isSeq } from 'yaml';
import { SigilError } from '../errors.ts';
import type { Charm, ConfigValue } from '../charm/types.ts';
import { naturalCompare } from '../names.ts';
import type { ModelApp, ModelState, ModelUnit } from './types.ts';

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sortedUnits = (app: ModelApp): ModelUnit[] => [...app.units].sort((a, b) => naturalCompare(a.name, b.name));

/**
 * Writes the model as a bundle in Juju's export-bundle shape: applications (charm at the
 * given path, num_units except for subordinates, options set to non-default values,
 * `expose: true` when exposed, constraints and annotations when set), machines that host
 * units of more than one principal, with `to` placing units on them, and relations other
 * than peers. Machines are numbered from 0 in order of first use and every list and map
 * is sorted, so deploying the output into an empty model and exporting again gives the
 * same text.
 *
 * `modelCharms` holds each application's charm (by application name); without one, every
 * user-set option is written.
 */
export function exportBundle(model: ModelState & { charmPaths: Record<string, string> }, modelCharms: Record<string, Charm>): string {
  const names = Object.keys(model.applications).sort(byName);
  const principals = names.filter((n) => !model.applications[n]!.subordinate);

  // Only a machine that several units share, or that has constraints or annotations,
  // needs naming; every other unit gets `new`.
  const hosted = new Map<string, number>();
  for (const name of principals) {
    for (const u of model.applications[name]!.units) if (u.machine !== null) hosted.set(u.machine, (hosted.get(u.machine) ?? 0) + 1);
  }
  const specOf = (machine: string) => (model.machineSpecs !== undefined && Object.hasOwn(model.machineSpecs, machine) ? model.machineSpecs[machine] : undefined);
  const ids = new Map<string, string>();
  for (const name of principals) {
    for (const u of sortedUnits(model.applications[name]!)) {
      if (u.machine !== null && ((hosted.get(u.machine) ?? 0) > 1 || specOf(u.machine) !== undefined) && !ids.has(u.machine)) ids.set(u.machine, String(ids.size));
    }
  }

  const applications: Record<string, Record<string, unknown>> = {};
  for (const name of names) {
    const app = model.applications[name]!;
    const charmPath = Object.hasOwn(model.charmPaths, name) ? model.charmPaths[name] : undefined;
    if (charmPath === undefined) throw new SigilError('internal', `no charm path for application "${name}"`, 'give the path of every application\'s charm directory');
    const spec: Record<string, unknown> = { charm: charmPath };
    if (!app.subordinate) {
      const units = sortedUnits(app);
      spec['num_units'] = units.length;
      const to = units.map((u) => (u.machine === null ? undefined : ids.get(u.machine)) ?? 'new');
      if (to.some((p) => p !== 'new')) spec['to'] = to;
    }
    const options = nonDefault(app.config, modelCharms[name]);
    if (Object.keys(options).length > 0) spec['options'] = options;
    if (app.exposed) spec['expose'] = true;
    if (app.constraints.trim() !== '') spec['constraints'] = app.constraints;
    const annotations = Object.keys(app.annotations).sort(byName);
    if (annotations.length > 0) spec['annotations'] = Object.fromEntries(annotations.map((k) => [k, app.annotations[k]]));
    applications[name] = spec;
  }

  const relations = model.relations
    .filter((r) => r.endpoints.length === 2 && r.endpoints[0]!.app !== r.endpoints[1]!.app)
    .map((r) => r.endpoints.map((e) => `${e.app}:${e.name}`).sort(byName))
    .sort((a, b) => byName(a.join(' '), b.join(' ')));

  const out: Record<string, unknown> = { applications };
  if (ids.size > 0) {
    out['machines'] = Object.fromEntries([...ids.entries()].map(([machine, id]) => {
      const spec = specOf(machine);
      const entry: Record<string, unknown> = {};
      if (spec !== undefined && spec.constraints.trim() !== '') entry['constraints'] = spec.constraints;
      const keys = Object.keys(spec?.annotations ?? {}).sort(byName);
      if (keys.length > 0) entry['annotations'] = Object.fromEntries(keys.map((k) => [k, spec!.annotations[k]]));
      return [id, entry];
    }));
  }
  if (relations.length > 0) out['relations'] = relations;
  const doc = new Document(out, { version: '1.1' });
  // Short lists in flow style with quoted items, as Juju writes them: to: ["0", "new"].
  const flow = (path: (string | number)[]) => {
    const node = doc.getIn(path, true);
    if (!isSeq(node)) return;
    node.flow = true;
    for (const item of node.items) if (isScalar(item)) item.type = 'QUOTE_DOUBLE';
  };
  for (const name of names) flow(['applications', name, 'to']);
  relations.forEach((_, i) => flow(['relations', i]));
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

function nonDefault(config: Record<string, ConfigValue>, charm: Charm | undefined): Record<string, ConfigValue> {
  const keys = Object.keys(config).sort(byName);
  return Object.fromEntries(keys.filter((k) => charm === undefined || config[k] !== charm.config[k]?.default).map((k) => [k, config[k]!]));
}
