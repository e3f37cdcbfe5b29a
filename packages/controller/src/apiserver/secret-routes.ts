import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SigilError } from '@sigil/core';
import type { Services } from '../services.ts';
import type { UnitRef } from '../domain/secrets.ts';
import { requireMachine } from './server.ts';
import { routes } from './contract.ts';

/** The unit named in an agent request, if it lives on the calling machine (403 otherwise). */
export function agentUnit(req: FastifyRequest, svc: Services, unit: string): { model: string; unit: UnitRef } {
  const { machine } = requireMachine(req);
  const u = svc.reads.unit(machine.model, unit);
  if (!u || u.machine !== machine.id) throw new SigilError('forbidden', `unit ${unit} is not on machine ${machine.id}`);
  const leader = svc.reads.app(machine.model, u.app)?.leader === u.name;
  return { model: machine.model, unit: { name: u.name, app: u.app, leader } };
}

/**
 * Secret routes. The agent route hands a unit the content its next hook may read (only
 * what it owns or was granted; asking for anything else is a 403 that does not say whether
 * the secret exists). The client routes manage user secrets; values leave the controller
 * only with `reveal`, and only for a model admin.
 */
export function registerSecretRoutes(app: FastifyInstance, svc: Services): void {
  const on = routes(app);
  const model = (name: string) => svc.models.mustGet(name).name;

  on('POST /api/agent/secrets/content', async (req) => {
    const { model: m, unit } = agentUnit(req, svc, req.body.unit);
    return svc.secrets.charm.content(m, unit, req.body.ids);
  });

  on('GET /api/models/:model/secrets', async (req) => svc.secrets.user.list(model(req.params.model)));
  on('POST /api/models/:model/secrets', async (req) =>
    svc.secrets.user.add(model(req.params.model), req.body.name, req.body.content, req.body.info ?? ''));
  on('GET /api/models/:model/secrets/:secret', async (req) => {
    const m = model(req.params.model);
    const reveal = req.query.reveal === 'true';
    if (reveal && !(req.principal.kind === 'user' && req.principal.role === 'admin')) {
      const who = req.principal.kind === 'user' ? `user "${req.principal.name}"` : 'a machine';
      throw new SigilError('forbidden', `${who} may not reveal secret values in model "${m}": that needs admin access`, 'leave out --reveal to see the metadata, or ask a model admin');
    }
    const revision = req.query.revision === undefined ? undefined : Number(req.query.revision);
    if (revision !== undefined && !(Number.isInteger(revision) && revision > 0)) throw new SigilError('bad-request', `revision "${req.query.revision}" not valid`, 'give a revision number from `sigil show-secret NAME --revisions`');
    return svc.secrets.user.show(m, req.params.secret, { reveal, revisions: req.query.revisions === 'true', ...(revision !== undefined ? { revision } : {}) });
  });
  on('POST /api/models/:model/secrets/:secret', async (req) => {
    svc.secrets.user.update(model(req.params.model), req.params.secret, req.body);
    return { ok: true };
  });
  on('DELETE /api/models/:model/secrets/:secret', async (req) => {
    const revision = req.query.revision === undefined ? undefined : Number(req.query.revision);
    if (revision !== undefined && !(Number.isInteger(revision) && revision > 0)) throw new SigilError('bad-request', `revision "${req.query.revision}" not valid`);
    svc.secrets.user.remove(model(req.params.model), req.params.secret, revision);
    return { ok: true };
  });
  on('POST /api/models/:model/secrets/:secret/grant', async (req) => {
    svc.secrets.user.grant(model(req.params.model), req.params.secret, req.body.apps);
    svc.wake();
    return { ok: true };
  });
  on('POST /api/models/:model/secrets/:secret/revoke', async (req) => {
    svc.secrets.user.revoke(model(req.params.model), req.params.secret, req.body.apps);
    svc.wake();
    return { ok: true };
  });
}
