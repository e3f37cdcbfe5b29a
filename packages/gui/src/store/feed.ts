import type { GuiMessage } from '@sigil/api';
import { applyMessages, changedOperations, EMPTY, type ModelState } from './model-store.ts';

export interface SocketHandlers {
  open(): void;
  message(data: string): void;
  close(code: number, reason: string): void;
}

export interface FeedDeps {
  /** Opens a WebSocket (a browser's, or any other) that reports to `on`; returns how to close it. */
  open(url: string, protocols: string[], on: SocketHandlers): { close(): void };
  /** Runs `fn` before the next paint (requestAnimationFrame in a browser). */
  frame(fn: () => void): void;
  later(fn: () => void, ms: number): void;
  /**
   * Told after each failed connection how many failed in a row (since the stream was last
   * open), so the page can move to another controller process when this one is gone.
   */
  failing?(inARow: number): void;
}

export type FeedStatus = 'connecting' | 'live' | 'reconnecting' | 'failed';

/**
 * Follows a model's GUI delta stream. Messages are queued as they arrive and applied
 * together once per frame, so a burst of deltas costs one render, not one per message. A
 * dropped connection resumes from the last revision seen (`since`), so nothing is missed.
 */
export class ModelFeed {
  state: ModelState = EMPTY;
  status: FeedStatus = 'connecting';
  /** Why the connection last closed, when the server said. */
  reason = '';
  private queue: GuiMessage[] = [];
  private framed = false;
  private socket: { close(): void } | undefined;
  private stopped = false;
  private retries = 0;
  private readonly listeners = new Set<() => void>();
  private readonly opListeners = new Set<(key: string) => void>();
  /** Deltas applied (a snapshot counts as one), for the delta benchmark. */
  applied = 0;
  /** Moves whenever listeners are told of a change (React compares it to decide to re-render). */
  version = 0;

  constructor(private readonly url: string, private readonly deps: FeedDeps) {}

  start(): void {
    const since = this.state.rev >= 0 ? `&since=${this.state.rev}` : '';
    // The session cookie authenticates the handshake; the page has no token to offer.
    this.socket = this.deps.open(`${this.url}${since}`, ['sigil'], {
      open: () => {
        this.retries = 0;
        this.setStatus('live');
      },
      message: (data) => {
        this.queue.push(JSON.parse(data) as GuiMessage);
        if (!this.framed) {
          this.framed = true;
          this.deps.frame(() => this.flush());
        }
      },
      close: (code, reason) => {
        if (this.stopped) return;
        this.reason = reason;
        // 4004: the model is gone or unknown; retrying cannot help.
        if (code === 4004) return this.setStatus('failed');
        this.setStatus('reconnecting');
        const attempt = this.retries++;
        this.deps.failing?.(this.retries);
        this.deps.later(() => !this.stopped && this.start(), Math.min(5000, 250 * 2 ** attempt));
      },
    });
  }

  stop(): void {
    this.stopped = true;
    this.socket?.close();
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onOperation(fn: (key: string) => void): () => void {
    this.opListeners.add(fn);
    return () => this.opListeners.delete(fn);
  }

  flush(): void {
    this.framed = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const first = this.state.model === undefined;
    this.state = applyMessages(this.state, batch);
    if (first && this.state.model !== undefined) performance.mark('sigil:snapshot');
    this.applied += batch.reduce((n, m) => n + (m.type === 'deltas' ? m.deltas.length : 1), 0);
    for (const key of changedOperations(batch)) for (const l of this.opListeners) l(key);
    this.notify();
  }

  private notify(): void {
    this.version++;
    for (const l of this.listeners) l();
  }

  private setStatus(s: FeedStatus): void {
    this.status = s;
    this.notify();
  }
}
