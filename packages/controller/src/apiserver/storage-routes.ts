import type { FastifyInstance } from 'fastify';
import {
  AgentStorageReport, MAX_RESOURCE_SIZE, ResourceUploadRequest, StorageAddRequest, StorageAttachRequest, StorageIdsRequest,
  type ResourceDoc, type StorageInstanceDoc, type StoragePoolDoc,
} from '@sigil/api';
import { SigilError } from '@sigil/core';
import { Type } from '@sinclair/typebox';
import type { Services } from '../services.ts';
import { agentUnit } from './secret-routes.ts';

type M = { Params: { model: string } };
type MA = { Params: { model: string; app: string } };

const ResourceFetch = Type.Object({ unit: Type.String({ minLength: 1, maxLength: 200 }), name: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });

/**
 * Storage and resources (issue 20). Client routes list and change storage instances and
 * upload resources; agent routes report what a unit's agent did with its storage and hand
 * a unit its application's resource content (never another application's).
 */
export function registerStorageRoutes(app: FastifyInstance, svc: Services): void {
  const model = (name: string) => svc.models.mustGet(name).name;

  app.get<M>('/api/models/:model/storage', async (req): Promise<{ storage: StorageInstanceDoc[] }> => ({ storage: svc.storage.list(model(req.params.model)) }));
  app.get<M>('/api/models/:model/storage-pools', async (): Promise<{ pools: StoragePoolDoc[] }> => ({ pools: svc.storage.pools() }));
  app.post<M & { Body: StorageAddRequest }>('/api/models/:model/storage/add', { schema: { body: StorageAddRequest } }, async (req) => {
    const ids = svc.storage.add(model(req.params.model), req.body.unit, req.body.directives);
    svc.wake();
    return { ids };
  });
  app.post<M & { Body: StorageAttachRequest }>('/api/models/:model/storage/attach', { schema: { body: StorageAttachRequest } }, async (req) => {
    svc.storage.attach(model(req.params.model), req.body.unit, req.body.ids);
    svc.wake();
    return { ok: true };
  });
  app.post<M & { Body: StorageIdsRequest }>('/api/models/:model/storage/detach', { schema: { body: StorageIdsRequest } }, async (req) => {
    svc.storage.detach(model(req.params.model), req.body.ids);
    svc.wake();
    return { ok: true };
  });
  app.post<M & { Body: StorageIdsRequest }>('/api/models/:model/storage/remove', { schema: { body: StorageIdsRequest } }, async (req) => {
    const m = model(req.params.model);
    for (const id of svc.storage.remove(m, req.body.ids, req.body.noDestroy === true)) await svc.destroyStorage(m, id);
    svc.wake();
    return { ok: true };
  });

  app.get<MA>('/api/models/:model/applications/:app/resources', async (req): Promise<{ resources: ResourceDoc[] }> => ({ resources: svc.resources.list(model(req.params.model), req.params.app) }));
  app.post<MA & { Body: ResourceUploadRequest }>('/api/models/:model/applications/:app/resources', { schema: { body: ResourceUploadRequest }, bodyLimit: Math.ceil(MAX_RESOURCE_SIZE * 4 / 3) + 4096 }, async (req) => {
    const who = req.principal.kind === 'user' ? req.principal.name : 'admin';
    const r = svc.resources.upload(model(req.params.model), req.params.app, req.body.name, Buffer.from(req.body.data, 'base64'), who);
    svc.wake();
    return r;
  });

  app.post<{ Body: AgentStorageReport }>('/api/agent/storage', { schema: { body: AgentStorageReport } }, async (req) => {
    const { model: m, unit } = agentUnit(req, svc, req.body.unit);
    svc.storage.report(m, unit.name, req.body.id, req.body.status, req.body.location, req.body.message ?? '');
    return { ok: true };
  });
  app.post<{ Body: { unit: string; name: string } }>('/api/agent/resources', { schema: { body: ResourceFetch } }, async (req) => {
    const { model: m, unit } = agentUnit(req, svc, req.body.unit);
    const { data, fingerprint } = svc.resources.content(m, unit.app, req.body.name);
    if (data.length > MAX_RESOURCE_SIZE) throw new SigilError('too-large', `resource "${req.body.name}" is too large`);
    return { fingerprint, data: data.toString('base64') };
  });
}
