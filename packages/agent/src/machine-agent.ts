import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { concerns, interestOf, type LogLine, type MachineView, type ProxySettings, type WatchMessage } from '@sigil/api';
import { errorHttpStatus, isSigilError, machineTag } from '@sigil/core';
import { InventoryRunner } from './audit/inventory-runner.ts';
import { AgentApi } from './api-client.ts';
import { saveAddresses, startingAddresses } from './controller-addresses.ts';
import { ContainerHost } from './containers.ts';
import { MachineLock } from './lock.ts';
import { Uniter } from './uniter.ts';
import { HookToolServer, installToolLinks } from './hook-tools/server.ts';
import { knownHashes, mergeView, type HeldView } from './view-delta.ts';
import { applyAuthorizedKeys, writeAtomically } from './authorized-keys.ts';
import { APT_PROXY_FILE, applyAptProxy, machineAptProxy } from './proxy.ts';

/** A line for the agent's own stderr (its journal, or agent.log for local-process), timed to the millisecond like the controller's. */
function stderrLog(level: 'warn' | 'error', msg: string, fields: Record<string, string>): void {
  process.stderr.write(JSON.stringify({ level, time: Date.now(), msg, ...fields }) + '\n');
}

export interface AgentConfig {
  /** The controller the agent dials first (the only one an agent older than controller replicas reads). */
  controllerUrl: string;
  /**
   * Every controller's address, as the controllers last told the agent (it writes them
   * here): when the one in use stops answering, the agent moves to the next. Counts only
   * while it includes `controllerUrl`.
   */
  controllerUrls?: string[];
  /** The controller's CA (PEM), written by the provider: the agent trusts no other certificate for it. */
  caCert: string;
  token: string;
  model: string;
  id: string;
  address: string;
  dataDir: string;
  /** The compiled hook-tool client every tool name links to. */
  toolBinary: string;
  /** This config's own file: a rotated credential is written back to it. */
  configPath?: string;
  /**
   * Root's authorized_keys on this machine (the machine's own directory for local-process);
   * without it the agent leaves SSH keys alone.
   */
  authorizedKeysFile?: string;
  /**
   * Enlisted hosts only (add-machine ssh:): the command that removes this agent from the
   * host (its service, files and units' files). The agent runs it, detached, once its
   * machine is removed and no unit is left on it.
   */
  uninstall?: string[];
  /**
   * The machine's filesystem root, for the software inventory and debug-hooks sessions: `/` in
   * a container (the default), the machine's directory for local-process.
   */
  auditRoot?: string;
  /**
   * What juju-reboot runs to reboot this machine (`["systemctl", "reboot"]` in an LXC
   * container). Without it (local-process, where the machine is a directory on the host)
   * a reboot restarts every unit's agent in this process, as the machine coming back would.
   */
  rebootCommand?: string[];
  /** Where the provider keeps storage off the machine (local-process). */
  storageDir?: string;
  /**
   * apt's configuration directory (`/etc/apt/apt.conf.d` on a container or an enlisted
   * host, inside the machine's directory for local-process): the model's apt-*-proxy keys
   * are written there. Without it the agent leaves apt alone.
   */
  aptConfigDir?: string;
  /**
   * Enlisted hosts that cannot reach an apt mirror: the controller's apt cache (found at
   * add-machine). apt goes through it while the model sets no `apt-http-proxy`, and the
   * containers this host makes reach it through the host.
   */
  aptCache?: string;
  /**
   * A container on another machine (`N/lxc/M`) reaches the controller through a relay of
   * its host's agent: `controllerUrl` is the relay, and this is the controller's own
   * address, which its certificate names.
   */
  tlsServerName?: string;
}

/**
 * One per machine. Follows the change feed, refreshes its machine view when something that
 * concerns it moved (fetching only the parts that changed), and keeps one uniter per unit
 * on the machine. Hooks of all units share one machine lock.
 */
export class MachineAgent {
  private readonly api: AgentApi;
  private readonly lock = new MachineLock();
  private readonly uniters = new Map<string, { uniter: Uniter; abort: AbortController; done: Promise<void> }>();
  private readonly tools: HookToolServer;
  private readonly socket: string;
  private fetching = false;
  private refetch = false;
  private held: HeldView | undefined;
  private logBuffer: LogLine[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** The keys last written to authorized_keys (as JSON), and the write in progress. */
  private keysApplied: string | undefined;
  private keysWriting: Promise<void> = Promise.resolve();
  /** The apt proxy settings last applied (as JSON), and the write in progress. */
  private aptApplied: string | undefined;
  private aptWriting: Promise<void> = Promise.resolve();
  /** Bumped when the credential changes: a view read with the old one cannot start another rotation. */
  private credentialGeneration = 0;
  private rotating = false;
  private uninstalling = false;
  /** Inventory requests taken (unit → request number); collections run one at a time. */
  private readonly inventory: InventoryRunner;
  /** Units that start after a reboot: their started charms run `start` again. */
  private booted = false;
  private rebooting = false;
  /** The LXC containers on this machine, once one is placed here (enlisted hosts). */
  private containers: ContainerHost | undefined;
  private containerRecheck: NodeJS.Timeout | undefined;
  /** Writes to the agent's own config file, one after another (a credential and the controllers' addresses). */
  private configWrites: Promise<void> = Promise.resolve();

  constructor(private readonly c: AgentConfig) {
    this.api = new AgentApi(startingAddresses(c), c.caCert, c.token, {
      ...(c.tlsServerName !== undefined ? { serverName: c.tlsServerName } : {}),
      onAddresses: (urls) => this.saveAddresses(urls),
    });
    this.socket = '@sigil-agent-' + createHash('sha1').update(c.dataDir).digest('hex').slice(0, 16);
    this.tools = new HookToolServer(this.socket);
    this.inventory = new InventoryRunner({ api: this.api, lock: this.lock, dataDir: c.dataDir, root: c.auditRoot ?? '/', log: (level, message, entity) => this.log(level, message, entity), refetch: () => this.scheduleFetch() });
  }

  async run(signal: AbortSignal): Promise<void> {
    await installToolLinks(join(this.c.dataDir, 'tools'), this.c.toolBinary);
    await this.tools.start();
    this.booted = await firstRunSinceBoot(this.c);
    this.log('INFO', 'agent started', machineTag(this.c.id));
    // Why the agent cannot connect goes to its own stderr (its journal, or agent.log for
    // local-process), once per reason: an untrusted controller is told nothing, not even
    // this agent's logs, and an unreachable one cannot be.
    let reported = '';
    const failed = (e: Error, untrusted: boolean) => {
      if (e.message !== reported) stderrLog('error', untrusted ? 'controller certificate refused' : 'cannot connect to the controller', { error: e.message });
      reported = e.message;
    };
    const moved = (from: string, to: string, why: string) => stderrLog('warn', 'moving to another controller', { from, to, why });
    await this.api.watch((m) => this.onMessage(m), () => {
      reported = '';
      this.scheduleFetch();
    }, signal, failed, moved);
    await this.configWrites;
    for (const u of this.uniters.values()) u.abort.abort();
    await Promise.all([...this.uniters.values()].map((u) => u.done));
    await this.flushLogs();
    await this.tools.close();
  }

  private onMessage(m: WatchMessage): void {
    if (m.controllers) {
      this.api.relearnAddresses();
      return;
    }
    const v = this.held?.view;
    if (m.resync || !m.changes || !v) {
      this.scheduleFetch();
      return;
    }
    // Whether a change can alter this machine's view; everything else is ignored.
    const interest = interestOf(this.c.id, v.units);
    if (m.changes.some((c) => concerns(c.kind, c.key, interest, c.op))) this.scheduleFetch();
  }

  private scheduleFetch(): void {
    if (this.fetching) {
      this.refetch = true;
      return;
    }
    this.fetching = true;
    void (async () => {
      do {
        this.refetch = false;
        try {
          const known = knownHashes(this.held);
          const generation = this.credentialGeneration;
          const delta = await this.api.call('GET /api/agent/view', known.length > 0 ? { query: { known: known.join(',') } } : {});
          const next = mergeView(this.held, delta);
          // A part neither sent nor held (never expected): start again from a snapshot.
          this.held = next;
          if (next) this.apply(next.view, generation);
          else this.refetch = true;
        } catch (e) {
          this.log('WARNING', `cannot read machine view: ${(e as Error).message}`, machineTag(this.c.id));
          await new Promise((r) => setTimeout(r, 1000));
          this.refetch = true;
        }
      } while (this.refetch);
      this.fetching = false;
    })();
  }

  private apply(view: MachineView, generation: number): void {
    this.syncContainers(view);
    if (view.machine.life !== 'alive' && view.units.length === 0 && this.c.uninstall) {
      void this.uninstall(this.c.uninstall);
      return;
    }
    this.syncKeys(view.machine.sshKeys);
    this.syncAptProxy(view.model.proxy);
    if (view.machine.rotateCredential && generation === this.credentialGeneration) void this.rotateCredential();
    this.inventory.sync(view);
    for (const u of view.units) {
      let entry = this.uniters.get(u.name);
      if (!entry) {
        const uniter = new Uniter(u.name, {
          api: this.api,
          lock: this.lock,
          tools: this.tools,
          socket: this.socket,
          toolsDir: join(this.c.dataDir, 'tools'),
          agentsDir: join(this.c.dataDir, 'agents'),
          apiAddresses: () => this.api.addresses(),
          ...(this.c.storageDir !== undefined ? { storageDir: this.c.storageDir } : {}),
          machineRoot: this.c.auditRoot ?? '/',
          log: (l) => this.push(l),
          flushLogs: () => this.flushLogs(),
          reboot: () => void this.reboot(),
          booted: this.booted,
        });
        const abort = new AbortController();
        entry = { uniter, abort, done: uniter.run(abort.signal).catch((e) => this.log('ERROR', `uniter stopped: ${String(e)}`, `unit-${u.name}`)) };
        this.uniters.set(u.name, entry);
      }
      entry.uniter.update(u, view);
    }
    for (const [name, entry] of this.uniters) {
      if (!view.units.some((u) => u.name === name)) {
        entry.abort.abort();
        this.uniters.delete(name);
      }
    }
  }

  /**
   * Containers placed on this machine (`lxc:N`): only an enlisted host's agent makes them
   * (the controller refuses other hosts). A removed container waits for its units to go;
   * their changes do not concern this machine, so the view is read again until they have.
   */
  private syncContainers(view: MachineView): void {
    const containers = view.machine.containers ?? [];
    if (containers.length === 0 || !this.c.uninstall) return;
    this.containers ??= new ContainerHost(this.api, { id: this.c.id, model: this.c.model, controllerUrl: this.c.controllerUrl, caCert: this.c.caCert, ...(this.c.aptCache ? { aptCache: this.c.aptCache } : {}) },
      { dataDir: this.c.dataDir, optDir: dirname(this.c.toolBinary) }, (level, message) => this.log(level, message, machineTag(this.c.id)));
    this.containers.sync(containers, view.machine.sshKeys);
    if (containers.some((c) => c.life !== 'alive' && c.units > 0) && !this.containerRecheck) {
      this.containerRecheck = setTimeout(() => {
        this.containerRecheck = undefined;
        this.scheduleFetch();
      }, 2000);
    }
  }

  /**
   * juju-reboot: waits for every uniter to stop (the machine lock lets the running hook
   * finish), then reboots: the provider's command, or a restart of every uniter in
   * process. Either way each started unit runs `start` when it comes back.
   */
  private async reboot(): Promise<void> {
    if (this.rebooting) return;
    this.rebooting = true;
    this.log('INFO', 'rebooting for juju-reboot', machineTag(this.c.id));
    const entries = [...this.uniters.values()];
    for (const e of entries) e.abort.abort();
    await Promise.all(entries.map((e) => e.done));
    await this.flushLogs();
    const command = this.c.rebootCommand;
    if (command !== undefined && command.length > 0) {
      spawn(command[0]!, command.slice(1), { stdio: 'ignore', detached: true }).unref();
      return;
    }
    this.uniters.clear();
    this.booted = true;
    this.rebooting = false;
    this.held = undefined;
    this.scheduleFetch();
  }

  /** Keeps root's authorized_keys in step with the model's keys; writes run one after another. */
  private syncKeys(keys: string[]): void {
    const path = this.c.authorizedKeysFile;
    const wanted = JSON.stringify(keys);
    if (path === undefined || wanted === this.keysApplied) return;
    this.keysApplied = wanted;
    this.keysWriting = this.keysWriting.then(async () => {
      if (this.keysApplied !== wanted) return;
      try {
        if (await applyAuthorizedKeys(path, keys)) this.log('INFO', `authorized_keys updated: ${keys.length} model keys`, machineTag(this.c.id));
      } catch (e) {
        this.keysApplied = undefined;
        this.log('ERROR', `cannot update ${path}: ${(e as Error).message}`, machineTag(this.c.id));
      }
    });
  }

  /**
   * Keeps apt's proxy settings in step with the model's apt-*-proxy keys, as Juju's proxy
   * updater does; on a host that cannot reach a mirror, the controller's cache when the
   * model names no http proxy.
   */
  private syncAptProxy(proxy: ProxySettings | undefined): void {
    const dir = this.c.aptConfigDir;
    if (dir === undefined || proxy === undefined) return;
    const settings = machineAptProxy(proxy, this.c.aptCache);
    const wanted = JSON.stringify(settings);
    if (wanted === this.aptApplied) return;
    this.aptApplied = wanted;
    this.aptWriting = this.aptWriting.then(async () => {
      if (this.aptApplied !== wanted) return;
      try {
        // The proxy URL may carry a password: the log names the file, never the values.
        if (await applyAptProxy(dir, settings)) this.log('INFO', `apt proxy settings updated in ${dir}/${APT_PROXY_FILE}`, machineTag(this.c.id));
      } catch (e) {
        this.aptApplied = undefined;
        this.log('ERROR', `cannot update apt proxy settings in ${dir}: ${(e as Error).message}`, machineTag(this.c.id));
      }
    });
  }

  /**
   * Takes a new credential the operator asked for: fetched over the agent's authenticated
   * connection, written to the agent's config file atomically (so a restart uses it), then
   * used for every request and a new change-feed connection. Its first use retires the old
   * credential on the controller. A failure is retried at the next view read that still
   * asks for it.
   */
  private async rotateCredential(): Promise<void> {
    const path = this.c.configPath;
    if (this.rotating || path === undefined) return;
    this.rotating = true;
    try {
      const { token } = await this.api.call('POST /api/agent/credential');
      await this.writeConfig(async () => {
        const raw = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
        await writeAtomically(path, JSON.stringify({ ...raw, token }, null, 2) + '\n');
      });
      this.credentialGeneration++;
      this.api.setToken(token);
      this.log('INFO', 'agent credential rotated', machineTag(this.c.id));
      this.api.reconnect();
      this.scheduleFetch();
    } catch (e) {
      this.log('WARNING', `cannot rotate the agent credential: ${(e as Error).message}`, machineTag(this.c.id));
    } finally {
      this.rotating = false;
    }
  }

  /** Runs one change of the agent's config file after those before it. */
  private writeConfig(write: () => Promise<void>): Promise<void> {
    const next = this.configWrites.then(write);
    this.configWrites = next.catch(() => {});
    return next;
  }

  /**
   * Keeps every controller's address in the agent's config file, so a restarted agent can
   * reach another controller when the one it dials first is gone. A failure is logged; the
   * next connection writes the list again.
   */
  private saveAddresses(urls: readonly string[]): void {
    const path = this.c.configPath;
    if (path === undefined || this.c.tlsServerName !== undefined) return;
    void this.writeConfig(() => saveAddresses(path, this.c.controllerUrl, urls).then(() => {}))
      .catch((e: unknown) => this.log('WARNING', `cannot save the controllers' addresses to ${path}: ${(e as Error).message}`, machineTag(this.c.id)));
  }

  /**
   * Leaves an enlisted host: once its units are gone, tells the controller (which forgets
   * the machine), then starts the uninstall command in its own session or transient unit,
   * so it outlives this process, which it stops. A refused or failed call is retried at
   * the next view read.
   */
  private async uninstall(argv: string[]): Promise<void> {
    if (this.uninstalling) return;
    this.uninstalling = true;
    try {
      for (const u of this.uniters.values()) u.abort.abort();
      await Promise.all([...this.uniters.values()].map((u) => u.done));
      this.uniters.clear();
      this.log('INFO', 'machine removed: uninstalling the agent from this host', machineTag(this.c.id));
      await this.flushLogs();
      await this.api.call('POST /api/agent/uninstalled');
      const [cmd, ...args] = argv as [string, ...string[]];
      spawn(cmd, args, { detached: true, stdio: 'ignore' }).unref();
    } catch (e) {
      this.uninstalling = false;
      stderrLog('warn', 'cannot uninstall yet', { error: (e as Error).message });
    }
  }

  private log(level: LogLine['level'], message: string, entity: string): void {
    this.push({ entity, level, module: 'agent', message, at: Date.now() });
  }

  private push(l: LogLine): void {
    this.logBuffer.push(l);
    this.flushTimer ??= setTimeout(() => void this.flushLogs(), 100);
  }

  /**
   * Sends the buffered log lines. Flushes run one after another, never side by side, so
   * lines reach the controller in the order they were written (the log's order is what
   * shows hooks serialised under the machine lock).
   */
  private flushLogs(): Promise<void> {
    const next = this.flushing.then(() => this.sendLogs());
    this.flushing = next.catch(() => {});
    return next;
  }

  private async sendLogs(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const lines = this.logBuffer;
    if (lines.length === 0) return;
    this.logBuffer = [];
    try {
      await this.api.call('POST /api/agent/logs', { body: { lines } });
    } catch (e) {
      // Lines the controller refuses would be refused again: drop them, not everything after.
      if (isSigilError(e) && errorHttpStatus(e.code) < 500) return;
      // Keep them for the next flush; cap memory while the controller is away.
      this.logBuffer = [...lines, ...this.logBuffer].slice(-10_000);
      this.flushTimer ??= setTimeout(() => void this.flushLogs(), 1000);
    }
  }

}

/**
 * Whether the machine booted since an agent last ran on it: /run is emptied by every boot
 * of a machine that reboots for real (an LXC container). A local-process machine never
 * boots; its reboots happen in process.
 */
async function firstRunSinceBoot(c: AgentConfig): Promise<boolean> {
  if (c.rebootCommand === undefined) return false;
  const marker = '/run/sigil-agent.booted';
  try {
    await writeFile(marker, String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    return false;
  }
}
