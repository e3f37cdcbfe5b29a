import { access, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import type { Server } from 'node:net';
import { join } from 'node:path';
import type { ContainerView } from '@sigil/api';
import { SigilError, isSigilError, machineTag } from '@sigil/core';
import {
  IMAGE_NAME, LxcCli, deleteBridge, ensureBridge, parseConstraints, parseSubnet, pickAddress, relayServer, renderConfig, run, writeMachineFiles, type Subnet,
} from '@sigil/providers';
import type { AgentApi } from './api-client.ts';

/** Where a host keeps what its containers need; all of it under the agent's data directory. */
export interface ContainerHostPaths {
  /** The agent's data directory on the host (/var/lib/sigil): removed with the agent. */
  dataDir: string;
  /** The agent's install directory (/opt/sigil: node, agent.mjs, the hook-tool client), mounted read-only into each container. */
  optDir: string;
}

export const CONTAINER_BRIDGE = 'sigilbr0';

interface NetworkState {
  subnet: string;
  last: number;
}

/**
 * Containers on this machine (issue 13, `lxc:N`): the host's agent creates each LXC system
 * container placed on its machine (an overlay of the base image, its own address on a
 * bridge of this host, Sigil's agent bind-mounted read-only) and destroys it when it is
 * removed. Containers reach the controller through a TCP relay this agent runs on the
 * bridge's gateway (TLS passes through; the container's agent checks the controller's
 * certificate against the controller's own name). A host that cannot hold containers
 * (no LXC, no base image, a container store on overlayfs) fails the container with the
 * reason and a hint, and changes nothing.
 */
export class ContainerHost {
  private readonly lxcpath: string;
  private readonly lxc: LxcCli;
  private readonly busy = new Set<string>();
  private relays: Server[] = [];
  private subnet: Subnet | undefined;

  constructor(
    private readonly api: AgentApi,
    private readonly host: { id: string; model: string; controllerUrl: string; caCert: string; aptCache?: string },
    private readonly paths: ContainerHostPaths,
    private readonly log: (level: 'INFO' | 'WARNING' | 'ERROR', message: string) => void,
  ) {
    this.lxcpath = join(paths.dataDir, 'containers');
    this.lxc = new LxcCli(this.lxcpath);
  }

  get imageRootfs(): string {
    return join(this.paths.dataDir, 'images', IMAGE_NAME, 'rootfs');
  }

  /** Acts on the view's containers: creates new ones, destroys removed ones once their units are gone. */
  sync(containers: readonly ContainerView[], sshKeys: readonly string[]): void {
    for (const c of containers) {
      if (this.busy.has(c.id)) continue;
      if (c.life === 'alive' && !c.provisioned) this.track(c.id, () => this.create(c, sshKeys));
      else if (c.life !== 'alive' && c.units === 0) this.track(c.id, () => this.destroy(c.id));
    }
    // After a restart of this agent, running containers need the relay back.
    if (containers.some((c) => c.provisioned && c.life === 'alive') && this.relays.length === 0 && this.busy.size === 0) {
      this.track('relay', async () => {
        const subnet = await this.network();
        await this.startRelay(subnet.gateway);
      });
    }
  }

  /** Whether containers still have work in progress (the agent waits before uninstalling). */
  get idle(): boolean {
    return this.busy.size === 0;
  }

  private track(key: string, fn: () => Promise<void>): void {
    this.busy.add(key);
    void fn().catch((e: unknown) => this.log('ERROR', `container ${key}: ${(e as Error).message}`)).finally(() => this.busy.delete(key));
  }

  private name(id: string): string {
    return 'sigil-' + machineTag(id).slice('machine-'.length);
  }

  /** Why this host cannot hold a container, as an error with a hint; undefined when it can. */
  async preflight(): Promise<SigilError | undefined> {
    if ((await run('sh', ['-c', 'command -v lxc-start'])).code !== 0) {
      return new SigilError('unavailable', `machine ${this.host.id} has no LXC (lxc-start not found)`, 'install it on the host (`apt-get install --no-install-recommends lxc`), then remove and add the container again');
    }
    if (!(await access(join(this.imageRootfs, 'sbin/init')).then(() => true, () => false))) {
      return new SigilError('unavailable', `machine ${this.host.id} has no base image at ${this.imageRootfs}`, `copy the controller's image there (e.g. \`tar -C $SIGIL_HOME/images -c ${IMAGE_NAME} | ssh HOST tar -C ${join(this.paths.dataDir, 'images')} -x\`), then remove and add the container again`);
    }
    await mkdir(this.lxcpath, { recursive: true, mode: 0o700 });
    const fs = (await run('stat', ['-f', '-c', '%T', this.lxcpath])).stdout.trim();
    if (fs === 'overlayfs') {
      return new SigilError('unavailable', `machine ${this.host.id} keeps containers under ${this.lxcpath}, which is on overlayfs: a container's overlay cannot have its upper layer there (is the host itself a container?)`, `give the host a real filesystem at ${this.lxcpath} (a bind mount or a volume), then remove and add the container again`);
    }
    return undefined;
  }

  private async create(c: ContainerView, sshKeys: readonly string[]): Promise<void> {
    const refused = await this.preflight();
    if (refused) {
      await this.api.call('POST /api/agent/containers/failed', { body: { id: c.id, message: `${refused.message} (hint: ${refused.hint})` } });
      return;
    }
    const { token } = await this.api.call('POST /api/agent/containers/provision', { body: { id: c.id } });
    const name = this.name(c.id);
    const dir = join(this.lxcpath, name);
    try {
      const subnet = await this.network();
      await this.startRelay(subnet.gateway);
      const address = await this.nextAddress();
      const controller = new URL(this.host.controllerUrl);
      const hostname = name;
      await rm(dir, { recursive: true, force: true });
      await mkdir(join(dir, 'upper'), { recursive: true, mode: 0o755 });
      await writeMachineFiles(join(dir, 'upper'), this.imageRootfs, {
        hostname,
        hosts: [{ address, hostname }],
        gateway: subnet.gateway,
        aptProxyUrl: `http://${subnet.gateway}:${CONTAINER_APT_PORT}`,
        authorizedKeys: sshKeys.join('\n'),
        agentConfig: {
          controllerUrl: `https://${subnet.gateway}:${controller.port || 443}`,
          tlsServerName: controller.hostname,
          caCert: this.host.caCert,
          token,
          model: this.host.model,
          id: c.id,
          address,
          dataDir: '/var/lib/sigil',
          authorizedKeysFile: '/root/.ssh/authorized_keys',
          aptConfigDir: '/etc/apt/apt.conf.d',
          rebootCommand: ['systemctl', 'reboot'],
        },
      });
      const swapAccounting = await stat('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes').then(() => true, () => false);
      await writeFile(join(dir, 'config'), renderConfig({
        lxcpath: this.lxcpath, name, hostname, lowerdir: this.imageRootfs, upperdir: join(dir, 'upper'), bridge: CONTAINER_BRIDGE, address,
        nodeBinary: join(this.paths.optDir, 'node'), distDir: this.paths.optDir, constraints: parseConstraints(c.constraints), swapAccounting,
      }));
      await this.lxc.start(name);
      await this.booted(name);
      this.log('INFO', `container ${c.id} started (${address})`);
    } catch (e) {
      await this.lxc.stop(name, { kill: true }).catch(() => {});
      await rm(dir, { recursive: true, force: true });
      const err = e as Error;
      await this.api.call('POST /api/agent/containers/failed', { body: { id: c.id, message: `creating the container failed: ${err.message}${isSigilError(e) && e.hint ? ` (${e.hint})` : ''}`.slice(0, 2000) } });
      return;
    }
    try {
      await this.api.call('POST /api/agent/containers/provisioned', { body: { id: c.id, instanceId: name, address: await this.addressOf(name), hostname: name } });
    } catch (e) {
      // Removed while it was being created: it goes again.
      if (isSigilError(e) && e.code === 'not-found') await this.removeLocal(name);
      else throw e;
    }
  }

  /**
   * Waits until systemd in the container is past its start (its first unit is up), so a
   * container whose init exits at once (a host out of inotify instances, say) fails here
   * with the reason instead of showing as a machine whose agent never comes.
   */
  private async booted(name: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const state = await this.lxc.state(name);
      if (state === 'STOPPED' || state === undefined) {
        throw new SigilError('unavailable', `container ${name} stopped while booting (its init exited)`, `see ${join(this.lxcpath, name, 'lxc.log')}; systemd fails this way when the host is out of inotify instances (fs.inotify.max_user_instances)`);
      }
      const r = await this.lxc.attach(name, ['systemctl', 'is-system-running']);
      if (['running', 'degraded', 'starting'].includes(r.stdout.trim())) return;
      if (Date.now() > deadline) throw new SigilError('timeout', `container ${name} did not boot within 60 s`, `see ${join(this.lxcpath, name, 'lxc.log')}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }

  private async destroy(id: string): Promise<void> {
    await this.removeLocal(this.name(id));
    await this.api.call('POST /api/agent/containers/removed', { body: { id } });
    this.log('INFO', `container ${id} destroyed`);
    const left = await readdir(this.lxcpath).catch(() => [] as string[]);
    if (left.length === 0) await this.teardown();
  }

  private async removeLocal(name: string): Promise<void> {
    await this.lxc.stop(name, { timeoutS: 10 }).catch(() => this.lxc.stop(name, { kill: true }));
    await rm(join(this.lxcpath, name), { recursive: true, force: true });
  }

  /** The bridge and relay go with the last container. */
  async teardown(): Promise<void> {
    await Promise.all(this.relays.map((r) => new Promise<void>((resolve) => r.close(() => resolve()))));
    this.relays = [];
    await deleteBridge(CONTAINER_BRIDGE).catch(() => {});
    this.subnet = undefined;
  }

  private async addressOf(name: string): Promise<string> {
    const cfg = await readFile(join(this.lxcpath, name, 'config'), 'utf8');
    const m = /^lxc\.net\.0\.ipv4\.address = ([\d.]+)\//m.exec(cfg);
    if (!m) throw new SigilError('internal', `container ${name} has no address in its config`);
    return m[1]!;
  }

  /**
   * The bridge's /24: kept in network.json once chosen, else a free one of 10.200-249.x.0/24
   * (not used by any interface of the host), so containers never clash with the host's networks.
   */
  private async network(): Promise<Subnet> {
    if (this.subnet) return this.subnet;
    const file = join(this.lxcpath, 'network.json');
    let state = await readFile(file, 'utf8').then((t) => JSON.parse(t) as NetworkState, () => undefined);
    if (!state) {
      const used = (await run('ip', ['-4', '-o', 'addr', 'show'])).stdout;
      for (let i = 0; i < 200 && !state; i++) {
        const prefix = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 254) + 1}`;
        if (!used.includes(` ${prefix}.`)) state = { subnet: `${prefix}.0/24`, last: 1 };
      }
      if (!state) throw new SigilError('unavailable', 'no free private /24 for the container bridge', 'free one of 10.200-249.x.0/24 on the host');
      await writeFile(file, JSON.stringify(state) + '\n');
    }
    this.subnet = await ensureBridge({ name: CONTAINER_BRIDGE, subnet: state.subnet });
    return this.subnet;
  }

  private async nextAddress(): Promise<string> {
    const file = join(this.lxcpath, 'network.json');
    const state = JSON.parse(await readFile(file, 'utf8')) as NetworkState;
    const used = new Set<string>();
    for (const n of await readdir(this.lxcpath).catch(() => [] as string[])) {
      if (n.startsWith('sigil-')) used.add(await this.addressOf(n).catch(() => ''));
    }
    const address = pickAddress(parseSubnet(state.subnet), used, state.last);
    state.last = Number(address.split('.')[3]);
    await writeFile(file, JSON.stringify(state) + '\n');
    return address;
  }

  /**
   * TCP relays from the bridge gateway: to the controller, on the controller's port, and to
   * the controller's apt cache on 3142 (the one this host uses, else the one the controller
   * offers at its api address), so containers install packages without a route out.
   */
  private async startRelay(gateway: string): Promise<void> {
    if (this.relays.length > 0) return;
    const controller = new URL(this.host.controllerUrl);
    const apt = new URL(this.host.aptCache ?? `http://${controller.hostname}:${CONTAINER_APT_PORT}`);
    const api = await relay(gateway, Number(controller.port || 443), controller.hostname, Number(controller.port || 443));
    const aptRelay = await relay(gateway, CONTAINER_APT_PORT, apt.hostname, Number(apt.port || 80)).catch((e: unknown) => {
      api.close();
      throw e;
    });
    this.relays = [api, aptRelay];
  }
}

/** Where a container's apt proxy is: its host's bridge gateway, apt-cacher-ng's port. */
const CONTAINER_APT_PORT = 3142;

function relay(address: string, port: number, host: string, targetPort: number): Promise<Server> {
  const server = relayServer({ host, port: targetPort });
  return new Promise<Server>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve(server));
  });
}
