import { createHash, randomBytes } from 'node:crypto';
import { MachineAnnotationRepository } from '../state/machine-annotations.ts';
import { SigilError, containerHost, naturalCompare } from '@sigil/core';
import type { Store } from '../store/store.ts';
import { Reads, status, type MachineRow } from '../state/rows.ts';
import { Models } from './models.ts';
import { EnlistedRepository, type HostHardware } from '../state/enlisted.ts';
import { MachineRepository } from '../state/machines.ts';
import { CredentialRotationRepository } from '../state/credential-rotations.ts';
import { UnitRepository } from '../state/units.ts';
import { ApplicationRepository } from '../state/applications.ts';
import { RelationRepository } from '../state/relations.ts';
import { LifecycleRepository } from '../state/lifecycle.ts';

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
  private readonly machines: MachineRepository;
  private readonly rotations: CredentialRotationRepository;
  private readonly units: UnitRepository;
  private readonly applications: ApplicationRepository;
  private readonly relations: RelationRepository;
  private readonly lifecycle: LifecycleRepository;

  constructor(private readonly s: Store) {
    this.reads = new Reads(s);
    this.models = new Models(s);
    this.enlisted = new EnlistedRepository(s);
    this.machines = new MachineRepository(s);
    this.rotations = new CredentialRotationRepository(s);
    this.units = new UnitRepository(s);
    this.applications = new ApplicationRepository(s);
    this.relations = new RelationRepository(s);
    this.lifecycle = new LifecycleRepository(s);
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
      this.machines.insertEnlisted(model, id, { status: status('allocating', 'installing the agent over ssh'), address: info.address, hostname: info.hostname, tokenHash: hashToken(token) });
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
      this.machines.insert(model, id, { status: status('pending'), constraints: opts.constraints, autoRemove: opts.autoRemove });
      if (opts.annotations !== undefined && Object.keys(opts.annotations).length > 0) {
        new MachineAnnotationRepository(this.s).insert(model, id, opts.annotations);
      }
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
      const id = `${parent}/lxc/${this.machines.nextContainer(model, parent)}`;
      this.machines.insert(model, id, { status: status('pending', `waiting for machine ${parent} to create the container`), constraints: opts.constraints, autoRemove: opts.autoRemove });
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
      this.machines.setTokenHash(model, id, hashToken(token));
    });
    return token;
  }

  provisioned(model: string, id: string, info: { instanceId: string; address: string; hostname: string }): void {
    this.s.tx(() => {
      this.machines.setProvisioned(model, id, { ...info, status: status('running', 'running') });
    });
  }

  /** The machine's own status: a runtime field (a `status` change), which wakes no structural worker. */
  setStatus(model: string, id: string, current: string, message = '', data?: Record<string, unknown>): void {
    this.s.tx(() => {
      this.machines.setStatus(model, id, status(current, message, data ? { data } : {}));
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
        this.units.setLife(model, u.name, force ? 'dead' : 'dying');
        if (force) this.relations.leaveAllScopes(model, u.name);
        if (u.principal === null && u.life === 'alive') this.applications.decrementScale(model, u.app);
      }
      this.lifecycle.markMachineDying(model, id);
      if (force) this.enlisted.markForce(model, id);
    });
  }

  /**
   * The machine a token belongs to, for agent authentication. A rotated credential's new
   * token is accepted beside the old one until its first use, which completes the rotation:
   * the new token becomes the machine's only credential and the old one stops working.
   */
  byToken(token: string): MachineRow | undefined {
    const hash = hashToken(token);
    const m = this.machines.byTokenHash(hash);
    if (m) return m;
    const pending = this.rotations.byPendingHash(hash);
    if (!pending) return undefined;
    this.s.tx(() => {
      this.machines.setTokenHash(pending.model, pending.id, hash);
      this.rotations.delete(pending.model, pending.id);
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
      if (this.machines.tokenHash(model, id) === null) throw new SigilError('conflict', `machine ${id} has no credential yet`, 'wait until it is provisioned (`sigil status`)');
      this.rotations.request(model, id);
      this.s.changed(model, 'machine', id);
    });
  }

  /** Whether a requested rotation is still waiting for the agent to take (and use) its new credential. */
  rotationPending(model: string, id: string): boolean {
    return this.rotations.pending(model, id);
  }

  /**
   * The new credential for a machine whose rotation was requested, for its agent only. Each
   * call replaces the previous pending token (an answer lost on the way is simply asked for
   * again); the old token keeps working until the new one is first used.
   */
  newCredential(model: string, id: string): string {
    const token = randomBytes(24).toString('base64url');
    this.s.tx(() => {
      if (!this.rotations.setPendingHash(model, id, hashToken(token))) throw new SigilError('conflict', `no credential rotation was requested for machine ${id}`, 'an operator starts one with `sigil rotate-agent-credential`');
    });
    return token;
  }

  delete(model: string, id: string): void {
    this.s.tx(() => {
      this.machines.delete(model, id);
      this.rotations.delete(model, id);
      this.enlisted.delete(model, id);
      this.s.changed(model, 'machine', id, 'remove');
    });
  }
}
