import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SigilError } from '@sigil/core';
import type { Services } from '../services.ts';
import { buildStatus } from '../domain/status.ts';
import { waitReport } from '../domain/settle.ts';
import { bundleState } from '../domain/bundle-state.ts';
import { showUnit } from '../domain/show-unit.ts';
import { statusHistory } from '../domain/status-history.ts';
import { checkUnitCount } from '../domain/limits.ts';
import { MAX_CHARM_BODY } from './body-limits.ts';
import { routes } from './contract.ts';

/**
 * Client operations: every handler is one domain call; validation happens in the schemas and
 * the domain. Who may call each is declared in the API contract (@sigil/api) and checked by the server.
 */
export function registerClientRoutes(app: FastifyInstance, svc: Services): void {
  const on = routes(app);
  const model = (name: string) => svc.models.mustGet(name).name;

  // A user sees the models it holds a role on (a superuser all of them), each with that role.
  const visible = (req: FastifyRequest) => {
    const p = req.principal;
    if (p?.kind !== 'user' || p.superuser) return svc.models.list().map((m) => ({ ...m, access: 'admin' as const }));
    const mine = svc.users.access(svc.users.mustGet(p.name));
    return svc.models.list().filter((m) => Object.hasOwn(mine, m.name)).map((m) => ({ ...m, access: mine[m.name]! }));
  };
  on('GET /api/controller', async (req) => ({ name: svc.controllerName, revision: svc.store.revision(), models: visible(req).map((m) => m.name), apiUrls: svc.apiUrls, aptCacheUrls: svc.aptCacheUrls, controllers: svc.controllers(), replica: svc.replicaId }));
  on('POST /api/controller/destroy', async () => {
    for (const m of svc.models.list()) svc.models.destroy(m.name);
    svc.wake();
    return { ok: true };
  });
  on('GET /api/models', async (req) => visible(req));
  on('POST /api/models', async (req) => svc.models.add(req.body.name));
  on('DELETE /api/models/:model', async (req) => {
    svc.models.destroy(model(req.params.model));
    svc.wake();
    return { ok: true };
  });
  on('GET /api/models/:model/config', async (req) => svc.models.mustGet(req.params.model).config);
  on('POST /api/models/:model/config', async (req) => svc.models.setConfig(model(req.params.model), req.body));
  on('GET /api/models/:model/wait', async (req) =>
    waitReport(svc.store, model(req.params.model), (req.query.apps ?? '').split(',').filter(Boolean), svc.presence));
  on('GET /api/models/:model/status', async (req) => svc.store.cachedReads(() => buildStatus(svc.store, model(req.params.model), svc.controllerName, { connected: (m, id) => svc.presence.connected(m, id), published: (m, u) => svc.publishedPorts(m, u) })));

  on('GET /api/models/:model/unit', async (req) => showUnit(svc.store, model(req.params.model), req.query.name ?? ''));
  on('GET /api/models/:model/status-history', async (req) =>
    statusHistory(svc.store, model(req.params.model), req.query.entity ?? '', req.query.type ?? 'unit', Number(req.query.n ?? '20')));
  on('GET /api/models/:model/bundle-state', async (req) => bundleState(svc.store, model(req.params.model)));
  on('POST /api/models/:model/applications/:app/annotations', async (req) => {
    svc.applications.setAnnotations(model(req.params.model), req.params.app, req.body);
    return { ok: true };
  });
  on('POST /api/models/:model/applications/:app/constraints', async (req) => {
    svc.applications.setConstraints(model(req.params.model), req.params.app, req.body.constraints);
    return { ok: true };
  });
  on('POST /api/models/:model/charms', async (req) => {
    const c = svc.charms.add(model(req.params.model), req.body);
    return { url: c.url, name: c.name, revision: c.revision, charm: c.charm };
  }, { bodyLimit: MAX_CHARM_BODY });
  on('POST /api/models/:model/applications', async (req) => {
    const { resources, ...body } = req.body;
    const files = resources === undefined ? undefined : Object.fromEntries(Object.entries(resources).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
    const a = svc.applications.deploy({ model: model(req.params.model), ...body, ...(files ? { resources: files } : {}), username: req.principal.kind === 'user' ? req.principal.name : 'admin' });
    svc.wake();
    const charm = svc.reads.charm(a.model, svc.reads.mustApp(a.model, a.name).charmUrl);
    svc.notify({ kind: 'deploy', model: a.model, subject: a.name, outcome: 'ok', detail: `charm ${charm.name} revision ${charm.revision}, ${svc.reads.units(a.model, a.name).length} unit(s)`, by: req.principal.kind === 'user' ? req.principal.name : 'a machine' });
    return { name: a.name, units: svc.reads.units(a.model, a.name).map((u) => u.name) };
  }, { bodyLimit: MAX_CHARM_BODY });
  on('DELETE /api/models/:model/applications/:app', async (req) => {
    svc.applications.remove(model(req.params.model), req.params.app, req.query.destroyStorage === true);
    svc.wake();
    return { ok: true };
  });
  on('GET /api/models/:model/applications/:app/config', async (req) => svc.applications.getConfig(model(req.params.model), req.params.app));
  on('POST /api/models/:model/applications/:app/config', async (req) => {
    const m = model(req.params.model);
    svc.store.tx(() => {
      if (Object.keys(req.body.set).length > 0) svc.applications.setConfig(m, req.params.app, req.body.set);
      if (req.body.reset.length > 0) svc.applications.resetConfig(m, req.params.app, req.body.reset);
    });
    return svc.applications.getConfig(m, req.params.app);
  });
  on('POST /api/models/:model/applications/:app/refresh', async (req) => {
    svc.applications.refresh(model(req.params.model), req.params.app, req.body.charmUrl);
    return { ok: true };
  });
  on('POST /api/models/:model/applications/:app/expose', async (req) => {
    svc.applications.setExposed(model(req.params.model), req.params.app, req.body.exposed);
    return { ok: true };
  });
  on('POST /api/models/:model/applications/:app/units', async (req) => {
    const units = svc.units.add(model(req.params.model), req.params.app, req.body.n, req.body.to);
    svc.wake();
    return { units };
  });
  on('POST /api/models/:model/units/remove', async (req) => {
    svc.units.remove(model(req.params.model), req.body.names, req.body.destroyStorage === true);
    svc.wake();
    return { ok: true };
  });
  on('POST /api/models/:model/resolve', async (req) => {
    svc.units.resolve(model(req.params.model), req.body.unit, req.body.retry);
    return { ok: true };
  });
  on('POST /api/models/:model/relations', async (req) => {
    if (req.body.b === undefined) throw new SigilError('bad-request', 'integrate needs two applications', 'e.g. `sigil integrate wordpress mysql`');
    const r = svc.relations.integrate(model(req.params.model), req.body.a, req.body.b);
    svc.wake();
    return { id: r.id, key: r.key, endpoints: r.endpoints };
  });
  on('POST /api/models/:model/relations/remove', async (req) => {
    svc.relations.remove(model(req.params.model), req.body.a, req.body.b);
    svc.wake();
    return { ok: true };
  });
  on('POST /api/models/:model/actions', async (req) =>
    svc.operations.enqueueAction(model(req.params.model), req.body.unit, req.body.name, req.body.params));
  on('POST /api/models/:model/exec', async (req) =>
    svc.operations.enqueueExec(model(req.params.model), req.body.units, req.body.command, req.body.timeoutMs));
  on('GET /api/models/:model/operations/:id', async (req) => svc.operations.get(model(req.params.model), Number(req.params.id)));
  on('POST /api/models/:model/machines', async (req) => {
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
  on('POST /api/models/:model/machines/enlist', async (req) => {
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
  on('POST /api/models/:model/machines/remove', async (req) => {
    const m = model(req.params.model);
    svc.store.tx(() => { for (const id of req.body.names) svc.machines.remove(m, id, req.body.force === true); });
    svc.wake();
    return { ok: true };
  });
}
