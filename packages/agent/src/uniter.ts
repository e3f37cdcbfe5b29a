import { randomBytes, createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommitResult, HookCommit, LogLine, MachineView, OperationResult, OperationView, UnitView } from '@sigil/api';
import { LEADERSHIP_LEASE_MS } from '@sigil/api';
import { debugMatches, errorHttpStatus, isSigilError, parseDuration, unitTag } from '@sigil/core';
import YAML from 'yaml';
import type { AgentApi } from './api-client.ts';
import type { MachineLock } from './lock.ts';
import { ensureCharm } from './charm-unpack.ts';
import { nextOp, type Op } from './resolver/resolver.ts';
import { commitHook } from './resolver/commit.ts';
import { initialState, type HookInfo, type LocalState } from './resolver/state.ts';
import { buildSnapshot, hookEnv, type MachineInfo } from './hooks/snapshot.ts';
import { locate, runProcess } from './hooks/runner.ts';
import { emptyChanges, type HookChanges, type HookToolEnv, type LogLevel } from './hook-tools/context.ts';
import type { HookToolServer } from './hook-tools/server.ts';
import { HookScrubber, loadSecretEntries } from './hooks/secrets.ts';
import { MetricsCollector, formatMetrics } from './hooks/metrics.ts';
import { finishHookStorage, prepareHookStorage, type HookStorage, type HookStorageDeps } from './storage.ts';
import { ensureResources } from './hooks/resources.ts';
import { findDebugSession, runDebugHook } from './hooks/debug.ts';

export interface UniterDeps {
  api: AgentApi;
  lock: MachineLock;
  tools: HookToolServer;
  socket: string;
  toolsDir: string;
  agentsDir: string;
  /** Every controller's address, the one in use first (JUJU_API_ADDRESSES). */
  apiAddresses(): readonly string[];
  log(line: LogLine): void;
  /** Sends buffered log lines now (before the unit is reported dead and forgotten). */
  flushLogs(): Promise<void>;
  /** juju-reboot: reboots the machine (the machine agent stops every uniter first). */
  reboot?(): void;
  /** The machine booted since this unit's agent last ran: a started unit runs `start` first (Juju ≥ 2.8). */
  booted?: boolean;
  /** Where the provider keeps storage off the machine (local-process), if it does. */
  storageDir?: string;
  /** The machine's filesystem root (`/`, or the machine's directory for local-process): where debug-hooks sessions are found. */
  machineRoot?: string;
}

interface Outcome {
  code: number;
  tail: string[];
  stdout: string;
  stderr: string;
  changes: HookChanges;
  /** What the hook ran against: the view may move while it runs, and only this was seen. */
  seen: Seen;
  /** Masks the secret values this hook could read or wrote in anything it reports. */
  scrub: HookScrubber;
}

interface Seen {
  view: UnitView;
  configHash: string;
}

/**
 * One unit's agent: asks the pure resolver for the next operation, runs it, persists local
 * state after each step, and asks again. A kill at any point resumes correctly: a hook
 * found marked `running` on start-up is treated as failed, as Juju does.
 */
export class Uniter {
  private view: UnitView | undefined;
  private model: MachineView['model'] | undefined;
  private machine: MachineInfo | undefined;
  private local: LocalState = initialState();
  private revision = 0;
  private settledAt = -1;
  private wakeUp: (() => void) | undefined;
  /** Set by every update; a sleep that starts after an update it has not decided on returns at once. */
  private dirty = false;
  readonly dir: string;
  readonly charmDir: string;

  constructor(readonly name: string, private readonly d: UniterDeps) {
    this.dir = join(d.agentsDir, unitTag(name));
    this.charmDir = join(this.dir, 'charm');
  }

  update(view: UnitView, mv: MachineView): void {
    this.view = view;
    this.revision = mv.revision;
    this.model = mv.model;
    this.machine = { modelName: mv.model.name, modelUuid: mv.model.uuid, machineId: mv.machine.id, address: mv.machine.address, proxy: mv.model.proxy };
    this.dirty = true;
    this.wakeUp?.();
  }

  get dead(): boolean {
    return this.local.dead;
  }

  async run(signal: AbortSignal): Promise<void> {
    this.stopping = signal;
    await mkdir(this.dir, { recursive: true });
    this.local = await this.load();
    if (this.local.running) {
      // The agent died mid-hook: that hook failed.
      this.local.failed = this.local.running;
      delete this.local.running;
      this.local.nextRetryAt = Date.now() + 5000;
      await this.save();
      await this.reportFailure(this.local.failed, -1, ['the agent stopped while the hook was running']).catch(() => {});
    }
    // After a reboot a started unit runs `start` again before anything else, as Juju does.
    if (this.d.booted === true && this.local.started && !this.local.failed && !this.local.running) this.pendingStart = true;
    while (!signal.aborted && !this.local.dead && !this.rebooting) {
      this.dirty = false;
      if (this.pendingStart && this.view) {
        this.pendingStart = false;
        await this.runAfterBoot().catch((e: Error) => this.opLog('ERROR', `start after reboot failed: ${e.message}`));
        continue;
      }
      const op = this.view ? this.decide() : { type: 'wait' as const };
      try {
        if (op.type === 'wait') {
          if (await this.collectMetrics()) continue;
          await this.reportSettled();
          const collectAt = this.metrics.nextAt;
          await this.sleep(collectAt === undefined ? op.until : Math.min(op.until ?? collectAt, collectAt), signal);
        }
        else await this.execute(op);
      } catch (e) {
        this.d.log({ entity: unitTag(this.name), level: 'ERROR', module: 'uniter', message: `operation ${op.type} failed: ${(e as Error).message}`, at: Date.now() });
        await this.sleep(Date.now() + 1000, signal);
      }
    }
  }

  /** Tells the controller this unit has nothing left to do at the current view (for `sigil wait`). */
  private async reportSettled(): Promise<void> {
    const revision = this.revision;
    if (!this.view || this.local.failed || this.settledAt === revision) return;
    await this.d.api.call('POST /api/agent/settled', { body: { unit: this.name, revision } });
    this.settledAt = revision;
  }

  private decide(): Op {
    // A shorter update-status interval (model-config) takes effect now, not after the old one.
    const max = parseDuration(this.model!.updateStatusInterval) * 1.2;
    if (this.local.started && this.local.nextUpdateStatus > Date.now() + max) this.local.nextUpdateStatus = Date.now() + max * Math.random();
    // The view may not show an operation's completion yet: never offer it twice.
    const unit = this.finished.size ? { ...this.view!, operations: this.view!.operations.filter((o) => !this.finished.has(o.id)) } : this.view!;
    return nextOp(this.local, { unit, configHash: this.configHash(), retryHooks: this.model!.retryHooks }, Date.now());
  }

  /** Operations this agent has finished (or found claimed by an earlier run of itself). */
  private readonly finished = new Set<number>();

  private configHash(): string {
    return createHash('sha1').update(JSON.stringify([this.view!.config, this.machine!.address])).digest('hex');
  }

  private sleep(until: number | undefined, signal: AbortSignal): Promise<void> {
    if (this.dirty) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = until === undefined ? undefined : setTimeout(done, Math.max(0, until - Date.now()));
      this.wakeUp = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private async execute(op: Exclude<Op, { type: 'wait' }>): Promise<void> {
    const api = this.d.api;
    switch (op.type) {
      case 'run-hook':
        return this.runHook(op.hook, false);
      case 'retry-hook':
        return this.runHook(op.hook, this.view!.resolved !== '');
      case 'skip-hook':
        await api.call('POST /api/agent/status', { body: { unit: this.name, agent: 'executing', message: `skipping ${op.hook.name} hook`, resolvedAck: true } });
        this.local = commitHook(this.local, op.hook, this.commitContext({}));
        await this.save();
        await api.call('POST /api/agent/status', { body: { unit: this.name, agent: 'idle', message: '' } });
        return;
      case 'run-operation':
        return this.runOperation(op.operation);
      case 'enter-scope':
        await api.call('POST /api/agent/scope', { body: { unit: this.name, relation: op.relationId, enter: true } });
        this.local.relations[String(op.relationId)]!.inScope = true;
        return this.save();
      case 'leave-scope':
        await api.call('POST /api/agent/scope', { body: { unit: this.name, relation: op.relationId, enter: false } });
        this.local.relations[String(op.relationId)]!.inScope = false;
        return this.save();
      case 'forget-relation':
        delete this.local.relations[String(op.relationId)];
        return this.save();
      case 'set-dead':
        // The controller keeps log lines only for units on this machine: send the last
        // hooks' lines while the unit still exists.
        await this.d.flushLogs();
        await api.call('POST /api/agent/dead', { body: { unit: this.name } });
        this.local.dead = true;
        await this.save();
        await rm(this.dir, { recursive: true, force: true });
        return;
    }
  }

  private async runHook(first: HookInfo, resolvedAck: boolean): Promise<void> {
    await this.ensureCharm();
    const view = this.view!;
    // A holistic charm gets one `reconcile` for a run of relation and config events; not
    // while an operator debugs the unit, who stops at events by their own names.
    const batch = (await this.holistic()) && BATCHABLE.test(first.name) && !(await findDebugSession(this.d.machineRoot ?? '/', this.name)) ? this.batchFrom(first) : [first];
    const hook: HookInfo = batch.length > 1 ? { name: 'reconcile' } : first;
    const storage = hook.storageId === undefined ? undefined : await prepareHookStorage(this.hookStorageDeps(), hook, this.local.storage?.[hook.storageId]);
    const before = statusBefore(hook.name, view);
    const outcome = await this.d.lock.run(async () => {
      await this.d.api.call('POST /api/agent/status', { body: { unit: this.name, agent: 'executing', message: `running ${hook.name} hook`, ...(resolvedAck ? { resolvedAck } : {}), ...(before ? { workload: before } : {}) } });
      this.local.running = hook;
      await this.save();
      this.opLog('DEBUG', `running "${hook.name}" hook${batch.length > 1 ? ` for ${batch.length} events: ${batch.map(describeHook).join(', ')}` : ''}`);
      const r = await this.runInContext(hook, undefined, batch.length > 1 ? { SIGIL_BATCH: batch.map(describeHook).join('\n') } : {}, storage);
      this.opLog(r.code === 0 ? 'INFO' : 'ERROR', r.code === 0 ? `ran "${hook.name}" hook` : `"${hook.name}" hook exited ${r.code}`);
      return r;
    });
    if (outcome.changes.reboot === 'now') {
      // juju-reboot --now: the hook was killed; nothing it did counts, and it runs again after the reboot.
      delete this.local.running;
      await this.save();
      return this.reboot();
    }
    if (outcome.code !== 0) {
      delete this.local.running;
      this.local.failed = first;
      this.local.retries += 1;
      this.local.nextRetryAt = Date.now() + Math.min(5000 * 2 ** (this.local.retries - 1), 300_000);
      await this.save();
      await this.reportFailure(hook, outcome.code, outcome.tail);
      return;
    }
    if (hook.name === 'secret-rotate' && hook.secretId !== undefined) (outcome.changes.secrets ??= []).push({ op: 'rotated', id: hook.secretId });
    let result: { appVersions: Record<string, number> };
    // The agent goes idle with the commit (and Juju's own workload status after this hook).
    const after = statusAfter(hook.name, view, outcome.changes);
    try {
      result = await this.commitChanges(hook.name, outcome.changes, outcome.scrub, { ...(after ? { workload: after } : {}) });
    } catch (e) {
      // The controller refused the hook's changes (a secret it may not change, a bag too
      // large): the hook failed, as Juju's CommitHookChanges failing fails it.
      if (!(isSigilError(e) && errorHttpStatus(e.code) < 500)) throw e;
      delete this.local.running;
      this.local.failed = first;
      this.local.retries += 1;
      this.local.nextRetryAt = Date.now() + Math.min(5000 * 2 ** (this.local.retries - 1), 300_000);
      await this.save();
      await this.reportFailure(hook, -1, [`the controller refused the hook's changes: ${outcome.scrub.scrub((e as Error).message)}`]);
      return;
    }
    this.rememberTracked(outcome.changes);
    if (storage) await finishHookStorage(this.hookStorageDeps(), storage);
    for (const h of batch) this.local = commitHook(this.local, h, { ...this.commitContext(result.appVersions, outcome.seen), ...(storage ? { storageLocation: storage.location } : {}) });
    await this.save();
    if (outcome.changes.reboot === 'after-hook') await this.reboot();
  }

  /** Acts on juju-reboot: reports `rebooting` and hands over to the machine agent. */
  private async reboot(): Promise<void> {
    this.rebooting = true;
    this.opLog('INFO', 'reboot requested by juju-reboot');
    await this.d.api.call('POST /api/agent/status', { body: { unit: this.name, agent: 'rebooting', message: '' } }).catch(() => {});
    this.d.reboot?.();
  }

  /** `start` after a reboot: the charm restarts its workload (Juju's reboot resolver). */
  private async runAfterBoot(): Promise<void> {
    await this.runHook({ name: 'start' }, false);
  }

  /** Runs collect-metrics when it is due; true when it ran. Its values go to the unit's log. */
  private async collectMetrics(): Promise<boolean> {
    if (!this.local.started || this.local.failed) return false;
    await this.ensureCharm();
    if (!(await this.metrics.due(this.charmDir, this.view!.charmHash, Date.now()))) return false;
    const outcome = await this.d.lock.run(() => this.runInContext({ name: 'collect-metrics' }, undefined));
    this.metrics.ran(Date.now());
    const entity = unitTag(this.name);
    const module = `unit.${this.name}.collect-metrics`;
    if (outcome.code !== 0) this.d.log({ entity, level: 'WARNING', module, message: `collect-metrics hook exited ${outcome.code}; its metrics are dropped`, at: Date.now() });
    else for (const line of formatMetrics(outcome.changes.metrics ?? [])) this.d.log({ entity, level: 'INFO', module, message: line, at: Date.now() });
    return true;
  }

  private async runOperation(op: OperationView): Promise<void> {
    await this.ensureCharm();
    const { claimed } = await this.d.api.call('POST /api/agent/operations/:id/start', { params: { id: String(op.id) } });
    this.finished.add(op.id);
    if (claimed === false) {
      // Claimed before and never finished: the agent stopped while it ran. Running it
      // again could repeat something that must happen once (a restore), so report it.
      const message = 'the agent restarted while this operation was running; run it again if needed';
      await this.d.api.call('POST /api/agent/operations/:id/finish', { params: { id: String(op.id) }, body: { id: op.id, status: 'failed', message, results: {} } });
      return;
    }
    // Once claimed, the operation always gets a result, whatever fails here; otherwise it
    // would stay running and everything waiting on it would wait forever.
    let result: OperationResult;
    try {
      const outcome = await this.d.lock.run(async () => {
        await this.d.api.call('POST /api/agent/status', { body: { unit: this.name, agent: 'executing', message: op.kind === 'exec' ? 'running command' : `running action ${op.name}` } });
        return this.runInContext(undefined, op);
      });
      const failed = outcome.changes.actionFailed === undefined ? undefined : outcome.scrub.scrub(outcome.changes.actionFailed);
      const results: Record<string, unknown> = outcome.scrub.scrubDeep({ ...outcome.changes.actionResults, 'return-code': outcome.code });
      if (outcome.stdout !== '') results.stdout = outcome.scrub.scrub(outcome.stdout);
      if (outcome.stderr !== '') results.stderr = outcome.scrub.scrub(outcome.stderr);
      if (outcome.code === 0) {
        await this.commitChanges(op.kind === 'exec' ? 'juju-exec' : op.name, outcome.changes, outcome.scrub);
        this.rememberTracked(outcome.changes);
      }
      const status = op.kind === 'exec' || (outcome.code === 0 && failed === undefined) ? 'completed' : 'failed';
      const message = failed ?? (op.kind === 'action' && outcome.code !== 0 ? `exit status ${outcome.code}` : '');
      result = { id: op.id, status, message, results };
    } catch (e) {
      result = { id: op.id, status: 'failed', message: `the agent could not run it: ${(e as Error).message}`, results: {} };
    }
    await this.finishOperation(result);
    await this.d.api.call('POST /api/agent/status', { body: { unit: this.name, agent: this.local.failed ? 'error' : 'idle', message: this.local.failed ? `hook failed: "${this.local.failed.name}"` : '' } });
  }

  /**
   * Reports an operation's result. A result the controller refuses (too large, say) is
   * replaced by a failure saying why; one that cannot be delivered yet is retried a few
   * times, and the controller fails it by itself if this agent stays away.
   */
  private async finishOperation(r: OperationResult): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.d.api.call('POST /api/agent/operations/:id/finish', { params: { id: String(r.id) }, body: r });
        return;
      } catch (e) {
        const refused = isSigilError(e) && errorHttpStatus(e.code) < 500;
        if (refused && Object.keys(r.results).length > 0) r = { id: r.id, status: 'failed', message: `its result could not be stored: ${(e as Error).message}`, results: {} };
        else if (refused || attempt >= 5) throw e;
        else await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
      }
    }
  }

  /** Runs a hook, an action or an exec command with the hook tools wired to a fresh context. */
  /** The events a holistic charm handles in one run: `first`, then what the resolver would run next while it is batchable. */
  private batchFrom(first: HookInfo): HookInfo[] {
    const batch = [first];
    const remote = { unit: this.view!, configHash: this.configHash(), retryHooks: this.model!.retryHooks };
    let local = commitHook(this.local, first, this.commitContext({}));
    for (;;) {
      const op = nextOp(local, remote, Date.now());
      if (op.type !== 'run-hook' || !BATCHABLE.test(op.hook.name)) return batch;
      batch.push(op.hook);
      local = commitHook(local, op.hook, this.commitContext({}));
    }
  }

  /** Whether the unit's charm asks for batched dispatch (metadata.yaml `sigil: {holistic: true}`). */
  private async holistic(): Promise<boolean> {
    const hash = this.view!.charmHash;
    if (this.holisticFor?.hash !== hash) {
      const meta = YAML.parse(await readFile(join(this.charmDir, 'metadata.yaml'), 'utf8').catch(() => '')) as { sigil?: { holistic?: unknown } } | null;
      this.holisticFor = { hash, holistic: meta?.sigil?.holistic === true };
    }
    return this.holisticFor.holistic;
  }

  private holisticFor: { hash: string; holistic: boolean } | undefined;
  /** collect-metrics runs every 5 minutes (first at once) while the charm declares metrics. */
  private readonly metrics = new MetricsCollector();
  private pendingStart = false;
  /** The uniter's own stop: a hook held in a debug window is given up when the agent stops. */
  private stopping: AbortSignal | undefined;
  /** juju-reboot was acted on: this uniter runs nothing more until the machine is back. */
  private rebooting = false;
  /** This unit committed secret operations: its next hooks read its secrets even before its view shows them. */
  private hadSecrets = false;

  private hookStorageDeps(): HookStorageDeps {
    return { api: this.d.api, unit: this.name, view: this.view!, ...(this.d.storageDir !== undefined ? { storageDir: this.d.storageDir } : {}), log: (m) => this.opLog('INFO', m) };
  }

  private async runInContext(hook: HookInfo | undefined, op: OperationView | undefined, extraEnv: Record<string, string> = {}, storage?: HookStorage): Promise<Outcome> {
    const view = this.view!;
    const seen: Seen = { view, configHash: this.configHash() };
    const contextId = `${this.name}-${hook?.name ?? op?.name}-${randomBytes(6).toString('hex')}`;
    const action = op?.kind === 'action' ? { id: String(op.id), name: op.name, params: op.params } : undefined;
    const changes = emptyChanges();
    const entity = unitTag(this.name);
    const module = `unit.${this.name}.${hook?.name ?? op?.name}`;
    const snapshot = buildSnapshot(view, this.machine!, hook, action);
    if (hook) snapshot.hookName = hook.name;
    if (hook?.name === 'collect-metrics') snapshot.metrics = this.metrics.declared ?? {};
    const kill = new AbortController();
    const secrets = await loadSecretEntries(this.d.api, view, this.hadSecrets);
    if (secrets) snapshot.secrets = secrets;
    snapshot.storage = { ...this.local.storage };
    if (storage) {
      snapshot.hookStorageId = storage.id;
      if (storage.attaching) snapshot.storage[storage.id] = { name: storage.id.split('/')[0]!, kind: storage.kind, location: storage.location };
    }
    if (view.resources && view.resources.length > 0) snapshot.resources = await ensureResources(this.d.api, this.name, join(this.dir, 'resources'), view.resources);
    const env: HookToolEnv = {
      snapshot,
      changes,
      log: (level: LogLevel, message: string) => this.d.log({ entity, level, module: `unit.${this.name}.juju-log`, message: scrub.scrub(message), at: Date.now() }),
      actionLog: (message: string) => {
        if (op) void this.d.api.call('POST /api/agent/operations/:id/log', { params: { id: String(op.id) }, body: { message: scrub.scrub(message) } }).catch(() => {});
      },
      goalState: () => this.d.api.call('POST /api/agent/goal-state', { body: { unit: this.name } }),
      rebootNow: () => kill.abort(),
      leaseHeld: () => Date.now() - this.d.api.lastHeard < LEADERSHIP_LEASE_MS / 2,
    };
    // The env's callbacks run only while the hook runs, after this line.
    const scrub = new HookScrubber(env);
    this.d.tools.register(contextId, env);
    try {
      const vars = hookEnv({
        unit: view,
        machine: this.machine!,
        charmDir: this.charmDir,
        toolsDir: this.d.toolsDir,
        socket: this.d.socket,
        contextId,
        apiAddresses: this.d.apiAddresses(),
        ...(hook ? { hook } : {}),
        ...(op?.kind === 'action' ? { action: { id: op.id, name: op.name } } : {}),
        ...(storage ? { storage } : {}),
      });
      const onLine = (stream: 'stdout' | 'stderr', line: string) => this.d.log({ entity, level: 'DEBUG', module, message: scrub.scrub(line), at: Date.now() });
      let argv: string[] | undefined;
      let timeoutMs: number | undefined;
      if (op?.kind === 'exec') {
        argv = ['/bin/bash', '-c', String(op.params.command)];
        timeoutMs = Number(op.params.timeout) || undefined;
      } else {
        const dispatchPath = op ? `actions/${op.name}` : `hooks/${hook!.name}`;
        const path = await locate(this.charmDir, dispatchPath);
        // An operator's debug-hooks session takes the event, whether or not the charm handles it.
        const event = op ? op.name : hook!.name;
        const debug = await findDebugSession(this.d.machineRoot ?? '/', this.name);
        if (debug && debugMatches(debug.args, event)) {
          this.opLog('INFO', `executing ${event} via debug-hooks`);
          const r = await runDebugHook({ session: debug, unit: this.name, event, dispatchPath, charmDir: this.charmDir, runner: path, env: { ...vars, ...extraEnv }, signal: this.stopping ? AbortSignal.any([kill.signal, this.stopping]) : kill.signal });
          return { code: r.code, tail: r.tail, stdout: '', stderr: '', changes, seen, scrub };
        }
        if (path === undefined) return { code: 0, tail: [], stdout: '', stderr: '', changes, seen, scrub };
        argv = [path];
      }
      const r = await runProcess(argv, { cwd: this.charmDir, env: { ...vars, ...extraEnv }, onLine, signal: kill.signal, ...(timeoutMs ? { timeoutMs } : {}) });
      return { ...r, tail: r.tail.map((l) => scrub.scrub(l)), changes, seen, scrub };
    } finally {
      this.d.tools.unregister(contextId);
    }
  }

  private opLog(level: LogLevel, message: string): void {
    this.d.log({ entity: unitTag(this.name), level, module: 'juju.worker.uniter.operation', message, at: Date.now() });
  }

  /** A consumer that pinned a revision in this hook is not told about that revision again (secret-changed). */
  private rememberTracked(c: HookChanges): void {
    if ((c.secrets?.length ?? 0) > 0) this.hadSecrets = true;
    for (const op of c.secrets ?? []) {
      if (op.op !== 'track') continue;
      const done = (this.local.secrets ??= { changed: {}, rotated: {}, expired: {}, removed: {} });
      done.changed[op.id] = Math.max(done.changed[op.id] ?? 0, op.revision);
    }
  }

  private async commitChanges(hook: string, c: HookChanges, scrub: HookScrubber, idle?: HookCommit['idle']): Promise<CommitResult> {
    const body: HookCommit = {
      unit: this.name,
      hook,
      relationUnit: Object.fromEntries(c.relationUnit),
      relationApp: Object.fromEntries(c.relationApp),
      leaderSettings: c.leaderSettings,
      unitState: c.unitState,
      openPorts: c.openPorts,
      closePorts: c.closePorts,
    };
    if (c.unitStatus) body.unitStatus = scrub.scrubDeep(c.unitStatus);
    if (c.appStatus) body.appStatus = scrub.scrubDeep(c.appStatus);
    if (c.secrets && c.secrets.length > 0) body.secrets = c.secrets;
    if (c.applicationVersion !== undefined) body.applicationVersion = c.applicationVersion;
    if (c.storageAdd && Object.keys(c.storageAdd).length > 0) body.storageAdd = c.storageAdd;
    if (idle) body.idle = idle;
    return this.d.api.call('POST /api/agent/commit', { body });
  }

  private async reportFailure(hook: HookInfo, code: number, tail: string[]): Promise<void> {
    const last = tail.filter((l) => l.trim() !== '').slice(-5);
    this.d.log({
      entity: unitTag(this.name),
      level: 'ERROR',
      module: 'uniter',
      message: `hook "${hook.name}" failed${code >= 0 ? ` with exit code ${code}` : ''}${last.length ? `; last output:\n  ${last.join('\n  ')}` : ''}`,
      at: Date.now(),
    });
    await this.d.api.call('POST /api/agent/status', {
      body: {
        unit: this.name,
        agent: 'error',
        message: `hook failed: "${hook.name}"`,
        data: { hook: hook.name, 'exit-code': code, output: last, ...(hook.relationId !== undefined ? { 'relation-id': hook.relationId } : {}), ...(hook.remoteUnit ? { 'remote-unit': hook.remoteUnit } : {}), ...(hook.secretId !== undefined ? { 'secret-uri': `secret:${hook.secretId}`, 'secret-label': hook.secretLabel ?? '' } : {}) },
      },
    });
  }

  /**
   * What a completed hook marks as handled. A hook that ran passes what it saw (`seen`): the view
   * may have moved while it ran, and recording the newer config hash or versions as handled
   * would lose the change that arrived meanwhile.
   */
  private commitContext(ownAppVersions: Record<string, number>, seen: Seen = { view: this.view!, configHash: this.configHash() }) {
    const ms = parseDuration(this.model!.updateStatusInterval);
    return { unit: seen.view, configHash: seen.configHash, now: Date.now(), updateStatusDelay: ms * (0.8 + 0.4 * Math.random()), ownAppVersions };
  }

  /** Downloads and unpacks the unit's charm when it differs from what is on disk. */
  private async ensureCharm(): Promise<void> {
    await ensureCharm(this.d.api, this.dir, this.charmDir, this.view!.charmHash);
  }

  private async load(): Promise<LocalState> {
    try {
      return { ...initialState(), ...(JSON.parse(await readFile(join(this.dir, 'state.json'), 'utf8')) as LocalState) };
    } catch {
      return initialState();
    }
  }

  /** Atomic replace: a crash leaves either the old or the new state, never half of one. */
  private async save(): Promise<void> {
    const path = join(this.dir, 'state.json');
    await writeFile(path + '.tmp', JSON.stringify(this.local), { flush: true });
    await rename(path + '.tmp', path);
  }
}

/** Hooks a holistic charm may receive batched: changes to see, not steps of a life cycle. */
const BATCHABLE = /^(config-changed|update-status|leader-settings-changed|.+-relation-(joined|changed|departed))$/;

function describeHook(h: HookInfo): string {
  return `${h.name}${h.relationId !== undefined ? ` ${h.endpoint}:${h.relationId}` : ''}${h.remoteUnit ? ` ${h.remoteUnit}` : ''}`;
}

/** Workload statuses Juju itself sets before a hook (runhook.go), unless the charm set one. */
function statusBefore(hook: string, u: UnitView): { status: string; message: string } | undefined {
  if (hook === 'install' && !u.workload.byCharm) return { status: 'maintenance', message: 'installing charm software' };
  if (hook === 'stop') return { status: 'maintenance', message: 'stopping charm software' };
  if (hook === 'remove') return { status: 'maintenance', message: 'cleaning up prior to charm deletion' };
  return undefined;
}

function statusAfter(hook: string, u: UnitView, c: HookChanges): { status: string; message: string } | undefined {
  if (hook === 'start' && !u.workload.byCharm && !c.unitStatus) return { status: 'unknown', message: '' };
  if (hook === 'remove') return { status: 'terminated', message: '' };
  return undefined;
}
