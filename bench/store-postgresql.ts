// The controller's store on SQLite and on PostgreSQL, in one run: the same model of 1,000
// units (20 applications × 50, written through the controller's own domain code), then
// a whole-model status and a config change, each timed N times on each store. PostgreSQL
// is a throwaway cluster on loopback with the durability a production server has (fsync on).
// Figures in-process (no HTTP), so the difference is the store's. Baseline: SQLite.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../packages/controller/src/store/db.ts';
import { Store } from '../packages/controller/src/store/store.ts';
import { Charms } from '../packages/controller/src/domain/charms.ts';
import { Applications } from '../packages/controller/src/domain/applications.ts';
import { Machines } from '../packages/controller/src/domain/machines.ts';
import { Units } from '../packages/controller/src/domain/units.ts';
import { Models } from '../packages/controller/src/domain/models.ts';
import { buildStatus } from '../packages/controller/src/domain/status.ts';
import { startCluster } from '../packages/controller/src/store/pg/cluster.ts';
import { openPgDb, type PgDb } from '../packages/controller/src/store/pg/pg-db.ts';
import { SyncPg } from '../packages/controller/src/store/pg/bridge.ts';
import { ms, stats } from './lib.ts';

const RUNS = Number(process.env.RUNS ?? 30);
const CHANGES = Number(process.env.CHANGES ?? 200);

function seed(store: Store): number {
  const t = performance.now();
  if (!new Models(store).get('default')) new Models(store).add('default');
  const metadata = Buffer.from('name: app\nsummary: s\ndescription: d\nrequires:\n  db: {interface: pgsql}\nprovides:\n  web: {interface: http}\noptions: {}\n').toString('base64');
  const config = Buffer.from('options:\n  token: {type: string, default: a}\n').toString('base64');
  const charm = new Charms(store).add('default', { files: [{ path: 'metadata.yaml', mode: 0o644, data: metadata }, { path: 'config.yaml', mode: 0o644, data: config }] });
  const machines = new Machines(store);
  const ids = Array.from({ length: 20 }, () => machines.add('default', { constraints: '', autoRemove: false }).id);
  ids.forEach((id, i) => machines.provisioned('default', id, { instanceId: `sim-${id}`, address: `127.250.0.${i + 2}`, hostname: 'sim' }));
  const apps = new Applications(store);
  const units = new Units(store);
  for (let a = 0; a < 20; a++) {
    apps.deploy({ model: 'default', app: `app${a}`, charmUrl: charm.url, numUnits: 0, config: {}, constraints: '', to: [] });
    units.add('default', `app${a}`, 50, ids);
  }
  return performance.now() - t;
}

/** Round trips to PostgreSQL (thread hops) so far; SQLite has none. */
const hops = (db: Db) => ('pg' in db ? (db as PgDb).pg.calls : 0);

function measure(name: string, db: Db): { status: number[]; mutation: number[]; seedMs: number; statusHops: number; mutationHops: number } {
  const store = new Store(db);
  const seedMs = seed(store);
  const presence = { connected: () => true };
  const status: number[] = [];
  const h0 = hops(db);
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const doc = buildStatus(store, 'default', 'bench', presence);
    status.push(performance.now() - t);
    if (Object.keys(doc.applications).length !== 20) throw new Error(`${name}: status has ${Object.keys(doc.applications).length} applications`);
  }
  const statusHops = (hops(db) - h0) / RUNS;
  const apps = new Applications(store);
  const mutation: number[] = [];
  const h1 = hops(db);
  for (let i = 0; i < CHANGES; i++) {
    const t = performance.now();
    apps.setConfig('default', `app${i % 20}`, { token: `v${i}` });
    mutation.push(performance.now() - t);
  }
  const mutationHops = (hops(db) - h1) / CHANGES;
  db.close();
  return { status, mutation, seedMs, statusHops, mutationHops };
}

const dir = mkdtempSync(join(tmpdir(), 'sigil-bench-store-'));
const cluster = await startCluster({ durable: true });
try {
  const admin = new SyncPg({ url: cluster.url(), password: cluster.password });
  admin.exec('CREATE DATABASE sigil');
  admin.close();
  const lite = measure('sqlite', openDb(join(dir, 'state.db')));
  const rssLite = process.memoryUsage().rss;
  const pg = measure('postgresql', openPgDb({ url: cluster.url('sigil'), password: cluster.password }));
  const rssPg = process.memoryUsage().rss;
  const row = (label: string, a: number[], b: number[]) => {
    const [x, y] = [stats(a), stats(b)];
    console.log(`${label.padEnd(26)} sqlite p50 ${ms(x.median).padStart(9)} p99 ${ms(x.p99).padStart(9)} | postgresql p50 ${ms(y.median).padStart(9)} p99 ${ms(y.p99).padStart(9)} | ratio p50 ${(y.median / x.median).toFixed(2)}× p99 ${(y.p99 / x.p99).toFixed(2)}×`);
  };
  console.log(`1,000 units, ${RUNS} status builds, ${CHANGES} config changes per store (one controller process; replicas are not built yet)`);
  console.log(`seeding the model         sqlite ${ms(lite.seedMs)} | postgresql ${ms(pg.seedMs)}`);
  row('status (whole model)', lite.status, pg.status);
  row('mutation (config change)', lite.mutation, pg.mutation);
  console.log(`round trips to postgresql: ${pg.statusHops.toFixed(1)} per status, ${pg.mutationHops.toFixed(1)} per config change`);
  console.log(`process RSS after each    sqlite ${(rssLite / 2 ** 20).toFixed(0)} MB | after postgresql ${(rssPg / 2 ** 20).toFixed(0)} MB`);
} finally {
  await cluster.destroy();
  rmSync(dir, { recursive: true, force: true });
}
