import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  ActionRequest, AddMachinesRequest, EnlistMachineRequest, type EnlistMachineResponse, AddUnitsRequest, CharmArchiveSchema, ConfigRequest, DeployRequest, ExecRequest,
  ExposeRequest, ModelRequest, NamesRequest, RelateRequest, ResolveRequest, AnnotationsRequest, ConstraintsRequest, type CharmUpload,
} from '@sigil/api';
import { SigilError } from '@sigil/core';
import type { Services } from '../services.ts';
import { buildStatus } from '../domain/status.ts';
import { waitReport } from '../domain/settle.ts';
import { bundleState } from '../domain/bundle-state.ts';
import { showUnit } from '../domain/show-unit.ts';
import { statusHistory } from '../domain/status-history.ts';
import { checkUnitCount } from '../domain/limits.ts';
import { MAX_CHARM_BODY } from './body-limits.ts';

type M = { Params: { model: string } };

/**
 * Client operations: every handler is one domain call; validation happens in the schemas and
 * the domain. Who may call each is declared in ROUTE_ACCESS (@sigil/api) and checked by the server.
 */
export function registerClientRoutes(app: FastifyInstance, svc: Services): void {
  const model = (name: string) => svc.models.mustGet(name).name;

  // A user sees the models it holds a role on (a superuser all of them), each with that role.
  const visible = (req: FastifyRequest) => {
    const p = req.principal;
    if (p?.kind !== 'user' || p.superuser) return svc.models.list().map((m) => ({ ...m, access: 'admin' }));
    const mine = svc.users.access(svc.users.mustGet(p.name));
    return svc.models.list().filter((m) => Object.hasOwn(mine, m.name)).map((m) => ({ ...m, access: mine[m.name]! }));
  };
  app.get('/api/controller', async (req) => ({ name: svc.controllerName, revision: svc.store.revision(), models: visible(req).map((m) => m.name), apiUrls: svc.apiUrls, aptCacheUrls: svc.aptCacheUrls, controllers: svc.controllers(), replica: svc.replicaId }));
  app.post('/api/controller/destroy', async () => {
    for (const m of svc.models.list()) svc.models.destroy(m.name);
    svc.wake();
    return { ok: true };
  });
  app.get('/api/models', async (req) => visible(req));
  app.post<{ Body: ModelRequest }>('/api/models', { schema: { body: ModelRequest } }, async (req) => svc.models.add(req.body.name));
  app.delete<M>('/api/models/:model', async (req) => {
    svc.models.destroy(model(req.params.model));
    svc.wake();
    return { ok: true };
  });
  app.get<M>('/api/models/:model/config', async (req) => svc.models.mustGet(req.params.model).config);
  app.post<M & { Body: Record<string, string> }>('/api/models/:model/config', { schema: { body: { type: 'object', additionalProperties: { type: 'string' } } } }, async (req) =>
    svc.models.setConfig(model(req.params.model), req.body));
  app.get<M & { Querystring: { apps?: string } }>('/api/models/:model/wait', async (req) =>
    waitReport(svc.store, model(req.params.model), (req.query.apps ?? '').split(',').filter(Boolean), svc.presence));
  app.get<M & { Querystring: { since?: string } }>('/api/models/:model/status', async (req) => svc.store.cachedReads(() => buildStatus(svc.store, model(req.params.model), svc.controllerName, { connected: (m, id) => svc.presence.connected(m, id), published: (m, u) => svc.publishedPorts(m, u) })));

  app.get<M & { Querystring: { name: string } }>('/api/models/:model/unit', async (req) => showUnit(svc.store, model(req.params.model), req.query.name ?? ''));
  app.get<M & { Querystring: { entity?: string; type?: string; n?: string } }>('/api/models/:model/status-history', async (req) =>
    statusHistory(svc.store, model(req.params.model), req.query.entity ?? '', req.query.type ?? 'unit', Number(req.query.n ?? '20')));
  app.get<M>('/api/models/:model/bundle-state', async (req) => bundleState(svc.store, model(req.params.model)));
  app.post<{ Params: { model: string; app: string }; Body: Record<string, string> }>('/api/models/:model/applications/:app/annotations', { schema: { body: AnnotationsRequest } }, async (req) => {
    svc.applications.setAnnotations(model(req.params.model), req.params.app, req.body);
    return { ok: true };
  });
  app.post<{ Params: { model: string; app: string }; Body: { constraints: string } }>('/api/models/:model/applications/:app/constraints', { schema: { body: ConstraintsRequest } }, async (req) => {
    svc.applications.setConstraints(model(req.params.model), req.params.app, req.body.constraints);
    return { ok: true };
  });
  app.post<M & { Body: CharmUpload }>('/api/models/:model/charms', { schema: { body: CharmArchiveSchema }, bodyLimit: MAX_CHARM_BODY }, async (req) => {
    const c = svc.charms.add(model(req.params.model), req.body);
    return { url: c.url, name: c.name, revision: c.revision, charm: c.charm };
  });
  app.post<M & { Body: DeployRequest }>('/api/models/:model/applications', { schema: { body: DeployRequest }, bodyLimit: MAX_CHARM_BODY }, async (req) => {
    const { resources, ...body } = req.body;
    const files = resources === undefined ? undefined : Object.fromEntries(Object.entries(resources).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
    const a = svc.applications.deploy({ model: model(req.params.model), ...body, ...(files ? { resources: files } : {}), username: req.principal.kind === 'user' ? req.principal.name : 'admin' });
    svc.wake();
    const charm = svc.reads.charm(a.model, svc.reads.mustApp(a.model, a.name).charmUrl);
    svc.notify({ kind: 'deploy', model: a.model, subject: a.name, outcome: 'ok', detail: `charm ${charm.name} revision ${charm.revision}, ${svc.reads.units(a.model, a.name).length} unit(s)`, by: req.principal.kind === 'user' ? req.principal.name : 'a machine' });
    return { name: a.name, units: svc.reads.units(a.model, a.name).map((u) => u.name) };
  });
  app.delete<M & { Params: { app: string }; Querystring: { destroyStorage?: string } }>('/api/models/:model/applications/:app', async (req) => {
    svc.applications.remove(model(req.params.model), req.params.app, req.query.destroyStorage === 'true');
    svc.wake();
    return { ok: true };
  });
  app.get<{ Params: { model: string; app: string } }>('/api/models/:model/applications/:app/config', async (req) => svc.applications.getConfig(model(req.params.model), req.params.app));
  app.post<{ Params: { model: string; app: string }; Body: ConfigRequest }>('/api/models/:model/applications/:app/config', { schema: { body: ConfigRequest } }, async (req) => {
    const m = model(req.params.model);
    svc.store.tx(() => {
      if (Object.keys(req.body.set).length > 0) svc.applications.setConfig(m, req.params.app, req.body.set);
      if (req.body.reset.length > 0) svc.applications.resetConfig(m, req.params.app, req.body.reset);
    });
    return svc.applications.getConfig(m, req.params.app);
  });
  app.post<{ Params: { model: string; app: string }; Body: { charmUrl: string } }>('/api/models/:model/applications/:app/refresh', { schema: { body: { type: 'object', required: ['charmUrl'], properties: { charmUrl: { type: 'string' } }, additionalProperties: false } } }, async (req) => {
    svc.applications.refresh(model(req.params.model), req.params.app, req.body.charmUrl);
    return { ok: true };
  });
  app.post<{ Params: { model: string; app: string }; Body: ExposeRequest }>('/api/models/:model/applications/:app/expose', { schema: { body: ExposeRequest } }, async (req) => {
    svc.applications.setExposed(model(req.params.model), req.params.app, req.body.exposed);
    return { ok: true };
  });
  app.post<{ Params: { model: string; app: string }; Body: AddUnitsRequest }>('/api/models/:model/applications/:app/units', { schema: { body: AddUnitsRequest } }, async (req) => {
    const units = svc.units.add(model(req.params.model), req.params.app, req.body.n, req.body.to);
    svc.wake();
    return { units };
  });
  app.post<M & { Body: NamesRequest }>('/api/models/:model/units/remove', { schema: { body: NamesRequest } }, async (req) => {
    svc.units.remove(model(req.params.model), req.body.names, req.body.destroyStorage === true);
    svc.wake();
    return { ok: true };
  });
  app.post<M & { Body: ResolveRequest }>('/api/models/:model/resolve', { schema: { body: ResolveRequest } }, async (req) => {
    svc.units.resolve(model(req.params.model), req.body.unit, req.body.retry);
    return { ok: true };
  });
  app.post<M & { Body: RelateRequest }>('/api/models/:model/relations', { schema: { body: RelateRequest } }, async (req) => {
    if (req.body.b === undefined) throw new SigilError('bad-request', 'integrate needs two applications', 'e.g. `sigil integrate wordpress mysql`');
    const r = svc.relations.integrate(model(req.params.model), req.body.a, req.body.b);
    svc.wake();
    return { id: r.id, key: r.key, endpoints: r.endpoints };
  });
  app.post<M & { Body: RelateRequest }>('/api/models/:model/relations/remove', { schema: { body: RelateRequest } }, async (req) => {
    svc.relations.remove(model(req.params.model), req.body.a, req.body.b);
    svc.wake();
    return { ok: true };
  });
  app.post<M & { Body: ActionRequest }>('/api/models/:model/actions', { schema: { body: ActionRequest } }, async (req) =>
    svc.operations.enqueueAction(model(req.params.model), req.body.unit, req.body.name, req.body.params));
  app.post<M & { Body: ExecRequest }>('/api/models/:model/exec', { schema: { body: ExecRequest } }, async (req) =>
    svc.operations.enqueueExec(model(req.params.model), req.body.units, req.body.command, req.body.timeoutMs));
  app.get<{ Params: { model: string; id: string } }>('/api/models/:model/operations/:id', async (req) => svc.operations.get(model(req.params.model), Number(req.params.id)));
  app.post<M & { Body: AddMachinesRequest }>('/api/models/:model/machines', { schema: { body: AddMachinesRequest } }, async (req) => {
    const m = model(req.params.model);
    checkUnitCount(svc.models.config(m), req.body.n, 'machines');
    const container = req.body.container;
    const ids = svc.store.tx(() => Array.from({ length: req.body.n }, () => container
      ? svc.machines.addContainer(m, container.parent, { constraints: req.body.constraints, autoRemove: false }).id
      : svc.machines.add(m, { constraints: req.body.constraints, autoRemove: false, ...(req.body.annotations ? { annotations: req.body.annotations } : {}) }).id));
    svc.wake();
    return { machines: ids };
  });
  // add-machine ssh:…: the CLI checked the host and installs the agent with what this returns.
  app.post<M & { Body: EnlistMachineRequest }>('/api/models/:model/machines/enlist', { schema: { body: EnlistMachineRequest } }, async (req): Promise<EnlistMachineResponse> => {
    const m = model(req.params.model);
    checkUnitCount(svc.models.config(m), 1, 'machines');
    if (svc.apiUrls.length === 0) {
      throw new SigilError('bad-request', 'this controller listens only where its own machines are: hosts elsewhere cannot reach it', 'bootstrap a controller with `--api-address ADDRESS` (an address of this host the enlisted hosts can reach)');
    }
    const { machine, token } = svc.machines.enlist(m, req.body);
    svc.log.info('machine enlisted', { model: m, machine: machine.id, target: req.body.target });
    svc.wake();
    return { machine: machine.id, token, controllerUrl: svc.apiUrls[0]!, caCert: svc.caCert };
  });
  app.post<M & { Body: NamesRequest }>('/api/models/:model/machines/remove', { schema: { body: NamesRequest } }, async (req) => {
    const m = model(req.params.model);
    svc.store.tx(() => { for (const id of req.body.names) svc.machines.remove(m, id, req.body.force === true); });
    svc.wake();
    return { ok: true };
  });
}
