import { Agent, request as httpsRequest } from 'node:https';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import WebSocket from 'ws';
import { SigilError, type ErrorCode } from '@sigil/core';
import { isCertificateFailure, untrustedController } from '@sigil/core/tls';
import type { WatchMessage } from '@sigil/api';

/** How long a call may go without a byte from the controller before it fails. */
const REQUEST_SILENCE_MS = 120_000;

/**
 * The agent's connection to the controller: JSON over HTTPS, plus the change-feed
 * WebSocket. Both trust only the controller's CA, given to the machine at provisioning.
 */
export class AgentApi {
  private socket: WebSocket | undefined;
  /** When the change feed last showed the controller alive (opened, pinged, sent): the leadership lease's clock. */
  lastHeard = 0;
  /**
   * The machine's own connections to the controller, kept open between calls for up to a
   * minute (under the controller's 72 s keep-alive, so the controller never closes one as a
   * call goes out on it). Node's global agent drops an idle connection after 5 s: agents
   * calling every few seconds then paid a TLS handshake per call, and a busy controller
   * accepting new connections slowly kept them queued (bench/scale).
   */
  private readonly pool = new Agent({ keepAlive: true, timeout: 60_000, maxSockets: 8 });

  /**
   * `serverName`: the name the controller's certificate must carry when `url` is a relay
   * that does not (a container reaches the controller through its host's agent).
   */
  constructor(private readonly url: string, private readonly ca: string, private token: string, private readonly serverName?: string) {}

  private tlsOptions(): { ca: string; checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined } {
    const name = this.serverName;
    return name === undefined ? { ca: this.ca } : { ca: this.ca, checkServerIdentity: (_host, cert) => checkServerIdentity(name, cert) };
  }

  /** Uses a new credential for every request from now on (after a rotation). */
  setToken(token: string): void {
    this.token = token;
  }

  /** Drops the change-feed connection; `watch` opens a new one with the current credential. */
  reconnect(): void {
    this.socket?.terminate();
  }

  async get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  /** POSTs a JSON body already written, in pieces (a large report need not be one string or Buffer). */
  async postJson<T>(path: string, pieces: Buffer[]): Promise<T> {
    return this.request<T>('POST', path, undefined, pieces);
  }

  private async request<T>(method: string, path: string, body?: unknown, pieces?: Buffer[]): Promise<T> {
    const payload = pieces ?? (body === undefined ? undefined : [Buffer.from(JSON.stringify(body))]);
    const res = await this.send(method, path, payload).catch((e: unknown) => {
      throw isCertificateFailure(e) ? this.untrusted(e) : e;
    });
    const data = res.text === '' ? undefined : JSON.parse(res.text);
    if (res.status < 200 || res.status >= 300) {
      const e = (data as { error?: { code: ErrorCode; message: string; hint?: string } } | undefined)?.error;
      throw new SigilError(e?.code ?? 'internal', e?.message ?? `HTTP ${res.status}`, e?.hint);
    }
    return data as T;
  }

  private send(method: string, path: string, payload: Buffer[] | undefined): Promise<{ status: number; text: string }> {
    const length = payload?.reduce((n, b) => n + b.length, 0);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(this.url + path, {
        method,
        agent: this.pool,
        ...this.tlsOptions(),
        headers: { authorization: `Bearer ${this.token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': length } : {}) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      // A kept connection whose controller vanished (a lost host, a partition) answers
      // nothing: the call fails after two minutes of silence rather than hanging on it.
      req.setTimeout(REQUEST_SILENCE_MS, () => req.destroy(new Error(`the controller at ${this.url} sent nothing for ${REQUEST_SILENCE_MS / 1000} s`)));
      for (const piece of payload ?? []) req.write(piece);
      req.end();
    });
  }

  private untrusted(cause: unknown): SigilError {
    return untrustedController('controller', this.url, this.ca, cause);
  }

  /**
   * Follows the change feed until `signal` aborts, reconnecting with backoff (200 ms to
   * 5 s) whenever the controller goes away; `onConnect` runs after every (re)connection
   * so the caller can re-read its state. A failed attempt is reported through `onFailure`
   * (a controller whose certificate does not verify as `untrusted`) and retried like an
   * absent controller: the agent never talks to an untrusted one, and recovers by itself if
   * the right controller comes back at that address.
   */
  async watch(onMessage: (m: WatchMessage) => void, onConnect: () => void, signal: AbortSignal, onFailure: (e: Error, untrusted: boolean) => void = () => {}): Promise<void> {
    let delay = 200;
    while (!signal.aborted) {
      await new Promise<void>((resolve) => {
        const ws = new WebSocket(this.url.replace(/^http/, 'ws') + '/api/watch', { ...this.tlsOptions(), headers: { authorization: `Bearer ${this.token}` } });
        this.socket = ws;
        const abort = () => ws.terminate();
        signal.addEventListener('abort', abort, { once: true });
        let alive = setTimeout(() => ws.terminate(), 15_000);
        ws.on('open', () => {
          this.lastHeard = Date.now();
          delay = 200;
          onConnect();
        });
        ws.on('ping', () => {
          this.lastHeard = Date.now();
          clearTimeout(alive);
          alive = setTimeout(() => ws.terminate(), 15_000);
        });
        ws.on('message', (data) => {
          this.lastHeard = Date.now();
          onMessage(JSON.parse(String(data)) as WatchMessage);
        });
        ws.on('error', (e) => {
          if (isCertificateFailure(e)) onFailure(this.untrusted(e), true);
          else onFailure(e, false);
          ws.terminate();
        });
        ws.on('close', () => {
          clearTimeout(alive);
          signal.removeEventListener('abort', abort);
          resolve();
        });
      });
      if (signal.aborted) break;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
}
