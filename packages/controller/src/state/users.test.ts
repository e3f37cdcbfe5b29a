// Users, tokens and grants against a real SQLite store: Juju's grant/revoke levels, single-use
// registration keys, token expiry, hashes only at rest; and the audit trail's bounds.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestDb } from '../store/test-store.ts';
import { Store } from '../store/store.ts';
import { Models } from '../domain/models.ts';
import { SESSION_TTL_MS, UserRepository, hashPassword, verifyPassword } from './users.ts';
import { AuditRepository } from './audit.ts';

let dir: string;
let store: Store;
let now: number;
let users: UserRepository;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sigil-users-'));
  store = new Store(openTestDb(dir));
  now = 1_800_000_000_000;
  users = new UserRepository(store, () => now);
  new Models(store).add('prod');
  new Models(store).add('staging');
});

afterEach(() => {
  store.db.close();
  rmSync(dir, { recursive: true, force: true });
});

const sha = (t: string) => createHash('sha256').update(t).digest('hex');

describe('passwords', () => {
  it('are salted scrypt hashes, verified in constant time, never stored in the clear', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct horsf', a)).toBe(false);
    expect(await verifyPassword('anything', '')).toBe(false);
  });
});

describe('registration', () => {
  it('sets the password with a key that works once and only for 24 h', async () => {
    const key = users.add('alice', 'Alice', 'admin');
    expect(users.get('alice')).toMatchObject({ registered: false, superuser: false, displayName: 'Alice' });
    await expect(users.checkPassword('alice', 'whatever1')).resolves.toBeUndefined();
    const u = await users.register(key.token, 'a-good-password');
    expect(u).toMatchObject({ name: 'alice', registered: true });
    expect(await users.checkPassword('alice', 'a-good-password')).toMatchObject({ name: 'alice' });
    await expect(users.register(key.token, 'another-password')).rejects.toMatchObject({ code: 'unauthorized' });
    expect(JSON.stringify(store.db.prepare('SELECT * FROM users').all())).not.toContain('a-good-password');

    const late = users.add('bob', '', 'admin');
    now += 24 * 3600_000 + 1;
    await expect(users.register(late.token, 'a-good-password')).rejects.toMatchObject({ code: 'unauthorized', message: expect.stringContaining('expired') });
    expect(users.get('bob')?.registered).toBe(false);
  });

  it('refuses short passwords and bad names, changing nothing', async () => {
    const key = users.add('carol', '', 'admin');
    await expect(users.register(key.token, 'short')).rejects.toMatchObject({ code: 'bad-request', hint: 'choose a longer password' });
    expect(users.get('carol')?.registered).toBe(false);
    expect(() => users.add('-bad', '', 'admin')).toThrow(/invalid user name/);
    expect(() => users.add('carol', '', 'admin')).toThrow(/already exists/);
  });
});

describe('session tokens', () => {
  it('resolve to their user until they expire, the user is disabled or they are revoked; only hashes are kept', () => {
    users.add('dan', '', 'admin');
    const t = users.issueSession('dan');
    expect(t.expires).toBe(now + SESSION_TTL_MS);
    expect(users.lookupSession(t.token)).toMatchObject({ ok: true, user: { name: 'dan' } });
    expect(store.db.prepare('SELECT hash FROM user_tokens WHERE user = ?').all('dan')).toContainEqual({ hash: sha(t.token) });
    users.setDisabled('dan', true);
    expect(users.lookupSession(t.token)).toEqual({ ok: false, reason: 'disabled', user: 'dan' });
    users.setDisabled('dan', false);
    now += SESSION_TTL_MS;
    expect(users.lookupSession(t.token)).toMatchObject({ ok: false, reason: 'expired', user: 'dan' });
    const t2 = users.issueSession('dan');
    users.revokeSession(t2.token);
    expect(users.lookupSession(t2.token)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('take in the bootstrap token once, as the admin superuser', () => {
    users.seedBootstrapAdmin(sha('boot'));
    expect(users.lookupSession('boot')).toMatchObject({ ok: true, user: { name: 'admin', superuser: true } });
    users.revokeSession('boot');
    users.seedBootstrapAdmin(sha('boot'));
    expect(users.lookupSession('boot')).toEqual({ ok: false, reason: 'unknown' });
    expect(() => users.setDisabled('admin', true)).toThrow(/cannot be disabled/);
    expect(() => users.remove('admin')).toThrow(/cannot be removed/);
  });
});

describe('model access (Juju grant and revoke)', () => {
  it('grants raise, revoking write leaves read, revoking read removes access', () => {
    users.add('erin', '', 'admin');
    const erin = () => users.mustGet('erin');
    expect(users.roleOn(erin(), 'prod')).toBeUndefined();
    users.grant('erin', 'prod', 'read');
    users.grant('erin', 'prod', 'write');
    expect(() => users.grant('erin', 'prod', 'read')).toThrow(/already has write/);
    expect(users.access(erin())).toEqual({ prod: 'write' });
    expect(users.revoke('erin', 'prod', 'write')).toBe('read');
    expect(users.revoke('erin', 'prod', 'read')).toBeUndefined();
    expect(users.access(erin())).toEqual({});
    expect(() => users.revoke('erin', 'prod', 'read')).toThrow(/does not have read/);
    users.grant('erin', 'prod', 'admin');
    expect(users.revoke('erin', 'prod', 'read')).toBeUndefined();
    expect(() => users.grant('erin', 'nope', 'read')).toThrow(/model "nope" not found/);
    expect(() => users.grant('nobody', 'prod', 'read')).toThrow(/user "nobody" not found/);
  });

  it('is to the model, not its name: a model added again after destroy starts with no grants', () => {
    users.add('fay', '', 'admin');
    users.grant('fay', 'staging', 'admin');
    store.db.prepare("DELETE FROM models WHERE name = 'staging'").run();
    new Models(store).add('staging');
    expect(users.roleOn(users.mustGet('fay'), 'staging')).toBeUndefined();
  });

  it('goes with a removed user, with its tokens', () => {
    users.add('gus', '', 'admin');
    users.grant('gus', 'prod', 'read');
    const t = users.issueSession('gus');
    users.remove('gus');
    expect(users.lookupSession(t.token)).toEqual({ ok: false, reason: 'unknown' });
    expect(store.db.prepare("SELECT COUNT(*) AS n FROM user_access WHERE user = 'gus'").get()).toEqual({ n: 0 });
  });
});

describe('the audit trail', () => {
  it('is bounded by age and by size (controller config), oldest first out', () => {
    const audit = new AuditRepository(store);
    const rec = (at: number, user: string) => audit.record({ at, user, address: '127.0.0.1', method: 'POST', route: '/api/x', model: 'prod', summary: 's'.repeat(600), status: 200 });
    expect(audit.config()).toEqual({ 'audit-log-max-size': '100M', 'audit-log-max-age': '2160h' });
    rec(Date.now() - 91 * 24 * 3600_000, 'old');
    store.tx(() => {
      for (let i = 0; i < 3000; i++) rec(Date.now(), `u${i}`);
    });
    // Recording prunes as it goes (every 500 records): the 91-day-old record is gone already.
    expect(audit.query({ user: 'old' })).toEqual([]);
    expect(audit.query({ limit: 100_000 })).toHaveLength(3000);
    // A record costs about 600 bytes here (its summary is cut at 512): 1M holds about 1700,
    // and setting the limit prunes to 90 % of it at once, oldest first.
    audit.setConfig({ 'audit-log-max-size': '1M' });
    const left = audit.query({ limit: 100_000 }).map((r) => Number(r.user.slice(1)));
    expect(left.length).toBeGreaterThan(1300);
    expect(left.length).toBeLessThan(1700);
    expect(left).toEqual(Array.from({ length: left.length }, (_, i) => 3000 - left.length + i));
    expect(audit.query({ user: 'u2999' })).toHaveLength(1);
    expect(audit.query({ since: Date.now() + 60_000 })).toEqual([]);
  });

  it('refuses a bad limit, changing nothing', () => {
    const audit = new AuditRepository(store);
    expect(() => audit.setConfig({ 'audit-log-max-size': '10K' })).toThrow(/too small/);
    expect(() => audit.setConfig({ 'audit-log-max-age': '1m' })).toThrow(/too short/);
    expect(() => audit.setConfig({ 'audit-log-max-rows': '1' })).toThrow(/unknown controller config key/);
    expect(audit.config()).toEqual({ 'audit-log-max-size': '100M', 'audit-log-max-age': '2160h' });
  });
});
