import { VIEW_MAX_KNOWN, type MachineView, type MachineViewDelta, type RelationView, type UnitCore } from '@sigil/api';

/** The machine view an agent holds, with every part by the hash the controller gave it. */
export interface HeldView {
  view: MachineView;
  cores: ReadonlyMap<string, UnitCore>;
  relations: ReadonlyMap<string, RelationView>;
}

/**
 * The hashes to send with the next view request; none (ask for a snapshot) when nothing is
 * held or more is held than a request may name.
 */
export function knownHashes(held: HeldView | undefined): string[] {
  if (!held) return [];
  const all = [...held.cores.keys(), ...held.relations.keys()];
  return all.length > VIEW_MAX_KNOWN ? [] : all;
}

/**
 * Applies a delta to what the agent holds: a part that comes without its body is taken
 * from `held` by its hash. The result is exactly the view the controller built (the parts
 * are content-hashed), so the resolver sees the same view as with a full read. Returns
 * undefined when a body is missing and not held, which only a controller answering a
 * different request could cause: the caller then asks for a snapshot.
 */
export function mergeView(held: HeldView | undefined, d: MachineViewDelta): HeldView | undefined {
  const cores = new Map<string, UnitCore>();
  const relations = new Map<string, RelationView>();
  const units: MachineView['units'] = [];
  for (const u of d.units) {
    const core = u.core ?? held?.cores.get(u.hash);
    if (!core) return undefined;
    cores.set(u.hash, core);
    const rels: RelationView[] = [];
    for (const r of u.relations) {
      const view = r.view ?? held?.relations.get(r.hash);
      if (!view) return undefined;
      relations.set(r.hash, view);
      rels.push(view);
    }
    units.push({ ...core, relations: rels });
  }
  return { view: { revision: d.revision, model: d.model, machine: d.machine, units }, cores, relations };
}
