import type { UnitView } from '@sigil/api';
import type { HookInfo, LocalState } from './state.ts';

/** What the unit has already handled of its secrets' events (kept in its local state). */
export interface LocalSecrets {
  /** Consumer: the newest revision secret-changed was run for (or that the unit itself pinned). */
  changed: Record<string, number>;
  /** Owner: the rotation time secret-rotate was run for (until the controller moves it on). */
  rotated: Record<string, number>;
  /** Owner: the revision secret-expired was run for. */
  expired: Record<string, number>;
  /** Owner: the obsolete revisions secret-remove was run for. */
  removed: Record<string, number[]>;
}

export function localSecrets(local: LocalState): LocalSecrets {
  return local.secrets ?? { changed: {}, rotated: {}, expired: {}, removed: {} };
}

/**
 * The next secret hook, in Juju's order (worker/uniter/secrets/resolver.go): rotations due,
 * then expired revisions, then new revisions of secrets the unit consumes (only once it has
 * read one: a consumer tracks the revision it first saw), then obsolete revisions the owner
 * may remove. Pure: `now` decides what is due.
 */
export function secretHook(local: LocalState, u: UnitView, now: number): HookInfo | undefined {
  const s = u.secrets;
  if (!s) return undefined;
  const done = localSecrets(local);
  const owned = [...s.owned].sort((a, b) => a.id.localeCompare(b.id));
  for (const o of owned) {
    if (o.rotateAt !== undefined && o.rotateAt <= now && done.rotated[o.id] !== o.rotateAt) return { name: 'secret-rotate', secretId: o.id, secretLabel: o.label, secretRotateAt: o.rotateAt };
  }
  for (const o of owned) {
    if (o.expireAt !== undefined && o.expireAt <= now && done.expired[o.id] !== o.revision) return { name: 'secret-expired', secretId: o.id, secretLabel: o.label, secretRevision: o.revision };
  }
  for (const c of [...s.consumed].sort((a, b) => a.id.localeCompare(b.id))) {
    if (!c.ownerApp && c.tracked > 0 && c.latest > c.tracked && (done.changed[c.id] ?? 0) < c.latest) {
      return { name: 'secret-changed', secretId: c.id, secretLabel: c.label, secretRevision: c.latest };
    }
  }
  for (const o of owned) {
    for (const r of o.obsolete) if (!(done.removed[o.id] ?? []).includes(r)) return { name: 'secret-remove', secretId: o.id, secretLabel: o.label, secretRevision: r };
  }
  return undefined;
}

/** When the next rotation or expiry falls due (for the uniter's sleep), if any is ahead. */
export function nextSecretDue(u: UnitView, now: number): number | undefined {
  let next: number | undefined;
  for (const o of u.secrets?.owned ?? []) {
    for (const t of [o.rotateAt, o.expireAt]) if (t !== undefined && t > now && (next === undefined || t < next)) next = t;
  }
  return next;
}

/** The local effect of a secret hook that completed. */
export function commitSecretHook(s: LocalState, h: HookInfo): void {
  if (h.secretId === undefined) return;
  const done = (s.secrets = localSecrets(s));
  const id = h.secretId;
  if (h.name === 'secret-changed') done.changed[id] = Math.max(done.changed[id] ?? 0, h.secretRevision ?? 0);
  else if (h.name === 'secret-expired') done.expired[id] = h.secretRevision ?? 0;
  else if (h.name === 'secret-remove') done.removed[id] = [...(done.removed[id] ?? []), h.secretRevision ?? 0];
  else if (h.name === 'secret-rotate' && h.secretRotateAt !== undefined) done.rotated[id] = h.secretRotateAt;
}
