import { mkdir, readFile, readdir, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SigilError } from '@sigil/core';
import { run } from './run.ts';
import { PATCH_AGENT_CONFIG_JS, lastWords, type AgentAddress, type Instance, type MachineSpec, type Provider } from '../provider.ts';
import { AptCache } from './apt-cache.ts';
import { APT_POOL_DIR } from './apt-pool.ts';
import { parseConstraints, renderConfig, vethName, type Constraints } from './config.ts';
import { ensureHostLimits, ensureHostPackages } from './host.ts';
import { IMAGE_NAME, ensureImage, imageRootfs } from './image.ts';
import { LxcCli, type ContainerState } from './lxc-cli.ts';
import { AGENT_CONFIG_PATH, AGENT_DATA_DIR, hostsFile, writeMachineFiles, type HostEntry } from './machine-files.ts';
import { AptLists, seedLists } from './apt-lists.ts';
import { deleteBridge, ensureBridge, parseSubnet, pickAddress, type BridgeConfig, type Subnet } from './network.ts';

export interface LxcProviderOptions {
  /** This controller's provider directory: lxc/ (the lxcpath: configs, upper layers) and apt-cache/. */
  root: string;
  /** Where base images are cached, shared by controllers (SIGIL_HOME/images). */
  imagesDir: string;
  /**
   * The apt packages shared by the host's controllers (apt-pool.ts): `<imagesDir>/apt-packages`
   * by default, shared as the image is; '' for none (this controller fetches everything itself).
   */
  aptPool?: string;
  bridge: BridgeConfig;
  /** The agent bundle (dist/agent.mjs); its whole directory is mounted read-only at /opt/sigil/dist. */
  agentEntry: string;
  /** Public keys root accepts over ssh on every machine (the controller's). */
  authorizedKeys: string;
  /** The Node binary mounted at /usr/local/bin/node; the running one by default. */
  nodeBinary?: string;
  /** Hostnames are `<prefix>-<model>-<id>`; "sigil" by default. */
  hostnamePrefix?: string;
  /** Progress of slow one-off work: host packages, the image build. */
  onProgress?: (line: string) => void;
  log?: (msg: string, fields: Record<string, unknown>) => void;
}

/** What Sigil keeps about a machine beside its LXC config; written last, so it marks a complete machine. */
export interface MachineRecord {
  model: string;
  id: string;
  name: string;
  hostname: string;
  address: string;
  constraints: string;
}

/**
 * A controller's provider directory: inside the controller's own directory, or where a
 * restored backup says its containers already are (`providerRoot` in controller.json).
 */
export function lxcProviderRoot(controllerDir: string, config: { providerRoot?: string }): string {
  return config.providerRoot ?? join(controllerDir, 'lxc-provider');
}

/** How often a running controller's apt cache and the host's pool exchange packages (a walk of two directories). */
const SYNC_MS = 60_000;

/**
 * A machine is a privileged LXC system container with systemd as PID 1, on an overlay of
 * the base image, with a static address on Sigil's bridge. Everything lives under the
 * provider's own lxcpath, so the host's other containers are never seen or touched.
 */
export class LxcProvider implements Provider {
  readonly name = 'lxc';
  readonly restartsDeadAgents = false;
  readonly lxcpath: string;
  readonly subnet: Subnet;
  readonly aptCache: AptCache;
  private readonly lxc: LxcCli;
  private readonly reserved = new Set<string>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly hostsGen = new Map<string, number>();
  /** The /etc/hosts each machine was last given (by container name): unchanged ones are not attached into again. */
  private readonly hostsGiven = new Map<string, string>();
  private networkReady = false;
  private syncer: NodeJS.Timeout | undefined;
  /** Apt lists fetched once for the host's new machines (apt-lists.ts). */
  readonly aptLists: AptLists;

  constructor(private readonly o: LxcProviderOptions) {
    this.lxcpath = join(o.root, 'lxc');
    this.subnet = parseSubnet(o.bridge.subnet);
    this.lxc = new LxcCli(this.lxcpath);
    const pool = o.aptPool ?? join(o.imagesDir, APT_POOL_DIR);
    this.aptCache = new AptCache({ dir: join(o.root, 'apt-cache'), bindAddress: this.subnet.gateway, ...(pool ? { pool } : {}), ...(o.log ? { log: o.log } : {}) });
    this.aptLists = new AptLists({ dir: `${join(o.imagesDir, IMAGE_NAME)}-lists`, rootfs: imageRootfs(o.imagesDir), proxyUrl: () => this.aptCache.url, ...(o.log ? { log: o.log } : {}) });
  }

  /**
   * Makes the host ready for machines, idempotently: host packages (installed when root),
   * the base image (built once, minutes at worst), the bridge and the apt cache. Call it
   * at controller start; it also recovers the bridge and cache after a host reboot.
   */
  async prepare(): Promise<void> {
    await ensureHostPackages(this.o.onProgress);
    await ensureHostLimits(this.o.onProgress);
    await ensureImage(this.o.imagesDir, this.o.onProgress ? { onProgress: this.o.onProgress } : {});
    await this.ensureNetwork();
    // Fetched in the background: the first machines may come before it is done.
    await this.aptLists.fresh();
    // Packages fetched here reach the host's other controllers while both run, not only when
    // this one is destroyed, and theirs reach this one (a cache already running when the
    // controller started was not seeded either).
    clearInterval(this.syncer);
    this.syncer = setInterval(() => void this.aptCache.sync(), SYNC_MS).unref();
    void this.aptCache.sync();
  }

  private ensureNetwork(): Promise<void> {
    return this.serial('network', async () => {
      await ensureBridge(this.o.bridge);
      await this.aptCache.start();
      this.networkReady = true;
    });
  }

  async create(spec: MachineSpec): Promise<Instance> {
    const constraints = parseConstraints(spec.constraints);
    const rec = await this.serial(`m:${spec.model}/${spec.id}`, () => this.createLocked(spec, constraints));
    await this.refreshHosts(spec.model);
    return { instanceId: rec.name, address: rec.address, hostname: rec.hostname };
  }

  private async createLocked(spec: MachineSpec, constraints: Constraints): Promise<MachineRecord> {
    // The controller asks for a machine only while it has no instance recorded for it, each
    // time with a newly issued credential. A container already there is a create that failed
    // part-way (lxc-wait timed out on a busy host, or the controller stopped before recording
    // it): its agent holds the credential of that attempt, which no longer works, so it
    // would never connect. Nothing has run on it yet: replace it.
    const existing = await this.record(spec.model, spec.id);
    if (existing) {
      await this.lxc.stop(existing.name, { kill: true });
      await rm(join(this.lxcpath, existing.name), { recursive: true, force: true });
      this.o.log?.('replacing a machine from an unfinished create', { model: spec.model, id: spec.id });
    }
    const lower = imageRootfs(this.o.imagesDir);
    if (!(await stat(join(dirname(lower), 'image.json')).then(() => true, () => false))) {
      throw new SigilError('unavailable', 'the lxc base image is not built', 'run `sigil image build`, or start the controller, which builds it');
    }
    if (!this.networkReady) await this.ensureNetwork();
    const name = this.containerName(spec.model, spec.id);
    const hostname = name;
    const dir = join(this.lxcpath, name);
    const address = await this.serial('alloc', async () => {
      const used = new Set([...this.reserved, ...(await this.records()).map((r) => r.address)]);
      const lastFile = join(this.lxcpath, 'last-address');
      const last = Number((await readFile(lastFile, 'utf8').catch(() => '1')).trim()) || 1;
      const a = pickAddress(this.subnet, used, last);
      this.reserved.add(a);
      await mkdir(this.lxcpath, { recursive: true, mode: 0o700 });
      await writeFile(lastFile, a.split('.')[3]!);
      return a;
    });
    try {
      // Leftovers of a create that crashed before its record was written.
      await rm(dir, { recursive: true, force: true });
      await mkdir(join(dir, 'upper'), { recursive: true, mode: 0o755 });
      const rec: MachineRecord = { model: spec.model, id: spec.id, name, hostname, address, constraints: spec.constraints };
      const others = (await this.records(spec.model)).map(hostEntry);
      this.hostsGiven.set(name, hostsFile(hostname, [...others, hostEntry(rec)], this.subnet.gateway));
      await writeMachineFiles(join(dir, 'upper'), lower, {
        hostname,
        hosts: [...others, hostEntry(rec)],
        gateway: this.subnet.gateway,
        aptProxyUrl: this.aptCache.url,
        authorizedKeys: this.o.authorizedKeys,
        agentConfig: { ...spec, address, dataDir: AGENT_DATA_DIR, authorizedKeysFile: '/root/.ssh/authorized_keys', aptConfigDir: '/etc/apt/apt.conf.d', rebootCommand: ['systemctl', 'reboot'] },
      });
      // Lists fetched for the host lately spare the machine its own `apt-get update`.
      // A fetch replacing them meanwhile (hourly) leaves the machine to refresh its own.
      const lists = await this.aptLists.fresh();
      if (lists) await seedLists(join(dir, 'upper'), lower, lists).catch((e: unknown) => this.o.log?.('apt lists not seeded; the machine refreshes its own', { id: spec.id, err: String(e) }));
      const swapAccounting = await stat('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes').then(() => true, () => false);
      await writeFile(join(dir, 'config'), renderConfig({
        lxcpath: this.lxcpath, name, hostname, lowerdir: lower, upperdir: join(dir, 'upper'), bridge: this.o.bridge.name, address,
        nodeBinary: this.o.nodeBinary ?? process.execPath, distDir: dirname(this.o.agentEntry), constraints, swapAccounting,
      }));
      await writeFile(join(dir, 'machine.json'), JSON.stringify(rec, null, 2) + '\n');
      await this.lxc.start(name);
      this.o.log?.('machine started', { model: spec.model, id: spec.id, address });
      return rec;
    } finally {
      this.reserved.delete(address);
    }
  }

  async ensureRunning(model: string, id: string): Promise<void> {
    await this.serial(`m:${model}/${id}`, async () => {
      const rec = await this.record(model, id);
      if (rec) await this.startIfStopped(rec);
    });
  }

  private async startIfStopped(rec: MachineRecord): Promise<void> {
    const state = await this.lxc.state(rec.name);
    if (state === 'RUNNING' || state === 'STARTING') return;
    // After a host reboot the bridge and the cache are gone: bring them back first.
    await this.ensureNetwork();
    await this.lxc.start(rec.name);
    this.o.log?.('machine restarted', { model: rec.model, id: rec.id, was: state ?? 'unknown' });
  }

  async stop(model: string, id: string): Promise<void> {
    await this.serial(`m:${model}/${id}`, async () => {
      const rec = await this.record(model, id);
      if (rec) await this.lxc.stop(rec.name);
    });
  }

  async destroy(model: string, id: string): Promise<void> {
    const gone = await this.serial(`m:${model}/${id}`, async () => {
      const rec = await this.record(model, id);
      const name = rec?.name ?? this.containerName(model, id);
      await this.lxc.stop(name, { kill: true });
      await rm(join(this.lxcpath, name), { recursive: true, force: true });
      this.hostsGiven.delete(name);
      return rec !== undefined;
    });
    if (gone) await this.refreshHosts(model);
  }

  async exec(model: string, id: string, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const rec = await this.record(model, id);
    if (!rec) throw new SigilError('not-found', `machine ${id} of model ${model} has no container`);
    return this.lxc.attach(rec.name, argv);
  }

  async diagnose(model: string, id: string): Promise<string> {
    const rec = await this.record(model, id);
    if (!rec) return 'the machine has no container';
    const state = await this.lxc.state(rec.name);
    if (state !== 'RUNNING') return `container ${rec.name} is ${state ?? 'unknown to LXC'}`;
    // Bounded: an attach into a container that is still booting, or wedged, must not hang
    // the caller.
    const script = 'echo "$(systemctl is-system-running 2>&1)"; echo "$(systemctl is-active sigil-agent.service 2>&1)"; journalctl -u sigil-agent.service -n 2 --no-pager -o cat 2>&1';
    const r = await run('lxc-attach', this.lxc.attachArgs(rec.name, ['sh', '-c', script]), { timeoutMs: 15_000 });
    if (r.code !== 0) return `container ${rec.name} is RUNNING; looking inside failed (exit ${r.code}): ${r.stderr.trim().slice(0, 200) || 'no output'}`;
    const [boot = '?', agent = '?', ...journal] = r.stdout.split('\n');
    return `container ${rec.name} is RUNNING (systemd: ${boot.trim()}), sigil-agent.service ${agent.trim()}; ${lastWords(journal.join('\n'))}`;
  }

  async repointAgent(model: string, id: string, to: AgentAddress): Promise<void> {
    await this.serial(`m:${model}/${id}`, async () => {
      const rec = await this.record(model, id);
      if (!rec) throw new SigilError('not-found', `machine ${id} of model ${model} has no container`);
      if ((await this.lxc.state(rec.name)) !== 'RUNNING') throw new SigilError('unavailable', `machine ${id} of model ${model} is not running`, `start it (\`lxc-start -n ${rec.name}\`), then run migrate-agents again`);
      // Stopped first: the agent writes its config back when its credential rotates.
      const script = `set -e\nsystemctl stop sigil-agent.service\nnode -e "$1" ${AGENT_CONFIG_PATH}\nsystemctl start sigil-agent.service\n`;
      const r = await this.lxc.attach(rec.name, ['sh', '-c', script, 'repoint', PATCH_AGENT_CONFIG_JS], JSON.stringify(to));
      if (r.code !== 0) throw new SigilError('unavailable', `re-pointing machine ${id}'s agent failed: ${r.stderr.trim().slice(0, 300)}`);
    });
  }

  async streamCommand(model: string, id: string, argv: string[]): Promise<{ cmd: string; args: string[] }> {
    const rec = await this.record(model, id);
    if (!rec) throw new SigilError('not-found', `machine ${id} of model ${model} has no container`);
    return { cmd: 'lxc-attach', args: this.lxc.attachArgs(rec.name, argv) };
  }

  /** The LXC state of a machine, or 'missing' when it has no container. */
  async state(model: string, id: string): Promise<ContainerState | 'missing'> {
    const rec = await this.record(model, id);
    return rec ? ((await this.lxc.state(rec.name)) ?? 'missing') : 'missing';
  }

  /** The host-side interface of a machine's network link (for partitions and firewalling). */
  veth(model: string, id: string): string {
    return vethName(this.lxcpath, this.containerName(model, id));
  }

  /** The container's name in the lxcpath, which is also the machine's hostname. */
  containerName(model: string, id: string): string {
    return `${this.o.hostnamePrefix ?? 'sigil'}-${model}-${id.replaceAll('/', '-')}`;
  }

  /**
   * Removes every machine of this provider, stops the apt cache and deletes the bridge:
   * what destroy-controller needs to leave the host as it was. The image stays cached.
   */
  async teardown(): Promise<void> {
    const recs = await this.records();
    await Promise.all(recs.map((r) => this.serial(`m:${r.model}/${r.id}`, async () => {
      await this.lxc.stop(r.name, { kill: true });
      await rm(join(this.lxcpath, r.name), { recursive: true, force: true });
    })));
    // Containers still being created have no machine.json yet: stop them too, or they
    // would outlive their root filesystem.
    for (const name of await readdir(this.lxcpath).catch(() => [] as string[])) {
      await this.lxc.stop(name, { kill: true }).catch(() => {});
    }
    await rm(this.lxcpath, { recursive: true, force: true });
    clearInterval(this.syncer);
    await this.aptCache.stop();
    await deleteBridge(this.o.bridge.name);
    this.networkReady = false;
    // LXC leaves an empty lxc.pivot cgroup in every hierarchy. rmdir removes only an empty
    // one, so a pivot another LXC user still needs is left alone.
    for (const h of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
      await rmdir(join('/sys/fs/cgroup', h, 'lxc.pivot')).catch(() => {});
    }
  }

  /** All complete machines, optionally of one model. */
  async records(model?: string): Promise<MachineRecord[]> {
    const names = await readdir(this.lxcpath).catch(() => [] as string[]);
    const recs = await Promise.all(names.map((n) => readFile(join(this.lxcpath, n, 'machine.json'), 'utf8').then((t) => JSON.parse(t) as MachineRecord, () => undefined)));
    return recs.filter((r): r is MachineRecord => r !== undefined && (model === undefined || r.model === model));
  }

  private async record(model: string, id: string): Promise<MachineRecord | undefined> {
    return (await this.records(model)).find((r) => r.id === id);
  }

  /**
   * Rewrites /etc/hosts on every machine of the model: inside running machines
   * through lxc-attach, in the upper layer of stopped ones. Best effort: a machine that
   * cannot be reached now gets the full list when it is next created or refreshed.
   */
  private refreshHosts(model: string): Promise<void> {
    // Coalesced: while one refresh of the model waits or runs, later ones queue behind it
    // and all but the last are skipped, so N concurrent creates cost one pass, not N.
    const gen = (this.hostsGen.get(model) ?? 0) + 1;
    this.hostsGen.set(model, gen);
    return this.serial(`hosts:${model}`, async () => {
      if (this.hostsGen.get(model) === gen) await this.writeHosts(model);
    });
  }

  private async writeHosts(model: string): Promise<void> {
    const recs = await this.records(model);
    const entries = recs.map(hostEntry);
    await Promise.all(recs.map((r) => this.serial(`m:${r.model}/${r.id}`, async () => {
      const content = hostsFile(r.hostname, entries, this.subnet.gateway);
      // Machines created together were each given the others already: no attach for them.
      if (this.hostsGiven.get(r.name) === content) return;
      if ((await this.lxc.state(r.name)) === 'RUNNING') {
        const res = await this.lxc.attach(r.name, ['sh', '-c', 'cat > /etc/hosts.sigil && mv -f /etc/hosts.sigil /etc/hosts'], content);
        if (res.code !== 0) {
          this.o.log?.('hosts refresh failed', { machine: r.id, stderr: res.stderr.trim() });
          return;
        }
      } else if (await stat(join(this.lxcpath, r.name)).then(() => true, () => false)) {
        await writeFile(join(this.lxcpath, r.name, 'upper', 'etc', 'hosts'), content);
      } else {
        return;
      }
      this.hostsGiven.set(r.name, content);
    })));
  }

  /** Runs fn after every earlier fn of the same key has settled: one operation per machine at a time. */
  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return next;
  }
}

function hostEntry(r: MachineRecord): HostEntry {
  return { address: r.address, hostname: r.hostname };
}
