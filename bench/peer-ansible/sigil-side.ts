// The Sigil side of bench/peer-ansible: an lxc controller with its own SIGIL_HOME, machines
// added up front, then the bundle deployed onto them (--map-machines existing).
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import type { ModelStatusDoc } from '@sigil/api';
import { SIGIL } from '../lib.ts';

export interface SigilController {
  bootstrapMs: number;
  /** add-machine -n count; the time until every machine is started (agent connected). */
  addMachines(model: string, count: number): Promise<number>;
  /** deploy of the bundle until settled; `hooks` counts the hooks the units ran meanwhile. */
  deploy(model: string, bundle: string): Promise<{ ms: number; hooks: number }>;
  expectClientChecked(model: string, n: number): void;
  destroyModel(model: string): void;
  close(): void;
}

export function sigilController(home: string, name: string, imagesDir: string): SigilController {
  mkdirSync(home, { recursive: true });
  // No host pool of packages (SIGIL_APT_POOL=''): a cold run's cache starts empty, as Ansible's does.
  const env = { ...process.env, SIGIL_HOME: home, SIGIL_IMAGES: imagesDir, SIGIL_APT_POOL: '' };
  const run = (args: string[]) => execFileSync(SIGIL, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  const runAsync = (args: string[]) => new Promise<string>((resolve, reject) => {
    execFile(SIGIL, args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => (err ? reject(new Error(`sigil ${args.join(' ')}: ${err.message}\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`)) : resolve(stdout)));
  });
  const status = (model: string) => JSON.parse(run(['status', '-m', model, '--format', 'json'])) as ModelStatusDoc;
  const units = (model: string) => Object.values(status(model).applications ?? {}).flatMap((a) => Object.keys(a.units ?? {}));
  /** Hooks each unit started since `since` (ms), from its agent status history. */
  const hooksSince = (model: string, since: number) => {
    let n = 0;
    for (const u of units(model)) {
      const h = JSON.parse(run(['show-status-log', u, '-m', model, '--type', 'juju-unit', '-n', '1000', '--format', 'json'])) as { message?: string; since: string }[];
      n += h.filter((e) => Date.parse(e.since) >= since && /^running .* hook/.test(e.message ?? '')).length;
    }
    return n;
  };
  let t = performance.now();
  run(['bootstrap', '--provider', 'lxc', name]);
  const bootstrapMs = performance.now() - t;
  let closed = false;
  return {
    bootstrapMs,
    async addMachines(model, count) {
      run(['add-model', model]);
      t = performance.now();
      run(['add-machine', '-m', model, '-n', String(count)]);
      // As a user waits: `sigil wait` follows the change feed (machines' agents included)
      // instead of a status poll, which would spend the CPU the machines boot with.
      run(['wait', '-m', model, '--timeout', '5m']);
      const ready = performance.now() - t;
      const ms = Object.values(status(model).machines);
      if (ms.length < count || !ms.every((m) => m['juju-status'].current === 'started')) throw new Error(`sigil wait returned before every machine of ${model} was started`);
      return ready;
    },
    async deploy(model, bundle) {
      const wall = Date.now();
      t = performance.now();
      await runAsync(['deploy', bundle, '-m', model, '--map-machines', 'existing', '--no-progress']);
      const ms = performance.now() - t;
      return { ms, hooks: hooksSince(model, wall) };
    },
    expectClientChecked(model, n) {
      const u = status(model).applications?.client?.units?.['client/0'];
      const msg = u?.['workload-status']?.message ?? '';
      if (msg !== `checked ${n} memcached`) throw new Error(`the client has not checked every memcached: "${msg}"`);
    },
    destroyModel(model) {
      run(['destroy-model', model, '--yes']);
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        run(['destroy-controller', name, '--yes']);
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    },
  };
}
