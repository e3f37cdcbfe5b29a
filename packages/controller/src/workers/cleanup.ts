import { Reads } from '../state/rows.ts';
import { Models } from '../domain/models.ts';
import { LifecycleRepository } from '../state/lifecycle.ts';
import { SecretRepository } from '../state/secrets.ts';
import { StorageRepository } from '../state/storage.ts';
import { StorageService } from '../domain/storage.ts';
import { Offers } from '../domain/offers.ts';
import type { WorkerContext } from './context.ts';

/**
 * Removes what has finished dying in one model: dead units (once their subordinates are
 * gone), relations nobody is in scope of, applications with no units left, machines created
 * for units that are gone, and the model itself once destroyed and empty.
 */
export function cleanup(ctx: WorkerContext, model: string): void {
  const { store } = ctx;
  const reads = new Reads(store);
  const rows = new LifecycleRepository(store);
  const life = new Models(store).life(model);
  if (life === undefined) return;
  store.tx(() => {
    const units = reads.units(model);
    const principals = new Set(units.map((x) => x.principal));
    for (const u of units) {
      if (u.life !== 'dead' || principals.has(u.name)) continue;
      for (const id of new StorageService(store).unitGone(model, u.name)) ctx.provider.destroyStorage?.(model, id).catch((e: unknown) => ctx.log.warn('storage data not removed', { model, id, error: String(e) }));
      rows.removeUnit(model, u.name, u.app);
    }
    const remaining = reads.units(model);
    // A relation across models dies with its counterpart; a removed one's link goes.
    const offers = new Offers(store);
    offers.syncLinks(model);
    for (const r of reads.relations(model)) {
      const appsGone = r.endpoints.every((e) => reads.app(model, e.app)?.life !== 'alive');
      if ((r.life === 'dying' || appsGone) && rows.inScope(model, r.id) === 0) {
        rows.removeRelation(model, r.id);
        offers.touchPeer(model, r.id);
        for (const e of r.endpoints) store.changed(model, 'application', e.app);
      }
    }
    for (const a of reads.apps(model)) {
      if (a.life === 'alive' || remaining.some((u) => u.app === a.name)) continue;
      const relations = reads.relations(model);
      if (relations.some((r) => r.endpoints.length === 2 && r.endpoints.some((e) => e.app === a.name))) continue;
      for (const r of relations) if (r.endpoints.length === 1 && r.endpoints[0]!.app === a.name) rows.removeRelation(model, r.id);
      rows.removeApplication(model, a.name);
    }
    // Secrets go with their owners; grants and pins with the units and applications they name.
    new SecretRepository(store).pruneOrphans(model);
    new StorageRepository(store).pruneApps(model);
    const occupied = new Set(remaining.map((u) => u.machine));
    for (const m of reads.machines(model)) {
      if (m.life === 'alive' && m.autoRemove && m.instanceId !== null && !occupied.has(m.id)) rows.markMachineDying(model, m.id);
    }
  });
  if (life === 'dying' && reads.machines(model).length === 0 && reads.units(model).length === 0) {
    store.tx(() => {
      new SecretRepository(store).deleteModel(model);
      new StorageRepository(store).deleteModel(model);
      new Models(store).remove(model);
    });
    ctx.log.info('model removed', { model });
  }
}
