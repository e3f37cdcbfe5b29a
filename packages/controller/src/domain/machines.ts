import { createHash, randomBytes } from 'node:crypto';
import { MachineAnnotationRepository } from '../state/machine-annotations.ts';
import { SigilError, containerHost, naturalCompare } from '@sigil/core';
import type { Store } from '../store/store.ts';
import { Reads, status, toMachine, type MachineRow } from './rows.ts';
import { Models } from './models.ts';
import { EnlistedRepository, type HostHardware } from '../state/enlisted.ts';

/** What `sigil add-machine ssh:…` registers once the host passed its checks. */
export interface EnlistRequestInfo {
  target: string;
  address: string;
  hostname: string;
  hardware: HostHardware;
  init: string;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** How a machine's status message that explains its agent's absence begins (the provisioner writes it). */
export const AGENT_AWAY = 'agent not connected';

export class Machines {
  private readonly reads: Reads;
  private readonly models: Models;
  readonly enlisted: EnlistedRepository;
  /** Prepared once: every agent request authenticates through it. */
  private byHash: ReturnType<Store['db']['prepare']> | undefined;

  constructor(private readonly s: Store) {
    this.reads = new Reads(s);
    this.models = new Models(s);
    this.enlisted = new EnlistedRepository(s);
  }

  /**
   * Registers an existing host as a machine and issues its agent credential, in one
   * transaction. The machine is provisioned already (its instance is the host, id
   * `manual:<address>` as in Juju); its agent connects once the CLI has installed it. The
   * token is returned to the enlisting client only, to be written on the host.
   */
  enlist(model: string, info: EnlistRequestInfo): { machine: MachineRow; token: string } {
    const token = randomBytes(24).toString('base64url');
    const machine = this.s.tx(() => {
      this.models.mustBeAlive(model);
      const other = this.enlisted.byTarget(info.target);
      if (other) throw new SigilError('already-exists', `${info.target} is already machine ${other.id} of model ${other.model}`, `remove it first with \`sigil remove-machine -m ${other.model} ${other.id}\``);
      const id = this.models.nextMachineId(model);
      this.s.db
        .prepare('INSERT INTO machines (model, id, life, status, constraints, auto_remove, created, instance_id, address, hostname, token_hash) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)')
        .run(model, id, 'alive', JSON.stringify(status('allocating', 'installing the agent over ssh')), '', Date.now(), `manual:${info.address}`, info.address, info.hostname, hashToken(token));
      this.enlisted.insert({ model, id, target: info.target, hardware: info.hardware, init: info.init });
      this.s.changed(model, 'machine', id);
      return this.reads.machine(model, id)!;
    });
    return { machine, token };
  }

  add(model: string, opts: { constraints: string; autoRemove: boolean; annotations?: Record<string, string> }): MachineRow {
    return this.s.tx(() => {
      this.models.mustBeAlive(model);
      const id = this.models.nextMachineId(model);
      this.s.db
        .prepare('INSERT INTO machines (model, id, life, status, constraints, auto_remove, created) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(model, id, 'alive', JSON.stringify(status('pending')), opts.constraints, opts.autoRemove ? 1 : 0, Date.now());
      if (opts.annotations !== undefined && Object.keys(opts.annotations).length > 0) {
        new MachineAnnotationRepository(this.s).insert(model, id, opts.annotations);
      }
      this.s.changed(model, 'machine', id);
      return this.reads.machine(model, id)!;
    });
  }

  /**
   * A new LXC container on machine `parent` (`add-machine lxc:N`, `--to lxc:N`): id
   * `N/lxc/M` as in Juju, M the host's next container number (never reused). The
   * container waits for its host's agent to create it (the controller never dials a
   * machine); a host that cannot hold containers is refused here, with the reason.
   */
  addContainer(model: string, parent: string, opts: { constraints: string; autoRemove: boolean }): MachineRow {
    return this.s.tx(() => {
      this.models.mustBeAlive(model);
      const host = this.reads.machine(model, parent);
      if (!host) throw new SigilError('not-found', `machine "${parent}" not found for placement lxc:${parent}`, 'use an existing machine id from `sigil status`, or add one with `sigil add-machine`');
      if (host.life !== 'alive') throw new SigilError('conflict', `machine "${parent}" is being removed`, 'place the container on a live machine');
      if (!this.enlisted.get(model, parent)) {
        throw new SigilError('bad-request', `machine ${parent} cannot hold containers: it is a machine of the controller's provider (an LXC container, or a process, on the controller's host), and Sigil's machine image has no LXC inside; nesting needs LXC in the machine and a container store that is not overlayfs`, 'enlist a host with `sigil add-machine ssh:USER@HOST` and place containers there (lxc:N); on this controller\'s host, `sigil add-machine` already makes each machine its own LXC container');
      }
      const seq = this.s.db.prepare('INSERT INTO container_sequences (model, host, next) VALUES (?, ?, 1) ON CONFLICT (model, host) DO UPDATE SET next = next + 1 RETURNING next - 1 AS n').get(model, parent) as { n: number };
      const id = `${parent}/lxc/${seq.n}`;
      this.s.db
        .prepare('INSERT INTO machines (model, id, life, status, constraints, auto_remove, created) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(model, id, 'alive', JSON.stringify(status('pending', `waiting for machine ${parent} to create the container`)), opts.constraints, opts.autoRemove ? 1 : 0, Date.now());
      this.s.changed(model, 'machine', id);
      this.s.changed(model, 'machine', parent);
      return this.reads.machine(model, id)!;
    });
  }

  /** The containers on machine `parent`, in id order (dying ones included). */
  containersOf(model: string, parent: string): MachineRow[] {
    return this.reads.containersUnder(model, parent).filter((m) => containerHost(m.id) === parent).sort((a, b) => naturalCompare(a.id, b.id));
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

  /** The machine's own status: a runtime field (a `status` change), which wakes no structural worker. */
  setStatus(model: string, id: string, current: string, message = '', data?: Record<string, unknown>): void {
    this.s.tx(() => {
      this.s.db.prepare('UPDATE machines SET status = ? WHERE model = ? AND id = ?').run(JSON.stringify(status(current, message, data ? { data } : {})), model, id);
      this.s.changed(model, 'machine', id, 'status');
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
      // As Juju: a host goes only after its containers, or with them under --force.
      const containers = this.containersOf(model, id);
      if (containers.some((c) => c.life === 'alive') && !force) {
        throw new SigilError('conflict', `machine ${id} is hosting containers ${containers.map((c) => c.id).join(', ')}`, `remove them first (\`sigil remove-machine ${containers.map((c) => c.id).join(' ')}\`), or pass --force to remove them with the machine`);
      }
      for (const c of containers) if (c.life === 'alive' || force) this.remove(model, c.id, force);
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
      if (force) this.enlisted.markForce(model, id);
      this.s.changed(model, 'machine', id);
    });
  }

  /**
   * The machine a token belongs to, for agent authentication. A rotated credential's new
   * token is accepted beside the old one until its first use, which completes the rotation:
   * the new token becomes the machine's only credential and the old one stops working.
   */
  byToken(token: string): MachineRow | undefined {
    const hash = hashToken(token);
    const r = (this.byHash ??= this.s.db.prepare('SELECT * FROM machines WHERE token_hash = ?')).get(hash) as Parameters<typeof toMachine>[0] | undefined;
    if (r) return toMachine(r);
    const pending = this.s.db.prepare('SELECT model, machine AS id FROM credential_rotations WHERE pending_hash = ?').get(hash) as { model: string; id: string } | undefined;
    if (!pending) return undefined;
    this.s.tx(() => {
      this.s.db.prepare('UPDATE machines SET token_hash = ? WHERE model = ? AND id = ?').run(hash, pending.model, pending.id);
      this.s.db.prepare('DELETE FROM credential_rotations WHERE model = ? AND machine = ?').run(pending.model, pending.id);
      this.s.changed(pending.model, 'machine', pending.id);
    });
    return this.reads.machine(pending.model, pending.id);
  }

  /**
   * Asks the machine's agent to take a new credential (`sigil rotate-agent-credential`).
   * Nothing secret is stored or sent here: the agent sees the request in its machine view
   * and fetches the new token itself, over its authenticated connection (`newCredential`).
   */
  requestRotation(model: string, id: string): void {
    this.s.tx(() => {
      const m = this.reads.machine(model, id);
      if (!m) throw new SigilError('not-found', `machine "${id}" not found in model ${model}`, 'see `sigil status` for the machines in this model');
      if (m.life !== 'alive') throw new SigilError('conflict', `machine ${id} is ${m.life}`, 'only a live machine has an agent to take a new credential');
      const issued = this.s.db.prepare('SELECT token_hash FROM machines WHERE model = ? AND id = ?').get(model, id) as { token_hash: string | null };
      if (issued.token_hash === null) throw new SigilError('conflict', `machine ${id} has no credential yet`, 'wait until it is provisioned (`sigil status`)');
      this.s.db.prepare('INSERT OR REPLACE INTO credential_rotations (model, machine, requested, pending_hash) VALUES (?, ?, ?, NULL)').run(model, id, Date.now());
      this.s.changed(model, 'machine', id);
    });
  }

  /** Whether a requested rotation is still waiting for the agent to take (and use) its new credential. */
  rotationPending(model: string, id: string): boolean {
    return this.s.db.prepare('SELECT 1 FROM credential_rotations WHERE model = ? AND machine = ?').get(model, id) !== undefined;
  }

  /**
   * The new credential for a machine whose rotation was requested, for its agent only. Each
   * call replaces the previous pending token (an answer lost on the way is simply asked for
   * again); the old token keeps working until the new one is first used.
   */
  newCredential(model: string, id: string): string {
    const token = randomBytes(24).toString('base64url');
    this.s.tx(() => {
      const r = this.s.db.prepare('UPDATE credential_rotations SET pending_hash = ? WHERE model = ? AND machine = ?').run(hashToken(token), model, id);
      if (r.changes === 0) throw new SigilError('conflict', `no credential rotation was requested for machine ${id}`, 'an operator starts one with `sigil rotate-agent-credential`');
    });
    return token;
  }

  delete(model: string, id: string): void {
    this.s.tx(() => {
      this.s.db.prepare('DELETE FROM machines WHERE model = ? AND id = ?').run(model, id);
      this.s.db.prepare('DELETE FROM credential_rotations WHERE model = ? AND machine = ?').run(model, id);
      this.enlisted.delete(model, id);
      this.s.changed(model, 'machine', id, 'remove');
    });
  }
}
