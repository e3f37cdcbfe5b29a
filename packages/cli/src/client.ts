import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import WebSocket from 'ws';
import { SigilError, type ErrorCode } from '@sigil/core';
import { isCertificateFailure, untrustedController } from '@sigil/core/tls';
import { isAlive } from '@sigil/providers';
import type { WatchMessage } from '@sigil/api';
import { Home, type ControllerEntry } from './home.ts';

export interface ClientOptions {
  /**
   * How long a call keeps trying while the controller cannot be reached. A supervised
   * controller is back within a second or two of dying, so a CLI call made during a
   * restart rides it out instead of failing.
   */
  retryForMs?: number;
}

export interface RequestOptions {
  /** Repeating the call cannot change its outcome (true of every GET), so a lost answer may be asked for again. */
  safeToRetry?: boolean;
}

const RENEW_BEFORE_MS = 12 * 3600_000;

/** The CLI's view of one controller and model. */
export class Client {
  private readonly retryForMs: number;
  /** Set by `open`: the session token is refreshed (once per CLI run) when it is this close to expiring. */
  private renewal: { home: Home; expires: number } | undefined;

  constructor(readonly controller: string, readonly entry: ControllerEntry, private token: string, readonly model: string, opts: ClientOptions = {}) {
    this.retryForMs = opts.retryForMs ?? 10_000;
  }

  static open(home: Home, modelFlag?: string): Client {
    let controller: string | undefined;
    let model: string | undefined = modelFlag;
    if (modelFlag?.includes(':')) [controller, model] = modelFlag.split(':') as [string, string];
    const { name, entry, token, expires } = home.resolve(controller);
    const c = new Client(name, entry, token, model || entry['current-model']);
    // An entry written before tokens expired (no `expires`) is renewed on first use, which records its expiry.
    c.renewal = { home, expires: expires ?? Date.now() + 1000 };
    return c;
  }

  /**
   * A session token with less than half its 24 h left is exchanged for a fresh one before
   * the call (`POST /api/login/refresh`), and accounts.yaml updated under its lock; a failed
   * refresh leaves the call to succeed or fail with the token it has.
   */
  private async renewIfDue(): Promise<void> {
    const r = this.renewal;
    if (!r || r.expires - Date.now() > RENEW_BEFORE_MS || r.expires <= Date.now()) return;
    this.renewal = undefined;
    try {
      const res = await this.send('POST', '/api/login/refresh', Buffer.from('{}'));
      if (res.status !== 200) return;
      const fresh = JSON.parse(res.text) as { token: string; expires: string; user: string };
      this.token = fresh.token;
      r.home.updateAccounts((a) => {
        a.controllers[this.controller] = { user: fresh.user, token: fresh.token, expires: fresh.expires };
      });
    } catch {
      // The call itself reports what is wrong with the controller.
    }
  }

  m(path: string): string {
    return `/api/models/${encodeURIComponent(this.model)}${path}`;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown = {}, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>('POST', path, body, opts);
  }

  delete<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>('DELETE', path, undefined, opts);
  }

  /**
   * One API call. A refused connection never reached the controller, so any call is tried
   * again until `retryForMs` has passed; a connection lost after the request was sent is
   * tried again only for calls that are safe to repeat, since a POST may already have
   * been applied.
   */
  async request<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const safe = opts.safeToRetry ?? (method === 'GET' || method === 'HEAD');
    await this.renewIfDue();
    const deadline = Date.now() + this.retryForMs;
    for (let attempt = 0; ; attempt++) {
      let res: { status: number; text: string };
      try {
        res = await this.send(method, path, payload);
      } catch (e) {
        const failure = transportFailure(e);
        if ((failure === 'refused' || (failure === 'interrupted' && safe)) && Date.now() < deadline && !supervisorGone(this.entry)) {
          await pause(attempt, deadline);
          continue;
        }
        throw failure === 'interrupted' && !safe ? interrupted(this, method, path, e) : this.failure(e);
      }
      // A controller that is shutting down answers 503 (not a Sigil error) on open connections.
      if (res.status === 503 && safe && sigilError(res.text) === undefined && Date.now() < deadline) {
        await pause(attempt, deadline);
        continue;
      }
      return this.decode<T>(res.status, res.text);
    }
  }

  /**
   * The only certificate this client trusts for the controller: its CA, pinned at bootstrap.
   * Node then verifies the chain and the endpoint's address against the certificate's SANs.
   */
  private get ca(): string {
    const ca = this.entry['ca-cert'];
    if (!ca || !this.entry.endpoint.startsWith('https://')) {
      throw new SigilError('unavailable', `controller "${this.controller}" has no pinned CA certificate (it was bootstrapped before controllers served TLS)`, `destroy it with \`sigil destroy-controller ${this.controller} --yes\` and bootstrap it again`);
    }
    return ca;
  }

  /** The HTTP status of a GET of `path` (the GUI's page, which is not JSON), over the pinned connection. */
  async status(path: string): Promise<number> {
    try {
      return (await this.send('GET', path, undefined)).status;
    } catch (e) {
      throw this.failure(e);
    }
  }

  /** node:https rather than fetch: loading undici costs a CLI call ~40 ms of start-up. */
  private send(method: string, path: string, payload: Buffer | undefined): Promise<{ status: number; text: string }> {
    return this.sendRaw(method, path, payload).then((r) => ({ status: r.status, text: r.body.toString('utf8') }));
  }

  /**
   * A GET whose answer is bytes, not JSON (a controller backup). The bytes are returned, never
   * printed; an error answer is decoded as any other.
   */
  async download(path: string): Promise<Buffer> {
    await this.renewIfDue();
    let res: { status: number; body: Buffer };
    try {
      res = await this.sendRaw('GET', path, undefined);
    } catch (e) {
      throw this.failure(e);
    }
    if (res.status < 200 || res.status >= 300) return this.decode<never>(res.status, res.body.toString('utf8'));
    return res.body;
  }

  private sendRaw(method: string, path: string, payload: Buffer | undefined): Promise<{ status: number; body: Buffer }> {
    const ca = this.ca;
    return new Promise((resolve, reject) => {
      const req = httpsRequest(this.entry.endpoint + path, {
        method,
        ca,
        headers: { authorization: `Bearer ${this.token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** The error for a call that got no answer: an untrusted certificate, or a controller not running. */
  private failure(e: unknown): SigilError {
    if (e instanceof SigilError) return e;
    return isCertificateFailure(e) ? untrustedController(this.controller, this.entry.endpoint, this.ca, e) : notRunning(this.controller, this.entry, e);
  }

  private decode<T>(status: number, text: string): T {
    let data: unknown;
    try {
      data = text === '' ? undefined : (JSON.parse(text) as unknown);
    } catch {
      throw new SigilError('internal', `controller "${this.controller}" at ${this.entry.endpoint} answered HTTP ${status} with something other than JSON`, 'is that address a Sigil controller? see `sigil controllers`');
    }
    if (status < 200 || status >= 300) {
      const e = sigilError(text);
      throw new SigilError(e?.code ?? (status === 503 ? 'unavailable' : 'internal'), e?.message ?? `HTTP ${status}`, e?.hint);
    }
    return data as T;
  }

  /**
   * Calls `onMessage` with each change-feed message of this model until it returns true.
   * A feed cut by a controller restart is opened again (from the last revision seen), so
   * callers see at most a pause; it fails only when the controller stays away for longer
   * than `retryForMs`. Aborting `signal` ends it (resolved).
   */
  watch(onMessage: (m: WatchMessage) => boolean | Promise<boolean>, since = -1, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      let done = false;
      let rev = since;
      let attempt = 0;
      let downSince: number | undefined;
      let chain = Promise.resolve();
      let current: WebSocket | undefined;
      signal?.addEventListener('abort', () => {
        if (done) return;
        done = true;
        current?.close();
        resolve();
      }, { once: true });
      const connect = () => {
        if (done) return;
        const url = `${this.entry.endpoint.replace(/^http/, 'ws')}/api/watch?model=${encodeURIComponent(this.model)}&since=${rev}`;
        const ws = new WebSocket(url, { ca: this.ca, headers: { authorization: `Bearer ${this.token}` } });
        current = ws;
        let failure: unknown;
        refusedUpgrade(ws, (e) => {
          done = true;
          reject(e);
        });
        ws.on('open', () => {
          attempt = 0;
          downSince = undefined;
        });
        ws.on('message', (d) => {
          chain = chain.then(async () => {
            if (done) return;
            const m = JSON.parse(String(d)) as WatchMessage;
            rev = m.rev;
            if (await onMessage(m)) {
              done = true;
              ws.close();
              resolve();
            }
          }).catch((e: unknown) => {
            done = true;
            ws.close();
            reject(e);
          });
        });
        ws.on('error', (e) => (failure = e));
        // ws emits 'close' after every failure, including a refused connection.
        ws.on('close', () => {
          if (done) return;
          downSince ??= Date.now();
          // A refusal for another reason (bad credentials, an unknown model) is final.
          const final = failure !== undefined && transportFailure(failure) === undefined;
          if (final || Date.now() - downSince >= this.retryForMs || supervisorGone(this.entry)) {
            done = true;
            reject(failure === undefined ? notRunning(this.controller, this.entry, 'connection closed') : this.failure(failure));
            return;
          }
          setTimeout(connect, backoff(attempt++));
        });
      };
      connect();
    });
  }

  /** Streams messages until the controller closes the stream; a controller still starting up is waited for. */
  stream(path: string, onMessage: (m: unknown) => void): Promise<void> {
    const deadline = Date.now() + this.retryForMs;
    return new Promise((resolve, reject) => {
      const connect = (attempt: number) => {
        const ws = new WebSocket(this.entry.endpoint.replace(/^http/, 'ws') + path, { ca: this.ca, headers: { authorization: `Bearer ${this.token}` } });
        let opened = false;
        let failure: unknown;
        let settled = false;
        refusedUpgrade(ws, (e) => {
          settled = true;
          reject(e);
        });
        ws.on('open', () => (opened = true));
        ws.on('message', (d) => onMessage(JSON.parse(String(d))));
        ws.on('error', (e) => (failure = e));
        ws.on('close', () => {
          if (settled) return;
          // Only a stream that never opened is retried: reopening one would repeat its output.
          if (opened || failure === undefined) resolve();
          else if (transportFailure(failure) === 'refused' && Date.now() < deadline && !supervisorGone(this.entry)) setTimeout(() => connect(attempt + 1), backoff(attempt));
          else reject(this.failure(failure));
        });
      };
      connect(0);
    });
  }
}

/** Why a call got no answer: it never left this host, or it may have been sent and the answer lost. */
type Failure = 'refused' | 'interrupted';

function transportFailure(e: unknown): Failure | undefined {
  const code = (e as { code?: unknown } | undefined)?.code;
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED') return 'interrupted';
  return undefined;
}

/**
 * A local controller whose supervisor has exited will not come back by itself, so there is
 * no point waiting for it. (No pid file: not known to be gone.)
 */
function supervisorGone(entry: ControllerEntry): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(entry.dir, 'supervisor.pid'), 'utf8').trim());
  } catch {
    return false;
  }
  return pid > 0 && !isAlive(pid);
}

function backoff(attempt: number): number {
  return Math.min(50 * 2 ** attempt, 500);
}

function pause(attempt: number, deadline: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, Math.min(backoff(attempt), deadline - Date.now()))));
}

/**
 * A stream the controller refused (401/403, with its JSON error body) fails with that error,
 * as an HTTP call would, instead of looking like a controller that is not running.
 */
function refusedUpgrade(ws: WebSocket, fail: (e: SigilError) => void): void {
  ws.on('unexpected-response', (req, res) => {
    let text = '';
    res.on('data', (c: Buffer) => (text += c.toString('utf8')));
    res.on('end', () => {
      const e = sigilError(text);
      const status = res.statusCode ?? 0;
      fail(new SigilError(e?.code ?? (status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : 'internal'), e?.message ?? `the controller refused the stream (HTTP ${status})`, e?.hint));
      req.destroy();
    });
  });
}

function sigilError(text: string): { code: ErrorCode; message: string; hint?: string } | undefined {
  try {
    const e = (JSON.parse(text) as { error?: unknown } | null)?.error;
    return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' ? (e as { code: ErrorCode; message: string; hint?: string }) : undefined;
  } catch {
    return undefined;
  }
}

function causeCode(cause: unknown): string {
  const c = cause as { cause?: { code?: string }; code?: string; message?: string } | undefined;
  return c?.cause?.code ?? c?.code ?? c?.message ?? String(cause);
}

export function notRunning(name: string, entry: ControllerEntry, cause: unknown): SigilError {
  return new SigilError(
    'unavailable',
    `cannot connect to controller "${name}" at ${entry.endpoint} (${causeCode(cause)})`,
    `is it running? start it again with \`sigil start-controller ${name}\`; its log is ${entry.dir}/controller.log`,
  );
}

/** The connection dropped after a call that changes state was sent: it may or may not have been applied. */
function interrupted(c: Client, method: string, path: string, cause: unknown): SigilError {
  return new SigilError(
    'unavailable',
    `lost the connection to controller "${c.controller}" at ${c.entry.endpoint} during ${method} ${path.split('?')[0]} (${causeCode(cause)}); the change may or may not have been applied`,
    'check with `sigil status` before trying again; the controller may be restarting (see `sigil controllers`)',
  );
}
