import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SigilError, charmHookNames } from '@sigil/core';
import type { SshKeyDoc } from '@sigil/api';
import type { Services } from '../services.ts';
import { describeKey } from '../domain/ssh-keys.ts';
import { routes } from './contract.ts';

/**
 * SSH access: the model's keys (read to list, admin to change, since a key there is root on
 * every machine), where `sigil ssh` connects (write: Juju lets model writers ssh), and the
 * operator's side of rotating a machine's agent credential.
 */
export function registerSshKeyRoutes(app: FastifyInstance, svc: Services): void {
  const on = routes(app);
  const who = (req: FastifyRequest) => (req.principal.kind === 'user' ? req.principal.name : '-');
  const doc = (k: { fingerprint: string; comment: string; key: string; addedBy: string }): SshKeyDoc => ({ fingerprint: k.fingerprint, comment: k.comment, key: k.key, text: describeKey(k), addedBy: k.addedBy });

  on('GET /api/models/:model/ssh-keys', async (req) => svc.sshKeys.list(req.params.model).map(doc));
  on('POST /api/models/:model/ssh-keys', async (req) =>
    svc.sshKeys.add(svc.models.mustGet(req.params.model).name, req.body.keys, who(req)).map(doc));
  on('POST /api/models/:model/ssh-keys/remove', async (req) =>
    svc.sshKeys.remove(svc.models.mustGet(req.params.model).name, req.body.names).map(doc));

  // The address `sigil ssh` and `sigil scp` connect to: a unit's machine, or a machine.
  on('GET /api/models/:model/ssh-address', async (req) => {
    const model = svc.models.mustGet(req.params.model).name;
    const target = req.query.target ?? '';
    const machineId = /^\d+$/.test(target) ? target : svc.reads.unit(model, target)?.machine;
    const kind = /^\d+$/.test(target) ? 'machine' : 'unit';
    const m = machineId == null ? undefined : svc.reads.machine(model, machineId);
    if (!m?.address) throw new SigilError('not-found', `${kind} "${target}" not found or has no address yet`, 'see `sigil status`');
    return { address: m.address, machine: m.id };
  });

  // What `sigil debug-hooks` needs before it connects: the unit's machine and where it is,
  // and the hooks and actions its charm has, to refuse a name it would never stop at.
  on('GET /api/models/:model/debug-hooks', async (req) => {
    const model = svc.models.mustGet(req.params.model).name;
    const name = req.query.unit ?? '';
    const u = svc.reads.unit(model, name);
    if (!u) throw new SigilError('not-found', `unit "${name.slice(0, 80)}" not found in model "${model}"`, 'see `sigil status` for the units in this model');
    const m = u.machine == null ? undefined : svc.reads.machine(model, u.machine);
    if (!m?.address) throw new SigilError('not-found', `unit "${name}" has no machine with an address yet`, 'wait for it to be provisioned (`sigil status`), then try again');
    const { charm } = svc.reads.charm(model, svc.reads.mustApp(model, u.app).charmUrl);
    return { unit: u.name, model, machine: m.id, address: m.address, hooks: charmHookNames(charm), actions: Object.keys(charm.actions).sort() };
  });

  on('POST /api/models/:model/machines/:id/rotate-credential', async (req) => {
    const model = svc.models.mustGet(req.params.model).name;
    svc.machines.requestRotation(model, req.params.id);
    svc.log.info('agent credential rotation requested', { model, machine: req.params.id, by: who(req) });
    return { ok: true };
  });
  // Whether the agent has taken its new credential yet (the old one works until it has).
  on('GET /api/models/:model/machines/:id/rotate-credential', async (req) => {
    const model = svc.models.mustGet(req.params.model).name;
    if (!svc.reads.machine(model, req.params.id)) throw new SigilError('not-found', `machine "${req.params.id}" not found in model ${model}`, 'see `sigil status`');
    return { pending: svc.machines.rotationPending(model, req.params.id) };
  });
}
