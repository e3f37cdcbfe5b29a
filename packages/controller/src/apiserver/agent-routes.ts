import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SigilError, isSigilError } from '@sigil/core';
import type { Services } from '../services.ts';
import { requireMachine } from './server.ts';
import { agentUnit } from './secret-routes.ts';
import { MAX_BODY } from './body-limits.ts';
import { GoalStates } from '../domain/goal-state.ts';
import { routes } from './contract.ts';

const REFUSED: ReadonlySet<string> = new Set(['forbidden', 'permission-denied']);

/**
 * Routes a machine agent calls. A machine's credential speaks for that machine and the
 * units on it, nothing else: every route checks that the unit (or the operation's unit)
 * named lives on the caller's machine, and the domain checks the rest (a unit writes only
 * to relations its application is in, its application's bag and leader settings only as
 * the leader). Every refusal is a 403 and a line in the controller log naming the machine,
 * the route and the reason (never the credential).
 */
export function registerAgentRoutes(app: FastifyInstance, svc: Services): void {
  const on = routes(app);
  const ownUnit = (req: FastifyRequest, unit: string) => {
    const { machine } = requireMachine(req);
    const u = svc.reads.unit(machine.model, unit);
    if (!u || u.machine !== machine.id) throw new SigilError('forbidden', `unit ${unit} is not on machine ${machine.id}`, 'a machine agent speaks only for the units on its own machine');
    return machine.model;
  };
  const ownOperation = (req: FastifyRequest, id: number) => {
    const { machine } = requireMachine(req);
    const op = svc.operations.get(machine.model, id);
    if (svc.reads.unit(machine.model, op.unit)?.machine !== machine.id) throw new SigilError('forbidden', `operation ${id} is for ${op.unit}, which is not on machine ${machine.id}`, 'a machine agent runs only its own units\' operations');
    return machine.model;
  };

  app.addHook('onError', async (req, _reply, err) => {
    const route = req.routeOptions.url;
    if (!isSigilError(err) || !REFUSED.has(err.code) || !route?.startsWith('/api/agent/')) return;
    const p = req.principal as FastifyRequest['principal'] | null;
    const machine = p?.kind === 'machine' ? { model: p.machine.model, machine: p.machine.id } : {};
    svc.log.warn('agent request refused', { ...machine, route: `${req.method} ${route}`, reason: err.message });
  });

  // Every live replica, this one first: the agent moves to another when this one stops answering.
  on('GET /api/agent/controllers', async () => {
    const all = svc.controllers();
    const me = all.filter((c) => c.id === svc.replicaId);
    return { urls: [...new Set([...me, ...all].filter((c) => c.alive).map((c) => c.agentUrl))] };
  });
  on('GET /api/agent/view', async (req) => {
    const { machine } = requireMachine(req);
    return svc.agent.viewDelta(machine.model, machine.id, req.query.known);
  });
  on('GET /api/agent/charms/:hash', async (req, reply) => {
    const { machine } = requireMachine(req);
    // Only the charms of the applications with units on this machine (what its view names).
    const units = svc.reads.unitsOn(machine.model, machine.id);
    const apps = new Set(units.map((u) => u.app));
    const urls = new Set(svc.reads.apps(machine.model).filter((a) => apps.has(a.name)).map((a) => a.charmUrl));
    // A unit a roll-out moved runs its own revision (issue 18).
    const pins = svc.rollouts.repo.unitCharms(machine.model);
    for (const u of units) if (pins.has(u.name)) urls.add(pins.get(u.name)!);
    if (!svc.reads.charms(machine.model).some((c) => c.hash === req.params.hash && urls.has(c.url))) {
      throw new SigilError('forbidden', `charm ${req.params.hash.slice(0, 12)} is not used by any unit on machine ${machine.id}`, 'a machine agent fetches only its own units\' charms');
    }
    return reply.type('application/json').send(svc.charms.blob(req.params.hash));
  });
  on('POST /api/agent/status', async (req) => {
    const model = ownUnit(req, req.body.unit);
    const wasError = svc.reads.unit(model, req.body.unit)?.agent.current === 'error';
    // Status messages are shown to every reader of the model: no secret value may reach them.
    const report = svc.secrets.scrubDeep(model, [req.body.unit], req.body);
    await svc.store.batched(() => svc.agent.reportStatus(model, report));
    if (report.agent === 'error' && !wasError) svc.notify({ kind: 'unit-error', model, subject: report.unit, outcome: 'failed', detail: report.message });
    return { ok: true };
  });
  on('POST /api/agent/commit', async (req) => {
    const model = ownUnit(req, req.body.unit);
    const { secrets: secretOps, idle, ...rest } = req.body;
    // The hook's secret operations commit with its other changes, in one transaction, and
    // the agent's return to idle with them.
    const r = await svc.store.batched(() => {
      svc.secrets.charm.apply(model, agentUnit(req, svc, req.body.unit).unit, secretOps ?? []);
      svc.inventory.afterHook(model, req.body.unit, req.body.hook);
      const result = svc.agent.commit(model, { ...rest, ...(rest.unitStatus ? { unitStatus: svc.secrets.scrubDeep(model, [rest.unit], rest.unitStatus) } : {}), ...(rest.appStatus ? { appStatus: svc.secrets.scrubDeep(model, [rest.unit], rest.appStatus) } : {}) });
      if (idle) svc.agent.reportStatus(model, svc.secrets.scrubDeep(model, [rest.unit], { unit: rest.unit, agent: 'idle' as const, message: '', ...(idle.workload ? { workload: idle.workload } : {}) }));
      return result;
    });
    return r;
  });
  on('POST /api/agent/scope', async (req) => {
    const model = ownUnit(req, req.body.unit);
    const { machine } = requireMachine(req);
    const { unit, relation, enter } = req.body;
    await svc.store.batched(() => (enter ? svc.agent.enterScope(model, unit, relation, machine.address ?? '') : svc.agent.leaveScope(model, unit, relation)));
    svc.wake();
    return { ok: true };
  });
  on('POST /api/agent/settled', async (req) => {
    const model = ownUnit(req, req.body.unit);
    await svc.store.batched(() => svc.agent.reportSettled(model, req.body.unit, req.body.revision));
    return { ok: true };
  });
  on('POST /api/agent/goal-state', async (req) => {
    const model = ownUnit(req, req.body.unit);
    return new GoalStates(svc.store).of(model, req.body.unit);
  });
  on('POST /api/agent/dead', async (req) => {
    svc.agent.setDead(ownUnit(req, req.body.unit), req.body.unit);
    svc.wake();
    return { ok: true };
  });
  on('POST /api/agent/operations/:id/start', async (req) => {
    const claimed = svc.agent.startOperation(ownOperation(req, Number(req.params.id)), Number(req.params.id));
    return { ok: true, claimed };
  });
  on('POST /api/agent/operations/:id/finish', async (req) => {
    const model = ownOperation(req, Number(req.params.id));
    const unit = svc.operations.get(model, Number(req.params.id)).unit;
    svc.agent.finishOperation(model, svc.secrets.scrubDeep(model, [unit], { ...req.body, id: Number(req.params.id) }));
    return { ok: true };
  });
  on('POST /api/agent/operations/:id/log', async (req) => {
    const model = ownOperation(req, Number(req.params.id));
    svc.operations.appendLog(model, Number(req.params.id), svc.secrets.scrub(model, [svc.operations.get(model, Number(req.params.id)).unit], req.body.message));
    return { ok: true };
  });
  // A new credential for this machine, after an operator asked for one (rotate-agent-credential).
  on('POST /api/agent/credential', async (req) => {
    const { machine } = requireMachine(req);
    const token = svc.machines.newCredential(machine.model, machine.id);
    svc.log.info('agent credential issued', { model: machine.model, machine: machine.id });
    return { token };
  });
  // An enlisted machine's agent, told its machine is going, says it is uninstalling itself:
  // the machine leaves the model (the host stays; Sigil never deletes a host it did not create).
  on('POST /api/agent/uninstalled', async (req) => {
    const { machine } = requireMachine(req);
    if (!svc.machines.enlisted.get(machine.model, machine.id)) throw new SigilError('forbidden', `machine ${machine.id} was not enlisted`, 'only an enlisted host\'s agent uninstalls itself; the provider removes other machines');
    if (machine.life === 'alive') throw new SigilError('conflict', `machine ${machine.id} is alive`, 'its agent uninstalls itself only once the machine is removed');
    if (svc.reads.unitsOn(machine.model, machine.id).length > 0) throw new SigilError('conflict', `machine ${machine.id} still has units`, 'the agent waits until its units are gone');
    const containers = svc.machines.containersOf(machine.model, machine.id);
    if (containers.length > 0) throw new SigilError('conflict', `machine ${machine.id} still hosts containers ${containers.map((c) => c.id).join(', ')}`, 'the agent destroys them first');
    svc.machines.delete(machine.model, machine.id);
    svc.log.info('enlisted machine removed', { model: machine.model, machine: machine.id });
    return { ok: true };
  });
  on('POST /api/agent/logs', async (req) => {
    const { machine } = requireMachine(req);
    return { ok: true, ...svc.appendMachineLogs(machine.model, machine.id, req.body.lines) };
  }, { bodyLimit: 4 * MAX_BODY });
}
