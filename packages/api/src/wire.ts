import type { ApiArgs, ApiRoute, ModelArgs } from './routes/index.ts';

/**
 * Calls of the API contract as they go on the wire: pure string work, with no schema in
 * sight, so a client (the CLI, whose start-up time counts) builds typed calls without
 * loading the contract's schemas.
 */

/** The method and path of a route key (`'GET /api/models/:model/status'`). */
export function splitKey(key: string): { method: string; path: string } {
  const space = key.indexOf(' ');
  return { method: key.slice(0, space), path: key.slice(space + 1) };
}

/** The names of a path's `:name` segments, in order. */
export function pathParams(path: string): string[] {
  return path.split('/').filter((s) => s.startsWith(':')).map((s) => s.slice(1));
}

/** A request as it goes on the wire: method, path with its parameters and query filled in, body. */
export interface WireRequest {
  method: string;
  path: string;
  body: unknown;
}

/**
 * The request for route `key` with `input`: each `:name` replaced by its value, encoded as
 * one path segment; query values that are undefined left out.
 */
export function wireRequest(key: string, input: { params?: Record<string, string> | undefined; query?: Record<string, unknown> | undefined; body?: unknown }): WireRequest {
  const { method, path } = splitKey(key);
  const filled = path.split('/').map((s) => {
    if (!s.startsWith(':')) return s;
    const v = input.params?.[s.slice(1)];
    if (v === undefined || v === '') throw new Error(`${key}: no value for :${s.slice(1)}`);
    return encodeURIComponent(v);
  }).join('/');
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(input.query ?? {})) if (v !== undefined) q.set(k, String(v));
  const qs = q.toString();
  return { method, path: qs === '' ? filled : `${filled}?${qs}`, body: input.body };
}

/** The wire request (method, path, body) for a call of route `key`: what every typed client sends. */
export function requestOf<K extends ApiRoute>(key: K, ...[input]: ApiArgs<K>): WireRequest {
  return wireRequest(key, (input ?? {}) as Parameters<typeof wireRequest>[1]);
}

/** `requestOf`, with `:model` (where the route has it and the input does not say) taken from `model`. */
export function requestIn<K extends ApiRoute>(model: string, key: K, ...[input]: ModelArgs<K>): WireRequest {
  const i = (input ?? {}) as { params?: Record<string, string> };
  return wireRequest(key, { ...i, params: { model, ...i.params } });
}

/**
 * POSTs and DELETEs that repeating cannot change the outcome of: a client whose connection
 * was lost after sending one may send it again, as it would any GET.
 */
const REPEATABLE: ReadonlySet<string> = new Set<ApiRoute>([
  // Sets the one backup store to what the body says.
  'POST /api/backup-store',
  // A second rotation leaves the agent with a fresh credential, as the first would have.
  'POST /api/models/:model/machines/:id/rotate-credential',
]);

/** Whether a lost answer to a call of `key` may be asked for again. */
export function safeToRepeat(key: ApiRoute): boolean {
  return key.startsWith('GET ') || REPEATABLE.has(key);
}
