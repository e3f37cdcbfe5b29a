// Deploy postgresql + the db-client test charm on LXC machines, integrate, until the client
// has really connected (a query through the relation's credentials answers). Cold: a new
// controller, so its apt cache is empty; warm: a second model on the same controller.
// Needs root on Linux (LXC); prints a note and skips otherwise.
import { join } from 'node:path';
import { ROOT, withController } from './lib.ts';

if (process.getuid?.() !== 0 || process.platform !== 'linux') {
  console.log('postgresql-deploy: skipped (LXC machines need root on Linux)');
  process.exit(0);
}

const c = withController('bench-pg', ['--provider', 'lxc']);
try {
  for (const run of ['cold', 'warm'] as const) {
    const model = `pg-${run}`;
    c.run(['add-model', model]);
    const t = performance.now();
    c.run(['deploy', join(ROOT, 'charms', 'postgresql'), '-m', model]);
    c.run(['deploy', join(ROOT, 'tests', 'charms', 'db-client'), '-m', model]);
    c.run(['integrate', 'db-client:db', 'postgresql:db', '-m', model]);
    c.run(['wait', '-m', model, '--timeout', '15m']);
    const settled = performance.now() - t;
    const out = c.run(['run', 'db-client/0', 'query', 'endpoint=db', 'sql=select 40 + 2', '-m', model, '--format', 'json']);
    if (!out.includes('42')) throw new Error(`${run}: the client could not query: ${out}`);
    const connected = performance.now() - t;
    console.log(`postgresql + db-client, ${run} apt cache: settled ${(settled / 1000).toFixed(1)} s, first query through the relation ${(connected / 1000).toFixed(1)} s`);
  }
} finally {
  c.close();
}
