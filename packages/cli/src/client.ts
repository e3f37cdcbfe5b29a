import { request as httpRequest } from 'node:http';
import WebSocket from 'ws';
import { SigilError, type ErrorCode } from '@sigil/core';
import type { WatchMessage } from '@sigil/api';
import { Home, type ControllerEntry } from './home.ts';

/** The CLI's view of one controller and model. */
export class Client {
  constructor(readonly controller: string, readonly entry: ControllerEntry, private readonly token: string, readonly model: string) {}

  static open(home: Home, modelFlag?: string): Client {
    let controller: string | undefined;
    let model: string | undefined = modelFlag;
    if (modelFlag?.includes(':')) [controller, model] = modelFlag.split(':') as [string, string];
    const { name, entry, token } = home.resolve(controller);
    return new Client(name, entry, token, model || entry['current-model']);
  }

  m(path: string): string {
    return `/api/models/${encodeURIComponent(this.model)}${path}`;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  /** node:http rather than fetch: loading undici costs a CLI call ~40 ms of start-up. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(this.entry.endpoint + path, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', (e) => reject(notRunning(this.controller, this.entry, e)));
      req.end(payload);
    });
    const data = text === '' ? undefined : (JSON.parse(text) as unknown);
    if (status < 200 || status >= 300) {
      const e = (data as { error?: { code: ErrorCode; message: string; hint?: string } } | undefined)?.error;
      throw new SigilError(e?.code ?? 'internal', e?.message ?? `HTTP ${status}`, e?.hint);
    }
    return data as T;
  }

  /** Calls `onChange` with each change-feed message of this model until it returns true. */
  watch(onMessage: (m: WatchMessage) => boolean | Promise<boolean>, since = -1): Promise<void> {
    return new Promise((resolve, reject) => {
      const url = `${this.entry.endpoint.replace(/^http/, 'ws')}/api/watch?model=${encodeURIComponent(this.model)}&since=${since}`;
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${this.token}` } });
      let chain = Promise.resolve();
      ws.on('message', (d) => {
        chain = chain.then(async () => {
          if (await onMessage(JSON.parse(String(d)) as WatchMessage)) {
            ws.close();
            resolve();
          }
        }).catch((e: unknown) => {
          ws.close();
          reject(e);
        });
      });
      ws.on('error', (e) => reject(notRunning(this.controller, this.entry, e)));
      ws.on('close', () => resolve());
    });
  }

  stream(path: string, onMessage: (m: unknown) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.entry.endpoint.replace(/^http/, 'ws') + path, { headers: { authorization: `Bearer ${this.token}` } });
      ws.on('message', (d) => onMessage(JSON.parse(String(d))));
      ws.on('error', (e) => reject(notRunning(this.controller, this.entry, e)));
      ws.on('close', () => resolve());
    });
  }
}

export function notRunning(name: string, entry: ControllerEntry, cause: unknown): SigilError {
  const why = (cause as { cause?: { code?: string } }).cause?.code ?? (cause as { code?: string }).code ?? String(cause);
  return new SigilError(
    'unavailable',
    `cannot connect to controller "${name}" at ${entry.endpoint} (${why})`,
    `is it running? start it again with \`sigil start-controller ${name}\`; its log is ${entry.dir}/controller.log`,
  );
}
