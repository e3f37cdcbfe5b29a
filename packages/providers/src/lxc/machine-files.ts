import { randomBytes } from 'node:crypto';
import { chown, lstat, mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runOk } from './run.ts';

export interface HostEntry {
  address: string;
  hostname: string;
}

/** What makes one machine itself, written into its overlay's upper layer before first boot. */
export interface MachineIdentity {
  hostname: string;
  /** Every machine of the model, this one included. */
  hosts: HostEntry[];
  /** The bridge address: the controller and the apt cache listen there. */
  gateway: string;
  aptProxyUrl: string;
  authorizedKeys: string;
  /** Written to /etc/sigil/agent.json for the agent. */
  agentConfig: Record<string, unknown>;
}

export const AGENT_CONFIG_PATH = '/etc/sigil/agent.json';
export const AGENT_DATA_DIR = '/var/lib/sigil';

/** /etc/hosts of a machine: no DNS is reachable, so every machine of the model is named here. */
export function hostsFile(hostname: string, hosts: readonly HostEntry[], gateway: string): string {
  const lines = ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback', `${gateway} sigil-controller`];
  const sorted = [...hosts].sort((a, b) => a.address.localeCompare(b.address, 'en', { numeric: true }));
  for (const h of sorted) lines.push(`${h.address} ${h.hostname}`);
  if (!hosts.some((h) => h.hostname === hostname)) lines.push(`127.0.1.1 ${hostname}`);
  return lines.join('\n') + '\n';
}

const AGENT_UNIT = `[Unit]
Description=Sigil machine agent
After=network.target
# Never give up: the agent must come back however often the controller is away.
StartLimitIntervalSec=0

[Service]
ExecStart=/usr/local/bin/node /opt/sigil/dist/agent.mjs ${AGENT_CONFIG_PATH}
Restart=always
RestartSec=1
Environment=HOME=/root LANG=C.UTF-8

[Install]
WantedBy=multi-user.target
`;

/**
 * Refreshes the apt lists once, at the first boot, as Juju does at provisioning. It runs
 * beside the agent rather than before it, so the agent connects without waiting for the
 * archive; the image's lists let a charm install packages in the meantime.
 */
const APT_REFRESH_UNIT = `[Unit]
Description=Refresh apt lists at provisioning (Sigil)
After=network.target
ConditionPathExists=!${AGENT_DATA_DIR}/apt-refreshed

[Service]
# exec, not oneshot: the boot (is-system-running) does not wait for the archive. Idle
# priority: parsing the lists costs seconds of CPU, which boots and agents come before.
Type=exec
CPUSchedulingPolicy=idle
Nice=19
IOSchedulingClass=idle
ExecStart=/bin/sh -c 'apt-get update -q && touch ${AGENT_DATA_DIR}/apt-refreshed'

[Install]
WantedBy=multi-user.target
`;

/**
 * Creates the directories of `rel` inside the upper layer with the owner and mode of the
 * image's directory at the same path. An upper directory's attributes win over the
 * lower's in the merged view, so a plain mkdir would silently make /root world-readable.
 */
export async function mkdirLike(upper: string, lower: string, rel: string, fallbackMode = 0o755): Promise<string> {
  let path = '';
  for (const part of rel.split('/').filter(Boolean)) {
    path = join(path, part);
    const target = join(upper, path);
    if (await lstat(target).then(() => true, () => false)) continue;
    const like = await stat(join(lower, path)).catch(() => undefined);
    await mkdir(target, { mode: like ? like.mode & 0o7777 : fallbackMode });
    if (like) await chown(target, like.uid, like.gid);
  }
  return join(upper, rel);
}

async function put(upper: string, lower: string, rel: string, content: string, mode = 0o644): Promise<void> {
  const dir = rel.slice(0, rel.lastIndexOf('/'));
  await mkdirLike(upper, lower, dir);
  await writeFile(join(upper, rel), content, { mode });
}

/**
 * Writes a machine's identity into an empty upper layer: hostname (systemd would take the
 * image's otherwise), hosts, a resolv.conf with no servers (nothing to resolve through),
 * a machine-id, the apt proxy, fresh ssh host keys, root's authorized keys, the agent's
 * config and its systemd unit, enabled.
 */
export async function writeMachineFiles(upper: string, lower: string, m: MachineIdentity): Promise<void> {
  await put(upper, lower, 'etc/hostname', `${m.hostname}\n`);
  await put(upper, lower, 'etc/hosts', hostsFile(m.hostname, m.hosts, m.gateway));
  await put(upper, lower, 'etc/resolv.conf', '# Sigil machines have no DNS; the model\'s machines are named in /etc/hosts.\noptions timeout:1 attempts:1\n');
  await put(upper, lower, 'etc/machine-id', randomBytes(16).toString('hex') + '\n', 0o444);
  // No translated descriptions: they are most of what a refresh downloads and parses (6 of
  // 7 MB for bookworm), on every machine, while its first hooks install packages.
  await put(upper, lower, 'etc/apt/apt.conf.d/01sigil-proxy', `Acquire::http::Proxy "${m.aptProxyUrl}";\nDPkg::Lock::Timeout "300";\nAcquire::Languages "none";\n`);
  const ssh = await mkdirLike(upper, lower, 'etc/ssh');
  await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${m.hostname}`, '-f', join(ssh, 'ssh_host_ed25519_key')]);
  await mkdirLike(upper, lower, 'root/.ssh', 0o700);
  await writeFile(join(upper, 'root/.ssh/authorized_keys'), m.authorizedKeys.trim() + '\n', { mode: 0o600 });
  await mkdirLike(upper, lower, 'etc/sigil', 0o700);
  await writeFile(join(upper, AGENT_CONFIG_PATH.slice(1)), JSON.stringify(m.agentConfig, null, 2) + '\n', { mode: 0o600 });
  await mkdirLike(upper, lower, AGENT_DATA_DIR.slice(1), 0o700);
  const wants = await mkdirLike(upper, lower, 'etc/systemd/system/multi-user.target.wants');
  for (const [name, unit] of [['sigil-agent.service', AGENT_UNIT], ['sigil-apt-refresh.service', APT_REFRESH_UNIT]] as const) {
    await writeFile(join(upper, 'etc/systemd/system', name), unit);
    await symlink(`/etc/systemd/system/${name}`, join(wants, name));
  }
}
