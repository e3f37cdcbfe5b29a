import pg from 'pg';
import type { Cluster } from '../packages/controller/src/store/pg/cluster.ts';

/** One statement on a database of a test cluster, as its superuser, on a connection of its own. */
export async function clusterSql<T extends Record<string, unknown>>(cluster: Cluster, database: string, text: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ host: '127.0.0.1', port: cluster.port, user: 'sigil', password: cluster.password, database });
  await c.connect();
  try {
    return (await c.query<T>(text, values)).rows;
  } finally {
    await c.end();
  }
}
