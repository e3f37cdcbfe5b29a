import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type WebSocket from 'ws';
import { SigilError, type ErrorCode } from '@sigil/core';
import { isCertificateFailure, untrustedController } from '@sigil/core/tls';
import { isAlive } from '@sigil/providers';
import { requestIn, safeToRepeat, type ApiAnswer, type ApiRoute, type ModelArgs, type WatchMessage } from '@sigil/api';
import { Home, type ControllerEntry } from './home.ts';
import { interrupted, noneAnswered, notRunning, timedOut, transportFailure } from './client-errors.ts';
import { endpointOrder, endpointsFromAnswer } from './endpoints.ts';

export { notRunning } from './client-errors.ts';

export interface ClientOptions {
  /**
   * How long a call keeps trying while the controller cannot be reached. A supervised
   * controller is back within a second or two of dying, so a CLI call made during a
   * restart rides it out instead of failing.
   */
  retryForMs?: number;
  /** Where the controller's entry is saved: the address that answered, and the controller's addresses, are written back there. */
  home?: Home;
}

export interface RequestOptions {
  /** Repeating the call cannot change its outcome (true of every GET), so a lost answer may be asked for again. */
  safeToRetry?: boolean;
}

const RENEW_BEFORE_MS = 12 * 3600_000;
/** How long a new connection may take to be accepted before the address counts as unreachable. */
const CONNECT_MS = 10_000;
/** The controller pings every change feed every 5 s: this long without a ping, it is gone. */
const WATCH_SILENCE_MS = 15_000;

interface Answer {
  status: number;
  body: Buffer;
  endpoint: string;
}

/** The CLI's view of one controller and model. */
export class Client {
  private readonly retryForMs: number;
  /** Set by `open`: the session token is refreshed (once per CLI run) when it is this close to expiring. */
  private renewal: { home: Home; expires: number } | undefined;
  private readonly home: Home | undefined;

  constructor(readonly controller: string, readonly entry: ControllerEntry, private token: string, readonly model: string, opts: ClientOptions = {}) {
    this.retryForMs = opts.retryForMs ?? 10_000;
    this.home = opts.home;
  }

  static open(home: Home, modelFlag?: string): Client {
    let controller: string | undefined;
    let model: string | undefined = modelFlag;
    if (modelFlag?.includes(':')) [controller, model] = modelFlag.split(':') as [string, string];
    const { name, entry, token, expires } = home.resolve(controller);
    const c = new Client(name, entry, token, model || entry['current-model'], { home });
    // An entry written before tokens expired (no `expires`) is renewed on first use, which records its expiry.
    c.renewal = { home, expires: expires ?? Date.now() + 1000 };
    return c;
  }

  /**
   * A session token with less than half its 24 h left is exchanged for a fresh one before
   * the call (`POST /api/login/refresh`), and accounts.yaml updated under its lock; a failed
   * refresh leaves the call to succeed or fail with the token it has. The controller's
   * addresses are asked for again at the same time, so an entry learns of controller
   * processes added or gone at least twice a day of use.
   */
  private async renewIfDue(): Promise<void> {
    const r = this.renewal;
    if (!r || r.expires - Date.now() > RENEW_BEFORE_MS || r.expires <= Date.now()) return;
    this.renewal = undefined;
    try {
      const res = await this.exchange('POST', '/api/login/refresh', Buffer.from('{}'), false, false);
      if (res.status !== 200) return;
      const fresh = JSON.parse(res.body.toString('utf8')) as { token: string; expires: string; user: string };
      this.token = fresh.token;
      r.home.updateAccounts((a) => {
        a.controllers[this.controller] = { user: fresh.user, token: fresh.token, expires: fresh.expires };
      });
      await this.refreshEndpoints();
    } catch {
      // The call itself reports what is wrong with the controller.
    }
  }

  /**
   * One call of an API route, typed by the contract (`packages/api/src/routes/`): `:model`
   * is this client's model unless the input names another. A GET, or a route the contract
   * lists as safe to repeat, is asked again when its answer was lost.
   */
  call<K extends ApiRoute>(key: K, ...args: ModelArgs<K>): Promise<ApiAnswer<K>> {
    const r = requestIn(this.model, key, ...args);
    return this.request<ApiAnswer<K>>(r.method, r.path, r.body, { safeToRetry: safeToRepeat(key) });
  }

  /**
   * One API call. A refused connection never reached the controller, so any call is tried
   * again until `retryForMs` has passed; a connection lost after the request was sent is
   * tried again only for calls that are safe to repeat, since a POST may already have
   * been applied. A controller with several addresses is tried at each in turn before the
   * call waits: the one that answers becomes the entry's endpoint.
   */
  async request<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const safe = opts.safeToRetry ?? (method === 'GET' || method === 'HEAD');
    await this.renewIfDue();
    const res = await this.exchange(method, path, payload, safe, true);
    const data = this.decode<T>(res.endpoint, res.status, res.body.toString('utf8'));
    if (method === 'GET' && path === '/api/controller') this.learnEndpoints(data, res.endpoint);
    return data;
  }

  /**
   * Sends a call to the controller's addresses in turn until one answers. An address that
   * does not answer (the connection refused, unreachable, or lost for a call safe to
   * repeat), or that answers 503 as a controller shutting down does, is left for the next;
   * once every address failed, the round is tried again until `retryForMs` has passed when
   * `wait` (and some address may be a controller restarting). A POST whose connection was
   * lost after it was sent fails at once.
   */
  private async exchange(method: string, path: string, payload: Buffer | undefined, safe: boolean, wait: boolean): Promise<Answer> {
    const deadline = Date.now() + this.retryForMs;
    for (let attempt = 0; ; attempt++) {
      const tried = new Map<string, unknown>();
      let restarting = false;
      let closing: Answer | undefined;
      for (const endpoint of endpointOrder(this.entry)) {
        let res: Answer;
        try {
          res = await this.sendRaw(endpoint, method, path, payload);
        } catch (e) {
          const failure = (e as { failure?: unknown }).failure;
          if (failure === undefined) throw this.failure(endpoint, e);
          if (failure === 'interrupted' && !safe) throw interrupted(this.controller, endpoint, method, path, e);
          tried.set(endpoint, e);
          if (failure !== 'unreachable') restarting = true;
          continue;
        }
        // A controller that is shutting down answers 503 (not a Sigil error) on open connections.
        if (res.status === 503 && safe && sigilError(res.body.toString('utf8')) === undefined) {
          tried.set(endpoint, 'HTTP 503');
          closing = res;
          restarting = true;
          continue;
        }
        this.answeredAt(endpoint);
        return res;
      }
      const single = endpointOrder(this.entry).length === 1;
      if (wait && restarting && Date.now() < deadline && !(single && supervisorGone(this.entry))) {
        await pause(attempt, deadline);
        continue;
      }
      if (closing) return closing;
      throw noneAnswered(this.controller, this.entry, tried);
    }
  }

  /** Makes `endpoint` the entry's endpoint (saved) once a call was answered there. */
  private answeredAt(endpoint: string): void {
    if (endpoint === this.entry.endpoint) return;
    this.entry.endpoint = endpoint;
    this.home?.updateControllers((f) => {
      const saved = f.controllers[this.controller];
      if (saved?.endpoints?.includes(endpoint) && saved['ca-cert'] === this.entry['ca-cert']) saved.endpoint = endpoint;
    });
  }

  /** Keeps the alive controller addresses a `GET /api/controller` answer lists as the entry's endpoints (saved). */
  private learnEndpoints(answer: unknown, askedAt: string): void {
    const endpoints = endpointsFromAnswer(answer, askedAt);
    if (endpoints === undefined || askedAt !== this.entry.endpoint || JSON.stringify(endpoints) === JSON.stringify(this.entry.endpoints)) return;
    this.entry.endpoints = endpoints;
    this.home?.updateControllers((f) => {
      const saved = f.controllers[this.controller];
      if (saved?.endpoint === askedAt && saved['ca-cert'] === this.entry['ca-cert']) saved.endpoints = endpoints;
    });
  }

  /**
   * Asks the controller for its addresses (`GET /api/controller`) and keeps them, so later
   * calls can move to another controller process when this one stops answering. A failure
   * changes nothing: the call that needs the controller reports it.
   */
  async refreshEndpoints(): Promise<void> {
    await this.call('GET /api/controller').catch(() => undefined);
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
    return (await this.exchange('GET', path, undefined, true, false)).status;
  }

  /**
   * A GET whose answer is bytes, not JSON (a controller backup). The bytes are returned, never
   * printed; an error answer is decoded as any other.
   */
  async download(path: string): Promise<Buffer> {
    await this.renewIfDue();
    const res = await this.exchange('GET', path, undefined, true, false);
    if (res.status < 200 || res.status >= 300) return this.decode<never>(res.endpoint, res.status, res.body.toString('utf8'));
    return res.body;
  }

  /**
   * One call to one address; a failure of the connection carries `failure` (see
   * `transportFailure`). node:https rather than fetch: loading undici costs a CLI call
   * ~40 ms of start-up.
   */
  private sendRaw(endpoint: string, method: string, path: string, payload: Buffer | undefined): Promise<Answer> {
    const ca = this.ca;
    return new Promise((resolve, reject) => {
      let connected = false;
      const req = httpsRequest(endpoint + path, {
        method,
        ca,
        headers: { authorization: `Bearer ${this.token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), endpoint }));
        res.on('error', (e) => reject(Object.assign(e, { failure: transportFailure(e) })));
      });
      req.on('socket', (s) => {
        if (req.reusedSocket || !s.connecting) {
          connected = true;
          return;
        }
        // A host that is gone answers no connect at all: the next address is tried, not after the kernel's two minutes.
        const connecting = setTimeout(() => req.destroy(timedOut(`no answer to the connection within ${CONNECT_MS / 1000} s`)), CONNECT_MS);
        s.once('connect', () => {
          connected = true;
          clearTimeout(connecting);
        });
        s.once('close', () => clearTimeout(connecting));
      });
      req.on('error', (e) => reject(Object.assign(e, { failure: transportFailure(e, connected) })));
      req.end(payload);
    });
  }

  /** The error for a call that got no answer: an untrusted certificate, or a controller not running. */
  private failure(endpoint: string, e: unknown): SigilError {
    if (e instanceof SigilError) return e;
    return isCertificateFailure(e) ? untrustedController(this.controller, endpoint, this.ca, e) : notRunning(this.controller, { ...this.entry, endpoint }, e);
  }

  private decode<T>(endpoint: string, status: number, text: string): T {
    let data: unknown;
    try {
      data = text === '' ? undefined : (JSON.parse(text) as unknown);
    } catch {
      throw new SigilError('internal', `controller "${this.controller}" at ${endpoint} answered HTTP ${status} with something other than JSON`, 'is that address a Sigil controller? see `sigil controllers`');
    }
    if (status < 200 || status >= 300) {
      const e = sigilError(text);
      throw new SigilError(e?.code ?? (status === 503 ? 'unavailable' : 'internal'), e?.message ?? `HTTP ${status}`, e?.hint);
    }
    return data as T;
  }

  /**
   * Calls `onMessage` with each change-feed message of this model until it returns true.
   * A feed cut by a controller restart, or by its controller's end, is opened again from
   * the last revision seen: at once at each other address of the controller, then with
   * backoff. Callers see at most a pause; it fails only when no address answers for longer
   * than `retryForMs`. Aborting `signal` ends it (resolved).
   */
  async watch(onMessage: (m: WatchMessage) => boolean | Promise<boolean>, since = -1, signal?: AbortSignal): Promise<void> {
    const Ws = await loadWebSocket();
    return new Promise((resolve, reject) => {
      let done = false;
      let rev = since;
      let attempt = 0;
      let failedInRow = 0;
      let downSince: number | undefined;
      let chain = Promise.resolve();
      let current: WebSocket | undefined;
      let endpoint = this.entry.endpoint;
      let lastOpen = endpoint;
      const tried = new Map<string, unknown>();
      signal?.addEventListener('abort', () => {
        if (done) return;
        done = true;
        current?.close();
        resolve();
      }, { once: true });
      const connect = () => {
        if (done) return;
        const at = endpoint;
        const url = `${at.replace(/^http/, 'ws')}/api/watch?model=${encodeURIComponent(this.model)}&since=${rev}`;
        const ws = new Ws(url, { ca: this.ca, headers: { authorization: `Bearer ${this.token}` } });
        current = ws;
        let failure: unknown;
        // The controller pings every feed: a host gone without a word is left after this silence.
        const silent = () => {
          failure ??= timedOut(`nothing from the controller for ${WATCH_SILENCE_MS / 1000} s`);
          ws.terminate();
        };
        let alive = setTimeout(silent, WATCH_SILENCE_MS);
        const heard = () => {
          clearTimeout(alive);
          alive = setTimeout(silent, WATCH_SILENCE_MS);
        };
        refusedUpgrade(ws, (e) => {
          done = true;
          clearTimeout(alive);
          reject(e);
        }, (e) => (failure ??= e));
        ws.on('open', () => {
          heard();
          attempt = 0;
          failedInRow = 0;
          downSince = undefined;
          tried.clear();
          this.answeredAt(at);
          // On another controller process than before: the list of them may have changed.
          if (at !== lastOpen) void this.refreshEndpoints();
          lastOpen = at;
        });
        ws.on('ping', heard);
        ws.on('message', (d) => {
          heard();
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
        ws.on('error', (e) => (failure ??= e));
        // ws emits 'close' after every failure, including a refused connection.
        ws.on('close', () => {
          clearTimeout(alive);
          if (done) return;
          downSince ??= Date.now();
          tried.set(at, failure ?? 'connection closed');
          const order = endpointOrder(this.entry);
          // A refusal for another reason (bad credentials, an unknown model) is final.
          const final = failure !== undefined && transportFailure(failure) === undefined;
          if (final || Date.now() - downSince >= this.retryForMs || (order.length === 1 && supervisorGone(this.entry))) {
            done = true;
            reject(final ? this.failure(at, failure) : noneAnswered(this.controller, this.entry, tried));
            return;
          }
          endpoint = order[(order.indexOf(at) + 1) % order.length] ?? at;
          // Every other address is tried at once, the first time round.
          if (++failedInRow < order.length) setImmediate(connect);
          else setTimeout(connect, backoff(attempt++));
        });
      };
      connect();
    });
  }

  /**
   * Streams messages until the controller closes the stream; a controller still starting up
   * is waited for, and one that refuses the connection is left for the controller's next
   * address. Only a stream that never opened is retried: reopening one would repeat its output.
   */
  async stream(path: string, onMessage: (m: unknown) => void): Promise<void> {
    const Ws = await loadWebSocket();
    const deadline = Date.now() + this.retryForMs;
    const tried = new Map<string, unknown>();
    return new Promise((resolve, reject) => {
      const connect = (attempt: number, endpoint: string, failedInRow: number) => {
        const ws = new Ws(endpoint.replace(/^http/, 'ws') + path, { ca: this.ca, headers: { authorization: `Bearer ${this.token}` } });
        let opened = false;
        let failure: unknown;
        let settled = false;
        refusedUpgrade(ws, (e) => {
          settled = true;
          reject(e);
        }, (e) => (failure ??= e));
        ws.on('open', () => {
          opened = true;
          this.answeredAt(endpoint);
        });
        ws.on('message', (d) => onMessage(JSON.parse(String(d))));
        ws.on('error', (e) => (failure ??= e));
        ws.on('close', () => {
          if (settled) return;
          if (opened || failure === undefined) return resolve();
          const kind = transportFailure(failure);
          if (kind !== 'refused' && kind !== 'unreachable') return reject(this.failure(endpoint, failure));
          tried.set(endpoint, failure);
          const order = endpointOrder(this.entry);
          const next = order[(order.indexOf(endpoint) + 1) % order.length] ?? endpoint;
          if (failedInRow + 1 < order.length) connect(attempt, next, failedInRow + 1);
          else if (kind === 'refused' && Date.now() < deadline && !(order.length === 1 && supervisorGone(this.entry))) setTimeout(() => connect(attempt + 1, next, failedInRow + 1), backoff(attempt));
          else reject(noneAnswered(this.controller, this.entry, tried));
        });
      };
      connect(0, this.entry.endpoint, 0);
    });
  }
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
 * as an HTTP call would, instead of looking like a controller that is not running. A 5xx
 * that is not a Sigil error (a controller shutting down) is a failure of that address:
 * `closing` gets it, and the stream closes as if the connection had been refused.
 */
/** ws is loaded by the commands that stream (debug-log, wait, watching deploys) when they do. */
async function loadWebSocket(): Promise<typeof WebSocket> {
  return (await import('ws')).default;
}

function refusedUpgrade(ws: WebSocket, fail: (e: SigilError) => void, closing: (e: Error) => void): void {
  ws.on('unexpected-response', (req, res) => {
    let text = '';
    res.on('data', (c: Buffer) => (text += c.toString('utf8')));
    res.on('end', () => {
      const e = sigilError(text);
      const status = res.statusCode ?? 0;
      if (status >= 500 && e === undefined) {
        closing(Object.assign(new Error(`the controller answered HTTP ${status}`), { code: `HTTP ${status}` }));
        ws.terminate();
        return;
      }
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
