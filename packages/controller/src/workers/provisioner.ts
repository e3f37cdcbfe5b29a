import { Machines } from '../domain/machines.ts';
import { Reads } from '../domain/rows.ts';
import type { WorkerContext } from './context.ts';

/**
 * Creates instances for machines that have none, keeps provisioned machines' agents
 * running, and destroys dying machines once no principal unit is left on them. Machines
 * are handled concurrently: ten new machines boot together, not one after another.
 */
export async function provision(ctx: WorkerContext): Promise<void> {
  const reads = new Reads(ctx.store);
  const machines = new Machines(ctx.store);
  await Promise.all(reads.machines().map(async (m) => {
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
