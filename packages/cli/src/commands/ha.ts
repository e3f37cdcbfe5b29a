import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { SigilError, parseDuration } from '@sigil/core';
import { certFingerprint } from '@sigil/core/tls';
import { parseControllerFile, replicaFile, type AwayReplica, type ControllerFile, type ControllerReplica } from '@sigil/api';
import { Client } from '../client.ts';
import type { Ctx } from '../context.ts';
import { formatOutput, renderList } from '../render/output.ts';
import { freePort, localReplicas, startController, stopPid, supervisorAlive, waitHealthy } from './controller.ts';

/** `enable-ha` and `show-controller`: a controller's replicas, on this host and on others (decisions 0036, 0041). */
export function registerHa(program: Command, ctx: Ctx): void {
  program
    .command('enable-ha')
    .description('run N controller processes in all, sharing the PostgreSQL store: any of them serves the API, and agents and the CLI move to another when one stops. New ones run on this host, or on the hosts --to names')
    .argument('[name]', 'the controller (default: the current one)')
    .option('-n, --num-controllers <n>', 'how many controller processes in all', '3')
    .option('--to <hosts>', 'where the new replicas run, in order, comma-separated: ssh:[USER@]HOST[:PORT], or the id of a machine enlisted over ssh (the rest run on this host)')
    .option('-m, --model <model>', 'the model whose machine ids --to names (default: the current one)')
    .option('--private-key <file>', 'ssh: the private key to log in with (default: ssh\'s own, ssh-agent)')
    .option('--accept-host-key', 'ssh: trust an unknown host key on first use (its fingerprint is printed and added to known_hosts); a changed key is always refused')
    .option('--known-hosts <file>', 'ssh: the known_hosts file to check the host key against (default: ~/.ssh/known_hosts)')
    .option('--timeout <duration>', 'how long to wait for the replicas to answer', '2m')
    .action(async (name: string | undefined, o: { numControllers: string; to?: string; model?: string; privateKey?: string; acceptHostKey?: boolean; knownHosts?: string; timeout: string }) => {
      const { name: n, entry, token } = ctx.home.resolve(name);
      const want = Number(o.numControllers);
      if (!Number.isInteger(want) || want < 1 || want > 9) throw new SigilError('bad-request', `-n ${JSON.stringify(o.numControllers)}: give a whole number from 1 to 9`, 'e.g. `sigil enable-ha -n 3`');
      if (entry.provider === 'remote') throw new SigilError('bad-request', `controller "${n}" was registered here, not bootstrapped: its replicas are run where it runs`, 'run enable-ha on the controller\'s host');
      const path = join(entry.dir, 'controller.json');
      const config = parseControllerFile(readFileSync(path, 'utf8'), path);
      if (!config.store) {
        throw new SigilError('bad-request', `controller "${n}" keeps its model in an embedded SQLite file, which only one process can serve`, 'replicas share a PostgreSQL store: bootstrap with `--store postgresql://USER@HOST/DB` (a backup restores into it: `sigil create-backup`, then `sigil restore-backup` onto the new controller)');
      }
      const ports = [...(config.replicaPorts ?? [])];
      const away = { ...(config.awayReplicas ?? {}) };
      // -m MODEL or -m CONTROLLER:MODEL (of this controller), as everywhere else.
      const model = o.model?.includes(':') ? o.model.slice(o.model.indexOf(':') + 1) : o.model;
      if (o.model?.includes(':') && o.model.slice(0, o.model.indexOf(':')) !== n) throw new SigilError('bad-request', `-m ${o.model}: that model is not on controller "${n}"`, 'name a model of the controller whose replicas these are');
      const client = () => new Client(n, { ...entry, endpoints: [...new Set([entry.endpoint, ...(entry.endpoints ?? [])])] }, token, model ?? entry['current-model']);
      const placements: string[] = [];
      for (const t of (o.to ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
        if (t.startsWith('ssh:')) placements.push(t);
        else if (/^\d+$/.test(t)) placements.push(await enlistedHost(client(), t));
        else throw new SigilError('bad-request', `--to ${JSON.stringify(t)}: a replica's place is a host over ssh`, 'e.g. `--to ssh:root@10.0.0.5`, or `--to 3` for machine 3 enlisted with `add-machine ssh:`; replicas without one run on this host');
      }
      const adding = Math.max(0, want - 1 - ports.length);
      if (placements.length > adding) {
        throw new SigilError('bad-request', `--to names ${placements.length} host${placements.length > 1 ? 's' : ''} but -n ${want} adds ${adding} replica${adding === 1 ? '' : 's'} to the ${ports.length + 1} there ${ports.length === 0 ? 'is' : 'are'}`, `raise -n to ${ports.length + 1 + placements.length}`);
      }
      if (!supervisorAlive(entry.dir)) throw new SigilError('unavailable', `controller "${n}" is not running`, `start it with \`sigil start-controller ${n}\``);
      const save = () => {
        const next: ControllerFile = { ...config, replicaPorts: ports, awayReplicas: away };
        if (Object.keys(away).length === 0) delete next.awayReplicas;
        writeFileSync(path + '.new', JSON.stringify(next, null, 2), { mode: 0o600 });
        renameSync(path + '.new', path);
      };
      const { installAwayReplica, removeAwayReplica, RDIR } = await import('../enlist/replica-host.ts');
      // Fewer than before: the replicas past N stop (their leases go back at once); one on another host is removed from it.
      for (let i = ports.length; i >= want; i--) {
        if (i === 0) break;
        const elsewhere = away[String(i)];
        if (elsewhere) {
          ctx.info(`Removing replica ${i} from ${elsewhere.address}...`);
          const r = await removeAwayReplica(elsewhere, i);
          if (!r.ok) throw new SigilError('unavailable', r.message, 'the replica is still configured; run enable-ha again once the host answers');
          delete away[String(i)];
        } else {
          ctx.info(`Stopping replica ${i}...`);
          stopPid(join(entry.dir, replicaFile('supervisor.pid', i)));
          stopPid(join(entry.dir, replicaFile('controller.pid', i)));
        }
        ports.length = i - 1;
        save();
      }
      const urlOf = (i: number) => (i === 0 ? `https://${config.host}:${config.port}` : away[String(i)] ? replicaUrl(away[String(i)]!) : `https://${config.host}:${ports[i - 1]}`);
      const deadline = Date.now() + parseDuration(o.timeout);
      const listed = async (url: string) => (await client().call('GET /api/controller')).controllers.some((c) => c.url === url && c.alive);
      // New replicas on other hosts first, in the order given: each is installed, started and joined before the next.
      for (const [k, spec] of placements.entries()) {
        const i = ports.length + 1;
        ctx.info(`Placing replica ${i} on ${spec.slice('ssh:'.length)}...`);
        const placed = await installAwayReplica(spec, {
          dir: entry.dir, replica: i, config: { ...config, replicaPorts: ports },
          ssh: { acceptHostKey: o.acceptHostKey === true, ...(o.privateKey ? { privateKey: resolve(o.privateKey) } : {}), ...(o.knownHosts ? { knownHosts: resolve(o.knownHosts) } : {}) },
          progress: (line) => ctx.info(line),
          joined: async (url) => {
            for (;;) {
              if (await listed(url).catch(() => false)) return;
              if (Date.now() > deadline) throw new SigilError('timeout', `enable-ha: replica ${i} on ${placements[k]} did not join within ${o.timeout}`, `on that host, see ${RDIR}/${replicaFile('controller.log', i)} (or \`journalctl -u sigil-controller\`)`);
              await new Promise((r) => setTimeout(r, 250));
            }
          },
        });
        ports.push(placed.port);
        away[String(i)] = placed;
        save();
      }
      while (ports.length < want - 1) ports.push(await freePort());
      save();
      for (const i of localReplicas(entry.dir)) {
        if (i === 0 || supervisorAlive(entry.dir, i)) continue;
        ctx.info(`Starting replica ${i} on port ${ports[i - 1]}...`);
        startController(entry.dir, i);
      }
      const urls = Array.from({ length: want }, (_, i) => urlOf(i));
      for (const i of localReplicas(entry.dir)) {
        await waitHealthy(new Client(n, { ...entry, endpoint: urlOf(i), endpoints: [urlOf(i)] }, token, entry['current-model']), Math.max(1000, deadline - Date.now()), join(entry.dir, replicaFile('controller.log', i)));
      }
      // Every replica has joined once the controller lists them all alive.
      let all: ControllerReplica[] = [];
      for (;;) {
        all = (await client().call('GET /api/controller')).controllers;
        if (urls.every((u) => all.some((c) => c.url === u && c.alive))) break;
        if (Date.now() > deadline) throw new SigilError('timeout', `the replicas answer but have not all joined: listed ${all.map((c) => c.url).join(', ') || 'none'}`, `see ${join(entry.dir, 'controller-1.log')}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      ctx.home.updateControllers((g) => {
        const e = g.controllers[n];
        if (!e) return;
        e.endpoints = urls;
        // The address calls went to last may be a replica that is gone now.
        if (!urls.includes(e.endpoint)) e.endpoint = urls[0]!;
      });
      ctx.out(renderList(['Replica', 'Address', 'Status', 'Host'], all.map((c) => [c.id, c.url, c.alive ? 'alive' : 'silent', away[c.id.slice(1)] ? away[c.id.slice(1)]!.target : 'this host'])));
    });

  program
    .command('show-controller')
    .description('show a controller: its addresses, CA, store, replicas (where each runs and whether it is alive), models and your account')
    .argument('[name]', 'the controller (default: the current one)')
    .option('--format <format>', 'yaml (default) or json')
    .action(async (name: string | undefined, o: { format?: string }) => {
      const { name: n, entry, token, user } = ctx.home.resolve(name);
      const info = await new Client(n, entry, token, entry['current-model']).call('GET /api/controller');
      // Configured here but not answering: a replica of this host that is down, or one placed elsewhere.
      let config: ControllerFile | undefined;
      try {
        config = parseControllerFile(readFileSync(join(entry.dir, 'controller.json'), 'utf8'), join(entry.dir, 'controller.json'));
      } catch {
        config = undefined; // registered, not bootstrapped here: only what the API says
      }
      const away = config?.awayReplicas ?? {};
      const replicas: Record<string, { url: string; host: string; status: string }> = {};
      for (const c of info.controllers) replicas[c.id] = { url: c.url, host: away[c.id.slice(1)]?.target ?? (c.home === false ? 'elsewhere' : 'this host'), status: c.alive ? 'alive' : 'silent' };
      if (config) {
        for (const i of [0, ...(config.replicaPorts ?? []).map((_, k) => k + 1)]) {
          const id = `r${i}`;
          const r = away[String(i)];
          replicas[id] ??= { url: i === 0 ? `https://${config.host}:${config.port}` : r ? replicaUrl(r) : `https://${config.host}:${config.replicaPorts![i - 1]}`, host: r?.target ?? 'this host', status: 'not answering' };
        }
      }
      const doc = {
        [n]: {
          details: {
            'api-endpoints': [...new Set([entry.endpoint, ...(entry.endpoints ?? []), ...info.apiUrls])],
            provider: entry.provider,
            store: config ? (config.store ? config.store.url : 'sqlite (state.db in the controller directory)') : 'unknown (registered here)',
            ...(entry['ca-cert'] ? { 'ca-fingerprint': certFingerprint(entry['ca-cert']) } : {}),
          },
          'controller-replicas': Object.fromEntries(Object.entries(replicas).sort(([a], [b]) => Number(a.slice(1)) - Number(b.slice(1)))),
          models: info.models,
          'current-model': entry['current-model'],
          account: { user },
        },
      };
      ctx.out(formatOutput(doc, o.format === 'json' ? 'json' : 'yaml'));
    });

}

/**
 * `enable-ha --to N`: the host of machine N, enlisted over ssh (its instance is
 * `manual:ADDRESS`), as ssh reaches it (the user from ssh's own configuration, or root).
 */
async function enlistedHost(client: Client, id: string): Promise<string> {
  const st = await client.call('GET /api/models/:model/status');
  const m = st.machines[id];
  if (!m) throw new SigilError('not-found', `--to ${id}: machine ${id} not found in model "${client.model}"`, `see \`sigil machines -m ${client.model}\`; -m names the model whose machine ids --to means`);
  const instance = m['instance-id'];
  if (!instance.startsWith('manual:')) {
    throw new SigilError('bad-request', `--to ${id}: machine ${id} (instance ${instance || 'pending'}) was made by this controller's provider, on this host`, 'a replica elsewhere goes on a host enlisted with `add-machine ssh:…` (give its id), or on any host with `--to ssh:[USER@]HOST`');
  }
  const address = instance.slice('manual:'.length);
  return `ssh:${address.includes(':') ? `[${address}]` : address}`;
}

const replicaUrl = (r: AwayReplica): string => `https://${r.address.includes(':') ? `[${r.address}]` : r.address}:${r.port}`;
