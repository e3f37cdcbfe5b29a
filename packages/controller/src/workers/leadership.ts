import { naturalCompare } from '@sigil/core';
import { Reads } from '../domain/rows.ts';
import type { WorkerContext } from './context.ts';

/**
 * Every application with alive units has exactly one leader. A leader keeps the role until
 * its unit is dying or gone; then the lowest-numbered alive unit takes over (users cannot
 * pick the leader, as in Juju).
 */
export function elect(ctx: WorkerContext): void {
  const reads = new Reads(ctx.store);
  const models = ctx.store.db.prepare('SELECT name FROM models').all() as { name: string }[];
  for (const { name: model } of models) {
    const units = reads.units(model);
    for (const app of reads.apps(model)) {
      const alive = units.filter((u) => u.app === app.name && u.life === 'alive').sort((a, b) => naturalCompare(a.name, b.name));
      const current = alive.find((u) => u.name === app.leader);
      if (current) continue;
      const next = alive[0]?.name ?? null;
      if (next === app.leader) continue;
      ctx.store.tx(() => {
        ctx.store.db.prepare('UPDATE applications SET leader = ? WHERE model = ? AND name = ?').run(next, model, app.name);
        ctx.store.changed(model, 'application', app.name);
      });
      ctx.log.info('leader elected', { model, application: app.name, leader: next });
    }
  }
}
