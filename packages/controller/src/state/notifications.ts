import { SigilError } from '@sigil/core';
import type { Store } from '../store/store.ts';
import type { SecretCipher } from './secrets-crypto.ts';

/** What a notification can be about (`sigil notify add --events`). */
export const NOTIFY_EVENTS = ['deploy', 'refresh-started', 'refresh-finished', 'refresh-halted', 'refresh-rolled-back', 'unit-error', 'machine-lost', 'backup-done', 'backup-failed', 'drill-result'] as const;
export type NotifyKind = (typeof NOTIFY_EVENTS)[number];

/**
 * One thing that happened: what changed (`subject`: an application, unit, schedule), who
 * did it, the outcome, and a one-line detail (charm revision, snapshot, timing) where known.
 */
export interface NotifyEvent {
  kind: NotifyKind;
  subject: string;
  outcome: 'ok' | 'failed' | 'halted' | 'started' | string;
  detail: string;
  model?: string;
  by?: string;
}

export interface NotifyTarget {
  name: string;
  kind: 'webhook' | 'xmpp';
  /** The webhook URL, or the XMPP account's JID. */
  address: string;
  /** XMPP: the multi-user chat room's JID. */
  room: string;
  /** XMPP: host:port of the server when not found from the JID's domain (port 5222). */
  server: string;
  events: NotifyKind[];
  delivered: number;
  failed: number;
  pending: number;
  'last-event': string;
  'last-error': string;
  'last-at': string | null;
}

export interface QueuedDelivery {
  id: number;
  target: string;
  event: string;
  body: string;
  attempts: number;
}

/** A delivery is given up after this many attempts (about an hour and a half of backoff). */
export const MAX_ATTEMPTS = 12;

/** When attempt `n` (1-based) that failed is tried again: 1 s, 2 s, 4 s … at most 15 min. */
export function retryDelayMs(attempts: number): number {
  return Math.min(1000 * 2 ** Math.max(0, attempts - 1), 15 * 60_000);
}

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const JID = /^[^\s@/<>'"&]{1,64}@[a-z0-9.-]{1,253}(\/[^\s]{1,64})?$/i;

export interface NewTarget {
  name: string;
  kind: 'webhook' | 'xmpp';
  address: string;
  room: string;
  server: string;
  events: NotifyKind[];
}

/** Checks what `sigil notify add` sends, before anything is stored or dialled. */
export function checkTarget(t: { name: string; kind: string; address: string; room?: string; server?: string; events: string[] }): NewTarget {
  if (!NAME.test(t.name)) throw new SigilError('bad-request', `"${t.name.slice(0, 80)}" is not a valid notification name`, 'use lowercase letters, digits and dashes, starting with a letter');
  const events = t.events.length === 0 || t.events.includes('all') ? [...NOTIFY_EVENTS] : t.events;
  const unknown = events.filter((e) => !(NOTIFY_EVENTS as readonly string[]).includes(e));
  if (unknown.length) throw new SigilError('bad-request', `unknown event ${unknown.map((e) => `"${e.slice(0, 40)}"`).join(', ')}`, `events: ${NOTIFY_EVENTS.join(', ')} (or all)`);
  if (t.kind === 'webhook') {
    let url: URL;
    try {
      url = new URL(t.address);
    } catch {
      throw new SigilError('bad-request', `"${t.address.slice(0, 200)}" is not a URL`, 'give --webhook https://host/path');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new SigilError('bad-request', `webhook URL must be http or https, not ${url.protocol}`, 'give --webhook https://host/path');
    if (url.username || url.password) throw new SigilError('bad-request', 'the webhook URL carries credentials', 'put no user or password in the URL: give --secret-file for the signature instead');
    return { name: t.name, kind: 'webhook', address: url.toString(), room: '', server: '', events: events as NotifyKind[] };
  }
  if (t.kind === 'xmpp') {
    if (!JID.test(t.address)) throw new SigilError('bad-request', `"${t.address.slice(0, 200)}" is not a Jabber ID`, 'give --xmpp user@example.org');
    if (!t.room || !JID.test(t.room)) throw new SigilError('bad-request', `"${(t.room ?? '').slice(0, 200)}" is not a chat room's address`, 'give --room room@conference.example.org');
    const server = t.server ?? '';
    if (server !== '' && !/^[a-z0-9.-]{1,253}:\d{1,5}$/i.test(server)) throw new SigilError('bad-request', `"${server.slice(0, 200)}" is not host:port`, 'give --xmpp-server host:5222, or leave it out to use the JID\'s domain');
    return { name: t.name, kind: 'xmpp', address: t.address, room: t.room, server, events: events as NotifyKind[] };
  }
  throw new SigilError('bad-request', `notification kind "${t.kind}" is not known`, 'use --webhook URL or --xmpp JID --room ROOM');
}

/** The one line a chat room sees for an event. */
export function messageText(controller: string, e: NotifyEvent): string {
  const where = e.model ? ` in model ${e.model}` : '';
  const who = e.by ? ` by ${e.by}` : '';
  return `[sigil ${controller}] ${e.kind} ${e.subject}${where}${who}: ${e.outcome}${e.detail ? ` (${e.detail})` : ''}`;
}

/**
 * Notification targets and their delivery queue. `notify` only queues (one insert per
 * target that wants the event) and never throws: an operation is never held up or failed by
 * a notification. The delivery worker (workers/notify.ts) sends, retries with backoff, and
 * records the outcome here for `sigil notify list`.
 */
export class Notifications {
  constructor(
    private readonly s: Store,
    private readonly cipher: SecretCipher,
    private readonly controller: string,
    private readonly onQueued: () => void = () => {},
  ) {}

  add(t: NewTarget, secret: string | undefined): void {
    this.s.tx(() => {
      if (this.s.db.prepare('SELECT 1 FROM notify_targets WHERE name = ?').get(t.name)) {
        throw new SigilError('already-exists', `notification "${t.name}" already exists`, `remove it first: sigil notify remove ${t.name}`);
      }
      const sealed = secret === undefined ? null : this.cipher.seal(Buffer.from(secret), `notify:${t.name}`);
      this.s.db.prepare('INSERT INTO notify_targets (name, kind, address, room, server, events, secret, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(t.name, t.kind, t.address, t.room, t.server, JSON.stringify(t.events), sealed, Date.now());
    });
  }

  remove(name: string): void {
    this.s.tx(() => {
      if (this.s.db.prepare('DELETE FROM notify_targets WHERE name = ?').run(name).changes === 0) {
        throw new SigilError('not-found', `notification "${name.slice(0, 80)}" not found`, 'see `sigil notify list`');
      }
      this.s.db.prepare('DELETE FROM notify_queue WHERE target = ?').run(name);
    });
  }

  list(): NotifyTarget[] {
    const rows = this.s.db.prepare('SELECT t.*, (SELECT count(*) FROM notify_queue q WHERE q.target = t.name) AS pending FROM notify_targets t ORDER BY name').all() as Record<string, unknown>[];
    return rows.map((r) => ({
      name: r.name as string,
      kind: r.kind as 'webhook' | 'xmpp',
      address: r.address as string,
      room: r.room as string,
      server: r.server as string,
      events: JSON.parse(r.events as string) as NotifyKind[],
      delivered: r.delivered as number,
      failed: r.failed as number,
      pending: r.pending as number,
      'last-event': r.last_event as string,
      'last-error': r.last_error as string,
      'last-at': r.last_at === null ? null : new Date(r.last_at as number).toISOString(),
    }));
  }

  /** The target's webhook secret or XMPP password, opened for delivery only. */
  secret(name: string): string | undefined {
    const r = this.s.db.prepare('SELECT secret FROM notify_targets WHERE name = ?').get(name) as { secret: Buffer | null } | undefined;
    return r?.secret ? this.cipher.open(r.secret, `notify:${name}`).toString('utf8') : undefined;
  }

  /** Queues the event for every target that wants it. Never throws. */
  notify(e: NotifyEvent, now = Date.now()): number {
    try {
      const body = JSON.stringify({ event: e.kind, controller: this.controller, model: e.model ?? null, subject: e.subject, outcome: e.outcome, detail: e.detail, by: e.by ?? null, at: new Date(now).toISOString(), text: messageText(this.controller, e) });
      let n = 0;
      this.s.tx(() => {
        for (const t of this.list()) {
          if (!t.events.includes(e.kind)) continue;
          this.s.db.prepare('INSERT INTO notify_queue (target, event, body, next_try, created) VALUES (?, ?, ?, ?, ?)').run(t.name, e.kind, body, now, now);
          n++;
        }
      });
      if (n > 0) this.onQueued();
      return n;
    } catch {
      return 0;
    }
  }

  due(now = Date.now()): QueuedDelivery[] {
    return this.s.db.prepare('SELECT id, target, event, body, attempts FROM notify_queue WHERE next_try <= ? ORDER BY id LIMIT 50').all(now) as QueuedDelivery[];
  }

  /** Records one attempt: delivered (gone from the queue), or failed (retried later, or given up). */
  record(d: QueuedDelivery, error: string | undefined, now = Date.now()): void {
    this.s.tx(() => {
      if (error === undefined) {
        this.s.db.prepare('DELETE FROM notify_queue WHERE id = ?').run(d.id);
        this.s.db.prepare("UPDATE notify_targets SET delivered = delivered + 1, last_event = ?, last_error = '', last_at = ? WHERE name = ?").run(d.event, now, d.target);
        return;
      }
      const attempts = d.attempts + 1;
      if (attempts >= MAX_ATTEMPTS) {
        this.s.db.prepare('DELETE FROM notify_queue WHERE id = ?').run(d.id);
        this.s.db.prepare('UPDATE notify_targets SET failed = failed + 1, last_event = ?, last_error = ?, last_at = ? WHERE name = ?').run(d.event, `gave up after ${attempts} attempts: ${error}`, now, d.target);
      } else {
        this.s.db.prepare('UPDATE notify_queue SET attempts = ?, next_try = ? WHERE id = ?').run(attempts, now + retryDelayMs(attempts), d.id);
        this.s.db.prepare('UPDATE notify_targets SET last_event = ?, last_error = ?, last_at = ? WHERE name = ?').run(d.event, `attempt ${attempts} failed (retrying): ${error}`, now, d.target);
      }
    });
  }

  target(name: string): Pick<NewTarget, 'kind' | 'address' | 'room' | 'server'> | undefined {
    return this.s.db.prepare('SELECT kind, address, room, server FROM notify_targets WHERE name = ?').get(name) as Pick<NewTarget, 'kind' | 'address' | 'room' | 'server'> | undefined;
  }
}
