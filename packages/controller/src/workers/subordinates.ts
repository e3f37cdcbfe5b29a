import { Reads } from '../state/rows.ts';
import { Units } from '../domain/units.ts';
import { LifecycleRepository } from '../state/lifecycle.ts';
import type { WorkerContext } from './context.ts';

/**
 * For every alive container-scoped relation of a model, each alive principal unit has one
 * unit of the subordinate application beside it. A subordinate whose principal is dying, or
 * whose relations to it are gone, becomes dying.
 */
export function ensureSubordinates(ctx: WorkerContext, model: string): void {
  const reads = new Reads(ctx.store);
  const unitsDomain = new Units(ctx.store);
  const apps = new Map(reads.apps(model).map((a) => [a.name, a]));
  const subordinateApps = new Set([...apps.values()].filter((a) => reads.charm(model, a.charmUrl).charm.meta.subordinate).map((a) => a.name));
  const units = reads.units(model);
  const wanted = new Set<string>(); // "sub-app|principal-unit"
  for (const r of reads.relations(model)) {
    if (r.life !== 'alive' || r.endpoints.length !== 2 || r.endpoints[0]!.scope !== 'container') continue;
    const sub = r.endpoints.find((e) => subordinateApps.has(e.app));
    const principal = r.endpoints.find((e) => e !== sub);
    if (!sub || !principal || subordinateApps.has(principal.app) || apps.get(sub.app)?.life !== 'alive') continue;
    for (const p of units) if (p.app === principal.app && p.life === 'alive' && p.principal === null) wanted.add(`${sub.app}|${p.name}`);
  }
  for (const key of wanted) {
    const [subApp, principalName] = key.split('|') as [string, string];
    if (units.some((u) => u.app === subApp && u.principal === principalName)) continue;
    const principal = units.find((u) => u.name === principalName)!;
    const name = unitsDomain.addSubordinate(model, subApp, principal);
    ctx.log.info('subordinate unit added', { model, unit: name, principal: principalName });
  }
  for (const u of units) {
    if (u.principal === null || u.life !== 'alive' || wanted.has(`${u.app}|${u.principal}`)) continue;
    ctx.store.tx(() => new LifecycleRepository(ctx.store).markUnitDying(model, u.name));
  }
}
