// One provider related to 30 client units (each client asks for access, the provider
// answers all of them, as a database does): hook runs on the provider and time from
// `integrate` to settled, with classic per-event dispatch against holistic batches.
// Same charm code in both runs; only metadata's `sigil: holistic` differs.
import { cpSync, appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelStatusDoc } from '@sigil/api';
import { ROOT, withController } from './lib.ts';

const CLIENTS = 30;

function providerCharm(holistic: boolean): string {
  const src = join(ROOT, 'bench', 'charms', 'fanout-provider');
  if (!holistic) return src;
  const dir = join(mkdtempSync(join(tmpdir(), 'sigil-fanout-')), 'fanout-provider');
  cpSync(src, dir, { recursive: true });
  appendFileSync(join(dir, 'metadata.yaml'), 'sigil:\n  holistic: true\n');
  return dir;
}

function providerHooks(run: (args: string[]) => string): number {
  const log = run(['debug-log', '--replay', '--no-tail', '-i', 'fanout-provider/0', '-l', 'INFO']);
  return log.split('\n').filter((l) => /ran "[^"]+" hook/.test(l)).length;
}

const results: Record<string, { hooks: number; seconds: number }> = {};
for (const mode of ['classic', 'holistic'] as const) {
  const c = withController(`bench-fanout-${mode}`);
  const charm = providerCharm(mode === 'holistic');
  try {
    c.run(['deploy', charm]);
    c.run(['deploy', join(ROOT, 'bench', 'charms', 'fanout-client'), '-n', String(CLIENTS)]);
    c.run(['wait', '--timeout', '5m']);
    const before = providerHooks(c.run);
    const t = performance.now();
    c.run(['integrate', 'fanout-provider', 'fanout-client']);
    c.run(['wait', '--timeout', '10m']);
    const seconds = (performance.now() - t) / 1000;
    const s = JSON.parse(c.run(['status', '--format', 'json'])) as ModelStatusDoc;
    const message = s.applications['fanout-provider']?.units?.['fanout-provider/0']?.['workload-status'].message;
    if (message !== `${CLIENTS} clients allowed`) throw new Error(`${mode}: provider did not converge: "${message}"`);
    results[mode] = { hooks: providerHooks(c.run) - before, seconds };
    console.log(`${mode.padEnd(8)}: provider ran ${results[mode].hooks} hooks; integrate → settled ${seconds.toFixed(2)} s (1 provider, ${CLIENTS} client units, local-process)`);
  } finally {
    c.close();
    if (charm.includes('sigil-fanout-')) rmSync(join(charm, '..'), { recursive: true, force: true });
  }
}
const { classic, holistic } = results;
if (classic && holistic) {
  console.log(`holistic vs classic: ${(classic.hooks / holistic.hooks).toFixed(1)}x fewer provider hooks, ${(classic.seconds / holistic.seconds).toFixed(2)}x faster to settle`);
}
