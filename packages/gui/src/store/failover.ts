import type { ControllerReplica } from '@sigil/api';
/**
 * One controller process of the controller (replicas sharing one store), as `GET
 * /api/controller` lists them under `controllers` (absent from controllers older than
 * replicas).
 */
/** Failed connections of the delta stream in a row after which the page moves to another controller process. */
export const FAILOVER_AFTER = 3;

/**
 * Where the page may go when the controller process that served it stops answering: the
 * origins of the other replicas alive when last listed, those after this one first (so
 * pages spread over the replicas rather than all landing on the first), each once.
 */
export function failoverOrigins(controllers: readonly ControllerReplica[], here: string): string[] {
  const origins = controllers.filter((c) => c.alive).map((c) => originOf(c.url)).filter((o) => o !== undefined);
  const all = [...new Set(origins)];
  const at = all.indexOf(here);
  return [...all.slice(at + 1), ...all.slice(0, Math.max(at, 0))].filter((o) => o !== here);
}

function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' ? u.origin : undefined;
  } catch {
    return undefined;
  }
}
