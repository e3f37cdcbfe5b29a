import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { SigilError } from '@sigil/core';
import type { Store } from '../store/store.ts';

/** A user's access to one model, as Juju's model access levels. */
export type ModelRole = 'read' | 'write' | 'admin';
const MODEL_ROLES: readonly ModelRole[] = ['read', 'write', 'admin'];

export interface UserInfo {
  name: string;
  displayName: string;
  /** A controller superuser (the bootstrap `admin`): admin on every model, manages users and models. */
  superuser: boolean;
  disabled: boolean;
  /** Whether the user has set a password (registered); an unregistered user cannot log in. */
  registered: boolean;
  createdBy: string;
  created: number;
  lastLogin: number | null;
}

export interface IssuedToken {
  token: string;
  /** Epoch milliseconds. */
  expires: number;
}

/** What a presented session token resolves to: a user, or why it does not. */
export type TokenLookup =
  | { ok: true; user: UserInfo; expires: number }
  | { ok: false; reason: 'unknown' }
  | { ok: false; reason: 'expired'; user: string; expired: number }
  | { ok: false; reason: 'disabled'; user: string };

/** Session tokens live 24 h (refreshable); registration keys 24 h, single use. */
export const SESSION_TTL_MS = 24 * 3600_000;
export const REGISTRATION_TTL_MS = 24 * 3600_000;
export const MIN_PASSWORD = 8;
const MAX_PASSWORD = 1024;
/** scrypt's cost: N=2^15, r=8, p=1 (32 MiB and tens of milliseconds per hash), OWASP's floor for scrypt is N=2^17 at 128 MiB; a controller on a small machine logs users in with 32 MiB. */
const SCRYPT = { N: 32768, r: 8, p: 1, keylen: 32, maxmem: 64 * 1024 * 1024 };
const USER_RE = /^[a-zA-Z0-9](?:[a-zA-Z0-9.+-]{0,62}[a-zA-Z0-9])?$/;

export function checkUserName(name: string): string {
  if (!USER_RE.test(name)) {
    throw new SigilError('bad-request', `invalid user name "${name.slice(0, 64)}"`, 'use letters, digits, ".", "+" and "-" (starting and ending with a letter or digit), at most 64 characters');
  }
  return name;
}

export function checkPassword(password: string): void {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD) throw new SigilError('bad-request', `password too short: it needs at least ${MIN_PASSWORD} characters`, 'choose a longer password');
  if (password.length > MAX_PASSWORD) throw new SigilError('bad-request', `password longer than ${MAX_PASSWORD} characters`, 'choose a shorter password');
}

export function checkModelRole(role: string): ModelRole {
  if (!(MODEL_ROLES as readonly string[]).includes(role)) throw new SigilError('bad-request', `unknown access level "${role}"`, 'use read, write or admin');
  return role as ModelRole;
}

const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

function scryptAsync(password: string, salt: Buffer, keylen: number, opts: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, keylen, { ...opts, maxmem: SCRYPT.maxmem }, (err, key) => (err ? reject(err) : resolve(key))));
}

/** `scrypt$N$r$p$salt$hash` (base64): the parameters travel with the hash, so they can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT.keylen, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) {
    // Spend the same time as a real check, so a missing user or password is not told apart by timing.
    await scryptAsync(password, randomBytes(16), SCRYPT.keylen, SCRYPT);
    return false;
  }
  const expected = Buffer.from(hash, 'base64');
  const key = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

interface UserRow {
  name: string;
  display_name: string;
  password_hash: string;
  superuser: number;
  disabled: number;
  created_by: string;
  created: number;
  last_login: number | null;
}

const info = (r: UserRow): UserInfo => ({
  name: r.name,
  displayName: r.display_name,
  superuser: r.superuser === 1,
  disabled: r.disabled === 1,
  registered: r.password_hash !== '',
  createdBy: r.created_by,
  created: r.created,
  lastLogin: r.last_login,
});

/**
 * Users, their access to models, and their tokens. Only hashes are stored: passwords as
 * salted scrypt, tokens (random 256-bit values) as SHA-256. User changes are not model
 * changes: they append nothing to the change log.
 */
export class UserRepository {
  constructor(private readonly s: Store, private readonly now: () => number = Date.now) {}

  private row(name: string): UserRow | undefined {
    return this.s.db.prepare('SELECT * FROM users WHERE name = ?').get(name) as UserRow | undefined;
  }

  get(name: string): UserInfo | undefined {
    const r = this.row(name);
    return r && info(r);
  }

  mustGet(name: string): UserInfo {
    const u = this.get(name);
    if (!u) throw new SigilError('not-found', `user "${name}" not found`, 'see `sigil users`');
    return u;
  }

  list(): UserInfo[] {
    return (this.s.db.prepare('SELECT * FROM users ORDER BY name').all() as UserRow[]).map(info);
  }

  /**
   * The controller's first user: `admin`, a superuser, whose first session token is the one
   * `sigil bootstrap` stored in accounts.yaml (its hash is in controller.json). That token is
   * taken in once, on the controller's first start: after it expires or is logged out, it is
   * never honoured again.
   */
  seedBootstrapAdmin(bootstrapTokenHash: string): void {
    this.s.tx(() => {
      const now = this.now();
      this.s.db.prepare("INSERT OR IGNORE INTO users (name, display_name, superuser, created_by, created, last_login) VALUES ('admin', 'admin', 1, '', ?, ?)").run(now, now);
      const seeded = this.s.db.prepare("SELECT value FROM meta WHERE key = 'bootstrap-token'").get();
      if (seeded || !bootstrapTokenHash) return;
      this.s.db.prepare("INSERT OR IGNORE INTO user_tokens (hash, user, kind, expires, created) VALUES (?, 'admin', 'session', ?, ?)").run(bootstrapTokenHash, now + SESSION_TTL_MS, now);
      this.s.db.prepare("INSERT INTO meta (key, value) VALUES ('bootstrap-token', 'taken')").run();
    });
  }

  /**
   * A session for the bootstrap admin from `sigil restore-backup` (the hash of a token that
   * client made; the backup's own sessions belong to the old host's client).
   */
  adoptRestoredAdminToken(tokenHash: string): void {
    if (!/^[0-9a-f]{64}$/.test(tokenHash)) throw new SigilError('bad-request', 'restore token hash is not 64 hex digits');
    const now = this.now();
    this.s.db.prepare("INSERT OR IGNORE INTO user_tokens (hash, user, kind, expires, created) VALUES (?, 'admin', 'session', ?, ?)").run(tokenHash, now + SESSION_TTL_MS, now);
  }

  /** Adds a user (no access to any model yet) and returns its single-use registration key. */
  add(name: string, displayName: string, createdBy: string): IssuedToken {
    checkUserName(name);
    if (displayName.length > 200) throw new SigilError('bad-request', 'display name longer than 200 characters', 'use a shorter --display-name');
    return this.s.tx(() => {
      if (this.row(name)) throw new SigilError('already-exists', `user "${name}" already exists`, 'see `sigil users`; remove it first with `sigil remove-user` to add it again');
      this.s.db.prepare('INSERT INTO users (name, display_name, created_by, created) VALUES (?, ?, ?, ?)').run(name, displayName, createdBy, this.now());
      return this.issue(name, 'register', REGISTRATION_TTL_MS);
    });
  }

  /** A user who is going: its tokens and grants go with it. The bootstrap admin stays. */
  remove(name: string): void {
    this.s.tx(() => {
      const u = this.mustGet(name);
      if (u.name === 'admin') throw new SigilError('bad-request', 'the controller\'s admin user cannot be removed', 'add another user and grant it what it needs instead');
      for (const t of ['user_tokens', 'user_access', 'users']) this.s.db.prepare(`DELETE FROM ${t} WHERE ${t === 'users' ? 'name' : 'user'} = ?`).run(name);
    });
  }

  setDisabled(name: string, disabled: boolean): void {
    this.s.tx(() => {
      const u = this.mustGet(name);
      if (u.name === 'admin' && disabled) throw new SigilError('bad-request', 'the controller\'s admin user cannot be disabled', 'disable the other users instead');
      this.s.db.prepare('UPDATE users SET disabled = ? WHERE name = ?').run(disabled ? 1 : 0, name);
    });
  }

  async setPassword(name: string, password: string): Promise<void> {
    checkPassword(password);
    this.mustGet(name);
    const hash = await hashPassword(password);
    this.s.tx(() => {
      this.mustGet(name);
      this.s.db.prepare('UPDATE users SET password_hash = ? WHERE name = ?').run(hash, name);
    });
  }

  /** Checks a user's password in constant time; an unknown user costs as much as a known one. */
  async checkPassword(name: string, password: string): Promise<UserInfo | undefined> {
    const r = this.row(name);
    const ok = await verifyPassword(typeof password === 'string' ? password.slice(0, MAX_PASSWORD) : '', r?.password_hash ?? '');
    return ok && r ? info(r) : undefined;
  }

  /**
   * Redeems a registration key: sets the user's password and consumes the key. The key is
   * looked up before the (slow) hash, and taken in the same transaction that sets the
   * password, so a key is used once even by two registrations racing.
   */
  async register(key: string, password: string): Promise<UserInfo> {
    checkPassword(password);
    const found = this.keyUser(key);
    const hash = await hashPassword(password);
    return this.s.tx(() => {
      const again = this.keyUser(key);
      if (again !== found) throw new SigilError('unauthorized', 'this registration string was already used', 'ask a controller admin for a new one (`sigil change-user-password NAME --reset`)');
      this.s.db.prepare('DELETE FROM user_tokens WHERE hash = ?').run(tokenHash(key));
      this.s.db.prepare('UPDATE users SET password_hash = ?, last_login = ? WHERE name = ?').run(hash, this.now(), found);
      return this.mustGet(found);
    });
  }

  private keyUser(key: string): string {
    const r = this.s.db.prepare("SELECT user, expires FROM user_tokens WHERE hash = ? AND kind = 'register'").get(tokenHash(String(key))) as { user: string; expires: number } | undefined;
    if (!r) throw new SigilError('unauthorized', 'this registration string is not valid (it was used already, replaced, or never issued by this controller)', 'ask a controller admin for a new one (`sigil change-user-password NAME --reset`)');
    if (r.expires <= this.now()) throw new SigilError('unauthorized', `this registration string expired at ${new Date(r.expires).toISOString()}`, 'ask a controller admin for a new one (`sigil change-user-password NAME --reset`)');
    const u = this.mustGet(r.user);
    if (u.disabled) throw new SigilError('unauthorized', `user "${u.name}" is disabled`, `ask a controller admin to run \`sigil enable-user ${u.name}\``);
    return u.name;
  }

  /** A new registration key for a user (replacing any earlier one); its password is cleared. */
  resetRegistration(name: string): IssuedToken {
    return this.s.tx(() => {
      this.mustGet(name);
      if (name === 'admin') throw new SigilError('bad-request', 'the controller\'s admin user cannot be reset', 'the admin changes its password with `sigil change-user-password`');
      this.s.db.prepare('UPDATE users SET password_hash = \'\' WHERE name = ?').run(name);
      this.s.db.prepare('DELETE FROM user_tokens WHERE user = ?').run(name);
      return this.issue(name, 'register', REGISTRATION_TTL_MS);
    });
  }

  /**
   * STABLE (used by the GUI login): a new session token for `user`, valid SESSION_TTL_MS.
   * Only its hash is stored.
   */
  issueSession(user: string, ttlMs = SESSION_TTL_MS): IssuedToken {
    return this.s.tx(() => {
      const u = this.mustGet(user);
      if (u.disabled) throw new SigilError('unauthorized', `user "${user}" is disabled`, `ask a controller admin to run \`sigil enable-user ${user}\``);
      this.s.db.prepare('UPDATE users SET last_login = ? WHERE name = ?').run(this.now(), user);
      // Expired tokens of this user go now; the table never grows past live tokens.
      this.s.db.prepare('DELETE FROM user_tokens WHERE user = ? AND expires <= ?').run(user, this.now());
      return this.issue(user, 'session', ttlMs);
    });
  }

  private issue(user: string, kind: 'session' | 'register', ttlMs: number): IssuedToken {
    const token = randomBytes(32).toString('base64url');
    const now = this.now();
    if (kind === 'register') this.s.db.prepare("DELETE FROM user_tokens WHERE user = ? AND kind = 'register'").run(user);
    this.s.db.prepare('INSERT INTO user_tokens (hash, user, kind, expires, created) VALUES (?, ?, ?, ?, ?)').run(tokenHash(token), user, kind, now + ttlMs, now);
    return { token, expires: now + ttlMs };
  }

  /** What a raw session token stands for (one indexed lookup). */
  lookupSession(token: string): TokenLookup {
    const r = this.s.db.prepare("SELECT user, expires FROM user_tokens WHERE hash = ? AND kind = 'session'").get(tokenHash(token)) as { user: string; expires: number } | undefined;
    if (!r) return { ok: false, reason: 'unknown' };
    if (r.expires <= this.now()) return { ok: false, reason: 'expired', user: r.user, expired: r.expires };
    const u = this.get(r.user);
    if (!u) return { ok: false, reason: 'unknown' };
    if (u.disabled) return { ok: false, reason: 'disabled', user: u.name };
    return { ok: true, user: u, expires: r.expires };
  }

  /** Brings a session token's expiry forward to at most `ms` from now (a refreshed token's predecessor). */
  shorten(token: string, ms: number): void {
    this.s.tx(() => this.s.db.prepare("UPDATE user_tokens SET expires = MIN(expires, ?) WHERE hash = ? AND kind = 'session'").run(this.now() + ms, tokenHash(token)));
  }

  revokeSession(token: string): void {
    this.s.tx(() => this.s.db.prepare("DELETE FROM user_tokens WHERE hash = ? AND kind = 'session'").run(tokenHash(token)));
  }

  /** The user's role on a model (by name), or undefined; superusers hold admin on every model. */
  roleOn(user: UserInfo, model: string): ModelRole | undefined {
    if (user.superuser) return this.s.db.prepare('SELECT 1 FROM models WHERE name = ?').get(model) ? 'admin' : undefined;
    const r = this.s.db.prepare('SELECT a.role FROM user_access a JOIN models m ON m.uuid = a.model_uuid WHERE a.user = ? AND m.name = ?').get(user.name, model) as { role: ModelRole } | undefined;
    return r?.role;
  }

  /** Every model the user can see, with its role there. */
  access(user: UserInfo): Record<string, ModelRole> {
    if (user.superuser) return Object.fromEntries((this.s.db.prepare('SELECT name FROM models ORDER BY name').all() as { name: string }[]).map((m) => [m.name, 'admin' as const]));
    const rows = this.s.db.prepare('SELECT m.name, a.role FROM user_access a JOIN models m ON m.uuid = a.model_uuid WHERE a.user = ? ORDER BY m.name').all(user.name) as { name: string; role: ModelRole }[];
    return Object.fromEntries(rows.map((r) => [r.name, r.role]));
  }

  /** Juju's grant: raises the user's access on the model to `role` (a lower role is a no-op). */
  grant(user: string, model: string, role: ModelRole): ModelRole {
    return this.s.tx(() => {
      const u = this.mustGet(user);
      const uuid = this.modelUuid(model);
      if (u.superuser) throw new SigilError('bad-request', `user "${user}" is a controller superuser: it already has admin access to every model`, 'grant access to other users');
      const held = this.roleOn(u, model);
      if (held !== undefined && MODEL_ROLES.indexOf(held) >= MODEL_ROLES.indexOf(role)) {
        throw new SigilError('already-exists', `user "${user}" already has ${held} access to model "${model}"`, held === role ? 'nothing to do' : `to lower it, revoke: \`sigil revoke ${user} ${MODEL_ROLES[MODEL_ROLES.indexOf(role) + 1]} ${model}\``);
      }
      this.s.db.prepare('INSERT INTO user_access (user, model_uuid, role) VALUES (?, ?, ?) ON CONFLICT (user, model_uuid) DO UPDATE SET role = excluded.role').run(user, uuid, role);
      return role;
    });
  }

  /**
   * Juju's revoke: takes `role` away, leaving the level below it (revoking write leaves
   * read; revoking read removes all access). Returns what the user holds afterwards.
   */
  revoke(user: string, model: string, role: ModelRole): ModelRole | undefined {
    return this.s.tx(() => {
      const u = this.mustGet(user);
      const uuid = this.modelUuid(model);
      if (u.superuser) throw new SigilError('bad-request', `user "${user}" is a controller superuser: its access to models cannot be revoked`, 'superusers hold admin on every model');
      const held = this.roleOn(u, model);
      if (held === undefined || MODEL_ROLES.indexOf(held) < MODEL_ROLES.indexOf(role)) {
        throw new SigilError('not-found', `user "${user}" does not have ${role} access to model "${model}"${held ? ` (it has ${held})` : ''}`, 'see `sigil whoami` or `sigil users`; nothing was changed');
      }
      const left = MODEL_ROLES[MODEL_ROLES.indexOf(role) - 1];
      if (left === undefined) this.s.db.prepare('DELETE FROM user_access WHERE user = ? AND model_uuid = ?').run(user, uuid);
      else this.s.db.prepare('UPDATE user_access SET role = ? WHERE user = ? AND model_uuid = ?').run(left, user, uuid);
      return left;
    });
  }

  private modelUuid(model: string): string {
    const r = this.s.db.prepare("SELECT uuid FROM models WHERE name = ? AND life = 'alive'").get(model) as { uuid: string } | undefined;
    if (!r) throw new SigilError('not-found', `model "${model}" not found`, 'see `sigil models`');
    return r.uuid;
  }
}
