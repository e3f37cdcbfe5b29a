// The Ansible side of bench/peer-ansible: LXC system containers made from Sigil's base image
// with Sigil's own provider helpers (same LXC config, same upper-layer identity files, same
// apt-cacher-ng on a bridge), but no Sigil agent; then ansible-playbook over ssh.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ROOT } from '../lib.ts';
import { AptCache, deleteBridge, ensureBridge, imageRootfs, type Subnet } from '../../packages/providers/src/lxc/index.ts';
import { renderConfig } from '../../packages/providers/src/lxc/config.ts';
import { LxcCli } from '../../packages/providers/src/lxc/lxc-cli.ts';
import { AGENT_DATA_DIR, writeMachineFiles } from '../../packages/providers/src/lxc/machine-files.ts';

export interface AnsibleSide {
  /** Empties (cold) the apt cache, or keeps what earlier runs fetched (warm). */
  resetAptCache(cold: boolean): Promise<void>;
  /** Creates and starts `count` containers; resolves once sshd answers on every one. */
  createMachines(count: number): Promise<string[]>;
  /** Runs the playbook; returns the PLAY RECAP's changed total. */
  playbook(addresses: string[]): Promise<{ ms: number; changed: number }>;
  destroyMachines(): Promise<void>;
  close(): Promise<void>;
}

export async function ansibleSide(work: string, imagesDir: string, subnetCidr: string, bridgeName: string): Promise<AnsibleSide> {
  const here = join(work, 'ansible');
  const lxcpath = join(here, 'lxc');
  mkdirSync(lxcpath, { recursive: true, mode: 0o700 });
  const lxc = new LxcCli(lxcpath);
  const subnet: Subnet = await ensureBridge({ name: bridgeName, subnet: subnetCidr });
  const aptDir = join(here, 'apt-cache');
  const cache = new AptCache({ dir: aptDir, bindAddress: subnet.gateway, cacheDir: join(aptDir, 'cache') });
  const key = join(here, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'peer-ansible', '-f', key]);
  const lower = imageRootfs(imagesDir);
  let names: string[] = [];
  let runNo = 0;
  const cpDir = () => join(here, `cp-${runNo}`);

  const writeAnsibleFiles = (addresses: string[]) => {
    const [client, ...mem] = addresses;
    writeFileSync(join(here, 'inventory.ini'), `[memcached]\n${mem.map((a, i) => `m${i} ansible_host=${a}`).join('\n')}\n\n[client]\nclient ansible_host=${client}\n`);
    mkdirSync(cpDir(), { recursive: true });
    // Generous to Ansible: forks for every host at once, pipelining, persistent ssh connections.
    writeFileSync(join(here, 'ansible.cfg'), `[defaults]
inventory = ${join(here, 'inventory.ini')}
host_key_checking = False
forks = ${Math.max(5, addresses.length)}
interpreter_python = /usr/bin/python3
remote_user = root
private_key_file = ${key}
local_tmp = ${join(here, 'tmp')}
retry_files_enabled = False

[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=/dev/null
control_path_dir = ${cpDir()}
`);
  };

  /** ssh ControlPersist masters of this run: ours, found by their control path, stopped by pid. */
  const stopSshMasters = () => {
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (cmd.startsWith('ssh\0') && cmd.includes(here)) {
        try {
          process.kill(Number(pid), 'SIGTERM');
        } catch {
          /* already gone */
        }
      }
    }
  };

  const destroyMachines = async () => {
    stopSshMasters();
    await Promise.all(names.map(async (n) => {
      await lxc.stop(n, { kill: true }).catch(() => {});
      rmSync(join(lxcpath, n), { recursive: true, force: true });
    }));
    names = [];
  };

  return {
    destroyMachines,
    async resetAptCache(cold) {
      if (cold) {
        await cache.stop();
        rmSync(join(aptDir, 'cache'), { recursive: true, force: true });
      }
      await cache.start();
    },

    async createMachines(count) {
      runNo++;
      const addresses = Array.from({ length: count }, (_, i) => `${subnet.prefix}.${10 + i}`);
      names = addresses.map((_, i) => `pa-${runNo}-${i}`);
      const hosts = names.map((n, i) => ({ hostname: n, address: addresses[i]! }));
      const authorizedKeys = readFileSync(`${key}.pub`, 'utf8');
      await Promise.all(names.map(async (name, i) => {
        const dir = join(lxcpath, name);
        const upper = join(dir, 'upper');
        mkdirSync(upper, { recursive: true, mode: 0o755 });
        await writeMachineFiles(upper, lower, { hostname: name, hosts, gateway: subnet.gateway, aptProxyUrl: cache.url, authorizedKeys, agentConfig: {} });
        // No Sigil here: drop the agent and the provisioning apt refresh (the play updates the lists).
        for (const unit of ['sigil-agent.service', 'sigil-apt-refresh.service']) {
          unlinkSync(join(upper, 'etc/systemd/system/multi-user.target.wants', unit));
          unlinkSync(join(upper, 'etc/systemd/system', unit));
        }
        rmSync(join(upper, 'etc/sigil'), { recursive: true, force: true });
        rmSync(join(upper, AGENT_DATA_DIR.slice(1)), { recursive: true, force: true });
        // Sigil's LXC config, without the mounts of its Node and agent bundle.
        const config = renderConfig({
          lxcpath, name, hostname: name, lowerdir: lower, upperdir: upper, bridge: bridgeName, address: addresses[i]!,
          nodeBinary: process.execPath, distDir: '/nonexistent', constraints: {}, swapAccounting: false,
        }).split('\n').filter((l) => !l.includes('usr/local/bin/node') && !l.includes('opt/sigil/dist')).join('\n');
        writeFileSync(join(dir, 'config'), config);
        await lxc.start(name);
      }));
      await Promise.all(addresses.map((a) => untilPort(a, 22)));
      writeAnsibleFiles(addresses);
      return addresses;
    },

    async playbook() {
      const t = performance.now();
      const out = await new Promise<string>((resolve, reject) => {
        execFile('ansible-playbook', [join(ROOT, 'bench', 'peer-ansible', 'playbook.yml')], {
          cwd: here, maxBuffer: 64 * 1024 * 1024,
          env: { PATH: process.env.PATH, HOME: here, LANG: 'C.UTF-8', ANSIBLE_CONFIG: join(here, 'ansible.cfg'), ANSIBLE_HOME: join(here, 'home'), ANSIBLE_NOCOLOR: '1' },
        }, (err, stdout, stderr) => (err ? reject(new Error(`ansible-playbook failed: ${err.message}\n${stdout.slice(-3000)}\n${stderr.slice(-2000)}`)) : resolve(stdout)));
      });
      const ms = performance.now() - t;
      const changed = [...out.matchAll(/changed=(\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
      if (!/client\s+:\s+ok=\d+/.test(out)) throw new Error(`the play never reached the client:\n${out.slice(-2000)}`);
      return { ms, changed };
    },

    async close() {
      await destroyMachines();
      for (const n of readdirSync(lxcpath)) await lxc.stop(n, { kill: true }).catch(() => {});
      await cache.stop();
      await deleteBridge(bridgeName);
    },
  };
}

/** Resolves once host:port accepts a TCP connection (sshd is up). */
async function untilPort(host: string, port: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((done) => {
      let settled = false;
      const resolve = (v: boolean) => {
        if (!settled) (settled = true), done(v);
      };
      const s = connect({ host, port, timeout: 500 });
      s.once('close', () => resolve(false));
      s.once('connect', () => {
        // sshd accepts only once its banner comes; a bare accept can be systemd's socket.
        s.once('data', () => (s.destroy(), resolve(true)));
      });
      s.once('error', () => resolve(false));
      s.once('timeout', () => (s.destroy(), resolve(false)));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${host}:${port} did not answer within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
