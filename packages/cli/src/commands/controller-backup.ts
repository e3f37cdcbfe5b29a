import { randomBytes, createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { SigilError, formatSize } from '@sigil/core';
import { unpackBackup } from '@sigil/core/backup-archive';
import { parseControllerFile, requestOf } from '@sigil/api';
import { Client } from '../client.ts';
import type { ControllerEntry } from '../home.ts';
import type { Ctx } from '../context.ts';
import { renderList } from '../render/output.ts';
import { startController, waitHealthy } from './controller.ts';
import { renderSnapshots } from './schedule.ts';

/** The file the restored controller takes in once as the admin's new session (hash only). */
export const RESTORE_TOKEN_FILE = 'restore-admin.sha256';

/**
 * Controller backups as Juju's `create-backup`, `backups` and a restore onto a fresh
 * SIGIL_HOME or host. Archives hold every secret of the controller: written 0600, never
 * printed, and an archive given to `restore-backup` is checked whole (names, types,
 * checksums) before any of it is written.
 */
export function registerControllerBackup(program: Command, ctx: Ctx): void {
  program
    .command('create-backup')
    .description('snapshot the controller (database, CA, keys, charms) into one archive while it runs, and download it')
    .option('-c, --controller <name>', 'controller')
    .option('--filename <path>', 'where to write the archive (default: its name, in the current directory)')
    .option('--no-download', 'keep the archive on the controller only (see `sigil backups`)')
    .action(async (o: { controller?: string; filename?: string; download: boolean }) => {
      const c = controllerClient(ctx, o.controller);
      const info = await c.call('POST /api/backups');
      if (!o.download) {
        ctx.out(`created backup ${info.name} (${formatSize(info.size)}) on controller "${c.controller}"`);
        return;
      }
      const target = resolve(o.filename ?? info.name);
      if (existsSync(target)) throw new SigilError('already-exists', `${target} already exists`, 'give another --filename; the backup stays on the controller (`sigil backups`)');
      const data = await c.download(requestOf('GET /api/backups/:name', { params: { name: info.name } }).path);
      const sum = createHash('sha256').update(data).digest('hex');
      if (data.length !== info.size || sum !== info.sha256) throw new SigilError('unavailable', `the download of ${info.name} is damaged (${data.length} of ${info.size} bytes, checksum differs)`, 'run `sigil create-backup` again');
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, data, { mode: 0o600, flag: 'wx' });
      ctx.out(`created backup ${info.name} (${formatSize(info.size)}, sha256 ${sum})\ndownloaded to ${target}`);
    });

  program
    .command('backups')
    .description("list the backups kept on the controller (--snapshots: units' backups in the backup store)")
    .option('-c, --controller <name>', 'controller')
    .option('--snapshots', "list the model's snapshots in the backup store instead")
    .option('-m, --model <model>', 'model (with --snapshots)')
    .option('--format <format>', 'tabular, yaml or json')
    .action(async (o: { controller?: string; format?: string; snapshots?: boolean; model?: string }) => {
      if (o.snapshots) {
        const mc = ctx.client(o.model);
        const r = await mc.call('GET /api/models/:model/snapshots');
        ctx.print(r, o.format, () => renderSnapshots(r.snapshots));
        return;
      }
      const c = controllerClient(ctx, o.controller);
      const { backups } = await c.call('GET /api/backups');
      ctx.print({ backups: backups.map((b) => ({ name: b.name, created: b.created, size: b.size })) }, o.format, () =>
        renderList(['Backup', 'Created', 'Size'], backups.map((b) => [b.name, b.created, formatSize(b.size)]), { empty: 'No backups. Create one with `sigil create-backup`.' }));
    });

  program
    .command('restore-backup')
    .description('bring a controller back from a backup archive, in this SIGIL_HOME (a fresh host or directory)')
    .argument('<file>', 'archive written by `sigil create-backup`')
    .option('--name <name>', 'controller name here (default: the name in the backup)')
    .option('--address <host[:port]>', "listen at this address instead of the backed-up one (then re-point the machines' agents with `sigil migrate-agents`)")
    .option('--timeout <duration>', 'how long to wait for the controller to answer', '60s')
    .action(async (file: string, o: { name?: string; address?: string }) => {
      const { manifest, files } = unpackBackup(readFileSync(file));
      const name = o.name ?? manifest.controller;
      if (!/^[a-z][a-z0-9-]{0,62}$/.test(name)) throw new SigilError('bad-request', `"${name}" is not a valid controller name`, 'use lowercase letters, digits and dashes');
      if (ctx.home.controllers().controllers[name]) {
        throw new SigilError('already-exists', `controller "${name}" already exists here`, `restore into a fresh SIGIL_HOME or host, or give another --name; to replace it, \`sigil destroy-controller ${name} --yes\` first`);
      }
      const dir = ctx.home.controllerDir(name);
      if (existsSync(dir)) throw new SigilError('already-exists', `${dir} already exists`, 'remove it, or give another --name');
      const config = parseControllerFile(files.find((f) => f.path === 'controller.json')!.data.toString('utf8'), "the backup's controller.json");
      const moved = o.address !== undefined ? listenAddress(o.address, config) : undefined;
      if (moved && config.provider === 'lxc' && moved.host !== config.host) {
        throw new SigilError('bad-request', `an LXC controller listens on its bridge's gateway, ${config.host}`, `give only another port (--address ${config.host}:PORT), or reach it at another address with \`sigil migrate-agents --to\``);
      }
      const oldAddress = `${config.host}:${config.port}`;
      if (moved) {
        config.host = moved.host;
        config.port = moved.port;
        delete config.agentUrl;
      }
      // The old address is what the machines' agents dial: it must be free here.
      if (await listening(config.host, config.port)) {
        if (moved) throw new SigilError('conflict', `${config.host}:${config.port} is in use here`, 'give another --address');
        throw new SigilError('conflict', `${config.host}:${config.port}, the backed-up controller's address, is in use here`, 'stop the old controller first (its agents will reconnect to the restored one), restore on another host, or restore at another address with --address HOST:PORT and then run `sigil migrate-agents`');
      }
      // At another host address the server certificate is issued again by the same CA.
      if (moved && moved.host !== oldAddress.replace(/:\d+$/, '')) {
        const { issueServerCert } = await import('../tls/pki.ts');
        const pem = (p: string) => files.find((f) => f.path === p)!.data.toString('utf8');
        const fresh = await issueServerCert(pem('tls/ca.crt'), pem('tls/ca.key'), [config.host, 'sigil-controller', ...(config.apiAddresses ?? [])]);
        files.find((f) => f.path === 'tls/server.crt')!.data = Buffer.from(fresh.cert);
        files.find((f) => f.path === 'tls/server.key')!.data = Buffer.from(fresh.key);
      }
      if (moved) files.find((f) => f.path === 'controller.json')!.data = Buffer.from(JSON.stringify(config, null, 2));
      mkdirSync(join(dir, 'tls'), { recursive: true, mode: 0o700 });
      mkdirSync(join(dir, 'ssh'), { recursive: true, mode: 0o700 });
      for (const f of files) writeFileSync(join(dir, f.path), f.data, { mode: f.mode, flag: 'wx' });
      // A fresh admin session for this client: the controller takes its hash in once at start.
      const token = randomBytes(24).toString('base64url');
      writeFileSync(join(dir, RESTORE_TOKEN_FILE), createHash('sha256').update(token).digest('hex'), { mode: 0o600 });
      const entry: ControllerEntry = { endpoint: `https://${config.host}:${config.port}`, dir, provider: config.provider, 'current-model': 'default', 'ca-cert': files.find((f) => f.path === 'tls/ca.crt')!.data.toString('utf8') };
      ctx.home.updateControllers((g) => {
        g.controllers[name] = entry;
        g['current-controller'] = name;
      });
      ctx.home.updateAccounts((a) => {
        a.controllers[name] = { user: 'admin', token, expires: new Date(Date.now() + 24 * 3600_000).toISOString() };
      });
      ctx.info(`Restoring controller "${name}" from ${basename(file)} (taken ${manifest.created}, revision ${manifest.revision})...`);
      try {
        const pid = startController(dir);
        await waitHealthy(new Client(name, entry, token, 'default'), 60_000, join(dir, 'controller.log'), pid);
      } catch (e) {
        throw new SigilError('unavailable', `the restored controller did not start: ${(e as Error).message}`, `see ${join(dir, 'controller.log')}; remove it with \`sigil destroy-controller ${name} --yes\``);
      }
      ctx.out(moved && `${config.host}:${config.port}` !== oldAddress
        ? `Controller "${name}" restored and listening on ${entry.endpoint}\nMachines' agents still dial ${oldAddress}: run \`sigil migrate-agents\` to re-point them.`
        : `Controller "${name}" restored and listening on ${entry.endpoint}\nMachines' agents reconnect to it at that address.`);
    });
}

function controllerClient(ctx: Ctx, controller?: string): Client {
  const { name, entry, token } = ctx.home.resolve(controller);
  return new Client(name, entry, token, entry['current-model']);
}

/** `--address HOST[:PORT]` (the backed-up port by default). */
function listenAddress(address: string, config: { port: number }): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(address);
  const port = Number(m?.[2] ?? config.port);
  if (!m || port < 1 || port > 65535) throw new SigilError('bad-request', `"${address.slice(0, 100)}" is not an address to listen at`, 'give it as HOST[:PORT], an address of this host, e.g. `--address 127.0.0.1:17071`');
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** Whether something accepts connections at host:port. */
function listening(host: string, port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createConnection({ host, port });
    s.setTimeout(1000);
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
    s.once('timeout', () => {
      s.destroy();
      res(false);
    });
  });
}

