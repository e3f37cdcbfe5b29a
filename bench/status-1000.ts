// `sigil status --format json` end to end on a model of 1,000 units (agents simulated: the
// model is written through the controller's own domain code, with no agent processes).
// Target: under 300 ms. Baseline: starting `node` with an empty script, same process.
import { request as httpsRequest } from 'node:https';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { openDb } from '../packages/controller/src/store/db.ts';
import { Store } from '../packages/controller/src/store/store.ts';
import { Charms } from '../packages/controller/src/domain/charms.ts';
import { Applications } from '../packages/controller/src/domain/applications.ts';
import { Machines } from '../packages/controller/src/domain/machines.ts';
import { Units } from '../packages/controller/src/domain/units.ts';
import { SIGIL, ms, stats, timeCmd, withController } from './lib.ts';

const c = withController('bench-status');
try {
  const dir = join(c.home, 'controllers', 'bench-status');
  const sup = Number(readFileSync(join(dir, 'supervisor.pid'), 'utf8').trim());
  process.kill(sup, 'SIGTERM');
  for (;;) {
    try {
      process.kill(sup, 0);
      await new Promise((r) => setTimeout(r, 50));
    } catch {
      break;
    }
  }
  const store = new Store(openDb(join(dir, 'state.db')));
  const metadata = Buffer.from('name: app\nsummary: s\ndescription: d\nrequires:\n  db: {interface: pgsql}\nprovides:\n  web: {interface: http}\n').toString('base64');
  const charm = new Charms(store).add('default', { files: [{ path: 'metadata.yaml', mode: 0o644, data: metadata }] });
  const machines = new Machines(store);
  const ids = Array.from({ length: 20 }, () => machines.add('default', { constraints: '', autoRemove: false }).id);
  ids.forEach((id, i) => machines.provisioned('default', id, { instanceId: `sim-${id}`, address: `127.250.0.${i + 2}`, hostname: 'sim' }));
  const apps = new Applications(store);
  const units = new Units(store);
  for (let a = 0; a < 20; a++) {
    apps.deploy({ model: 'default', app: `app${a}`, charmUrl: charm.url, numUnits: 0, config: {}, constraints: '', to: [] });
    units.add('default', `app${a}`, 50, ids);
  }
  store.db.close();
  c.run(['start-controller', 'bench-status']);
  const env = { ...process.env, SIGIL_HOME: c.home };
  const out = JSON.parse(execFileSync(SIGIL, ['status', '--format', 'json'], { env, encoding: 'utf8', maxBuffer: 1 << 28 }));
  const n = Object.values(out.applications as Record<string, { units?: object }>).reduce((k, a) => k + Object.keys(a.units ?? {}).length, 0);
  const base: number[] = [];
  const runs: number[] = [];
  for (let i = 0; i < 15; i++) {
    base.push(await timeCmd(process.execPath, ['-e', '0'], env));
    runs.push(await timeCmd(SIGIL, ['status', '--format', 'json'], env));
  }
  const cfg = YAML.parse(readFileSync(join(c.home, 'controllers.yaml'), 'utf8')).controllers['bench-status'];
  const token = YAML.parse(readFileSync(join(c.home, 'accounts.yaml'), 'utf8')).controllers['bench-status'].token;
  const api: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t = performance.now();
    await getJson(`${cfg.endpoint}/api/models/default/status`, cfg['ca-cert'], token);
    api.push(performance.now() - t);
  }
  console.log(`status API alone (no CLI start-up): median ${ms(stats(api).median)}`);
  const s = stats(runs);
  const b = stats(base);
  console.log(`status --format json, ${n} units / 20 apps / 20 machines: median ${ms(s.median)}, p99 ${ms(s.p99)} (target < 300 ms)`);
  console.log(`baseline node -e 0: median ${ms(b.median)}; ratio ${(s.median / b.median).toFixed(1)}x`);
} finally {
  if (process.env.KEEP) console.log(`kept SIGIL_HOME=${c.home}`);
  else c.close();
}

/** A GET over HTTPS trusting only the controller's pinned CA, as the CLI does. */
function getJson(url: string, ca: string, token: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
    });
    req.on('error', reject);
    req.end();
  });
}
