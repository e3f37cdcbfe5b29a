import { createHmac, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Logger } from '../logger.ts';
import type { NewTarget, Notifications, QueuedDelivery } from '../state/notifications.ts';

/** The header carrying the HMAC-SHA256 of the raw body under the target's secret (GitHub's form). */
export const SIGNATURE_HEADER = 'x-sigil-signature-256';

/** POSTs the JSON body; resolves on a 2xx answer, rejects with the reason otherwise. */
export function postWebhook(url: string, body: string, event: string, secret: string | undefined, timeoutMs = 10_000): Promise<void> {
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'sigil-notify', 'x-sigil-event': event, 'x-sigil-delivery': randomUUID() };
  if (secret !== undefined) headers[SIGNATURE_HEADER] = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'POST', headers, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000}s`)));
    req.on('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code ? `${e.code} ${e.message}` : e.message)));
    req.end(body);
  });
}

/**
 * Sends one groupchat message: connects as the account, joins the room (MUC presence), sends,
 * leaves. One connection per delivery keeps no session to go stale between rare events.
 * `service` defaults to xmpp://<domain>:5222; starttls is used when the server offers it.
 */
export async function sendXmpp(jid: string, password: string, room: string, text: string, service?: string, timeoutMs = 15_000): Promise<void> {
  const { client, xml } = await import('@xmpp/client');
  const [local, rest] = jid.split('@') as [string, string];
  const domain = rest.split('/')[0]!;
  const xmpp = client({ service: service ?? `xmpp://${domain}:5222`, domain, username: local, password, resource: `sigil-${randomUUID().slice(0, 8)}` });
  let failure: unknown;
  xmpp.on('error', (e) => {
    failure = e;
  });
  const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`XMPP server did not answer within ${timeoutMs / 1000}s`)), timeoutMs).unref());
  try {
    await Promise.race([
      (async () => {
        await xmpp.start();
        const nick = `sigil-${local}`;
        // The room answers the join with our own presence (status 110) before messages are accepted.
        const joined = new Promise<void>((resolve, reject) => {
          xmpp.on('stanza', (s) => {
            const st = s as { is(n: string): boolean; attrs: Record<string, string>; getChild(n: string): { attrs: Record<string, string>; toString(): string } | undefined };
            if (!st.is('presence') || !st.attrs.from?.startsWith(`${room}/`)) return;
            if (st.attrs.type === 'error') reject(new Error(`room ${room} refused the join: ${st.getChild('error')?.toString() ?? 'error'}`));
            else if (st.attrs.from === `${room}/${nick}`) resolve();
          });
        });
        await xmpp.send(xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' }, xml('history', { maxstanzas: '0' }))));
        await joined;
        await xmpp.send(xml('message', { type: 'groupchat', to: room }, xml('body', {}, text)));
        await xmpp.send(xml('presence', { to: `${room}/${nick}`, type: 'unavailable' }));
      })(),
      timer,
    ]);
  } catch (e) {
    throw new Error(oneLine(failure ?? e));
  } finally {
    // A server slow to close the stream holds up nothing: the message went before the close.
    await Promise.race([xmpp.stop().catch(() => {}), new Promise((r) => setTimeout(r, 1000).unref())]);
  }
}

function oneLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0]!.slice(0, 300) || 'failed';
}

/**
 * The delivery loop: sends what is due, one target at a time in queue order, records each
 * outcome; wakes when something is queued and every second for retries. It runs apart from
 * every operation, so a slow or dead target delays only its own messages.
 */
export class NotifyWorker {
  private wakeUp: (() => void) | undefined;

  constructor(
    private readonly n: Notifications,
    private readonly log: Logger,
  ) {}

  wake(): void {
    this.wakeUp?.();
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.deliverDue();
      } catch (e) {
        this.log.warn('notification delivery failed', { error: oneLine(e) });
      }
      // Each wait takes its abort listener off again (the loop runs for the controller's life).
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const t = setTimeout(done, 1000);
        this.wakeUp = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  async deliverDue(now = Date.now()): Promise<void> {
    for (const d of this.n.due(now)) {
      const error = await this.deliver(d).then(() => undefined, (e: unknown) => oneLine(e));
      this.n.record(d, error, now);
      if (error) this.log.warn('notification not delivered', { target: d.target, event: d.event, attempt: d.attempts + 1, error });
      else this.log.info('notification delivered', { target: d.target, event: d.event });
    }
  }

  /** One delivery to one target (also used by `notify add` to check a target before keeping it). */
  async deliver(d: { target: string; event: string; body: string }, target: Pick<NewTarget, 'kind' | 'address' | 'room' | 'server'> | undefined = this.n.target(d.target), secret = this.n.secret(d.target)): Promise<void> {
    if (!target) return;
    if (target.kind === 'webhook') return postWebhook(target.address, d.body, d.event, secret);
    const text = (JSON.parse(d.body) as { text: string }).text;
    return sendXmpp(target.address, secret ?? '', target.room, text, target.server ? `xmpp://${target.server}` : undefined);
  }
}

export type { QueuedDelivery };
