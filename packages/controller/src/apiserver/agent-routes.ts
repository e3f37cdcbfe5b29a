import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  ActionLogSchema, AgentStatusSchema, HookCommitSchema, LogLinesSchema, OperationResultSchema, ScopeSchema, SettledSchema, UnitRefSchema, ViewQuerySchema,
  type AgentStatusReport, type HookCommit, type LogLine, type OperationResult, type ViewQuery,
} from '@sigil/api';
import { SigilError } from '@sigil/core';
import type { Services } from '../services.ts';
import { requireMachine } from './server.ts';
import { agentUnit } from './secret-routes.ts';
import { MAX_BODY } from './body-limits.ts';

/** Routes a machine agent calls; each checks that the unit named lives on the caller's machine. */
export function registerAgentRoutes(app: FastifyInstance, svc: Services): void {
  const ownUnit = (req: FastifyRequest, unit: string) => {
    const { machine } = requireMachine(req);
    const u = svc.reads.unit(machine.model, unit);
    if (!u || u.machine !== machine.id) throw new SigilError('forbidden', `unit ${unit} is not on machine ${machine.id}`);
    return machine.model;
  };
  const ownOperation = (req: FastifyRequest, id: number) => {
    const { machine } = requireMachine(req);
    const op = svc.operations.get(machine.model, id);
    ownUnit(req, op.unit);
    return machine.model;
  };

  app.get<{ Querystring: ViewQuery }>('/api/agent/view', { schema: { querystring: ViewQuerySchema } }, async (req) => {
    const { machine } = requireMachine(req);
    return svc.agent.viewDelta(machine.model, machine.id, req.query.known);
  });
  app.get<{ Params: { hash: string } }>('/api/agent/charms/:hash', async (req, reply) => {
    const { machine } = requireMachine(req);
    if (!svc.reads.charms(machine.model).some((c) => c.hash === req.params.hash)) throw new SigilError('not-found', 'no such charm in this model');
    return reply.type('application/json').send(svc.charms.blob(req.params.hash));
  });
  app.post<{ Body: AgentStatusReport }>('/api/agent/status', { schema: { body: AgentStatusSchema } }, async (req) => {
    const model = ownUnit(req, req.body.unit);
    // Status messages are shown to every reader of the model: no secret value may reach them.
    svc.agent.reportStatus(model, svc.secrets.scrubDeep(model, req.body));
    return { ok: true };
  });
  app.post<{ Body: HookCommit }>('/api/agent/commit', { schema: { body: HookCommitSchema } }, async (req) => {
    const model = ownUnit(req, req.body.unit);
    const { secrets: secretOps, ...rest } = req.body;
    // The hook's secret operations commit with its other changes, in one transaction.
    const r = svc.store.tx(() => {
      svc.secrets.charm.apply(model, agentUnit(req, svc, req.body.unit).unit, secretOps ?? []);
      return svc.agent.commit(model, { ...rest, ...(rest.unitStatus ? { unitStatus: svc.secrets.scrubDeep(model, rest.unitStatus) } : {}), ...(rest.appStatus ? { appStatus: svc.secrets.scrubDeep(model, rest.appStatus) } : {}) });
    });
    return r;
  });
  app.post<{ Body: { unit: string; relation: number; enter: boolean } }>('/api/agent/scope', { schema: { body: ScopeSchema } }, async (req) => {
    const model = ownUnit(req, req.body.unit);
    const { machine } = requireMachine(req);
    if (req.body.enter) svc.agent.enterScope(model, req.body.unit, req.body.relation, machine.address ?? '');
    else svc.agent.leaveScope(model, req.body.unit, req.body.relation);
    svc.wake();
    return { ok: true };
  });
  app.post<{ Body: { unit: string; revision: number } }>('/api/agent/settled', { schema: { body: SettledSchema } }, async (req) => {
    svc.agent.reportSettled(ownUnit(req, req.body.unit), req.body.unit, req.body.revision);
    return { ok: true };
  });
  app.post<{ Body: { unit: string } }>('/api/agent/dead', { schema: { body: UnitRefSchema } }, async (req) => {
    svc.agent.setDead(ownUnit(req, req.body.unit), req.body.unit);
    svc.wake();
    return { ok: true };
  });
  app.post<{ Params: { id: string } }>('/api/agent/operations/:id/start', async (req) => {
    const claimed = svc.agent.startOperation(ownOperation(req, Number(req.params.id)), Number(req.params.id));
    return { ok: true, claimed };
  });
  app.post<{ Params: { id: string }; Body: OperationResult }>('/api/agent/operations/:id/finish', { schema: { body: OperationResultSchema } }, async (req) => {
    const model = ownOperation(req, Number(req.params.id));
    svc.agent.finishOperation(model, svc.secrets.scrubDeep(model, { ...req.body, id: Number(req.params.id) }));
    return { ok: true };
  });
  app.post<{ Params: { id: string }; Body: { message: string } }>('/api/agent/operations/:id/log', { schema: { body: ActionLogSchema } }, async (req) => {
    const model = ownOperation(req, Number(req.params.id));
    svc.operations.appendLog(model, Number(req.params.id), svc.secrets.scrub(model, req.body.message));
    return { ok: true };
  });
  app.post<{ Body: { lines: LogLine[] } }>('/api/agent/logs', { schema: { body: LogLinesSchema }, bodyLimit: 4 * MAX_BODY }, async (req) => {
    const { machine } = requireMachine(req);
    return { ok: true, ...svc.appendMachineLogs(machine.model, machine.id, req.body.lines) };
  });
}
