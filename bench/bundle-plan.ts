// Plan computation for a 200-application bundle against a 200-application model that
// already matches it except for one option, in process. Baseline: loading (parsing) the
// bundle text, same process.
import { loadBundle, planBundle, type BundleCharm, type ModelState } from '../packages/core/src/index.ts';
import { parseCharm } from '../packages/core/src/charm/index.ts';
import { ms, stats } from './lib.ts';

const charm = parseCharm({
  metadata: 'name: web\nsummary: s\ndescription: d\nprovides:\n  website: {interface: http}\nrequires:\n  db: {interface: pgsql}\n',
  config: 'options:\n  port: {type: int, default: 80}\n  name: {type: string, default: ""}\n',
});
const db = parseCharm({ metadata: 'name: db\nsummary: s\ndescription: d\nprovides:\n  db: {interface: pgsql}\n' });
const N = 200;
let text = 'applications:\n';
for (let i = 0; i < N; i++) text += `  app${i}:\n    charm: ./${i % 2 ? 'web' : 'db'}\n    num_units: 3\n${i % 2 ? `    options: {name: n${i}}\n` : ''}`;
text += 'relations:\n';
for (let i = 1; i < N; i += 2) text += `  - [app${i}, app${i - 1}]\n`;
const src = { path: '/bench/b.yaml', text };

const charms: Record<string, BundleCharm> = {};
const model: ModelState = { applications: {}, machines: [], relations: [] };
for (let i = 0; i < N; i++) {
  const isWeb = i % 2 === 1;
  charms[`app${i}`] = { hash: isWeb ? 'w' : 'd', charm: isWeb ? charm : db };
  model.applications[`app${i}`] = {
    charmName: isWeb ? 'web' : 'db', charmHash: isWeb ? 'w' : 'd',
    units: [0, 1, 2].map((u) => ({ name: `app${i}/${u}`, machine: String(i * 3 + u) })),
    config: isWeb ? { name: i === 101 ? 'changed' : `n${i}` } : {}, exposed: false, constraints: '', annotations: {}, subordinate: false,
  };
  for (let u = 0; u < 3; u++) model.machines.push(String(i * 3 + u));
}
for (let i = 1; i < N; i += 2) model.relations.push({ endpoints: [{ app: `app${i}`, name: 'db' }, { app: `app${i - 1}`, name: 'db' }] });
const modelCharms = Object.fromEntries(Object.entries(charms).map(([k, v]) => [k, v.charm]));

const load: number[] = [];
const plan: number[] = [];
let changes = 0;
for (let i = 0; i < 20; i++) {
  let t = performance.now();
  const bundle = loadBundle(src, [], () => Buffer.from(''));
  load.push(performance.now() - t);
  t = performance.now();
  changes = planBundle(bundle, model, charms, modelCharms).length;
  plan.push(performance.now() - t);
}
console.log(`plan 200-app bundle vs 200-app model (${changes} change): median ${ms(stats(plan).median)}, p99 ${ms(stats(plan).p99)}`);
console.log(`baseline loadBundle of the same text: median ${ms(stats(load).median)}; ratio ${(stats(plan).median / stats(load).median).toFixed(2)}x`);
