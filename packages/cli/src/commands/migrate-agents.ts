import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { AgentPresenceDoc, MigrateAgentsMachine, MigrateAgentsResponse } from '@sigil/api';
import { SigilError, formatDuration, parseDuration } from '@sigil/core';
import { PATCH_AGENT_CONFIG_JS } from '@sigil/providers';
import { Client } from '../client.ts';
import type { Ctx } from '../context.ts';
import { SshSession, shq, stepError } from '../enlist/ssh-session.ts';
import { parseTarget } from '../enlist/target.ts';
import { CONFIG, DATA, OPT } from '../enlist/host-files.ts';

interface Opts {
  controller?: string;
  to?: string;
  timeout: string;
  privateKey?: string;
  knownHosts?: string;
}

/**
 * `sigil migrate-agents [--to ADDRESS]` (issue 18 item 1): after `sigil restore-backup` at a
 * new address, every machine's agent is told where the controller is now (and its CA), as
 * Juju's restore re-pointed each machine's agent.conf: machines of the provider through the
 * controller (the config written on the machine, the agent restarted), enlisted hosts over
 * ssh with the operator's key. Then it waits until each agent has connected at the new
 * address and reports per machine. An address that does not answer as this controller is
 * refused before anything changes.
 */
export function registerMigrateAgents(program: Command, ctx: Ctx): void {
  program
    .command('migrate-agents')
    .description("re-point every machine's agent to the controller's address (after restore-backup at a new address)")
    .option('-c, --controller <name>', 'controller')
    .option('--to <address>', "HOST[:PORT] where the agents are to dial the controller (default: the controller's own address)")
    .option('--timeout <duration>', 'how long to wait for every agent to connect', '5m')
    .option('--private-key <file>', 'enlisted hosts: the private key to log in with (default: ssh\'s own, ssh-agent)')
    .option('--known-hosts <file>', 'enlisted hosts: the known_hosts file to check host keys against')
    .action(async (o: Opts) => {
      const timeoutMs = parseDuration(o.timeout);
      const { name, entry, token } = ctx.home.resolve(o.controller);
      const own = new URL(entry.endpoint);
      const url = agentUrl(o.to, own);
      const c = new Client(name, entry, token, entry['current-model']);
      // The address must answer as this controller (its CA, its name) before any agent is told it.
      if (url !== `https://${own.host}`) {
        const there = new Client(name, { ...entry, endpoint: url }, token, entry['current-model'], { retryForMs: 2000 });
        const info = await there.call('GET /api/controller').catch((e: unknown) => {
          throw new SigilError('unavailable', `${url} does not answer as controller "${name}": ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, 'give an address where this controller listens (`sigil show-controller`) or forwards to it; nothing was changed');
        });
        if (info.name !== name) throw new SigilError('conflict', `${url} is controller "${info.name}", not "${name}"`, 'give an address of this controller; nothing was changed');
      }
      const r = await c.call('POST /api/controller/migrate-agents', { body: { url } });
      if (r.machines.length === 0) {
        ctx.out(`No machines: new machines will dial ${r.url}.`);
        return;
      }
      const enlisted = r.machines.filter((m) => m.kind === 'enlisted');
      if (enlisted.length) await repointEnlisted(ctx, r, enlisted, o);
      const waiting = r.machines.filter((m) => !m.error);
      const deadline = Date.now() + timeoutMs;
      let seen: AgentPresenceDoc[] = [];
      // Connected on a connection opened since the re-point (the controller may not have seen
      // the old one close yet when the restarted agent dialled in).
      const since = (a: AgentPresenceDoc) => Math.max(a['connected-since'] ?? 0, a['last-connect'] ?? 0);
      const moved = (m: MigrateAgentsMachine) => seen.find((a) => a.model === m.model && a.machine === m.machine && a.connected && since(a) >= r.at);
      let told = Date.now();
      for (;;) {
        seen = (await c.call('GET /api/controller/agents')).agents;
        if (waiting.every(moved) || Date.now() > deadline) break;
        // Every 10 s, who is still awaited.
        if (Date.now() - told >= 10_000) {
          told = Date.now();
          const left = waiting.filter((m) => !moved(m)).map((m) => `${m.model}/${m.machine}`);
          ctx.info(`waiting for ${left.length} of ${waiting.length} agents to reconnect: ${left.slice(0, 10).join(', ')}${left.length > 10 ? ', …' : ''}`);
        }
        await new Promise((res) => setTimeout(res, 300));
      }
      const lines = r.machines.map((m) => {
        const how = m.kind === 'enlisted' ? `enlisted ${m.target}, over ssh` : 'through the provider';
        const a = moved(m);
        const state = m.error ? `FAILED: ${m.error}` : a ? `reconnected after ${formatDuration(since(a) - r.at)}` : `not connected after ${o.timeout}`;
        return `  ${m.model}/${m.machine}  (${how})  ${state}`;
      });
      const failed = r.machines.filter((m) => m.error || !moved(m));
      ctx.out(`Agents re-pointed to ${r.url}:\n${lines.join('\n')}`);
      if (failed.length) {
        throw new SigilError('unavailable', `${failed.length} of ${r.machines.length} machine agents did not reconnect to ${r.url}`, 'see the lines above; fix the machine (e.g. start it), then run `sigil migrate-agents` again: it is safe to repeat');
      }
    });
}

/** `--to HOST[:PORT]` (or the controller's own address) as the URL agents dial. */
function agentUrl(to: string | undefined, own: URL): string {
  if (to === undefined) return `https://${own.host}`;
  const bad = () => new SigilError('bad-request', `"${to.slice(0, 100)}" is not a controller address`, 'give it as HOST[:PORT], e.g. `sigil migrate-agents --to 10.0.0.5:17070`; nothing was changed');
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(to.replace(/^https:\/\//, '').replace(/\/$/, ''));
  if (!m) throw bad();
  const port = m[2] ?? own.port ?? '443';
  if (Number(port) < 1 || Number(port) > 65535) throw bad();
  return `https://${m[1]}:${port}`;
}

/** Each enlisted host's agent config is patched over ssh (address and CA only; the credential stays) and the agent restarted. */
async function repointEnlisted(ctx: Ctx, r: MigrateAgentsResponse, machines: MigrateAgentsMachine[], o: Opts): Promise<void> {
  const patch = JSON.stringify({ controllerUrl: r.url, caCert: r.caCert });
  const restart = (init: string | undefined) => init === 'systemd'
    ? 'systemctl stop sigil-agent.service\nPATCH\nsystemctl start sigil-agent.service'
    // Supervised: the loop starts the agent again a second after it exits.
    : `PATCH\nsp=$(cat ${DATA}/supervisor.pid)\nfor p in $(pgrep -P "$sp"); do kill -TERM "$p"; done`;
  for (const m of machines) {
    const controlDir = await mkdtemp(join(tmpdir(), 'sigil-migrate-'));
    const target = parseTarget(`ssh:${m.target!}`);
    const ssh = new SshSession(target, { acceptHostKey: false, controlDir, ...(o.privateKey ? { privateKey: o.privateKey } : {}), ...(o.knownHosts ? { knownHosts: o.knownHosts } : {}) });
    try {
      const script = `set -e\n${restart(m.init).replace('PATCH', `${OPT}/node -e ${shq(PATCH_AGENT_CONFIG_JS)} ${CONFIG}`)}\n`;
      const uid = await ssh.run('id -u');
      const res = uid.code !== 0 ? uid : await ssh.run(script, { root: uid.stdout.trim() === '0' ? 'direct' : 'sudo', input: patch });
      if (res.code !== 0) m.error = stepError('re-point agent', target, res).message.replace(/^add-machine /, '');
      else ctx.info(`re-pointed ${m.model}/${m.machine} (${m.target})`);
    } finally {
      await ssh.close();
      await rm(controlDir, { recursive: true, force: true });
    }
  }
}
