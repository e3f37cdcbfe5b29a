/**
 * Storage hooks and the resource fingerprints that fire upgrade-charm (issue 20). Pure, like
 * the rest of the resolver.
 */
import type { UnitView } from '@sigil/api';
import type { Op } from './resolver.ts';
import type { HookInfo, LocalState } from './state.ts';

/**
 * The next storage hook: `<name>-storage-attached` for storage the unit has not attached
 * yet (while it is alive), `<name>-storage-detaching` for attached storage that is to go
 * (detach-storage, remove-storage, or the unit dying); in id order.
 */
export function storageHook(local: LocalState, u: UnitView): Op | undefined {
  const attached = local.storage ?? {};
  const views = [...(u.storage ?? [])].sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
  for (const s of views) {
    const mine = attached[s.id];
    if (mine && (s.life !== 'alive' || u.life !== 'alive')) return { type: 'run-hook', hook: { name: `${s.name}-storage-detaching`, storageId: s.id } };
  }
  // Storage the controller no longer gives this unit (removed with --force): detach it locally.
  for (const [id, mine] of Object.entries(attached)) {
    if (!views.some((s) => s.id === id)) return { type: 'run-hook', hook: { name: `${mine.name}-storage-detaching`, storageId: id } };
  }
  if (u.life !== 'alive') return undefined;
  for (const s of views) {
    if (!attached[s.id] && s.life === 'alive') return { type: 'run-hook', hook: { name: `${s.name}-storage-attached`, storageId: s.id } };
  }
  return undefined;
}

export function commitStorageHook(s: LocalState, h: HookInfo, u: UnitView, location: string): void {
  const id = h.storageId!;
  if (h.name.endsWith('-storage-attached')) {
    const v = u.storage?.find((x) => x.id === id);
    (s.storage ??= {})[id] = { name: v?.name ?? h.name.slice(0, -'-storage-attached'.length), kind: v?.kind ?? 'filesystem', location };
  } else if (s.storage) {
    delete s.storage[id];
  }
}

/** The fingerprints of the application's uploaded resources: upgrade-charm runs when they move. */
export function resourcesHash(u: UnitView): string {
  return (u.resources ?? []).filter((r) => r.fingerprint !== '').map((r) => `${r.name}:${r.fingerprint}`).join(',');
}
