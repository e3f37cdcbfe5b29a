import { timingSafeEqual, createHash } from 'node:crypto';
import { type Access, type Role, type UserRole, userRoleAdmits } from '@sigil/api';
import { SigilError } from '@sigil/core';
import type { Machines } from '../domain/machines.ts';
import type { MachineRow } from '../domain/rows.ts';

export type Principal = { kind: 'user'; name: string; role: UserRole } | { kind: 'machine'; machine: MachineRow };

/**
 * Two kinds of caller: users (today the controller's admin, holding the admin role) and
 * machine agents, each with a credential issued for that machine only.
 */
export class Authenticator {
  constructor(private readonly adminTokenHash: string, private readonly machines: Machines) {}

  authenticate(header: string | undefined): Principal {
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (!token) throw new SigilError('unauthorized', 'request without credentials', 'the CLI sends the token stored in $SIGIL_HOME/accounts.yaml; re-run `sigil bootstrap` if it is missing');
    const h = createHash('sha256').update(token).digest();
    const admin = Buffer.from(this.adminTokenHash, 'hex');
    if (h.length === admin.length && timingSafeEqual(h, admin)) return { kind: 'user', name: 'admin', role: 'admin' };
    const machine = this.machines.byToken(token);
    if (machine) return { kind: 'machine', machine };
    throw new SigilError('unauthorized', 'invalid credentials', 'the token does not match this controller; check $SIGIL_HOME/accounts.yaml');
  }

  /**
   * The one authorisation check, on the route the request *matched* (its declared access
   * from ROUTE_ACCESS), never on the URL's text. A request that matched no route still
   * needs a credential, and a machine's credential is refused outright, so probing paths
   * tells an agent nothing. Returns the principal, or undefined for a public route.
   */
  authorize(access: Access | undefined, header: string | undefined, what: string): Principal | undefined {
    const roles: readonly Role[] = access === undefined ? [] : typeof access === 'string' ? [access] : access;
    if (roles.includes('public')) return undefined;
    const p = this.authenticate(header);
    if (access === undefined) {
      if (p.kind === 'machine') throw new SigilError('forbidden', `machine credentials cannot call ${what}`, 'a machine agent may only call the agent API');
      return p;
    }
    if (p.kind === 'machine') {
      if (roles.includes('agent')) return p;
      throw new SigilError('forbidden', `machine credentials cannot call ${what}`, 'a machine agent may only call the agent API');
    }
    const needed = roles.filter((r): r is UserRole => r === 'read' || r === 'write' || r === 'admin');
    if (needed.some((r) => userRoleAdmits(p.role, r))) return p;
    if (needed.length === 0) throw new SigilError('forbidden', `${what} is for machine agents only`, 'users call the client API');
    throw new SigilError('forbidden', `user ${p.name} (${p.role}) may not call ${what}: it needs ${needed.join(' or ')} access`, 'ask a model admin to grant you access');
  }
}
