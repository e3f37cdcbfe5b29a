import type { ControllerReplica } from '@sigil/api';

/** Failed connections of the delta stream in a row after which the page moves to another controller process. */
export const FAILOVER_AFTER = 3;

/**
 * Where the page may go when the controller process that served it stops answering: the
 * origins of the other replicas alive when last listed, those after this one first (so
 * pages spread over the replicas rather than all landing on the first), each once. `served`
 * is the id of the replica that answered the listing: its address is left out even where
 * the page reached it under another name.
 */
export function failoverOrigins(controllers: readonly ControllerReplica[], here: string, served?: string): string[] {
  const away = new Set([here, ...controllers.filter((c) => c.id === served).map((c) => originOf(c.url))]);
  const origins = controllers.filter((c) => c.alive).map((c) => originOf(c.url)).filter((o) => o !== undefined);
  const all = [...new Set(origins)];
  const at = Math.max(...[...away].map((o) => all.indexOf(o ?? '')));
  return [...all.slice(at + 1), ...all.slice(0, Math.max(at, 0))].filter((o) => !away.has(o));
}

function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' ? u.origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The controller's processes as the page last listed them (`GET /api/controller`), and which
 * of them served it. The header shows them; the page moves along them when its replica stops
 * answering.
 */
export class ReplicaList {
  private all: readonly ControllerReplica[] = [];
  private servedBy: string | undefined;
  private readonly listeners = new Set<() => void>();
  /** Moves on every change (for useSyncExternalStore). */
  version = 0;

  set(controllers: readonly ControllerReplica[], served: string | undefined): void {
    this.all = controllers;
    this.servedBy = served;
    this.version++;
    for (const l of this.listeners) l();
  }

  /** The replicas listed alive. */
  get alive(): readonly ControllerReplica[] {
    return this.all.filter((c) => c.alive);
  }

  /** The id of the replica that served the listing. */
  get served(): string | undefined {
    return this.servedBy;
  }

  /** Where to go from `here` (an origin) if its replica stops answering. */
  next(here: string): string | undefined {
    return failoverOrigins(this.all, here, this.servedBy)[0];
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
