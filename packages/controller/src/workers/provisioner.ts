import { containerHost, formatDuration } from '@sigil/core';
import { AGENT_AWAY, Machines } from '../domain/machines.ts';
import { Models } from '../domain/models.ts';
import { Reads, type MachineRow } from '../state/rows.ts';
import type { Change } from '../store/store.ts';
import type { WorkerContext } from './context.ts';

/** What the provisioner knows about one machine when it decides. */
export interface MachineFacts {
  /** Created by the provider, enlisted by its owner (sigil enlist), or a container on another machine. */
  kind: 'provider' | 'enlisted' | 'container';
  life: string;
  hasInstance: boolean;
  status: string;
  /** Units on it (and, for an enlisted host, containers). */
  occupied: boolean;
  connected: boolean;
  modelAlive: boolean;
  /** An enlisted machine removed with --force. */
  forced: boolean;
  /** A container whose host's agent is gone and cannot destroy it. */
  hostGone: boolean;
  /** The provider restarts dead agents whenever found (local-process), or only once after start (LXC). */
  restartsDeadAgents: boolean;
  ensuredSinceStart: boolean;
  /** `migrate-agents` is stopping its agent and starting it with a new address right now. */
  repointing: boolean;
  host?: string;
}

export type MachineAction =
  | { do: 'none' }
  | { do: 'create' }
  | { do: 'ensure-running' }
  /** The provider destroys the instance, then the row goes. */
  | { do: 'destroy' }
  /** The row goes; nothing is left for the controller to destroy. */
  | { do: 'forget'; log: string }
  | { do: 'status'; current: string; message: string };

/**
 * The provisioner's decision for one machine, from facts alone. A provider machine is
 * created while it has no instance, kept running, and destroyed once dying with no unit
 * left. An enlisted host is never created, restarted or destroyed by the controller: its
 * agent runs under the host's own init and uninstalls itself when it sees its machine dying
 * with no unit left (then `POST /api/agent/uninstalled` deletes the row); only a forced
 * removal (or a destroyed model) whose agent is not connected, so cannot uninstall, drops
 * the row at once, leaving the host as it is. A container (`N/lxc/M`) is created and
 * destroyed by its host's agent; the provisioner only marks it running once its agent
 * connects, and forgets a dying one that was never created or whose host cannot destroy it.
 */
export function decideMachine(f: MachineFacts): MachineAction {
  const alive = f.life === 'alive';
  switch (f.kind) {
    case 'enlisted': {
      if (alive) return f.connected && f.status !== 'running' ? { do: 'status', current: 'running', message: 'running' } : { do: 'none' };
      if (f.occupied) return { do: 'none' };
      if ((f.forced || !f.modelAlive) && !f.connected) return { do: 'forget', log: 'enlisted machine forgotten' };
      return f.status === 'stopping' ? { do: 'none' } : { do: 'status', current: 'stopping', message: 'the agent is uninstalling itself' };
    }
    case 'container': {
      if (alive) return f.hasInstance && f.connected && f.status !== 'running' ? { do: 'status', current: 'running', message: 'running' } : { do: 'none' };
      if (f.occupied) return { do: 'none' };
      if (!f.hasInstance || f.hostGone) return { do: 'forget', log: 'container forgotten' };
      return f.status === 'stopping' ? { do: 'none' } : { do: 'status', current: 'stopping', message: `machine ${f.host} is destroying the container` };
    }
    case 'provider': {
      if (alive && !f.hasInstance) return { do: 'create' };
      if (alive) return !f.connected && !f.repointing && (f.restartsDeadAgents || !f.ensuredSinceStart) ? { do: 'ensure-running' } : { do: 'none' };
      return f.occupied ? { do: 'none' } : { do: 'destroy' };
    }
  }
}

/** A machine's key in the provisioner's queue: `model/id` (ids may hold slashes, models not). */
export const machineKey = (model: string, id: string) => `${model}/${id}`;

function splitKey(key: string): { model: string; id: string } {
  const i = key.indexOf('/');
  return { model: key.slice(0, i), id: key.slice(i + 1) };
}

/**
 * The machines a committed change concerns: the machine itself (and a container's host); a
 * unit's machine, and the model's dying machines (a unit gone may free one to be
 * destroyed; the model's machines are read once per commit); every machine of a model whose
 * life changed. Status reports concern none.
 */
export function machineKeysOf(ctx: WorkerContext, changes: readonly Change[]): string[] {
  const reads = new Reads(ctx.store);
  const keys = new Set<string>();
  const dyingDone = new Set<string>();
  const dying = (model: string) => {
    if (dyingDone.has(model)) return;
    dyingDone.add(model);
    for (const m of reads.machines(model)) if (m.life !== 'alive') keys.add(machineKey(model, m.id));
  };
  for (const c of changes) {
    if (c.op === 'status') continue;
    if (c.kind === 'machine') {
      keys.add(machineKey(c.model, c.key));
      // A container coming or going may free its (enlisted) host to be removed.
      const host = containerHost(c.key);
      if (host !== undefined) keys.add(machineKey(c.model, host));
    } else if (c.kind === 'model') {
      for (const m of reads.machines(c.model)) keys.add(machineKey(c.model, m.id));
    } else if (c.kind === 'unit') {
      const machine = reads.unit(c.model, c.key)?.machine;
      if (machine) keys.add(machineKey(c.model, machine));
      dying(c.model);
    }
  }
  return [...keys];
}

/** The machines an agent coming or going concerns: its own, and the containers it hosts. */
export function presenceKeys(ctx: WorkerContext, model: string, id: string): string[] {
  return [machineKey(model, id), ...new Machines(ctx.store).containersOf(model, id).map((m) => machineKey(model, m.id))];
}

export const allMachineKeys = (ctx: WorkerContext): string[] => new Reads(ctx.store).machines().map((m) => machineKey(m.model, m.id));

/**
 * The machines whose agents are not connected: what the short resync of a provider that
 * restarts dead agents looks at. A connected machine has nothing to restart, and its agent
 * leaving wakes its key; so the cost of the resync follows the absent agents, not the model.
 */
export const absentMachineKeys = (ctx: WorkerContext): string[] => new Reads(ctx.store).machines().filter((m) => !ctx.connected(m.model, m.id)).map((m) => machineKey(m.model, m.id));

/**
 * Converges one machine: creates an instance for a machine that has none, keeps a
 * provisioned machine's agent running (and explains one that stays away), destroys a dying
 * machine once no principal unit is left on it. Each machine is its own key, so ten new
 * machines boot together and a slow create holds up no other machine.
 */
export async function provisionMachine(ctx: WorkerContext, key: string): Promise<void> {
  const { model, id } = splitKey(key);
  const reads = new Reads(ctx.store);
  const machines = new Machines(ctx.store);
  const m = reads.machine(model, id);
  if (!m) return;
  const enlisted = machines.enlisted.get(model, id);
  const host = containerHost(id);
  const modelAlive = new Models(ctx.store).life(model) === 'alive';
  const kind = enlisted ? 'enlisted' : host !== undefined ? 'container' : 'provider';
  const hostEnlisted = host === undefined ? undefined : machines.enlisted.get(model, host);
  const action = decideMachine({
    kind,
    life: m.life,
    hasInstance: m.instanceId !== null,
    status: m.status.current,
    occupied: reads.unitsOn(model, id).length > 0 || (kind === 'enlisted' && machines.containersOf(model, id).length > 0),
    connected: ctx.connected(model, id),
    modelAlive,
    forced: enlisted?.forceRemove === true,
    hostGone: host !== undefined && !ctx.connected(model, host) && (!modelAlive || hostEnlisted?.forceRemove === true || !hostEnlisted),
    restartsDeadAgents: ctx.provider.restartsDeadAgents,
    ensuredSinceStart: ctx.ensuredAtStart.has(key),
    repointing: ctx.repointing.has(key),
    ...(host === undefined ? {} : { host }),
  });
  switch (action.do) {
    case 'create': {
      const token = machines.issueToken(model, id);
      try {
        machines.setStatus(model, id, 'allocating', 'creating machine');
        const inst = await ctx.provider.create({ model, id, constraints: m.constraints, controllerUrl: ctx.controllerUrl, ...(ctx.controllerUrls ? { controllerUrls: ctx.controllerUrls() } : {}), caCert: ctx.caCert, token });
        machines.provisioned(model, id, inst);
        ctx.log.info('machine provisioned', { model, machine: id, address: inst.address });
      } catch (e) {
        machines.setStatus(model, id, 'provisioning error', String((e as Error).message));
        // The queue logs it and tries again with backoff.
        throw e;
      }
      return;
    }
    case 'ensure-running':
      await ctx.provider.ensureRunning(model, id);
      break;
    case 'destroy':
      await ctx.provider.destroy(model, id);
      machines.delete(model, id);
      ctx.log.info('machine removed', { model, machine: id });
      return;
    case 'forget':
      machines.delete(model, id);
      ctx.log.info(action.log, { model, machine: id, created: m.instanceId !== null });
      return;
    case 'status':
      machines.setStatus(model, id, action.current, action.message);
      return;
    case 'none':
      break;
  }
  if (kind === 'provider' && m.life === 'alive') {
    ctx.ensuredAtStart.add(key);
    explainAbsence(ctx, machines, m);
  }
}

/** How long a provisioned machine's agent may stay away before the provider is asked why. */
export const AGENT_SILENCE_MS = 3 * 60_000;

/**
 * A provisioned machine whose agent has not connected for AGENT_SILENCE_MS (never, or not
 * since it left) gets the provider's account of why in its machine status, renewed as often,
 * and a warning in the controller's log: the container's state, the agent service's, the
 * agent's last words. The message goes once the agent is back. The provider is asked in the
 * background (it may attach into a wedged container), so no other machine waits on it.
 */
export function explainAbsence(ctx: WorkerContext, machines: Machines, m: MachineRow, now = Date.now()): void {
  const key = `${m.model}/${m.id}`;
  const explained = m.status.current === 'running' && m.status.message.startsWith(AGENT_AWAY);
  if (ctx.connected(m.model, m.id)) {
    if (explained) machines.setStatus(m.model, m.id, 'running', 'running');
    return;
  }
  if (m.status.current !== 'running' || ctx.diagnosing.has(key)) return;
  if (ctx.awayMs(m.model, m.id) < AGENT_SILENCE_MS || now - m.status.since < AGENT_SILENCE_MS) return;
  const awaySince = explained ? Number(m.status.data?.awaySince ?? m.status.since) : Math.max(m.status.since, now - ctx.awayMs(m.model, m.id));
  const away = formatDuration(now - awaySince);
  ctx.diagnosing.add(key);
  void ctx.provider.diagnose(m.model, m.id).then((why) => {
    if (ctx.connected(m.model, m.id)) return;
    const message = `${AGENT_AWAY} for ${away}: ${why}`;
    machines.setStatus(m.model, m.id, 'running', message, { awaySince });
    ctx.log.warn('machine agent not connected', { model: m.model, machine: m.id, why });
  }).catch((e: unknown) => {
    ctx.log.error('explaining an absent agent failed', { model: m.model, machine: m.id, err: String(e) });
  }).finally(() => ctx.diagnosing.delete(key));
}
