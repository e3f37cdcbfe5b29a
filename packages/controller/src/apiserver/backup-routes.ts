import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';
import type { BackupInfo } from '../domain/controller-backup.ts';

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

  app.get('/api/backups', async (): Promise<{ backups: BackupInfo[] }> => ({ backups: svc.controllerBackups.list() }));

  app.get<N>('/api/backups/:name', async (req, reply) => {
    const data = svc.controllerBackups.read(req.params.name);
    return reply.header('content-type', 'application/gzip').header('cache-control', 'no-store').send(data);
  });
}
