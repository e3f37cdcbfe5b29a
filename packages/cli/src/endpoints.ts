import { httpsUrl, type ControllerReplica } from '@sigil/api';
import type { ControllerEntry } from './home.ts';

/**
 * One controller process of the controller (replicas share one store), as `GET
 * /api/controller` lists them under `controllers` (absent from controllers older than
 * replicas).
 */
/** At most this many addresses are kept from a controller's answer. */
const MAX_ENDPOINTS = 32;

/**
 * The addresses a call tries, in order: the entry's endpoint, then its other endpoints in
 * their saved (cyclic) order. The saved list counts only while it includes the endpoint: an
 * entry pointed elsewhere (a restored controller at a new address, a probe of an address
 * given on the command line) does not fall back to the controllers it listed before.
 */
export function endpointOrder(entry: ControllerEntry): string[] {
  const saved = entry.endpoints ?? [];
  const at = saved.indexOf(entry.endpoint);
  if (at < 0) return [entry.endpoint];
  return [...new Set([...saved.slice(at), ...saved.slice(0, at)])];
}

/**
 * The endpoints a `GET /api/controller` answer makes, given the address it was asked at: the
 * alive replicas' URLs in the answer's order. The address asked stays in the list (in place
 * of the answering replica's own URL when the answer names it under `replica`, first
 * otherwise), so the entry's endpoint keeps counting. Undefined when the answer lists no
 * replicas (a controller older than replicas).
 */
export function endpointsFromAnswer(answer: unknown, askedAt: string): string[] | undefined {
  const a = answer as { controllers?: unknown; replica?: unknown } | null | undefined;
  if (!Array.isArray(a?.controllers)) return undefined;
  const alive = (a.controllers as unknown[]).filter((c): c is ControllerReplica => typeof c === 'object' && c !== null && (c as ControllerReplica).alive === true);
  const urls = alive.map((c) => (c.id === a.replica ? askedAt : httpsUrl(c.url))).filter((u) => u !== undefined).slice(0, MAX_ENDPOINTS);
  if (urls.length === 0) return undefined;
  return [...new Set(urls.includes(askedAt) ? urls : [askedAt, ...urls])];
}

