import { timingSafeEqual, createHash } from 'node:crypto';
import { SigilError } from '@sigil/core';
import type { Machines } from '../domain/machines.ts';
import type { MachineRow } from '../domain/rows.ts';

export type Principal = { kind: 'admin' } | { kind: 'machine'; machine: MachineRow };

/**
 * Two kinds of caller: the admin user (the CLI, later the GUI) and machine agents, each
 * with a credential issued for that machine only. Agents cannot call client routes.
 */
export class Authenticator {
  constructor(private readonly adminTokenHash: string, private readonly machines: Machines) {}

  authenticate(header: string | undefined): Principal {
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (!token) throw new SigilError('unauthorized', 'request without credentials', 'the CLI sends the token stored in $SIGIL_HOME/accounts.yaml; re-run `sigil bootstrap` if it is missing');
    const h = createHash('sha256').update(token).digest();
    const admin = Buffer.from(this.adminTokenHash, 'hex');
    if (h.length === admin.length && timingSafeEqual(h, admin)) return { kind: 'admin' };
    const machine = this.machines.byToken(token);
    if (machine) return { kind: 'machine', machine };
    throw new SigilError('unauthorized', 'invalid credentials', 'the token does not match this controller; check $SIGIL_HOME/accounts.yaml');
  }
}
