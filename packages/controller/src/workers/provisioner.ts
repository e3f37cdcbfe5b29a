import { containerHost } from '@sigil/core';
import { Machines } from '../domain/machines.ts';
import { Models } from '../domain/models.ts';
import { Reads, type MachineRow } from '../domain/rows.ts';
import type { WorkerContext } from './context.ts';

/**
 * Creates instances for machines that have none, keeps provisioned machines' agents
 * running, and destroys dying machines once no principal unit is left on them. Machines
 * are handled concurrently: ten new machines boot together, not one after another.
 */
export async function provision(ctx: WorkerContext): Promise<void> {
  const reads = new Reads(ctx.store);
  const machines = new Machines(ctx.store);
  const models = new Models(ctx.store);
  await Promise.all(reads.machines().map(async (m) => {
    const enlisted = machines.enlisted.get(m.model, m.id);
    if (enlisted) {
      decideEnlisted(ctx, machines, m, enlisted.forceRemove || models.get(m.model)?.life !== 'alive', reads.units(m.model).some((u) => u.machine === m.id) || machines.containersOf(m.model, m.id).length > 0);
      return;
    }
    const host = containerHost(m.id);
    if (host !== undefined) {
      decideContainer(ctx, machines, m, host, reads.unitsOn(m.model, m.id).length > 0, models.get(m.model)?.life !== 'alive');
      return;
    }
    if (m.life === 'alive' && m.instanceId === null) {
      const token = machines.issueToken(m.model, m.id);
      try {
        machines.setStatus(m.model, m.id, 'allocating', 'creating machine');
        const inst = await ctx.provider.create({ model: m.model, id: m.id, constraints: m.constraints, controllerUrl: ctx.controllerUrl, caCert: ctx.caCert, token });
        machines.provisioned(m.model, m.id, inst);
        ctx.log.info('machine provisioned', { model: m.model, machine: m.id, address: inst.address });
      } catch (e) {
        machines.setStatus(m.model, m.id, 'provisioning error', String((e as Error).message));
        ctx.log.error('provisioning failed', { model: m.model, machine: m.id, err: String(e) });
      }
    } else if (m.life === 'alive') {
      const key = `${m.model}/${m.id}`;
      if (!ctx.connected(m.model, m.id) && (ctx.provider.restartsDeadAgents || !ctx.ensuredAtStart.has(key))) await ctx.provider.ensureRunning(m.model, m.id);
      ctx.ensuredAtStart.add(key);
    } else {
      const left = reads.unitsOn(m.model, m.id);
      if (left.length > 0) return;
      await ctx.provider.destroy(m.model, m.id);
      machines.delete(m.model, m.id);
      ctx.log.info('machine removed', { model: m.model, machine: m.id });
    }
  }));
}

/**
 * An enlisted host is never created, restarted or destroyed by the controller: its agent
 * runs under the host's own init, and uninstalls itself when it sees its machine dying with
 * no unit left (then `POST /api/agent/uninstalled` deletes the row). Only a forced removal
 * (or a destroyed model) whose agent is not connected, so cannot uninstall, drops the row
 * at once, leaving the host as it is.
 */
function decideEnlisted(ctx: WorkerContext, machines: Machines, m: MachineRow, forced: boolean, hasUnits: boolean): void {
  if (m.life === 'alive') {
    if (ctx.connected(m.model, m.id) && m.status.current !== 'running') machines.setStatus(m.model, m.id, 'running', 'running');
    return;
  }
  if (hasUnits) return;
  if (forced && !ctx.connected(m.model, m.id)) {
    machines.delete(m.model, m.id);
    ctx.log.info('enlisted machine forgotten', { model: m.model, machine: m.id });
  } else if (m.status.current !== 'stopping') {
    machines.setStatus(m.model, m.id, 'stopping', 'the agent is uninstalling itself');
  }
}

/**
 * A container (`N/lxc/M`) is created and destroyed by its host's agent, never by the
 * provider. The provisioner only marks it running once its agent connects, and forgets a
 * dying one that was never created, or whose host's agent is gone and cannot destroy it
 * (the host was removed with --force, or the model is being destroyed).
 */
function decideContainer(ctx: WorkerContext, machines: Machines, m: MachineRow, host: string, hasUnits: boolean, modelDying: boolean): void {
  if (m.life === 'alive') {
    if (m.instanceId !== null && ctx.connected(m.model, m.id) && m.status.current !== 'running') machines.setStatus(m.model, m.id, 'running', 'running');
    return;
  }
  if (hasUnits) return;
  const hostGone = !ctx.connected(m.model, host) && (modelDying || machines.enlisted.get(m.model, host)?.forceRemove === true || !machines.enlisted.get(m.model, host));
  if (m.instanceId === null || hostGone) {
    machines.delete(m.model, m.id);
    ctx.log.info('container forgotten', { model: m.model, machine: m.id, created: m.instanceId !== null });
  } else if (m.status.current !== 'stopping') {
    machines.setStatus(m.model, m.id, 'stopping', `machine ${host} is destroying the container`);
  }
}
