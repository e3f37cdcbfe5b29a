// Sigil beside Ansible (issue 21): memcached (64 MB) on N fresh LXC machines plus a client that
// checks every memcached with set/get. Both sides use containers from the same base image on
// a private bridge with apt-cacher-ng on it; runs alternate (odd runs Ansible first, even runs
// Sigil first). Figures, as medians per N and apt-cache variant:
//   machines ready  Ansible: N+1 containers created and started until sshd answers on each;
//                   Sigil: add-machine -n N+1, then `sigil wait` until every machine is started
//                   (agent connected).
//   first config    Ansible: ansible-playbook (apt lists refreshed, install, config, service,
//                   client check); Sigil: deploy of the bundle onto those machines
//                   (--map-machines existing) until settled, the client having checked all.
//   no-op re-run    the same playbook / the same bundle again.
// cold: an empty apt cache for the run (Sigil: a fresh controller, whose apt-cacher-ng starts
// empty; Ansible: its apt-cacher-ng's cache emptied). warm: the cache as earlier runs left it
// (Sigil: the same controller, a new model). Sigil's bootstrap is timed apart (once per
// controller; the Ansible side's counterpart, installing Ansible, is not timed).
// Usage: node bench/run.mjs peer-ansible [--n 3,10] [--reps 2] [--variants cold,warm]
// Needs root (bridges, privileged containers); installs ansible-core from Debian if missing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureImage } from '../../packages/providers/src/lxc/index.ts';
import { ROOT } from '../lib.ts';
import { ansibleSide, type AnsibleSide } from './ansible-side.ts';
import { sigilController, type SigilController } from './sigil-side.ts';

if (process.getuid?.() !== 0) {
  console.log('peer-ansible: skipped (needs root)');
  process.exit(0);
}

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}
const NS = flag('n', '3,10').split(',').map(Number);
const REPS = Number(flag('reps', '2'));
const VARIANTS = flag('variants', 'cold,warm').split(',') as ('cold' | 'warm')[];
if (NS.some((n) => !Number.isInteger(n) || n < 1 || n > 60) || !Number.isInteger(REPS) || REPS < 1 || VARIANTS.some((v) => v !== 'cold' && v !== 'warm')) {
  console.error('peer-ansible: bad flags\nhint: --n 3,10 (1-60 each) --reps 2 --variants cold,warm');
  process.exit(2);
}

const here = join(ROOT, 'bench', 'peer-ansible');
if (readFileSync(join(here, 'check-memcached.py'), 'utf8') !== readFileSync(join(here, 'charms', 'memcache-client', 'check-memcached.py'), 'utf8')) {
  throw new Error('bench/peer-ansible/check-memcached.py and the client charm\'s copy differ: both sides must run the same check');
}
if (!existsSync('/usr/bin/ansible-playbook')) {
  console.log('installing ansible-core from Debian ...');
  execFileSync('apt-get', ['install', '-y', '-q', 'ansible-core'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}
const ansibleVersion = execFileSync('ansible-playbook', ['--version'], { encoding: 'utf8' }).split('\n')[0];

const work = mkdtempSync(join(tmpdir(), 'sigil-peer-'));
const imagesDir = process.env.SIGIL_IMAGES || '/var/tmp/sigil-images';
const h = createHash('sha1').update(work).digest();
const controllers: SigilController[] = [];
let ansible: AnsibleSide | undefined;
let closing = false;
async function cleanup() {
  if (closing) return;
  closing = true;
  for (const c of controllers) {
    try {
      c.close();
    } catch (e) {
      console.error(`cleanup: ${(e as Error).message}`);
    }
  }
  await ansible?.close().catch((e: Error) => console.error(`cleanup: ${e.message}`));
  rmSync(work, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => void cleanup().then(() => process.exit(130)));
}

type Row = { ready: number; first: number; noop: number; noopChanged: number };
const results = new Map<string, { ansible: Row[]; sigil: Row[]; bootstrap: number[] }>();
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

try {
  const img = await ensureImage(imagesDir, { onProgress: () => {} });
  if (img.built) console.log(`base image built in ${sec(img.ms)} (${imagesDir})`);
  ansible = await ansibleSide(work, imagesDir, `10.${150 + (h[0]! % 40)}.${h[1]!}.0/24`, `sgpa-${h.toString('hex').slice(0, 8)}`);
  console.log(`peer-ansible: N = ${NS.join(', ')}; ${REPS} run(s) per side per variant (${VARIANTS.join(', ')}); ${ansibleVersion}; image ${imagesDir}`);
  let runNo = 0;
  for (const n of NS) {
    const bundle = join(work, `bundle-${n}.yaml`);
    writeFileSync(bundle, bundleText(n));
    let warmController: SigilController | undefined;
    for (const variant of VARIANTS) {
      const key = `N=${n} ${variant}`;
      const r = { ansible: [] as Row[], sigil: [] as Row[], bootstrap: [] as number[] };
      results.set(key, r);
      for (let rep = 0; rep < REPS; rep++) {
        runNo++;
        const sides = runNo % 2 ? (['ansible', 'sigil'] as const) : (['sigil', 'ansible'] as const);
        for (const side of sides) {
          if (side === 'ansible') {
            await ansible.resetAptCache(variant === 'cold');
            const t = performance.now();
            const addrs = await ansible.createMachines(n + 1);
            const ready = performance.now() - t;
            const first = await ansible.playbook(addrs);
            const noop = await ansible.playbook(addrs);
            await ansible.destroyMachines();
            r.ansible.push({ ready, first: first.ms, noop: noop.ms, noopChanged: noop.changed });
            console.log(`  ${key} run ${rep + 1} ansible: ready ${sec(ready)}, first ${sec(first.ms)} (changed ${first.changed}), no-op ${sec(noop.ms)} (changed ${noop.changed})`);
          } else {
            let c: SigilController;
            if (variant === 'cold' || !warmController) {
              c = sigilController(join(work, `sigil-${runNo}`), `peer${runNo}`, imagesDir);
              controllers.push(c);
              r.bootstrap.push(c.bootstrapMs);
            } else c = warmController;
            const model = `peer${runNo}`;
            const ready = await c.addMachines(model, n + 1);
            const first = await c.deploy(model, bundle);
            c.expectClientChecked(model, n);
            const noop = await c.deploy(model, bundle);
            r.sigil.push({ ready, first: first.ms, noop: noop.ms, noopChanged: noop.hooks });
            console.log(`  ${key} run ${rep + 1} sigil: ready ${sec(ready)}, first ${sec(first.ms)}, no-op ${sec(noop.ms)} (hooks ${noop.hooks})${variant === 'cold' ? `; bootstrap ${sec(c.bootstrapMs)}` : ''}`);
            c.destroyModel(model);
            // The last cold controller's cache is warm: the warm variant reuses it.
            if (warmController && warmController !== c) retire(warmController);
            warmController = c;
          }
        }
      }
    }
    if (warmController) retire(warmController);
  }
  report();
} finally {
  await cleanup();
}

function retire(c: SigilController) {
  c.close();
  controllers.splice(controllers.indexOf(c), 1);
}

function bundleText(n: number): string {
  const machines = Array.from({ length: n + 1 }, (_, i) => `  '${i}': {}`).join('\n');
  const to = Array.from({ length: n }, (_, i) => `'${i + 1}'`).join(', ');
  return `machines:
${machines}
applications:
  memcached:
    charm: ${ROOT}/charms/memcached
    num_units: ${n}
    to: [${to}]
    options: {size: 64}
  client:
    charm: ${join(here, 'charms', 'memcache-client')}
    num_units: 1
    to: ['0']
relations:
  - [client:cache, memcached:cache]
`;
}

function report() {
  console.log('\npeer-ansible: medians (Sigil / Ansible ratio; < 1 means Sigil is faster)');
  console.log('case              step             Ansible     Sigil       ratio');
  const totals = new Map<string, { a: number; s: number }>();
  for (const [key, r] of results) {
    if (r.ansible.length === 0 || r.sigil.length === 0) continue;
    for (const step of ['ready', 'first', 'noop'] as const) {
      const a = median(r.ansible.map((x) => x[step]));
      const s = median(r.sigil.map((x) => x[step]));
      console.log(`${key.padEnd(18)}${step.padEnd(17)}${sec(a).padEnd(12)}${sec(s).padEnd(12)}${(s / a).toFixed(2)}`);
    }
    const a = median(r.ansible.map((x) => x.ready + x.first));
    const s = median(r.sigil.map((x) => x.ready + x.first));
    totals.set(key, { a, s });
    console.log(`${key.padEnd(18)}${'ready+first'.padEnd(17)}${sec(a).padEnd(12)}${sec(s).padEnd(12)}${(s / a).toFixed(2)}`);
    const bs = r.bootstrap.length ? `; Sigil bootstrap median ${sec(median(r.bootstrap))} (not in the totals)` : '';
    console.log(`${''.padEnd(18)}no-op: Ansible changed ${r.ansible.map((x) => x.noopChanged).join('/')}, Sigil hooks ${r.sigil.map((x) => x.noopChanged).join('/')}${bs}`);
  }
  for (const variant of VARIANTS) {
    const pts = NS.map((n) => ({ n, t: totals.get(`N=${n} ${variant}`) })).filter((p) => p.t);
    if (pts.length < 2) continue;
    const [p0, p1] = [pts[0]!, pts[pts.length - 1]!];
    const slope = (f: (t: { a: number; s: number }) => number) => (f(p1.t!) - f(p0.t!)) / (p1.n - p0.n) / 1000;
    console.log(`slope ${variant} (ready+first, s per extra machine, N=${p0.n}..${p1.n}): Ansible ${slope((t) => t.a).toFixed(2)}, Sigil ${slope((t) => t.s).toFixed(2)}`);
  }
}

