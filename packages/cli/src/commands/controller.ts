import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { SigilError, parseDuration } from '@sigil/core';
import { parseControllerFile, replicaFile, type AwayReplica, type ControllerFile } from '@sigil/api';
import { controllerAptCache, isAlive } from '@sigil/providers';
import { Client } from '../client.ts';
import { DIST } from '../dist.ts';
import type { ControllerEntry } from '../home.ts';
import type { Ctx } from '../context.ts';
import { renderList } from '../render/output.ts';


/**
 * `--api-address`: IP literals of this host only (the controller listens there, and its
 * certificate names them), so a typo fails here rather than as agents that never connect.
 */
function checkApiAddresses(given: string[]): string[] {
  const mine = new Set(Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((i) => i.address)));
  for (const a of given) {
    if (isIP(a) === 0) throw new SigilError('bad-request', `--api-address ${JSON.stringify(a)} is not an IP address`, 'give an address of this host, e.g. --api-address 10.0.0.1');
    if (!mine.has(a)) throw new SigilError('bad-request', `--api-address ${a} is not an address of this host`, `this host has: ${[...mine].sort().join(', ')}`);
  }
  return [...new Set(given)];
}

export function registerController(program: Command, ctx: Ctx): void {
  program
    .command('bootstrap')
    .description('start a controller in the background')
    .argument('[name]', 'controller name', 'sigil')
    .option('--provider <name>', 'machine provider: lxc (containers; the default as root on Linux) or local-process (host processes)')
    .option('--subnet <cidr>', 'lxc: the private /24 for the machine bridge', '')
    .option('--timeout <duration>', 'how long to wait for the controller to answer', '5m')
    .option('--api-address <address>', 'also serve the API on this address of this host, for machines on other hosts (add-machine ssh:); repeatable, the first is given to enlisted machines', (v: string, prev: string[]) => [...prev, ...v.split(',').filter(Boolean)], [] as string[])
    .option('--store <url>', 'keep the model in PostgreSQL (postgresql://USER@HOST[:PORT]/DB) instead of the embedded SQLite file; the password comes from --store-password-file or SIGIL_STORE_PASSWORD')
    .option('--store-password-file <file>', "a file holding the PostgreSQL user's password (never give it on the command line)")
    .action(async (name: string, o: { provider?: string; subnet: string; timeout: string; apiAddress: string[]; store?: string; storePasswordFile?: string }) => {
      const provider = o.provider ?? (process.platform === 'linux' && process.getuid?.() === 0 ? 'lxc' : 'local-process');
      if (provider !== 'local-process' && provider !== 'lxc') {
        throw new SigilError('bad-request', `provider "${provider}" is not available`, 'use --provider lxc or --provider local-process');
      }
      const apiAddresses = checkApiAddresses(o.apiAddress);
      const f = ctx.home.controllers();
      if (f.controllers[name]) throw new SigilError('already-exists', `controller "${name}" already exists`, `use it with \`sigil switch ${name}\`, or remove it with \`sigil destroy-controller ${name} --yes\``);
      const store = o.store === undefined ? undefined : storeOption(o.store, o.storePasswordFile);
      const dir = ctx.home.controllerDir(name);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      if (store) {
        ctx.info(`Checking the store ${store.url}...`);
        checkStore(dir, name, store);
      }
      const token = randomBytes(24).toString('base64url');
      const port = await freePort();
      const octet = 16 + Math.floor(Math.random() * 230);
      let host = '127.0.0.1';
      let extra = {};
      if (provider === 'lxc') {
        const lxc = await import('../lxc-bootstrap.ts');
        const prepared = await lxc.prepareLxc(ctx, dir, name, o.subnet);
        host = prepared.gateway;
        extra = { bridge: prepared.bridge, imagesDir: prepared.imagesDir, ...(prepared.aptPool !== undefined ? { aptPool: prepared.aptPool } : {}) };
      }
      const config: ControllerFile = { name, provider, host, port, adminTokenHash: createHash('sha256').update(token).digest('hex'), octet, ...extra, ...(apiAddresses.length > 0 ? { apiAddresses } : {}), ...(store ? { store: { url: store.url } } : {}) };
      writeFileSync(join(dir, 'controller.json'), JSON.stringify(config, null, 2), { mode: 0o600 });
      // The certificate covers the address the API listens on (the bridge's gateway for lxc,
      // where machines dial it), the name machines know it by, and loopback.
      const { createControllerPki, writePki } = await import('../tls/pki.ts');
      const pki = await createControllerPki(name, [host, 'sigil-controller', ...apiAddresses.filter((a) => a !== host)]);
      writePki(dir, pki);
      const endpoint = `https://${host}:${port}`;
      const entry: ControllerEntry = { endpoint, dir, provider, 'current-model': 'default', 'ca-cert': pki.caCert };
      ctx.home.updateControllers((g) => {
        g.controllers[name] = entry;
        g['current-controller'] = name;
      });
      ctx.home.updateAccounts((a) => {
        // The controller takes this token in as the admin's first session (24 h, refreshed as it is used).
        a.controllers[name] = { user: 'admin', token, expires: new Date(Date.now() + 24 * 3600_000).toISOString() };
      });
      ctx.info(`Starting controller "${name}" (${provider})...`);
      const pid = startController(dir);
      await waitHealthy(new Client(name, entry, token, 'default'), parseDuration(o.timeout), join(dir, 'controller.log'), pid);
      ctx.out(`Controller "${name}" is listening on ${endpoint}\nLogs: ${join(dir, 'controller.log')}\nModel "default" is ready: deploy with \`sigil deploy <charm-dir>\``);
    });

  program
    .command('image')
    .description('manage the cached Debian 12 base image of lxc machines')
    .command('build')
    .description('build the base image (once; --force rebuilds it)')
    .option('--force', 'rebuild even if the current version exists')
    .action(async (o: { force?: boolean }) => {
      await (await import('../lxc-bootstrap.ts')).buildImage(ctx, o.force === true);
    });

  program
    .command('start-controller')
    .description('start a stopped local controller again (its data is kept)')
    .argument('[name]')
    .action(async (name?: string) => {
      const { name: n, entry, token } = ctx.home.resolve(name);
      // Every replica (enable-ha) that is not running starts; the first is waited for.
      const stopped = localReplicas(entry.dir).filter((i) => !supervisorAlive(entry.dir, i));
      if (stopped.length === 0) {
        ctx.out(`controller "${n}" is already running`);
        return;
      }
      const pids = new Map(stopped.map((i) => [i, startController(entry.dir, i)]));
      if (stopped.includes(0)) await waitHealthy(new Client(n, { ...entry, endpoints: [entry.endpoint] }, token, entry['current-model']), 30_000, join(entry.dir, 'controller.log'), pids.get(0));
      ctx.out(`controller "${n}" started${stopped.length > 1 || stopped[0] !== 0 ? ` (replica${stopped.length > 1 ? 's' : ''} ${stopped.map((i) => `r${i}`).join(', ')})` : ''}`);
    });

  program
    .command('controllers')
    .description('list controllers')
    .option('--format <format>', 'tabular, yaml or json')
    .action((o: { format?: string }) => {
      const f = ctx.home.controllers();
      const rows = Object.entries(f.controllers).map(([n, c]) => {
        // HA as Juju shows it: `none` for one controller process, else running/configured replicas.
        // Replicas on other hosts are counted apart: whether they run is known there.
        const { local, away } = replicas(c.dir);
        const up = local.filter((i) => supervisorAlive(c.dir, i)).length;
        const ha = local.length + away.size === 1 ? 'none' : `${up}/${local.length}${away.size > 0 ? ` +${away.size} elsewhere` : ''}`;
        return { name: n, endpoint: c.endpoint, provider: c.provider, model: c['current-model'], current: n === f['current-controller'], running: up > 0, ha };
      });
      ctx.print({ controllers: Object.fromEntries(rows.map((r) => [r.name, r])), 'current-controller': f['current-controller'] ?? '' }, o.format, () =>
        renderList(['Controller', 'Model', 'Provider', 'Endpoint', 'HA', 'Running'], rows.map((r) => [r.name + (r.current ? '*' : ''), r.model, r.provider, r.endpoint, r.ha, r.running ? 'yes' : 'no']), { empty: 'No controllers. Bootstrap one with `sigil bootstrap --provider local-process demo`.' }));
    });

  program
    .command('destroy-controller')
    .description('destroy a controller, its models and their machines')
    .argument('<name>')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--no-prompt', 'do not ask for confirmation (as Juju)')
    .option('--timeout <duration>', 'how long to wait for machines to go', '2m')
    .action(async (name: string, o: { yes?: boolean; prompt?: boolean; timeout: string }) => {
      const f = ctx.home.controllers();
      const entry = f.controllers[name];
      if (!entry) throw new SigilError('not-found', `controller "${name}" not found`, 'see `sigil controllers`');
      if (entry.provider === 'remote') throw new SigilError('bad-request', `controller "${name}" was registered here, not bootstrapped: it runs elsewhere`, `forget it with \`sigil unregister ${name}\`; only its admin destroys it, where it was bootstrapped`);
      await ctx.confirm(`destroy controller "${name}" and all its models`, o);
      const token = ctx.home.accounts().controllers[name]?.token ?? '';
      const client = new Client(name, entry, token, 'default');
      // Any replica that still runs takes the request (the client moves to one that answers).
      const { local, away } = replicas(entry.dir);
      if (local.some((i) => supervisorAlive(entry.dir, i)) || away.size > 0) {
        ctx.info(`Destroying controller "${name}": removing machines...`);
        try {
          await client.call('POST /api/controller/destroy');
          const deadline = Date.now() + parseDuration(o.timeout);
          while (Date.now() < deadline) {
            const info = await client.call('GET /api/controller');
            if (info.models.length === 0) break;
            await new Promise((r) => setTimeout(r, 250));
          }
        } catch (e) {
          // A controller that cannot clean up after itself is torn down from its pid files.
          ctx.info(`controller did not clean up (${(e as Error).message}); stopping its processes directly`);
        }
      }
      // Replicas on other hosts are removed from them (over ssh, as they were placed).
      const { removeAwayReplica } = await import('../enlist/replica-host.ts');
      for (const [i, r] of away) ctx.info((await removeAwayReplica(r, i).catch((e: Error) => ({ message: `could not remove replica r${i} from ${r.address}: ${e.message}` }))).message);
      // Each replica still running stops (a pid file left by one that is gone names no process of ours).
      for (const i of local.reverse()) {
        if (!supervisorAlive(entry.dir, i)) continue;
        stopPid(join(entry.dir, replicaFile('supervisor.pid', i)));
        stopPid(join(entry.dir, replicaFile('controller.pid', i)));
      }
      // The apt cache it offered enlisted hosts outlives a controller restart, not its end.
      await controllerAptCache(entry.dir).stop();
      // The bridge carries the API itself, so the host side is torn down from here, last.
      if (entry.provider === 'lxc') await (await import('../lxc-bootstrap.ts')).teardownLxc(entry.dir);
      killLeftoverAgents(join(entry.dir, 'machines'));
      rmSync(entry.dir, { recursive: true, force: true });
      ctx.home.updateControllers((g) => {
        delete g.controllers[name];
        if (g['current-controller'] === name) delete g['current-controller'];
      });
      ctx.home.updateAccounts((a) => {
        delete a.controllers[name];
      });
      ctx.out(`Controller "${name}" destroyed`);
    });

  program
    .command('models')
    .description('list models')
    .option('-c, --controller <name>', 'controller')
    .option('--format <format>', 'tabular, yaml or json')
    .action(async (o: { format?: string; controller?: string }) => {
      const c = ctx.client(o.controller ? `${o.controller}:default` : undefined);
      const models = await c.call('GET /api/models');
      ctx.print({ models, 'current-model': c.entry['current-model'] }, o.format, () =>
        `Controller: ${c.controller}\n\n` + renderList(['Model', 'Status', 'Apps', 'Machines', 'Units', 'Access'], models.map((m) => [m.name + (m.name === c.entry['current-model'] ? '*' : ''), m.life === 'alive' ? 'available' : 'destroying', String(m.applications), String(m.machines), String(m.units), m.access])));
    });

  program
    .command('add-model')
    .description('add a model and switch to it')
    .argument('<name>')
    .option('-c, --controller <name>', 'controller to add it to')
    .action(async (name: string, o: { controller?: string }) => {
      const c = ctx.client(o.controller ? `${o.controller}:default` : undefined);
      await c.call('POST /api/models', { body: { name } });
      setCurrentModel(ctx, c.controller, name);
      ctx.out(`Added '${name}' model on controller "${c.controller}"`);
    });

  program
    .command('switch')
    .description('select the current controller and/or model')
    .argument('<target>', '[controller:]model, or a controller name')
    .action(async (target: string) => {
      const f = ctx.home.controllers();
      let controller: string | undefined;
      let model: string | undefined = target;
      if (target.includes(':')) [controller, model] = target.split(':') as [string, string];
      else if (f.controllers[target] && target !== f['current-controller']) [controller, model] = [target, undefined];
      const name = controller ?? f['current-controller'];
      const c = ctx.client(name ? `${name}:${model ?? f.controllers[name!]?.['current-model'] ?? 'default'}` : undefined);
      if (model !== undefined) {
        const models = await c.call('GET /api/models');
        if (!models.some((m) => m.name === model)) throw new SigilError('not-found', `model "${model}" not found`, `models: ${models.map((m) => m.name).join(', ')}`);
        setCurrentModel(ctx, c.controller, model);
      }
      ctx.home.updateControllers((g) => {
        g['current-controller'] = c.controller;
      });
      ctx.out(`${c.controller}:${model ?? c.model}`);
    });

  program
    .command('model-config')
    .description('show or set model configuration (update-status-hook-interval, automatically-retry-hooks)')
    .argument('[settings...]', 'key to read, or key=value pairs to set')
    .option('-m, --model <model>', 'model')
    .option('--format <format>', 'tabular, yaml or json')
    .action(async (settings: string[], o: { model?: string; format?: string }) => {
      const c = ctx.client(o.model);
      const set = Object.fromEntries(settings.filter((x) => x.includes('=')).map((x) => [x.slice(0, x.indexOf('=')), x.slice(x.indexOf('=') + 1)]));
      const config: Record<string, string | number | boolean> = Object.keys(set).length > 0
        ? await c.call('POST /api/models/:model/config', { body: set })
        : await c.call('GET /api/models/:model/config');
      const key = settings.find((x) => !x.includes('='));
      if (key !== undefined) {
        if (!(key in config)) throw new SigilError('invalid-config', `unknown model config key "${key}"`, `known keys: ${Object.keys(config).join(', ')}`);
        ctx.out(String(config[key]));
      } else if (Object.keys(set).length === 0) {
        ctx.print(config, o.format, () => renderList(['Attribute', 'Value'], Object.entries(config).map(([k, v]) => [k, String(v)])));
      }
    });

  program
    .command('destroy-model')
    .description('destroy a model and its machines')
    .argument('<name>')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--no-prompt', 'do not ask for confirmation (as Juju)')
    .option('--timeout <duration>', 'how long to wait', '2m')
    .action(async (name: string, o: { yes?: boolean; prompt?: boolean; timeout: string }) => {
      const c = ctx.client(name);
      const model = c.model;
      await ctx.confirm(`destroy model "${model}"`, o);
      await c.call('DELETE /api/models/:model');
      const deadline = Date.now() + parseDuration(o.timeout);
      for (;;) {
        const models = await c.call('GET /api/models');
        if (!models.some((m) => m.name === model)) break;
        if (Date.now() > deadline) throw new SigilError('timeout', `model "${model}" is still being destroyed`, 'see `sigil status -m ' + name + '`');
        await new Promise((r) => setTimeout(r, 250));
      }
      if (c.entry['current-model'] === model) setCurrentModel(ctx, c.controller, 'default');
      ctx.out(`Model "${model}" destroyed`);
    });
}

function setCurrentModel(ctx: Ctx, controller: string, model: string): void {
  ctx.home.updateControllers((f) => {
    const e = f.controllers[controller];
    if (e) e['current-model'] = model;
  });
}

/**
 * `--store`: a PostgreSQL URL without a password (a password in it would sit in the shell's
 * history and the process list), and the password from a file or the environment.
 */
function storeOption(url: string, passwordFile: string | undefined): { url: string; password?: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SigilError('bad-request', `--store ${JSON.stringify(url.slice(0, 200))} is not a URL`, 'give postgresql://USER@HOST[:PORT]/DATABASE');
  }
  if (u.protocol !== 'postgresql:' && u.protocol !== 'postgres:') throw new SigilError('bad-request', `--store: "${u.protocol.replace(/:$/, '')}" is not a store Sigil knows`, 'give postgresql://USER@HOST[:PORT]/DATABASE, or leave --store out for the embedded SQLite store');
  if (u.password !== '') throw new SigilError('bad-request', '--store: the URL carries a password, which would be visible in the process list and your shell history', 'remove it from the URL and put it in a file given with --store-password-file (or in SIGIL_STORE_PASSWORD)');
  if (u.username === '' || u.hostname === '' || u.pathname.length < 2) throw new SigilError('bad-request', `--store ${url}: a user, a host and a database are needed`, 'give postgresql://USER@HOST[:PORT]/DATABASE');
  let password = process.env.SIGIL_STORE_PASSWORD;
  if (passwordFile !== undefined) {
    if (!existsSync(passwordFile)) throw new SigilError('not-found', `--store-password-file ${passwordFile} does not exist`, 'write the password into a file readable only by you (chmod 600) and give its path');
    password = readFileSync(passwordFile, 'utf8').replace(/\r?\n$/, '');
  }
  return password === undefined ? { url: u.toString() } : { url: u.toString(), password };
}

/**
 * Opens the store once through the controller's own code before anything else is made: a
 * wrong URL, password or schema version fails bootstrap with the reason, leaving nothing.
 */
function checkStore(dir: string, name: string, store: { url: string; password?: string }): void {
  writeFileSync(join(dir, 'controller.json'), JSON.stringify({ name, store: { url: store.url } }), { mode: 0o600 });
  if (store.password !== undefined) writeFileSync(join(dir, 'store-password'), store.password, { mode: 0o600 });
  const r = spawnSync(process.execPath, [join(DIST, 'controller.mjs'), '--dir', dir, '--check-store'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status === 0) return;
  rmSync(dir, { recursive: true, force: true });
  const reason = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').slice(-3).join(' ');
  throw new SigilError('unavailable', `cannot use the store ${store.url}: ${reason}`, 'check the URL, that PostgreSQL is running and reachable from here, and the password (--store-password-file or SIGIL_STORE_PASSWORD); nothing was created');
}

/** The controller's replicas (`enable-ha`), 0 being the one bootstrap made; those `--to` placed on other hosts apart. */
export function replicas(dir: string): { local: number[]; away: Map<number, AwayReplica> } {
  try {
    const c = parseControllerFile(readFileSync(join(dir, 'controller.json'), 'utf8'), join(dir, 'controller.json'));
    const away = new Map(Object.entries(c.awayReplicas ?? {}).map(([i, r]) => [Number(i), r]));
    return { local: [0, ...(c.replicaPorts ?? []).map((_, i) => i + 1).filter((i) => !away.has(i))], away };
  } catch {
    return { local: [0], away: new Map() };
  }
}

/** The replicas that run on this host (their pid files are here). */
export function localReplicas(dir: string): number[] {
  return replicas(dir).local;
}


/** Starts the controller's supervisor (detached); returns its pid, for waitHealthy to notice an early exit. */
export function startController(dir: string, replica = 0): number | undefined {
  const log = openSync(join(dir, replicaFile('controller.log', replica)), 'a');
  const child = spawn(process.execPath, [join(DIST, 'controller.mjs'), '--dir', dir, ...(replica > 0 ? ['--replica', String(replica)] : [])], { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  return child.pid;
}

export async function waitHealthy(client: Client, timeoutMs: number, logPath: string, supervisor?: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const tail = () => (existsSync(logPath) ? readFileSync(logPath, 'utf8').split('\n').slice(-10).join('\n') : '');
  for (;;) {
    try {
      await client.call('GET /api/health');
      return;
    } catch (e) {
      // A controller that could not even start (a missing bundle, a bad config) says so at once.
      if (supervisor !== undefined && !isAlive(supervisor)) {
        throw new SigilError('unavailable', 'the controller process exited before it answered', `last lines of ${logPath}:\n${tail()}`);
      }
      if (Date.now() > deadline) {
        throw new SigilError('timeout', `controller did not answer within ${Math.round(timeoutMs / 1000)}s: ${(e as Error).message}`, `last lines of ${logPath}:\n${tail()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function readPid(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export function supervisorAlive(dir: string, replica = 0): boolean {
  const pid = readPid(join(dir, replicaFile('supervisor.pid', replica)));
  return pid !== undefined && isAlive(pid);
}

export function stopPid(path: string): void {
  const pid = readPid(path);
  if (pid === undefined || !isAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const until = Date.now() + 5000;
  while (isAlive(pid) && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

/** Agents of a controller that was not running to clean up after itself. */
function killLeftoverAgents(root: string): void {
  if (!existsSync(root)) return;
  for (const model of readdirSync(root)) {
    for (const id of readdirSync(join(root, model))) {
      const pid = readPid(join(root, model, id, 'agent.pid'));
      if (pid !== undefined && isAlive(pid)) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          process.kill(pid, 'SIGKILL');
        }
      }
    }
  }
}
