import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { concerns, interestOf, type LogLine, type MachineView, type MachineViewDelta, type WatchMessage } from '@sigil/api';
import { errorHttpStatus, isSigilError } from '@sigil/core';
import { AgentApi } from './api-client.ts';
import { MachineLock } from './lock.ts';
import { Uniter } from './uniter.ts';
import { HookToolServer, installToolLinks } from './hook-tools/server.ts';
import { knownHashes, mergeView, type HeldView } from './view-delta.ts';
import { applyAuthorizedKeys, writeAtomically } from './authorized-keys.ts';

export interface AgentConfig {
  controllerUrl: string;
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
  /** Bumped when the credential changes: a view read with the old one cannot start another rotation. */
  private credentialGeneration = 0;
  private rotating = false;

  constructor(private readonly c: AgentConfig) {
    this.api = new AgentApi(c.controllerUrl, c.caCert, c.token);
    this.socket = '@sigil-agent-' + createHash('sha1').update(c.dataDir).digest('hex').slice(0, 16);
    this.tools = new HookToolServer(this.socket);
  }

  async run(signal: AbortSignal): Promise<void> {
    await installToolLinks(join(this.c.dataDir, 'tools'), this.c.toolBinary);
    await this.tools.start();
    this.log('INFO', 'agent started', `machine-${this.c.id}`);
    // An untrusted controller is told nothing, not even this agent's logs: the refusal goes
    // to the agent's own stderr (its journal, or agent.log for local-process), once.
    let reported = '';
    const untrusted = (e: Error) => {
      if (e.message !== reported) process.stderr.write(JSON.stringify({ level: 'error', msg: 'controller certificate refused', error: e.message }) + '\n');
      reported = e.message;
    };
    await this.api.watch((m) => this.onMessage(m), () => this.scheduleFetch(), signal, untrusted);
    for (const u of this.uniters.values()) u.abort.abort();
    await Promise.all([...this.uniters.values()].map((u) => u.done));
    await this.flushLogs();
    await this.tools.close();
  }

  private onMessage(m: WatchMessage): void {
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
          const delta = await this.api.get<MachineViewDelta>(known.length > 0 ? `/api/agent/view?known=${known.join(',')}` : '/api/agent/view');
          const next = mergeView(this.held, delta);
          // A part neither sent nor held (never expected): start again from a snapshot.
          this.held = next;
          if (next) this.apply(next.view, generation);
          else this.refetch = true;
        } catch (e) {
          this.log('WARNING', `cannot read machine view: ${(e as Error).message}`, `machine-${this.c.id}`);
          await new Promise((r) => setTimeout(r, 1000));
          this.refetch = true;
        }
      } while (this.refetch);
      this.fetching = false;
    })();
  }

  private apply(view: MachineView, generation: number): void {
    this.syncKeys(view.machine.sshKeys);
    if (view.machine.rotateCredential && generation === this.credentialGeneration) void this.rotateCredential();
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
          controllerUrl: this.c.controllerUrl,
          log: (l) => this.push(l),
          flushLogs: () => this.flushLogs(),
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

  /** Keeps root's authorized_keys in step with the model's keys; writes run one after another. */
  private syncKeys(keys: string[]): void {
    const path = this.c.authorizedKeysFile;
    const wanted = JSON.stringify(keys);
    if (path === undefined || wanted === this.keysApplied) return;
    this.keysApplied = wanted;
    this.keysWriting = this.keysWriting.then(async () => {
      if (this.keysApplied !== wanted) return;
      try {
        if (await applyAuthorizedKeys(path, keys)) this.log('INFO', `authorized_keys updated: ${keys.length} model keys`, `machine-${this.c.id}`);
      } catch (e) {
        this.keysApplied = undefined;
        this.log('ERROR', `cannot update ${path}: ${(e as Error).message}`, `machine-${this.c.id}`);
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
      const { token } = await this.api.post<{ token: string }>('/api/agent/credential', {});
      const raw = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
      await writeAtomically(path, JSON.stringify({ ...raw, token }, null, 2) + '\n');
      this.credentialGeneration++;
      this.api.setToken(token);
      this.log('INFO', 'agent credential rotated', `machine-${this.c.id}`);
      this.api.reconnect();
      this.scheduleFetch();
    } catch (e) {
      this.log('WARNING', `cannot rotate the agent credential: ${(e as Error).message}`, `machine-${this.c.id}`);
    } finally {
      this.rotating = false;
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
      await this.api.post('/api/agent/logs', { lines });
    } catch (e) {
      // Lines the controller refuses would be refused again: drop them, not everything after.
      if (isSigilError(e) && errorHttpStatus(e.code) < 500) return;
      // Keep them for the next flush; cap memory while the controller is away.
      this.logBuffer = [...lines, ...this.logBuffer].slice(-10_000);
      this.flushTimer ??= setTimeout(() => void this.flushLogs(), 1000);
    }
  }

}
