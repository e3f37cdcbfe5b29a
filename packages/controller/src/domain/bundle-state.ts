import type { BundleStateDoc } from '@sigil/api';
import type { Store } from '../store/store.ts';
import { Reads } from '../state/rows.ts';
import { MachineAnnotationRepository } from '../state/machine-annotations.ts';

/** The model as the bundle planner sees it, from one read transaction. */
export function bundleState(s: Store, model: string): BundleStateDoc {
  const reads = new Reads(s);
  return s.db.transaction(() => {
    const charms = new Map(reads.charms(model).map((c) => [c.url, c]));
    const units = reads.units(model);
    const doc: BundleStateDoc = { state: { applications: {}, machines: reads.machines(model).filter((m) => m.life === 'alive').map((m) => m.id), relations: [] }, charms: {}, charmPaths: {} };
    for (const a of reads.apps(model)) {
      if (a.life !== 'alive') continue;
      const c = charms.get(a.charmUrl)!;
      doc.state.applications[a.name] = {
        charmName: c.name,
        charmHash: c.hash,
        units: units.filter((u) => u.app === a.name && u.life === 'alive').map((u) => ({ name: u.name, machine: u.machine })),
        config: a.config,
        exposed: a.exposed,
        constraints: a.constraints,
        annotations: a.annotations,
        subordinate: c.charm.meta.subordinate,
      };
      doc.charms[a.name] = c.charm;
      doc.charmPaths[a.name] = c.source || `./${c.name}`;
    }
    const specs: NonNullable<BundleStateDoc['state']['machineSpecs']> = {};
    for (const m of reads.machines(model)) if (m.life === 'alive' && m.constraints.trim() !== '') specs[m.id] = { constraints: m.constraints, annotations: {} };
    for (const [id, annotations] of new MachineAnnotationRepository(s).all(model)) {
      if (doc.state.machines.includes(id)) specs[id] = { constraints: specs[id]?.constraints ?? '', annotations };
    }
    if (Object.keys(specs).length > 0) doc.state.machineSpecs = specs;
    doc.state.relations = reads.relations(model).filter((r) => r.life === 'alive').map((r) => ({ endpoints: r.endpoints.map((e) => ({ app: e.app, name: e.name })) }));
    return doc;
  })();
}
