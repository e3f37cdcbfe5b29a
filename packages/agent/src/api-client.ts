import WebSocket from 'ws';
import { SigilError, type ErrorCode } from '@sigil/core';
import type { WatchMessage } from '@sigil/api';

/** The agent's connection to the controller: JSON over HTTP, plus the change-feed WebSocket. */
export class AgentApi {
  constructor(private readonly url: string, private readonly token: string) {}

  async get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) } };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetch(this.url + path, init);
    const text = await res.text();
    const data = text === '' ? undefined : JSON.parse(text);
    if (!res.ok) {
      const e = (data as { error?: { code: ErrorCode; message: string; hint?: string } } | undefined)?.error;
      throw new SigilError(e?.code ?? 'internal', e?.message ?? `HTTP ${res.status}`, e?.hint);
    }
    return data as T;
  }

  /**
   * Follows the change feed until `signal` aborts, reconnecting with backoff (200 ms to
   * 5 s) whenever the controller goes away; `onConnect` runs after every (re)connection
   * so the caller can re-read its state.
   */
  async watch(onMessage: (m: WatchMessage) => void, onConnect: () => void, signal: AbortSignal): Promise<void> {
    let delay = 200;
    while (!signal.aborted) {
      await new Promise<void>((resolve) => {
        const ws = new WebSocket(this.url.replace(/^http/, 'ws') + '/api/watch', { headers: { authorization: `Bearer ${this.token}` } });
        const abort = () => ws.terminate();
        signal.addEventListener('abort', abort, { once: true });
        let alive = setTimeout(() => ws.terminate(), 15_000);
        ws.on('open', () => {
          delay = 200;
          onConnect();
        });
        ws.on('ping', () => {
          clearTimeout(alive);
          alive = setTimeout(() => ws.terminate(), 15_000);
        });
        ws.on('message', (data) => onMessage(JSON.parse(String(data)) as WatchMessage));
        ws.on('error', () => ws.terminate());
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
