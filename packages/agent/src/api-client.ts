import { Agent, request as httpsRequest } from 'node:https';
import { checkServerIdentity, createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls';
import WebSocket from 'ws';
import { SigilError, type ErrorCode } from '@sigil/core';
import { isCertificateFailure, untrustedController } from '@sigil/core/tls';
import { requestOf, wireRequest, type ApiAnswer, type ApiArgs, type ApiInput, type ApiRoute, type WatchMessage } from '@sigil/api';
import { adoptAnswer, connectionFailure, timedOut } from './controller-addresses.ts';

/** How long a call may go without a byte from the controller before it fails. */
const REQUEST_SILENCE_MS = 120_000;
/**
 * How long a new connection may take to be accepted (TCP) before the call fails as unsent: a
 * host that is gone answers nothing, and the kernel would wait two minutes. Generous, because
 * a controller with a full accept queue (a thousand agents reconnecting at once, bench/scale)
 * answers late but does answer.
 */
const CONNECT_MS = 30_000;
/** The controller pings the change feed every 5 s: this long without a ping, it is gone. */
const WATCH_SILENCE_MS = 15_000;

/** The routes whose path has no parameters. */
type PlainRoute = { [K in ApiRoute]: ApiInput<K> extends { params: object } ? never : K }[ApiRoute];

export interface AgentApiOptions {
  /**
   * The name the controller's certificate must carry when the one address is a relay that
   * does not (a container reaches the controller through its host's agent). The agent then
   * stays on that address: the controllers' own addresses are not reachable behind it.
   */
  serverName?: string;
  /** Told the controllers' addresses, the one in use first, after every connection (the machine agent saves them). */
  onAddresses?: (urls: readonly string[]) => void;
}

/**
 * The agent's connection to the controllers: JSON over HTTPS, plus the change-feed
 * WebSocket. Both trust only the controllers' CA, given to the machine at provisioning.
 * The agent knows every controller's address (each one asks, after the feed connects) and
 * uses one at a time, the feed's: when it stops answering the feed moves to the next.
 */
export class AgentApi {
  private socket: WebSocket | undefined;
  /** Set by `reconnect`: the feed's next close is the agent's own doing, not the controller's failure. */
  private rejoining = false;
  private urls: string[];
  private current = 0;
  /** When the change feed last showed the controller alive (opened, pinged, sent): the leadership lease's clock. */
  lastHeard = 0;
  /**
   * The machine's own connections to each controller, kept open between calls for up to a
   * minute (under the controller's 72 s keep-alive, so the controller never closes one as a
   * call goes out on it). Node's global agent drops an idle connection after 5 s: agents
   * calling every few seconds then paid a TLS handshake per call, and a busy controller
   * accepting new connections slowly kept them queued (bench/scale).
   */
  private readonly pools = new Map<string, Agent>();

  constructor(urls: string | readonly string[], private readonly ca: string, private token: string, private readonly options: AgentApiOptions = {}) {
    const list = typeof urls === 'string' ? [urls] : [...new Set(urls)];
    if (list.length === 0) throw new Error('AgentApi needs a controller address');
    this.urls = options.serverName === undefined ? list : list.slice(0, 1);
  }

  /** The controller in use. */
  get url(): string {
    return this.urls[this.current]!;
  }

  /** Every known controller address, the one in use first. */
  addresses(): string[] {
    return [...this.urls.slice(this.current), ...this.urls.slice(0, this.current)];
  }

  private next(url: string): string | undefined {
    const i = this.urls.indexOf(url);
    const n = this.urls[(i + 1) % this.urls.length];
    return n === url ? undefined : n;
  }

  private pool(url: string): Agent {
    let p = this.pools.get(url);
    if (!p) {
      p = new Agent({ keepAlive: true, timeout: 60_000, maxSockets: 8 });
      this.pools.set(url, p);
    }
    return p;
  }

  /**
   * The controller's CA, parsed once: without it every new connection builds a TLS context
   * from the PEM text again (about 1 ms; `bench/scale` spent a fifth of its time there when
   * 1,000 agents reconnected after a quiet minute). `ca` stays beside it: the connection
   * pool keys its sockets and TLS sessions by it.
   */
  private context: SecureContext | undefined;

  private tlsOptions(): { ca: string; secureContext: SecureContext; checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined } {
    const name = this.options.serverName;
    const secureContext = (this.context ??= createSecureContext({ ca: this.ca }));
    return name === undefined ? { ca: this.ca, secureContext } : { ca: this.ca, secureContext, checkServerIdentity: (_host, cert) => checkServerIdentity(name, cert) };
  }

  /** Uses a new credential for every request from now on (after a rotation). */
  setToken(token: string): void {
    this.token = token;
  }

  /** Drops the change-feed connection; `watch` opens a new one, to the same controller, with the current credential. */
  reconnect(): void {
    if (this.socket === undefined) return;
    this.rejoining = true;
    this.socket.terminate();
  }

  /** One call of an API route, typed by the contract (`packages/api/src/routes/`). */
  async call<K extends ApiRoute>(key: K, ...args: ApiArgs<K>): Promise<ApiAnswer<K>> {
    const r = requestOf(key, ...args);
    return this.request<ApiAnswer<K>>(r.method, r.path, r.body);
  }

  async get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  /**
   * `call` of a route without path parameters, with its JSON body already written, in pieces
   * (a large report need not be one string or Buffer): the pieces make the route's body.
   */
  async postJson<K extends PlainRoute>(key: K, pieces: Buffer[]): Promise<ApiAnswer<K>> {
    const r = wireRequest(key, {});
    return this.request<ApiAnswer<K>>(r.method, r.path, undefined, pieces);
  }

  /**
   * One call to the controller in use. When its connection fails, a GET is asked once of
   * the next controller; a POST only when nothing of it was sent (the connection was
   * refused or never set up), since a POST that may have arrived may have been applied.
   */
  private async request<T>(method: string, path: string, body?: unknown, pieces?: Buffer[]): Promise<T> {
    const payload = pieces ?? (body === undefined ? undefined : [Buffer.from(JSON.stringify(body))]);
    const first = this.url;
    let res: { status: number; text: string };
    try {
      res = await this.sendTo(first, method, path, payload);
    } catch (e) {
      const failure = (e as { failure?: unknown }).failure;
      const other = this.next(first);
      if (other === undefined || !(failure === 'unsent' || (failure === 'lost' && method === 'GET'))) throw e;
      res = await this.sendTo(other, method, path, payload);
    }
    const data = res.text === '' ? undefined : JSON.parse(res.text);
    if (res.status < 200 || res.status >= 300) {
      const e = (data as { error?: { code: ErrorCode; message: string; hint?: string } } | undefined)?.error;
      throw new SigilError(e?.code ?? 'internal', e?.message ?? `HTTP ${res.status}`, e?.hint);
    }
    return data as T;
  }

  /** `send`, with a certificate failure made the error that names the controller, and a connection failure marked with its kind. */
  private async sendTo(url: string, method: string, path: string, payload: Buffer[] | undefined): Promise<{ status: number; text: string }> {
    return this.send(url, method, path, payload).catch((e: unknown) => {
      throw isCertificateFailure(e) ? this.untrusted(url, e) : e;
    });
  }

  private send(url: string, method: string, path: string, payload: Buffer[] | undefined): Promise<{ status: number; text: string }> {
    const length = payload?.reduce((n, b) => n + b.length, 0);
    return new Promise((resolve, reject) => {
      // Whether the request may have reached the controller: a kept connection, or a new one past its handshake.
      let handshakeDone = false;
      const req = httpsRequest(url + path, {
        method,
        agent: this.pool(url),
        ...this.tlsOptions(),
        headers: { authorization: `Bearer ${this.token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': length } : {}) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => reject(Object.assign(e, { failure: connectionFailure(e, true) })));
      });
      req.on('socket', (s) => {
        if (req.reusedSocket) {
          handshakeDone = true;
          return;
        }
        s.once('secureConnect', () => (handshakeDone = true));
        // A host that is gone answers no connect at all: the call fails at once, not after the kernel's two minutes.
        const connecting = setTimeout(() => req.destroy(timedOut(`cannot connect to the controller at ${url} within ${CONNECT_MS / 1000} s`)), CONNECT_MS);
        s.once('connect', () => clearTimeout(connecting));
        s.once('close', () => clearTimeout(connecting));
      });
      req.on('error', (e) => reject(Object.assign(e, { failure: connectionFailure(e, handshakeDone) })));
      // A kept connection whose controller vanished (a lost host, a partition) answers
      // nothing: the call fails after two minutes of silence rather than hanging on it.
      req.setTimeout(REQUEST_SILENCE_MS, () => req.destroy(timedOut(`the controller at ${url} sent nothing for ${REQUEST_SILENCE_MS / 1000} s`)));
      for (const piece of payload ?? []) req.write(piece);
      req.end();
    });
  }

  private untrusted(url: string, cause: unknown): SigilError {
    return untrustedController('controller', url, this.ca, cause);
  }

  /**
   * The controller said its replica set changed: asks again, after a random wait of up to a
   * second so that thousands of agents do not all ask at once.
   */
  relearnAddresses(): void {
    const url = this.url;
    setTimeout(() => void this.learnAddresses(url), Math.random() * 1000).unref();
  }

  /**
   * Asks the controller at `url` for every controller's address and keeps the answer.
   * A controller that does not know the call (older than replicas) leaves the list as it is.
   */
  private async learnAddresses(url: string): Promise<void> {
    if (this.options.serverName !== undefined) return;
    let answer: unknown;
    try {
      const res = await this.sendTo(url, 'GET', '/api/agent/controllers', undefined);
      if (res.status !== 200) return;
      answer = JSON.parse(res.text);
    } catch {
      return;
    }
    const list = adoptAnswer(url, answer);
    if (list === undefined || this.url !== url) return;
    this.urls = list;
    this.current = list.indexOf(url);
    for (const [u, p] of this.pools) {
      if (list.includes(u)) continue;
      p.destroy();
      this.pools.delete(u);
    }
    this.options.onAddresses?.(this.addresses());
  }

  /**
   * Follows the change feed until `signal` aborts. When the controller goes away (the
   * connection fails, closes, or carries no ping for 15 s) the feed moves to the next
   * controller at once; once every controller failed in a row it waits between attempts
   * (200 ms, doubling to 5 s). A controller that refuses the credential is not left for
   * another (all share one store) but retried with the same backoff. `onConnect` runs after
   * every (re)connection so the caller can re-read its state. A failed attempt is reported
   * through `onFailure` (a controller whose certificate does not verify as `untrusted`: it
   * is never sent anything); `onMove` tells why the feed leaves a controller for another
   * (for each controller tried after a loss, not for every later round).
   */
  async watch(onMessage: (m: WatchMessage) => void, onConnect: () => void, signal: AbortSignal, onFailure: (e: Error, untrusted: boolean) => void = () => {},
    onMove: (from: string, to: string, why: string) => void = () => {}): Promise<void> {
    const h = { onMessage, onConnect, onFailure, onMove };
    let delay = 200;
    let failedInRow = 0;
    while (!signal.aborted) {
      const url = this.url;
      const { opened, why, leave } = await this.follow(url, h, signal);
      if (signal.aborted) break;
      if (opened) {
        delay = 200;
        failedInRow = 0;
      }
      const to = leave ? this.next(url) : undefined;
      if (to !== undefined) {
        failedInRow++;
        this.current = this.urls.indexOf(to);
        // Every other controller is tried at once, the first time round.
        if (failedInRow < this.urls.length) {
          onMove(url, to, why);
          continue;
        }
        if (failedInRow === this.urls.length) onMove(url, to, why);
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }

  /** One connection of the feed, until it ends: whether it opened, why it ended, and whether that is a reason to try another controller. */
  private follow(url: string, h: { onMessage(m: WatchMessage): void; onConnect(): void; onFailure(e: Error, untrusted: boolean): void }, signal: AbortSignal): Promise<{ opened: boolean; why: string; leave: boolean }> {
    return new Promise((resolve) => {
      const ws = new WebSocket(url.replace(/^http/, 'ws') + '/api/watch', { ...this.tlsOptions(), headers: { authorization: `Bearer ${this.token}` } });
      this.socket = ws;
      this.rejoining = false;
      let opened = false;
      let why = 'the connection closed';
      let leave = true;
      const abort = () => ws.terminate();
      signal.addEventListener('abort', abort, { once: true });
      const silent = () => {
        why = `no ping for ${WATCH_SILENCE_MS / 1000} s`;
        ws.terminate();
      };
      let alive = setTimeout(silent, WATCH_SILENCE_MS);
      ws.on('open', () => {
        opened = true;
        this.lastHeard = Date.now();
        h.onConnect();
        void this.learnAddresses(url);
      });
      ws.on('ping', () => {
        this.lastHeard = Date.now();
        clearTimeout(alive);
        alive = setTimeout(silent, WATCH_SILENCE_MS);
      });
      ws.on('message', (data) => {
        this.lastHeard = Date.now();
        h.onMessage(JSON.parse(String(data)) as WatchMessage);
      });
      ws.on('error', (e) => {
        const status = /Unexpected server response: (\d+)/.exec(e.message)?.[1];
        // A refused credential or request is refused by every controller alike.
        if (status !== undefined && Number(status) < 500) leave = false;
        why = (e as { code?: string }).code ?? e.message;
        if (isCertificateFailure(e)) h.onFailure(this.untrusted(url, e), true);
        else h.onFailure(e, false);
        ws.terminate();
      });
      ws.on('close', () => {
        clearTimeout(alive);
        signal.removeEventListener('abort', abort);
        if (this.socket === ws) this.socket = undefined;
        resolve({ opened, why, leave: leave && !this.rejoining });
      });
    });
  }
}
