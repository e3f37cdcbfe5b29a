// For in-process tests: a real store on a temporary SQLite file and the real API server on
// an ephemeral loopback port (plain HTTP: TLS is tested end to end).
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { openTestDb } from '../store/test-store.ts';
import { Store } from '../store/store.ts';
import { Services } from '../services.ts';
import { silentLogger } from '../logger.ts';
import { buildServer } from './server.ts';

export interface TestServer {
  svc: Services;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Starts a controller's API with model `m` and the given admin token; `seed` runs before it listens. */
export async function startTestServer(adminToken: string, seed: (svc: Services) => void = () => {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-api-test-'));
  const store = new Store(openTestDb(dir));
  const svc = new Services(store, silentLogger, 'test', createHash('sha256').update(adminToken).digest('hex'), join(dir, 'controller.log'), () => {});
  svc.models.add('m');
  seed(svc);
  const app = buildServer(svc);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  return {
    svc,
    port,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await app.close();
      store.db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
