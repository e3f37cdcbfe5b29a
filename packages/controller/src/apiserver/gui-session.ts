import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Access } from '@sigil/api';
import { SigilError } from '@sigil/core';
import type { Services } from '../services.ts';
import { routes } from './contract.ts';

/**
 * How the web GUI logs in, like a web app: `sigil gui` asks for a one-time code (2 minutes,
 * single use, kept only as its hash), the login page trades it (or a user name and
 * password) for a session token that travels only in an HttpOnly, Secure, SameSite=Strict
 * cookie. No long-lived credential ever reaches a URL or the browser's storage.
 */

/** `__Host-`: the browser keeps it only if it is Secure, for Path=/ and without a Domain. */
export const SESSION_COOKIE = '__Host-sigil-session';
export const LOGIN_CODE_TTL_MS = 120_000;
/** Codes outstanding at once: enough for any team, bounded so nobody can grow the map. */
const MAX_CODES = 1000;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** One-time login codes for the GUI, held by their hash. `now` is the clock (tests move it). */
export class GuiLoginCodes {
  private readonly codes = new Map<string, { user: string; expires: number }>();

  constructor(private readonly now: () => number = Date.now, readonly ttlMs = LOGIN_CODE_TTL_MS) {}

  issue(user: string): { code: string; expires: number } {
    this.sweep();
    if (this.codes.size >= MAX_CODES) throw new SigilError('unavailable', `too many GUI login codes outstanding (${MAX_CODES})`, 'wait two minutes for unused codes to expire, then run `sigil gui` again');
    const code = randomBytes(24).toString('base64url');
    const expires = this.now() + this.ttlMs;
    this.codes.set(sha256(code), { user, expires });
    return { code, expires };
  }

  /** The user a code was issued to; the code is spent whatever the outcome. */
  redeem(code: string): string {
    const key = sha256(code);
    const found = this.codes.get(key);
    this.codes.delete(key);
    if (found === undefined || found.expires <= this.now()) {
      throw new SigilError('unauthorized', 'this GUI login code is unknown, already used or expired (codes last 2 minutes and work once)', 'run `sigil gui` again for a fresh link, or log in with your user name and password');
    }
    return found.user;
  }

  private sweep(): void {
    const now = this.now();
    for (const [k, v] of this.codes) if (v.expires <= now) this.codes.delete(k);
  }
}

/**
 * Guessing passwords is slowed per user name: after LOGIN_FAILURES wrong passwords in a row,
 * that name's logins are refused for LOGIN_PAUSE_MS (sessions already issued are
 * untouched). In memory, like the codes. The controller has one (`Authenticator.loginThrottle`),
 * shared by `POST /api/login` and the GUI's password login.
 */
export const LOGIN_FAILURES = 5;
export const LOGIN_PAUSE_MS = 30_000;

export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; until: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Throws while `user` is paused. */
  check(user: string): void {
    const f = this.failures.get(user);
    if (f && f.count >= LOGIN_FAILURES && f.until > this.now()) {
      throw new SigilError('unauthorized', `too many failed logins for user "${user.slice(0, 64)}": try again in ${Math.ceil((f.until - this.now()) / 1000)} s`, 'wait, then check the password; a controller admin can reset it with `sigil change-user-password NAME --reset`');
    }
  }

  record(user: string, ok: boolean): void {
    if (ok) {
      this.failures.delete(user);
      return;
    }
    const f = this.failures.get(user);
    const count = (f && f.until > this.now() - LOGIN_PAUSE_MS ? f.count : 0) + 1;
    if (this.failures.size > 10_000) this.failures.clear();
    this.failures.set(user, { count, until: this.now() + LOGIN_PAUSE_MS });
  }
}

/** The session token in a request's cookies, if any. */
export function sessionCookie(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const v = part.slice(eq + 1).trim();
      return v === '' ? undefined : v;
    }
  }
  return undefined;
}

/**
 * The credential a request's session cookie carries, as an Authorization value, whatever
 * the route or origin: only to *name* who a refused request came with in the audit trail
 * (`Authenticator.identify`), never to authorise; that is `cookieAuthorization`.
 */
export function cookieCredential(header: string | undefined): string | undefined {
  const token = sessionCookie(header);
  return token === undefined ? undefined : `Bearer ${token}`;
}

/** Set-Cookie for a session: exactly HttpOnly, Secure, SameSite=Strict, Path=/, living as long as the token. */
export function setSessionCookie(token: string, expires: number, now = Date.now()): string {
  const maxAge = Math.max(0, Math.floor((expires - now) / 1000));
  return `${SESSION_COOKIE}=${token}; Path=/; Max-Age=${maxAge}; HttpOnly; Secure; SameSite=Strict`;
}

/** A browser always says where a POST comes from; a page elsewhere may not log anyone in or out here. */
function sameOrigin(req: FastifyRequest): void {
  const origin = req.headers.origin;
  const own = `${req.protocol}://${req.headers.host ?? ''}`;
  if (origin !== undefined && origin !== own) throw new SigilError('forbidden', `a GUI login or logout came from origin ${origin.slice(0, 100)}, not from ${own}`, 'log in from the GUI\'s own page');
}

export const CLEAR_SESSION_COOKIE = `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict`;

/**
 * The Authorization a request's session cookie stands for, when it has no Authorization of
 * its own. A cookie never speaks for a machine agent, so a route an agent may call (the
 * agent API, and the change feed agents and the CLI share) ignores it. And since a browser
 * attaches the cookie to requests that other sites' pages start (a workload on the same
 * address is the same *site*), a request that can change something (anything but GET and
 * HEAD, and every WebSocket) must come from the controller's own origin.
 */
export function cookieAuthorization(access: Access | undefined, method: string, headers: IncomingHttpHeaders, secure: boolean): string | undefined {
  const token = sessionCookie(headers.cookie);
  if (token === undefined) return undefined;
  const roles = access === undefined ? [] : typeof access === 'string' ? [access] : access;
  if (roles.includes('agent')) return undefined;
  if (method !== 'GET' && method !== 'HEAD' || headers.upgrade !== undefined) {
    const own = `${secure ? 'https' : 'http'}://${headers.host ?? ''}`;
    if (headers.origin !== own) {
      throw new SigilError('forbidden', `a request carrying the GUI's session cookie came from ${headers.origin === undefined ? 'no origin' : `origin ${headers.origin.slice(0, 100)}`}, not from ${own}`, 'the GUI calls the API from its own page; other pages and scripts authenticate with an Authorization header');
    }
  }
  return `Bearer ${token}`;
}

/**
 * The login routes. `POST /api/gui/login-code` is called by `sigil gui` with the user's own
 * credentials (a code is only ever for the caller). The page posts the code (never a GET:
 * a link previewer fetching the URL must not spend it) or a password to `/api/gui/session`,
 * which answers with the cookie, a session token of the user like `sigil login`'s, with the
 * same lifetime; `DELETE` ends that session and clears the cookie.
 */
export function registerGuiSessionRoutes(app: FastifyInstance, svc: Services, throttle = svc.auth.loginThrottle): void {
  const on = routes(app);
  const start = (reply: FastifyReply, user: string) => {
    const s = svc.auth.issueSession(user);
    return reply.header('set-cookie', setSessionCookie(s.token, s.expires)).header('cache-control', 'no-store').send({ user, expires: new Date(s.expires).toISOString() });
  };

  on('POST /api/gui/login-code', async (req) => {
    const p = req.principal;
    if (p.kind !== 'user') throw new SigilError('forbidden', 'machine credentials cannot log in to the GUI');
    const { code, expires } = svc.guiLogins.issue(p.name);
    req.audit = { summary: 'gui login code' };
    return { code, user: p.name, expires: new Date(expires).toISOString() };
  });
  on('POST /api/gui/session', async (req, reply) => {
    sameOrigin(req);
    const { code, user, password } = req.body;
    if (code !== undefined && user === undefined && password === undefined) {
      req.audit = { summary: 'gui login (code)' };
      const name = svc.guiLogins.redeem(code);
      req.audit.who = name;
      return start(reply, name);
    }
    if (code === undefined && user !== undefined && password !== undefined) {
      req.audit = { who: user.slice(0, 64), summary: 'gui login (password)' };
      throttle.check(user);
      const u = await svc.users.checkPassword(user, password);
      throttle.record(user, u !== undefined);
      if (!u) throw new SigilError('unauthorized', `invalid user name or password for user "${user.slice(0, 64)}"`, 'check both; a new user sets a password first with `sigil register STRING` (the string `sigil add-user` printed)');
      return start(reply, u.name);
    }
    throw new SigilError('bad-request', 'a GUI login needs either a one-time code, or a user name and a password', 'open the link `sigil gui` prints, or fill in the login form');
  });
  on('DELETE /api/gui/session', async (req, reply) => {
    sameOrigin(req);
    const token = sessionCookie(req.headers.cookie);
    if (token !== undefined) svc.users.revokeSession(token);
    req.audit = { summary: 'gui logout' };
    return reply.header('set-cookie', CLEAR_SESSION_COOKIE).header('cache-control', 'no-store').send({ ok: true });
  });
}
