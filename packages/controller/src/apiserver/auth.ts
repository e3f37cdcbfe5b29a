import { type Access, type Role, type UserRole, userRoleAdmits } from '@sigil/api';
import { SigilError } from '@sigil/core';
import type { Machines } from '../domain/machines.ts';
import type { MachineRow } from '../state/rows.ts';
import type { IssuedToken, UserRepository } from '../state/users.ts';
import { LoginThrottle } from './gui-session.ts';
import type { OfferPrincipal } from '../domain/remote-offers.ts';

/**
 * Who is calling. A user carries its role on the model the request is about (`role`, set by
 * `authorize` for routes that name a model); a superuser holds admin on every model.
 */
export type Principal = { kind: 'user'; name: string; superuser: boolean; role?: UserRole } | { kind: 'machine'; machine: MachineRow } | OfferPrincipal;

declare module 'fastify' {
  interface FastifyRequest {
    /** For the audit trail: who a refused or public call was from, and what it was about (never a body). */
    audit?: { who?: string | undefined; summary?: string | undefined; error?: string | undefined };
  }
}

/**
 * Two kinds of caller: users, each with a session token (issued at login, register or
 * bootstrap; stored only as a hash, 24 h, refreshable) and roles per model; and machine
 * agents, each with a credential issued for that machine only.
 *
 * STABLE for other parts (the GUI's cookie login), keep these names:
 * - `principalForToken(token)`: a raw session (or machine) token to its Principal, or a 401
 *   SigilError (`unauthorized`) saying why (unknown, expired, disabled user).
 * - `issueSession(user)`: a new session token for a user, `{token, expires}`.
 * - `authorize(access, 'Bearer ' + token, what, model)`: the route check, for a credential
 *   that came some other way than the Authorization header (a cookie).
 */
export class Authenticator {
  /**
   * The one password-guessing throttle: `POST /api/login` and the GUI's password login
   * count failures against the same name, so alternating them gains an attacker nothing.
   */
  readonly loginThrottle = new LoginThrottle();

  constructor(
    private readonly users: UserRepository,
    private readonly machines: Machines,
    /** A consuming controller's credential for one offer (offers across controllers). */
    private readonly offerToken: (token: string) => OfferPrincipal | undefined = () => undefined,
  ) {}

  /**
   * The caller for a raw token (no `Bearer ` prefix). Throws `unauthorized` (401).
   * `machineFirst`: on a route agents call, a machine's credential is looked up first (one
   * store read per agent request instead of two); the answer is the same either way.
   */
  principalForToken(token: string, machineFirst = false): Principal {
    if (machineFirst) {
      const machine = this.machines.byToken(token);
      if (machine) return { kind: 'machine', machine };
    }
    const found = this.users.lookupSession(token);
    if (found.ok) return { kind: 'user', name: found.user.name, superuser: found.user.superuser };
    if (found.reason === 'expired') {
      throw new SigilError('unauthorized', `the session token of user "${found.user}" expired at ${new Date(found.expired).toISOString()}`, `log in again: \`sigil login -u ${found.user}\``);
    }
    if (found.reason === 'disabled') {
      throw new SigilError('unauthorized', `user "${found.user}" is disabled`, `ask a controller admin to run \`sigil enable-user ${found.user}\``);
    }
    const machine = machineFirst ? undefined : this.machines.byToken(token);
    if (machine) return { kind: 'machine', machine };
    const offer = this.offerToken(token);
    if (offer) return offer;
    throw new SigilError('unauthorized', 'invalid credentials: this token is not known to the controller (logged out, replaced, or from another controller)', 'log in again with `sigil login -u NAME`');
  }

  /** A new session token for `user` (24 h); see UserRepository.issueSession. */
  issueSession(user: string): IssuedToken {
    return this.users.issueSession(user);
  }

  authenticate(header: string | undefined, machineFirst = false): Principal {
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (!token) throw new SigilError('unauthorized', 'request without credentials', 'log in with `sigil login -u NAME` (or register with the string `sigil add-user` printed); the CLI keeps the token in $SIGIL_HOME/accounts.yaml');
    return this.principalForToken(token, machineFirst);
  }

  /** Who a credential names, for the audit trail of a refused call: a user even when expired or disabled. */
  identify(header: string | undefined): string {
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (!token) return '-';
    const found = this.users.lookupSession(token);
    if (found.ok) return found.user.name;
    if (found.reason !== 'unknown') return found.user;
    const m = this.machines.byToken(token);
    return m ? `machine-${m.id}@${m.model}` : '-';
  }

  /**
   * The one authorisation check, on the route the request *matched* (its declared access
   * from ROUTE_ACCESS), never on the URL's text. `model` is the model the request is about
   * (the route's `:model`, or `?model=` for streams): a user's role *there* decides. A request
   * that matched no route still needs a credential, and a machine's credential is refused
   * outright, so probing paths tells an agent nothing. Returns the principal, or undefined
   * for a public route.
   */
  authorize(access: Access | undefined, header: string | undefined, what: string, model?: string): Principal | undefined {
    const roles: readonly Role[] = access === undefined ? [] : typeof access === 'string' ? [access] : access;
    if (roles.includes('public')) return undefined;
    const p = this.authenticate(header, roles.includes('agent'));
    if (p.kind === 'machine') {
      if (access !== undefined && roles.includes('agent')) return p;
      throw new SigilError('forbidden', `machine credentials cannot call ${what}`, 'a machine agent may only call the agent API');
    }
    if (p.kind === 'offer') {
      if (roles.includes('offer')) return p;
      throw new SigilError('forbidden', `an offer's credential cannot call ${what}`, 'a consuming controller may only exchange the relations of the offer it consumed');
    }
    if (roles.includes('offer') && !roles.some((r) => r !== 'offer')) {
      throw new SigilError('forbidden', `${what} is for consuming controllers only`, 'users relate to offers with `sigil integrate` on the consuming controller');
    }
    if (access === undefined || roles.includes('login')) return p;
    if (roles.includes('superuser')) {
      if (p.superuser) return p;
      throw new SigilError('forbidden', `user "${p.name}" may not call ${what}: it needs a controller superuser`, 'ask a controller admin (the bootstrap user `admin`) to do it');
    }
    const needed = roles.filter((r): r is UserRole => r === 'read' || r === 'write' || r === 'admin');
    if (needed.length === 0) throw new SigilError('forbidden', `${what} is for machine agents only`, 'users call the client API');
    if (p.superuser) return { ...p, role: 'admin' };
    if (model === undefined) {
      throw new SigilError('forbidden', `user "${p.name}" may not call ${what} for every model at once: only a controller superuser may`, 'name the model (`?model=NAME`)');
    }
    const role = this.users.roleOn(this.users.mustGet(p.name), model);
    if (role === undefined) {
      throw new SigilError('forbidden', `user "${p.name}" has no access to model "${model}"`, `ask a model admin to grant it: \`sigil grant ${p.name} read ${model}\``);
    }
    if (needed.some((r) => userRoleAdmits(role, r))) return { ...p, role };
    const least = needed[0]!;
    throw new SigilError('forbidden', `user "${p.name}" has ${role} access to model "${model}"; ${what} needs ${least} access`, `ask a model admin to grant it: \`sigil grant ${p.name} ${least} ${model}\``);
  }
}
