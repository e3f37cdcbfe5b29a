import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';
import { SigilError } from '@sigil/core';
import { routes } from './contract.ts';

/**
 * Controller backups (`sigil create-backup`, `sigil backups`). The archive is sent only as
 * a download to a controller admin (the contract's access); it is never logged or shown.
 */
export function registerBackupRoutes(app: FastifyInstance, svc: Services): void {
  const on = routes(app);
  on('POST /api/backups', async () => {
    const info = await svc.controllerBackups.create();
    svc.log.info('controller backup created', { name: info.name, bytes: info.size, revision: info.revision });
    svc.notify({ kind: 'backup-done', subject: 'controller', outcome: 'ok', detail: `controller backup ${info.name} (${info.size} bytes)` });
    return info;
  });

  // `sigil migrate-agents`: after a restore at a new address, every machine's agent is told it.
  on('POST /api/controller/migrate-agents', async (req) => {
    const r = await migration().migrate(req.body.url);
    svc.log.info('agents re-pointed', { url: r.url, machines: r.machines.length, failed: r.machines.filter((m) => m.error).length });
    return r;
  });
  on('GET /api/controller/agents', async () => ({ agents: migration().agents() }));
  const migration = () => {
    if (!svc.agentMigration) throw new SigilError('unavailable', 'the controller is still starting', 'try again in a moment');
    return svc.agentMigration;
  };

  on('GET /api/backups', async () => ({ backups: svc.controllerBackups.list() }));

  on('GET /api/backups/:name', async (req, reply) => {
    const data = svc.controllerBackups.read(req.params.name);
    return reply.header('content-type', 'application/gzip').header('cache-control', 'no-store').send(data);
  });
}
