import type { FastifyInstance } from 'fastify';
import { MAX_RESOURCE_SIZE } from '@sigil/api';
import { SigilError } from '@sigil/core';
import type { Services } from '../services.ts';
import { agentUnit } from './secret-routes.ts';
import { routes } from './contract.ts';

/**
 * Storage and resources (issue 20). Client routes list and change storage instances and
 * upload resources; agent routes report what a unit's agent did with its storage and hand
 * a unit its application's resource content (never another application's).
 */
export function registerStorageRoutes(app: FastifyInstance, svc: Services): void {
  const on = routes(app);
  const model = (name: string) => svc.models.mustGet(name).name;

  on('GET /api/models/:model/storage', async (req) => ({ storage: svc.storage.list(model(req.params.model)) }));
  on('GET /api/models/:model/storage-pools', async () => ({ pools: svc.storage.pools() }));
  on('POST /api/models/:model/storage/add', async (req) => {
    const ids = svc.storage.add(model(req.params.model), req.body.unit, req.body.directives);
    svc.wake();
    return { ids };
  });
  on('POST /api/models/:model/storage/attach', async (req) => {
    svc.storage.attach(model(req.params.model), req.body.unit, req.body.ids);
    svc.wake();
    return { ok: true };
  });
  on('POST /api/models/:model/storage/detach', async (req) => {
    svc.storage.detach(model(req.params.model), req.body.ids);
    svc.wake();
    return { ok: true };
  });
  on('POST /api/models/:model/storage/remove', async (req) => {
    const m = model(req.params.model);
    for (const id of svc.storage.remove(m, req.body.ids, req.body.noDestroy === true)) await svc.destroyStorage(m, id);
    svc.wake();
    return { ok: true };
  });

  on('GET /api/models/:model/applications/:app/resources', async (req) => ({ resources: svc.resources.list(model(req.params.model), req.params.app) }));
  on('POST /api/models/:model/applications/:app/resources', async (req) => {
    const who = req.principal.kind === 'user' ? req.principal.name : 'admin';
    const r = svc.resources.upload(model(req.params.model), req.params.app, req.body.name, Buffer.from(req.body.data, 'base64'), who);
    svc.wake();
    return r;
  }, { bodyLimit: Math.ceil(MAX_RESOURCE_SIZE * 4 / 3) + 4096 });

  on('POST /api/agent/storage', async (req) => {
    const { model: m, unit } = agentUnit(req, svc, req.body.unit);
    svc.storage.report(m, unit.name, req.body.id, req.body.status, req.body.location, req.body.message ?? '');
    return { ok: true };
  });
  on('POST /api/agent/resources', async (req) => {
    const { model: m, unit } = agentUnit(req, svc, req.body.unit);
    const { data, fingerprint } = svc.resources.content(m, unit.app, req.body.name);
    if (data.length > MAX_RESOURCE_SIZE) throw new SigilError('too-large', `resource "${req.body.name}" is too large`);
    return { fingerprint, data: data.toString('base64') };
  });
}
