// The failover drill's recovery time (issue 18 goal: under 2 minutes for
// bundles/conference.yaml with PostgreSQL data on LXC, warm apt cache; the summit post's
// manual rebuild took 10-15 minutes). Deploys the conference bundle on a source model (which
// warms the apt cache and is the baseline: the same stack deployed from nothing in this
// run), puts rows in a database and backs it up into the controller's backup store (a local
// directory) as a schedule would, then runs `sigil drill failover --bundle` into a fresh
// model and prints its phases, the recovery time, its ratio to the source deploy and the
// host's load (the figures mean little without it on a 2-core machine).
// Needs root on Linux (LXC); skips otherwise.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { ROOT, withController } from './lib.ts';

if (process.getuid?.() !== 0 || process.platform !== 'linux') {
  console.log('drill-failover: skipped (LXC machines need root on Linux)');
  process.exit(0);
}

const bundle = join(ROOT, 'bundles', 'conference.yaml');
const PSQL = (sql: string, db = 'postgres') => `port=$(pg_lsclusters -h | awk 'NR==1 {print $3}'); psql -X -At -U postgres -p "$port" -d ${db} -c "${sql}"`;
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const c = withController('bench-drill', ['--provider', 'lxc']);
try {
  console.log(`drill-failover: load average at start ${load()}`);
  c.run(['add-model', 'conf']);
  let t = performance.now();
  c.run(['deploy', bundle, '-m', 'conf']);
  c.run(['wait', '-m', 'conf', '--timeout', '20m']);
  const deployS = (performance.now() - t) / 1000;
  console.log(`drill-failover: source model (conference bundle, 5 machines) deployed and settled in ${deployS.toFixed(1)} s (baseline; it also warms the apt cache)`);
  c.run(['exec', '-m', 'conf', '--unit', 'postgresql/0', '--', PSQL('CREATE DATABASE talks')]);
  c.run(['exec', '-m', 'conf', '--unit', 'postgresql/0', '--', PSQL("CREATE TABLE talk (id int PRIMARY KEY, title text); INSERT INTO talk SELECT g, 'talk ' || g FROM generate_series(1, 10000) g", 'talks')]);
  c.run(['backup-store', '--local', join(c.home, 'store')]);
  c.run(['schedule', 'add', 'nightly', '-m', 'conf', '--unit', 'postgresql/leader', '--action', 'backup', '--every', '1d']);
  c.run(['schedule', 'run', 'nightly', '-m', 'conf']);
  console.log(`drill-failover: load average before the drill ${load()}`);
  t = performance.now();
  const out = c.run(['drill', 'failover', '--bundle', bundle, '--to-model', 'drill', '-m', 'conf', '--format', 'json']);
  // The bundle's plan is printed before the report: the report is the last JSON document.
  const report = JSON.parse(out.slice(out.lastIndexOf('\n{\n') + 1)) as { phases: { name: string; ms: number; note: string }[]; recoveryMs: number };
  const wallS = (performance.now() - t) / 1000;
  for (const p of report.phases) console.log(`drill-failover:   ${p.name.padEnd(9)} ${(p.ms / 1000).toFixed(1).padStart(6)} s  ${p.note.slice(0, 120)}`);
  const rec = report.recoveryMs / 1000;
  console.log(`drill-failover: recovery time (add-model to verified) ${rec.toFixed(1)} s (goal < 120 s: ${rec < 120 ? 'met' : 'NOT met'}); whole drill with backup ${wallS.toFixed(1)} s`);
  console.log(`drill-failover: load average after the drill ${load()}`);
  console.log(`drill-failover: ratio recovery / source deploy ${(rec / deployS).toFixed(2)}; against the summit post's 10-15 min: ${(600 / rec).toFixed(1)}-${(900 / rec).toFixed(1)}x faster`);
} finally {
  c.close();
}
