import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { UserSession, UserView } from '@sigil/api';
import { SigilError, isSigilError } from '@sigil/core';
import { certFingerprint } from '@sigil/core/tls';
import type { Services } from '../services.ts';
import { checkModelRole, type UserInfo } from '../state/users.ts';
import type { Principal } from './auth.ts';
import { routes } from './contract.ts';
import { cookieCredential } from './gui-session.ts';

/** What `sigil users` and `whoami` show of a user. */
function userView(svc: Services, u: UserInfo): UserView {
  return {
    name: u.name,
    'display-name': u.displayName,
    access: u.superuser ? 'superuser' : 'login',
    disabled: u.disabled,
    registered: u.registered,
    'created-by': u.createdBy,
    created: new Date(u.created).toISOString(),
    'last-connection': u.lastLogin === null ? null : new Date(u.lastLogin).toISOString(),
    models: svc.users.access(u),
  };
}

const user = (req: FastifyRequest): Extract<Principal, { kind: 'user' }> => {
  if (req.principal?.kind !== 'user') throw new SigilError('forbidden', 'only users may call this');
  return req.principal;
};

const bearer = (req: FastifyRequest): string => (req.headers.authorization ?? '').replace(/^Bearer /, '');

/**
 * Users, sessions and model access (issue 12). Login and register are public routes that
 * check their own secret; every other route's role is in the API contract. A session answer
 * carries the token once: the controller keeps only its hash.
 */
export function registerUserRoutes(app: FastifyInstance, svc: Services): void {
  const on = routes(app);
  const session = (u: UserInfo): UserSession => {
    const t = svc.users.issueSession(u.name);
    return { user: u.name, superuser: u.superuser, controller: svc.controllerName, token: t.token, expires: new Date(t.expires).toISOString() };
  };

  on('GET /api/ca', async () => ({ 'ca-cert': svc.caCert, fingerprint: svc.caCert ? certFingerprint(svc.caCert) : '' }));

  // Guessing is slowed per user name (five wrong passwords in a row pause the name), by the
  // throttle the GUI's password login shares: alternating the two counts every try.
  on('POST /api/login', async (req) => {
    req.audit = { who: req.body.user.slice(0, 64), summary: 'login' };
    svc.auth.loginThrottle.check(req.body.user);
    const u = await svc.users.checkPassword(req.body.user, req.body.password);
    svc.auth.loginThrottle.record(req.body.user, u !== undefined);
    if (!u) throw new SigilError('unauthorized', `invalid user name or password for user "${req.body.user.slice(0, 64)}"`, 'check both; a new user sets a password first with `sigil register STRING` (the string `sigil add-user` printed)');
    if (u.disabled) throw new SigilError('unauthorized', `user "${u.name}" is disabled`, `ask a controller admin to run \`sigil enable-user ${u.name}\``);
    return session(u);
  });

  on('POST /api/register', async (req) => {
    req.audit = { summary: 'register' };
    const u = await svc.users.register(req.body.key, req.body.password);
    req.audit.who = u.name;
    return session(u);
  });

  on('POST /api/login/refresh', async (req) => {
    const p = user(req);
    const old = bearer(req);
    const fresh = session(svc.users.mustGet(p.name));
    // The old token stays good for a minute: another CLI started with it still gets through.
    svc.users.shorten(old, 60_000);
    return fresh;
  });

  on('POST /api/logout', async (req) => {
    svc.users.revokeSession(bearer(req));
    return { ok: true };
  });

  on('GET /api/whoami', async (req) => {
    const p = user(req);
    const u = svc.users.mustGet(p.name);
    return { user: u.name, 'display-name': u.displayName, superuser: u.superuser, controller: svc.controllerName, models: svc.users.access(u) };
  });

  on('GET /api/users', async (req) => {
    const p = user(req);
    // Juju shows a user who is not a controller admin only itself.
    return svc.users.list().filter((u) => p.superuser || u.name === p.name).map((u) => userView(svc, u));
  });

  on('POST /api/users', async (req) => {
    req.audit = { summary: `user=${req.body.name.slice(0, 64)}` };
    const key = svc.users.add(req.body.name, req.body.displayName ?? '', user(req).name);
    return { user: req.body.name, controller: svc.controllerName, key: key.token, expires: new Date(key.expires).toISOString() };
  });

  on('DELETE /api/users/:user', async (req) => {
    if (req.params.user === user(req).name) throw new SigilError('bad-request', 'you cannot remove yourself', 'another controller admin can');
    svc.users.remove(req.params.user);
    return { ok: true };
  });

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    on(`POST /api/users/:user/${verb}`, async (req) => {
      if (disabled && req.params.user === user(req).name) throw new SigilError('bad-request', 'you cannot disable yourself', 'another controller admin can');
      svc.users.setDisabled(req.params.user, disabled);
      return { user: req.params.user, disabled };
    });
  }

  on('POST /api/users/:user/reset', async (req) => {
    const key = svc.users.resetRegistration(req.params.user);
    return { user: req.params.user, controller: svc.controllerName, key: key.token, expires: new Date(key.expires).toISOString() };
  });

  on('POST /api/users/:user/password', async (req) => {
    const p = user(req);
    if (req.params.user !== p.name && !p.superuser) {
      throw new SigilError('forbidden', `user "${p.name}" may not change the password of user "${req.params.user}"`, 'change your own (`sigil change-user-password`), or ask a controller admin');
    }
    await svc.users.setPassword(req.params.user, req.body.password);
    return { ok: true };
  });

  on('POST /api/models/:model/access', async (req) => {
    const { user: who, action } = req.body;
    req.audit = { summary: `${action} user=${who.slice(0, 64)} role=${req.body.role.slice(0, 16)}` };
    const role = checkModelRole(req.body.role);
    const now = action === 'grant' ? svc.users.grant(who, req.params.model, role) : svc.users.revoke(who, req.params.model, role);
    return { user: who, model: req.params.model, access: now ?? null };
  });

  on('GET /api/controller/config', async () => svc.audit.config());
  on('POST /api/controller/config', async (req) => {
    req.audit = { summary: Object.keys(req.body).map((k) => k.slice(0, 64)).join(' ') };
    return svc.audit.setConfig(req.body);
  });

  on('GET /api/audit', async (req) => {
    const q = req.query;
    const since = q.since === undefined ? undefined : Number(q.since);
    if (since !== undefined && !Number.isFinite(since)) throw new SigilError('bad-request', `invalid since "${String(q.since).slice(0, 40)}"`, 'pass epoch milliseconds');
    const limit = q.limit === undefined ? undefined : Number(q.limit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new SigilError('bad-request', `invalid limit "${String(q.limit).slice(0, 40)}"`, 'pass a positive whole number');
    return svc.audit.query({ user: q.user, model: q.model, since, limit });
  });
}

/** The model a request is about: its route's `:model`, else a single `?model=` query value. */
export function requestModel(req: FastifyRequest): string | undefined {
  const param = (req.params as Record<string, unknown> | undefined)?.model;
  if (typeof param === 'string') return param;
  const q = (req.query as Record<string, unknown> | undefined)?.model;
  return typeof q === 'string' ? q : undefined;
}

/** What a call was about, for the trail: its route parameters other than the model (never a body). */
function paramSummary(req: FastifyRequest): string {
  const params = Object.entries((req.params as Record<string, unknown> | undefined) ?? {}).filter(([k]) => k !== 'model' && k !== '*');
  return params.map(([k, v]) => `${k}=${String(v).slice(0, 64)}`).join(' ');
}

/**
 * The audit trail at the API edge: every mutating call by a user (or to a public route such
 * as login), and every refused call (401/403) from anyone, with its status. Successful agent
 * calls are the model's own work (hook status, logs) and are not recorded.
 */
export function registerAudit(app: FastifyInstance, svc: Services): void {
  app.addHook('onError', async (req, _reply, err) => {
    req.audit = { ...req.audit, error: isSigilError(err) ? err.message : undefined };
  });
  app.addHook('onResponse', async (req, reply) => {
    const status = reply.statusCode;
    const refused = status === 401 || status === 403;
    const p = req.principal as Principal | null | undefined;
    const mutating = req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS';
    // Agents' and consuming controllers' calls (relation exchanges every second) are routine, not audited unless refused.
    if (!refused && !(mutating && p?.kind !== 'machine' && p?.kind !== 'offer')) return;
    // A refused call is named by the credential it came with: its Authorization header,
    // else the GUI's session cookie (refused for its role, its origin or its route).
    const who = req.audit?.who ?? (p ? (p.kind === 'user' ? p.name : p.kind === 'offer' ? `offer-consumer@${p.offerModel}.${p.offerName}` : `machine-${p.machine.id}@${p.machine.model}`) : svc.auth.identify(req.headers.authorization ?? cookieCredential(req.headers.cookie)));
    const what = req.audit?.summary ?? paramSummary(req);
    const why = refused && req.audit?.error ? req.audit.error : '';
    try {
      svc.audit.record({
        at: Date.now(),
        user: who,
        address: req.ip ?? '',
        method: req.method,
        route: req.routeOptions.url ?? req.url.split('?')[0]!.slice(0, 200),
        model: requestModel(req) ?? '',
        summary: [what, why].filter(Boolean).join(': '),
        status,
      });
    } catch (e) {
      svc.log.error('audit record failed', { err: String(e) });
    }
  });
}

/**
 * A refused WebSocket stream, for the trail (the upgrade never reaches a route). `credential`
 * is what the check was given; without one (a cookie from a foreign origin, or on a stream
 * that ignores cookies), the session cookie still names who it came with.
 */
export function auditRefusedStream(svc: Services, req: IncomingMessage, credential: string | undefined, url: URL, status: number, err: unknown): void {
  try {
    svc.audit.record({
      at: Date.now(),
      user: svc.auth.identify(credential ?? cookieCredential(req.headers.cookie)),
      address: req.socket.remoteAddress ?? '',
      method: 'WS',
      route: url.pathname.slice(0, 200),
      model: url.searchParams.get('model') ?? '',
      summary: isSigilError(err) ? err.message : 'refused',
      status,
    });
  } catch (e) {
    svc.log.error('audit record failed', { err: String(e) });
  }
}
