import { containerHost, formatDuration } from '@sigil/core';
import { AGENT_AWAY, Machines } from '../domain/machines.ts';
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
      explainAbsence(ctx, machines, m);
    } else {
      const left = reads.unitsOn(m.model, m.id);
      if (left.length > 0) return;
      await ctx.provider.destroy(m.model, m.id);
      machines.delete(m.model, m.id);
      ctx.log.info('machine removed', { model: m.model, machine: m.id });
    }
  }));
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
