import { createHash, randomBytes } from 'node:crypto';
import { SigilError } from '@sigil/core';
import type { Store } from '../store/store.ts';
import { Reads, status, type MachineRow } from './rows.ts';
import { Models } from './models.ts';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class Machines {
  private readonly reads: Reads;
  private readonly models: Models;

  constructor(private readonly s: Store) {
    this.reads = new Reads(s);
    this.models = new Models(s);
  }

  add(model: string, opts: { constraints: string; autoRemove: boolean }): MachineRow {
    return this.s.tx(() => {
      this.models.mustBeAlive(model);
      const id = this.models.nextMachineId(model);
      this.s.db
        .prepare('INSERT INTO machines (model, id, life, status, constraints, auto_remove, created) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(model, id, 'alive', JSON.stringify(status('pending')), opts.constraints, opts.autoRemove ? 1 : 0, Date.now());
      this.s.changed(model, 'machine', id);
      return this.reads.machine(model, id)!;
    });
  }

  /**
   * Issues the machine's agent credential before the instance starts. Only the hash is
   * stored; the token goes to the machine and nowhere else.
   */
  issueToken(model: string, id: string): string {
    const token = randomBytes(24).toString('base64url');
    this.s.tx(() => {
      this.s.db.prepare('UPDATE machines SET token_hash = ? WHERE model = ? AND id = ?').run(hashToken(token), model, id);
    });
    return token;
  }

  provisioned(model: string, id: string, info: { instanceId: string; address: string; hostname: string }): void {
    this.s.tx(() => {
      this.s.db
        .prepare('UPDATE machines SET instance_id = ?, address = ?, hostname = ?, status = ? WHERE model = ? AND id = ?')
        .run(info.instanceId, info.address, info.hostname, JSON.stringify(status('running', 'running')), model, id);
      this.s.changed(model, 'machine', id);
    });
  }

  setStatus(model: string, id: string, current: string, message = ''): void {
    this.s.tx(() => {
      this.s.db.prepare('UPDATE machines SET status = ? WHERE model = ? AND id = ?').run(JSON.stringify(status(current, message)), model, id);
      this.s.changed(model, 'machine', id);
    });
  }

  remove(model: string, id: string, force: boolean): void {
    this.s.tx(() => {
      const m = this.reads.machine(model, id);
      if (!m) throw new SigilError('not-found', `machine "${id}" not found`, 'see `sigil status` for the machines in this model');
      const units = this.reads.units(model).filter((u) => u.machine === id && u.principal === null);
      if (units.length > 0 && !force) {
        throw new SigilError('conflict', `machine ${id} has units: ${units.map((u) => u.name).join(', ')}`, 'remove the units first, or pass --force');
      }
      // --force does the agents' work for them (the machine may be dead): its units, and
      // their subordinates, leave their relations and are dead at once.
      const all = this.reads.units(model).filter((u) => u.machine === id);
      for (const u of force ? all : units) {
        this.s.db.prepare('UPDATE units SET life = ? WHERE model = ? AND name = ?').run(force ? 'dead' : 'dying', model, u.name);
        if (force) this.s.db.prepare('DELETE FROM relation_scopes WHERE model = ? AND unit = ?').run(model, u.name);
        if (u.principal === null && u.life === 'alive') this.s.db.prepare('UPDATE applications SET scale = MAX(scale - 1, 0) WHERE model = ? AND name = ?').run(model, u.app);
        this.s.changed(model, 'unit', u.name);
      }
      this.s.db.prepare("UPDATE machines SET life = 'dying' WHERE model = ? AND id = ?").run(model, id);
      this.s.changed(model, 'machine', id);
    });
  }

  /** The machine a token belongs to, for agent authentication. */
  byToken(token: string): MachineRow | undefined {
    const r = this.s.db.prepare('SELECT model, id FROM machines WHERE token_hash = ?').get(hashToken(token)) as { model: string; id: string } | undefined;
    return r && this.reads.machine(r.model, r.id);
  }

  delete(model: string, id: string): void {
    this.s.tx(() => {
      this.s.db.prepare('DELETE FROM machines WHERE model = ? AND id = ?').run(model, id);
      this.s.changed(model, 'machine', id, 'remove');
    });
  }
}
