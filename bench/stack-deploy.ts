// A reference bundle, from `sigil deploy` to the first successful HTTP response through
// HAProxy's published port on the host. Cold: a new controller (empty apt cache); warm: a
// second model on the same controller, then the unchanged bundle applied again (time and
// hooks run). Needs root on Linux (LXC). Usage:
//   npm run bench -- stack-deploy            (both bundles)
//   BUNDLES=wordpress npm run bench -- stack-deploy
import { join } from 'node:path';
import type { ModelStatusDoc } from '@sigil/api';
import { ROOT, withController } from './lib.ts';

if (process.getuid?.() !== 0 || process.platform !== 'linux') {
  console.log('stack-deploy: skipped (LXC machines need root on Linux)');
  process.exit(0);
}

const bundles = (process.env.BUNDLES ?? 'wordpress,conference').split(',');

async function firstResponse(run: (args: string[]) => string, model: string, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const s = JSON.parse(run(['status', '-m', model, '--format', 'json'])) as ModelStatusDoc;
    const published = s.applications.haproxy?.units?.['haproxy/0']?.['published-ports'] ?? [];
    const port = /^\*:(\d+)->80\/tcp$/.exec(published.find((p) => p.endsWith('->80/tcp')) ?? '')?.[1];
    if (port) {
      const ok = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) }).then((r) => r.status === 200, () => false);
      if (ok) return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${model}: no successful response through HAProxy before the deadline`);
}

for (const bundle of bundles) {
  const c = withController(`bench-${bundle}`, ['--provider', 'lxc']);
  try {
    for (const cache of ['cold', 'warm'] as const) {
      const model = `${bundle}-${cache}`;
      c.run(['add-model', model]);
      const t = performance.now();
      // --no-wait: the clock stops at the first good response, not when every hook is done.
      c.run(['deploy', join(ROOT, 'bundles', `${bundle}.yaml`), '-m', model, '--no-wait']);
      await firstResponse(c.run, model, Date.now() + 20 * 60_000);
      console.log(`${bundle}.yaml, ${cache} apt cache: deploy → first 200 through HAProxy ${((performance.now() - t) / 1000).toFixed(1)} s`);
      if (cache === 'warm') {
        // Issue 21: re-applying the unchanged bundle once the model has settled.
        c.run(['wait', '-m', model, '--timeout', '10m']);
        const ran = () => c.run(['debug-log', '-m', model, '--replay', '--no-tail', '-l', 'INFO']).split('\n').filter((l) => / ran "/.test(l)).length;
        const before = ran();
        const r = performance.now();
        c.run(['deploy', join(ROOT, 'bundles', `${bundle}.yaml`), '-m', model]);
        const reapply = performance.now() - r;
        await new Promise((done) => setTimeout(done, 2000));
        console.log(`${bundle}.yaml re-applied unchanged: ${(reapply / 1000).toFixed(2)} s, ${ran() - before} hooks run (goal: under 1 s, 0 hooks)`);
      }
      c.run(['destroy-model', model, '--yes', '--timeout', '10m']);
    }
  } finally {
    c.close();
  }
}
