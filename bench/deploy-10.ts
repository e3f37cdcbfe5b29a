// Deploy 10 units of a charm with no hooks on local-process, until every unit is started
// and idle. Target: under 5 s.
import { join } from 'node:path';
import type { ModelStatusDoc } from '@sigil/api';
import { ROOT, withController } from './lib.ts';

const c = withController('bench-deploy');
try {
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const model = `d${i}`;
    c.run(['add-model', model]);
    const t = performance.now();
    c.run(['deploy', join(ROOT, 'bench', 'charms', 'noop'), '-m', model, '-n', '10']);
    for (;;) {
      const s = JSON.parse(c.run(['status', '-m', model, '--format', 'json'])) as ModelStatusDoc;
      const units = Object.values(s.applications.noop?.units ?? {});
      if (units.length === 10 && units.every((u) => u['juju-status'].current === 'idle' && u['workload-status'].current === 'unknown')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    runs.push(performance.now() - t);
  }
  console.log(`deploy 10 units (no-op charm, local-process) to all started+idle: ${runs.map((r) => (r / 1000).toFixed(2) + ' s').join(', ')} (target < 5 s)`);
} finally {
  c.close();
}
