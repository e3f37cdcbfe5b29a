import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SigilError, containerHost } from '@sigil/core';
import type { Services } from '../services.ts';
import type { MachineRow } from '../state/rows.ts';
import { requireMachine } from './server.ts';
import { routes } from './contract.ts';

/**
 * Containers on machines (issue 13): the host's agent creates the LXC containers placed
 * on its machine and destroys them (the controller never dials a machine). A machine's
 * credential speaks for its own containers only.
 */
export function registerContainerRoutes(app: FastifyInstance, svc: Services): void {
  const on = routes(app);
  const own = (req: FastifyRequest, id: string): MachineRow => {
    const { machine } = requireMachine(req);
    if (containerHost(id) !== machine.id) throw new SigilError('forbidden', `machine ${id} is not a container on machine ${machine.id}`, 'a host\'s agent manages only the containers on its own machine');
    const c = svc.reads.machine(machine.model, id);
    if (!c) throw new SigilError('not-found', `container ${id} not found`, 'it was removed');
    return c;
  };

  // The new container's credential, issued when its host's agent is about to create it.
  on('POST /api/agent/containers/provision', async (req) => {
    const c = own(req, req.body.id);
    if (c.life !== 'alive') throw new SigilError('conflict', `container ${c.id} is ${c.life}`, 'only a live container is created');
    if (c.instanceId !== null) throw new SigilError('conflict', `container ${c.id} exists already (${c.instanceId})`, 'its agent has its credential');
    svc.machines.setStatus(c.model, c.id, 'allocating', `creating the container on machine ${containerHost(c.id)}`);
    return { token: svc.machines.issueToken(c.model, c.id) };
  });
  on('POST /api/agent/containers/provisioned', async (req) => {
    const c = own(req, req.body.id);
    svc.machines.provisioned(c.model, c.id, { instanceId: req.body.instanceId, address: req.body.address, hostname: req.body.hostname });
    svc.log.info('container provisioned', { model: c.model, machine: c.id, address: req.body.address });
    return { ok: true };
  });
  on('POST /api/agent/containers/failed', async (req) => {
    const c = own(req, req.body.id);
    svc.machines.setStatus(c.model, c.id, 'provisioning error', req.body.message);
    svc.log.error('container provisioning failed', { model: c.model, machine: c.id, err: req.body.message });
    return { ok: true };
  });
  // The host's agent destroyed a dying container: it leaves the model.
  on('POST /api/agent/containers/removed', async (req) => {
    const c = own(req, req.body.id);
    if (c.life === 'alive') throw new SigilError('conflict', `container ${c.id} is alive`, 'a container is destroyed only once it is removed (`sigil remove-machine`)');
    if (svc.reads.unitsOn(c.model, c.id).length > 0) throw new SigilError('conflict', `container ${c.id} still has units`, 'it is destroyed once its units are gone');
    svc.machines.delete(c.model, c.id);
    svc.log.info('container removed', { model: c.model, machine: c.id });
    return { ok: true };
  });
}
