// The postgresql test project: one throwaway PostgreSQL cluster for the run, with a template
// database that already has the schema; each test's store is a clone of it
// (packages/controller/src/store/test-store.ts).
import { startCluster, postgresBin } from '../packages/controller/src/store/pg/cluster.ts';
import { openPgDb } from '../packages/controller/src/store/pg/pg-db.ts';
import { SyncPg } from '../packages/controller/src/store/pg/bridge.ts';
import { TEMPLATE_DB } from '../packages/controller/src/store/test-store.ts';
import { canRun } from './ci.ts';

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (!canRun(postgresBin() !== undefined, "Debian's postgresql (for the PostgreSQL store's tests)")) {
    process.stderr.write('postgresql tests: PostgreSQL is not installed; the store tests run on SQLite only (hint: apt-get install postgresql)\n');
    return undefined;
  }
  const cluster = await startCluster();
  const admin = new SyncPg({ url: cluster.url(), password: cluster.password });
  admin.exec(`CREATE DATABASE ${TEMPLATE_DB}`);
  admin.close();
  const u = new URL(cluster.url());
  u.pathname = `/${TEMPLATE_DB}`;
  openPgDb({ url: u.toString(), password: cluster.password }).close();
  process.env.SIGIL_TEST_PG_URL = cluster.url();
  process.env.SIGIL_TEST_PG_PASSWORD = cluster.password;
  process.env.SIGIL_TEST_PG_DATA = cluster.dataDir;
  return () => cluster.destroy();
}
