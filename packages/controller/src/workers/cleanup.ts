import { Reads } from '../domain/rows.ts';
import { Models } from '../domain/models.ts';
import { SecretRepository } from '../state/secrets.ts';
import { StorageRepository } from '../state/storage.ts';
import { StorageService } from '../domain/storage.ts';
import { Offers } from '../domain/offers.ts';
import type { WorkerContext } from './context.ts';

/**
 * Removes what has finished dying: dead units (once their subordinates are gone), relations
 * nobody is in scope of, applications with no units left, machines created for units that
 * are gone, and destroyed models once empty.
 */
export function cleanup(ctx: WorkerContext): void {
  const { store } = ctx;
  const reads = new Reads(store);
  const db = store.db;
  for (const { name: model, life } of db.prepare('SELECT name, life FROM models').all() as { name: string; life: string }[]) {
    store.tx(() => {
      const units = reads.units(model);
      const principals = new Set(units.map((x) => x.principal));
      for (const u of units) {
        if (u.life !== 'dead' || principals.has(u.name)) continue;
        for (const id of new StorageService(store).unitGone(model, u.name)) ctx.provider.destroyStorage?.(model, id).catch((e: unknown) => ctx.log.warn('storage data not removed', { model, id, error: String(e) }));
        db.prepare('DELETE FROM units WHERE model = ? AND name = ?').run(model, u.name);
        db.prepare("UPDATE applications SET leader = NULL WHERE model = ? AND leader = ?").run(model, u.name);
        store.changed(model, 'unit', u.name, 'remove');
        store.changed(model, 'application', u.app);
      }
      const remaining = reads.units(model);
      // A relation across models dies with its counterpart; a removed one's link goes.
      const offers = new Offers(store);
      offers.syncLinks(model);
      for (const r of reads.relations(model)) {
        const scoped = (db.prepare('SELECT COUNT(*) AS n FROM relation_scopes WHERE model = ? AND relation_id = ?').get(model, r.id) as { n: number }).n;
        const appsGone = r.endpoints.every((e) => !reads.app(model, e.app) || reads.app(model, e.app)!.life !== 'alive');
        if ((r.life === 'dying' || appsGone) && scoped === 0) {
          db.prepare('DELETE FROM relations WHERE model = ? AND id = ?').run(model, r.id);
          db.prepare('DELETE FROM relation_settings WHERE model = ? AND relation_id = ?').run(model, r.id);
          store.changed(model, 'relation', String(r.id), 'remove');
          offers.touchPeer(model, r.id);
          for (const e of r.endpoints) store.changed(model, 'application', e.app);
        }
      }
      for (const a of reads.apps(model)) {
        if (a.life === 'alive' || remaining.some((u) => u.app === a.name)) continue;
        if (reads.relations(model).some((r) => r.endpoints.length === 2 && r.endpoints.some((e) => e.app === a.name))) continue;
        for (const r of reads.relations(model)) {
          if (r.endpoints.length === 1 && r.endpoints[0]!.app === a.name) {
            db.prepare('DELETE FROM relations WHERE model = ? AND id = ?').run(model, r.id);
            db.prepare('DELETE FROM relation_settings WHERE model = ? AND relation_id = ?').run(model, r.id);
            db.prepare('DELETE FROM relation_scopes WHERE model = ? AND relation_id = ?').run(model, r.id);
          }
        }
        db.prepare('DELETE FROM applications WHERE model = ? AND name = ?').run(model, a.name);
        store.changed(model, 'application', a.name, 'remove');
      }
      // Secrets go with their owners; grants and pins with the units and applications they name.
      new SecretRepository(store).pruneOrphans(model);
      new StorageRepository(store).pruneApps(model);
      const occupied = new Set(remaining.map((u) => u.machine));
      for (const m of reads.machines(model)) {
        if (m.life === 'alive' && m.autoRemove && m.instanceId !== null && !occupied.has(m.id)) {
          db.prepare("UPDATE machines SET life = 'dying' WHERE model = ? AND id = ?").run(model, m.id);
          store.changed(model, 'machine', m.id);
        }
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
}
