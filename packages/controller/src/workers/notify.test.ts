// Notifications against a real SQLite store and a real HTTP receiver on loopback: the queue,
// the signature, retries with backoff, and what `notify list` shows when a target is down.
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestDb } from '../store/test-store.ts';
import { Store } from '../store/store.ts';
import { silentLogger } from '../logger.ts';
import { SecretCipher } from '../state/secrets-crypto.ts';
import { MAX_ATTEMPTS, Notifications, checkTarget, messageText, retryDelayMs } from '../state/notifications.ts';
import { NotifyWorker, SIGNATURE_HEADER } from './notify.ts';
import { SigilError } from '@sigil/core';

let dir: string;
let store: Store;
let n: Notifications;
let server: Server;
let url: string;
let answer = 204;
const got: { body: string; sig: string | undefined; event: string | undefined }[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sigil-notify-'));
  store = new Store(openTestDb(dir));
  n = new Notifications(store, SecretCipher.ephemeral(), 'prod');
  got.length = 0;
  answer = 204;
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ body: Buffer.concat(chunks).toString(), sig: req.headers[SIGNATURE_HEADER] as string | undefined, event: req.headers['x-sigil-event'] as string | undefined });
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
});

afterEach(async () => {
  await new Promise((r) => server.close(r));
  store.db.close();
  rmSync(dir, { recursive: true, force: true });
});

const event = { kind: 'backup-done' as const, model: 'm', subject: 'postgresql/0', outcome: 'ok', detail: 'snapshot ab12cd34', by: 'alice' };

describe('notifications', () => {
  it('checks targets before storing them', () => {
    const refuse = (t: Parameters<typeof checkTarget>[0]) => {
      try {
        checkTarget(t);
      } catch (e) {
        expect(e).toBeInstanceOf(SigilError);
        expect((e as SigilError).hint).toBeTruthy();
        return (e as SigilError).message;
      }
      throw new Error('accepted');
    };
    expect(refuse({ name: 'x', kind: 'webhook', address: 'ftp://h/x', events: [] })).toBe('webhook URL must be http or https, not ftp:');
    expect(refuse({ name: 'x', kind: 'webhook', address: 'https://u:p@h/x', events: [] })).toBe('the webhook URL carries credentials');
    expect(refuse({ name: 'x', kind: 'webhook', address: url, events: ['deploy', 'tea-time'] })).toBe('unknown event "tea-time"');
    expect(refuse({ name: 'x', kind: 'xmpp', address: 'bot@example.org', room: 'not a room', events: [] })).toBe('"not a room" is not a chat room\'s address');
    expect(refuse({ name: 'Bad Name', kind: 'webhook', address: url, events: [] })).toBe('"Bad Name" is not a valid notification name');
    expect(checkTarget({ name: 'x', kind: 'webhook', address: url, events: ['all'] }).events).toHaveLength(10);
  });

  it('queues only for targets that want the event, signs the body, and counts the delivery', async () => {
    n.add(checkTarget({ name: 'hook', kind: 'webhook', address: url, events: ['backup-done'] }), 's3cret');
    n.add(checkTarget({ name: 'deploys', kind: 'webhook', address: url, events: ['deploy'] }), undefined);
    expect(n.notify(event)).toBe(1);
    const w = new NotifyWorker(n, silentLogger);
    await w.deliverDue();
    expect(got).toHaveLength(1);
    expect(got[0]!.event).toBe('backup-done');
    expect(got[0]!.sig).toBe(`sha256=${createHmac('sha256', 's3cret').update(got[0]!.body).digest('hex')}`);
    expect(JSON.parse(got[0]!.body)).toMatchObject({ event: 'backup-done', controller: 'prod', model: 'm', subject: 'postgresql/0', outcome: 'ok', by: 'alice', text: '[sigil prod] backup-done postgresql/0 in model m by alice: ok (snapshot ab12cd34)' });
    expect(n.list().find((t) => t.name === 'hook')).toMatchObject({ delivered: 1, failed: 0, pending: 0, 'last-error': '' });
    // The secret is sealed at rest, never stored as text.
    expect(JSON.stringify(store.db.prepare('SELECT * FROM notify_targets').all())).not.toContain('s3cret');
  });

  it('retries a failing target with backoff, shows why in the list, and gives up after MAX_ATTEMPTS', async () => {
    n.add(checkTarget({ name: 'hook', kind: 'webhook', address: url, events: [] }), undefined);
    answer = 500;
    n.notify(event, 1000);
    const w = new NotifyWorker(n, silentLogger);
    let now = 1000;
    await w.deliverDue(now);
    expect(n.list()[0]).toMatchObject({ delivered: 0, failed: 0, pending: 1, 'last-error': 'attempt 1 failed (retrying): HTTP 500' });
    // Not due again until its backoff has passed.
    await w.deliverDue(now + retryDelayMs(1) - 1);
    expect(got).toHaveLength(1);
    for (let a = 1; a < MAX_ATTEMPTS; a++) {
      now += retryDelayMs(a);
      await w.deliverDue(now + 1);
      now += 1;
    }
    expect(got).toHaveLength(MAX_ATTEMPTS);
    expect(n.list()[0]).toMatchObject({ delivered: 0, failed: 1, pending: 0, 'last-error': `gave up after ${MAX_ATTEMPTS} attempts: HTTP 500` });
    expect([1, 2, 3, 11, 20].map(retryDelayMs)).toEqual([1000, 2000, 4000, 900_000, 900_000]);
  });

  it('never throws from notify, even with the store closed', () => {
    store.db.close();
    expect(n.notify(event)).toBe(0);
    store = new Store(openTestDb(dir));
  });

  it('words a message with what, where, who and the outcome', () => {
    expect(messageText('c1', { kind: 'unit-error', subject: 'wordpress/2', outcome: 'failed', detail: 'hook failed: "install"' })).toBe('[sigil c1] unit-error wordpress/2: failed (hook failed: "install")');
  });
});
