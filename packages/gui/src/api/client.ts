/** A failed API call, with the controller's message and hint (`{error: {code, message, hint}}`). */
export class ApiError extends Error {
  constructor(message: string, readonly code: string, readonly hint: string | undefined) {
    super(message);
  }
}

/** The controller's JSON API, called with the admin token the login link carried. */
export class Api {
  constructor(readonly token: string, readonly base = '') {}

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  del<T>(path: string): Promise<T> {
    return this.call<T>('DELETE', path);
  }

  async text(path: string): Promise<string> {
    const r = await fetch(this.base + path, { headers: { authorization: `Bearer ${this.token}` } });
    if (!r.ok) throw await failure(r);
    return r.text();
  }

  /** `/api/models/<model>/…` and `/api/gui/models/<model>/…`. */
  static m(model: string, path: string): string {
    return `/api/models/${encodeURIComponent(model)}${path}`;
  }

  static gm(model: string, path: string): string {
    return `/api/gui/models/${encodeURIComponent(model)}${path}`;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(this.base + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    if (!r.ok) throw await failure(r);
    return (await r.json()) as T;
  }
}

async function failure(r: Response): Promise<ApiError> {
  try {
    const e = ((await r.json()) as { error?: { code?: string; message?: string; hint?: string } }).error;
    return new ApiError(e?.message ?? `HTTP ${r.status}`, e?.code ?? 'internal', e?.hint);
  } catch {
    return new ApiError(`HTTP ${r.status} ${r.statusText}`, 'internal', undefined);
  }
}
