import type { GuiDelta, GuiMessage, GuiModel } from '@sigil/api';

/** The browser's copy of a model, and the revision of the change feed it reflects. */
export interface ModelState {
  rev: number;
  model: GuiModel | undefined;
}

export const EMPTY: ModelState = { rev: -1, model: undefined };

type Collection = 'apps' | 'units' | 'relations' | 'machines' | 'charms';

const COLLECTION: Record<Exclude<GuiDelta['kind'], 'operation'>, Collection> = {
  app: 'apps',
  unit: 'units',
  relation: 'relations',
  machine: 'machines',
  charm: 'charms',
};

function keyOf(d: Extract<GuiDelta, { op: 'put' }>): string {
  switch (d.kind) {
    case 'app': case 'unit': return d.value.name;
    case 'relation': return String(d.value.id);
    case 'machine': return d.value.id;
    case 'charm': return d.value.url;
    case 'operation': return d.key;
  }
}

/**
 * Applies feed messages in order and returns the new state. Only the collections a delta
 * touches are copied, so unchanged entities keep their identity and React skips them.
 * Deltas for a model not yet snapshotted are dropped (the snapshot will include them).
 */
export function applyMessages(state: ModelState, messages: readonly GuiMessage[]): ModelState {
  let model = state.model;
  let rev = state.rev;
  const copied = new Set<Collection>();
  for (const m of messages) {
    if (m.type === 'snapshot') {
      model = m.model;
      rev = m.rev;
      copied.clear();
      continue;
    }
    rev = Math.max(rev, m.rev);
    if (model === undefined) continue;
    for (const d of m.deltas) {
      if (d.kind === 'operation') continue;
      const c = COLLECTION[d.kind];
      if (!copied.has(c)) {
        model = { ...model, [c]: { ...model[c] } };
        copied.add(c);
      }
      const coll = model[c] as Record<string, unknown>;
      if (d.op === 'remove') delete coll[d.key];
      else coll[keyOf(d)] = d.value;
    }
  }
  return model === state.model && rev === state.rev ? state : { rev, model };
}

/** Keys (`unit#id`) of operations whose record changed: an action's result may be ready. */
export function changedOperations(messages: readonly GuiMessage[]): string[] {
  return messages.flatMap((m) => (m.type === 'deltas' ? m.deltas.flatMap((d) => (d.kind === 'operation' ? [d.key] : [])) : []));
}
