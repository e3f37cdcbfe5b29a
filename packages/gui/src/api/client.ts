import { requestOf, type ApiAnswer, type ApiArgs, type ApiRoute, type WhoAmI, type WireRequest } from '@sigil/api';

/** A failed API call, with the controller's message and hint (`{error: {code, message, hint}}`). */
export class ApiError extends Error {
  constructor(message: string, readonly code: string, readonly hint: string | undefined, readonly status = 0) {
    super(message);
  }
}

/** Whether the user may change `model` (deploy, config, relate, scale, run actions); read users only look. */
export function canWrite(who: Pick<WhoAmI, 'superuser' | 'models'>, model: string): boolean {
  const role = who.models[model];
  return who.superuser || role === 'write' || role === 'admin';
}

/**
 * The controller's JSON API. The page holds no credential: the browser sends the session
 * cookie (HttpOnly, so no script here can read it) with every same-origin call and with
 * the WebSocket handshakes.
 */
export class Api {
  /** Called when the session has ended (expired, revoked, or the user was disabled). */
  onSessionEnded: () => void = () => {};

  constructor(readonly base = '') {}

  /** One call of an API route, typed by the contract (`packages/api/src/routes/`). */
  request<K extends ApiRoute>(key: K, ...args: ApiArgs<K>): Promise<ApiAnswer<K>> {
    const r = requestOf(key, ...args);
    return this.call<ApiAnswer<K>>(r.method, r.path, r.body);
  }

  /** The text of a route that answers text, not JSON (the model as bundle YAML). */
  async text<K extends ApiRoute>(key: K, ...args: ApiArgs<K>): Promise<string> {
    const r = await fetch(this.base + requestOf(key, ...args).path, { credentials: 'same-origin' });
    if (!r.ok) throw await this.failure(r);
    return r.text();
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(this.base + path, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    if (!r.ok) throw await this.failure(r);
    return (await r.json()) as T;
  }

  private async failure(r: Response): Promise<ApiError> {
    const e = await failure(r);
    if (r.status === 401) this.onSessionEnded();
    return e;
  }
}

async function failure(r: Response): Promise<ApiError> {
  try {
    const e = ((await r.json()) as { error?: { code?: string; message?: string; hint?: string } }).error;
    return new ApiError(e?.message ?? `HTTP ${r.status}`, e?.code ?? 'internal', e?.hint, r.status);
  } catch {
    return new ApiError(`HTTP ${r.status} ${r.statusText}`, 'internal', undefined, r.status);
  }
}

/** Logging in and out: each answer sets or clears the session cookie; nothing is kept by the page. */
export const session = {
  async withCode(code: string, base = ''): Promise<void> {
    await send(base, requestOf('POST /api/gui/session', { body: { code } }));
  },
  async withPassword(user: string, password: string, base = ''): Promise<void> {
    await send(base, requestOf('POST /api/gui/session', { body: { user, password } }));
  },
  /** Who is logged in; undefined without a session (none, or it ended). */
  async whoami(base = ''): Promise<WhoAmI | undefined> {
    const r = await fetch(base + requestOf('GET /api/whoami').path, { credentials: 'same-origin' });
    if (r.status === 401) return undefined;
    if (!r.ok) throw await failure(r);
    return (await r.json()) as WhoAmI;
  },
  async logout(base = ''): Promise<void> {
    await send(base, requestOf('DELETE /api/gui/session'));
  },
};

async function send(base: string, req: WireRequest): Promise<void> {
  const body = req.body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(req.body) };
  const r = await fetch(base + req.path, { method: req.method, credentials: 'same-origin', ...body });
  if (!r.ok) throw await failure(r);
}
