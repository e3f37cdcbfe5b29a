import { httpsUrl } from '@sigil/api';
import { readFile } from 'node:fs/promises';
import { writeAtomically } from './authorized-keys.ts';

/**
 * How a call failed when the connection itself failed: `unsent` when it failed before the
 * TLS handshake of a new connection finished (refused, unreachable, no answer to the
 * connect), so the controller saw nothing of the request; `lost` when the request may have
 * reached it (the connection reset, hung up or fell silent after that).
 */
export type ConnectionFailure = 'unsent' | 'lost';

/** Errors of the connection, not of the controller's answer: another controller may do better. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'ENOTFOUND', 'EAI_AGAIN']);

export function connectionFailure(e: unknown, handshakeDone: boolean): ConnectionFailure | undefined {
  const code = (e as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string' || !CONNECTION_CODES.has(code)) return undefined;
  return handshakeDone ? 'lost' : 'unsent';
}

/** An error carrying a connection-level code, for the timeouts the client enforces itself. */
export function timedOut(message: string): Error {
  return Object.assign(new Error(message), { code: 'ETIMEDOUT' });
}

/** At most this many addresses are taken from a controller's answer. */
const MAX_ADDRESSES = 32;

/**
 * The list a `GET /api/agent/controllers` answer makes, given the address the agent reached
 * the answering controller by. The answer lists the answering controller first, under its
 * own name for itself; the agent keeps the name it reached it by in that place (they may
 * differ, an IP address against a host name), so the controller in use stays in use.
 * Anything but https URLs is dropped; an answer with none leaves the list as it was.
 */
export function adoptAnswer(current: string, answer: unknown): string[] | undefined {
  const urls = (answer as { urls?: unknown } | undefined)?.urls;
  if (!Array.isArray(urls)) return undefined;
  const valid = urls.slice(0, MAX_ADDRESSES).map(httpsUrl).filter((u) => u !== undefined);
  if (valid.length === 0) return undefined;
  const list = valid.includes(current) ? valid : [current, ...valid.slice(1)];
  return [...new Set(list)];
}

/** The controller addresses in an agent's config. */
export interface AddressConfig {
  controllerUrl: string;
  controllerUrls?: string[];
  tlsServerName?: string;
}

/**
 * The addresses an agent starts with, `controllerUrl` first, then the others in their saved
 * (cyclic) order. The saved list counts only while it includes `controllerUrl`: an agent
 * re-pointed elsewhere (migrate-agents rewrites `controllerUrl`) does not go back to the
 * controllers it knew before. Behind a relay (`tlsServerName`) there is only the relay.
 */
export function startingAddresses(c: AddressConfig): string[] {
  const saved = (c.controllerUrls ?? []).map(httpsUrl).filter((u) => u !== undefined);
  const at = saved.indexOf(c.controllerUrl);
  if (c.tlsServerName !== undefined || at < 0) return [c.controllerUrl];
  return [...new Set([...saved.slice(at), ...saved.slice(0, at)])];
}

/**
 * Writes the known addresses into the agent's config file as `controllerUrls` (atomically,
 * mode 0600), so a restarted agent knows every controller. `controllerUrl` is left as it
 * is, and kept in the list, so the file stays valid for an agent that reads only it. A file
 * whose `controllerUrl` is no longer `primary` was re-pointed by someone else: it is not
 * touched. Returns whether the file changed.
 */
export async function saveAddresses(path: string, primary: string, urls: readonly string[]): Promise<boolean> {
  const raw = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  if (raw.controllerUrl !== primary) return false;
  const list = urls.includes(primary) ? [...urls] : [primary, ...urls];
  if (JSON.stringify(raw.controllerUrls) === JSON.stringify(list)) return false;
  await writeAtomically(path, JSON.stringify({ ...raw, controllerUrls: list }, null, 2) + '\n');
  return true;
}
