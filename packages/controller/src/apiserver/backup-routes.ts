import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';
import type { BackupInfo } from '../domain/controller-backup.ts';
import { MigrateAgentsRequest, type AgentPresenceDoc, type MigrateAgentsResponse } from '@sigil/api';
import { SigilError } from '@sigil/core';

type N = { Params: { name: string } };

/**
 * Controller backups (`sigil create-backup`, `sigil backups`). The archive is sent only as
 * a download to a controller admin (ROUTE_ACCESS); it is never logged or shown.
 */
export function registerBackupRoutes(app: FastifyInstance, svc: Services): void {
  app.post('/api/backups', async (): Promise<BackupInfo> => {
    const info = await svc.controllerBackups.create();
    svc.log.info('controller backup created', { name: info.name, bytes: info.size, revision: info.revision });
    svc.notify({ kind: 'backup-done', subject: 'controller', outcome: 'ok', detail: `controller backup ${info.name} (${info.size} bytes)` });
    return info;
  });

  // `sigil migrate-agents`: after a restore at a new address, every machine's agent is told it.
  app.post<{ Body: MigrateAgentsRequest }>('/api/controller/migrate-agents', { schema: { body: MigrateAgentsRequest } }, async (req): Promise<MigrateAgentsResponse> => {
    const r = await migration().migrate(req.body.url);
    svc.log.info('agents re-pointed', { url: r.url, machines: r.machines.length, failed: r.machines.filter((m) => m.error).length });
    return r;
  });
  app.get('/api/controller/agents', async (): Promise<{ agents: AgentPresenceDoc[] }> => ({ agents: migration().agents() }));
  const migration = () => {
    if (!svc.agentMigration) throw new SigilError('unavailable', 'the controller is still starting', 'try again in a moment');
    return svc.agentMigration;
  };

  app.get('/api/backups', async (): Promise<{ backups: BackupInfo[] }> => ({ backups: svc.controllerBackups.list() }));

  app.get<N>('/api/backups/:name', async (req, reply) => {
    const data = svc.controllerBackups.read(req.params.name);
    return reply.header('content-type', 'application/gzip').header('cache-control', 'no-store').send(data);
  });
}
