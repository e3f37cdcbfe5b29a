// A simulated machine agent for the scale harness: the real agent's API client, view-delta
// merge, change-feed filter (`concerns`) and uniter resolver, with hooks that run in
// process instead of as charm processes. Every call it makes to the controller is one the
// real agent makes, in the same order (packages/agent/src/machine-agent.ts, uniter.ts): the
// change-feed WebSocket, `GET /api/agent/view?known=…`, the charm download, status
// `executing` → `commit` (status-set and relation-set travel in the commit) → status
// `idle`, `settled`, relation scope, and buffered log lines.
import { createHash } from 'node:crypto';
import { concerns, interestOf, type HookCommit, type LogLine, type MachineView, type UnitView, type WatchMessage } from '@sigil/api';
import { parseDuration } from '@sigil/core';
import { AgentApi } from '../../packages/agent/src/api-client.ts';
import { knownHashes, mergeView, type HeldView } from '../../packages/agent/src/view-delta.ts';
import { nextOp, type Op } from '../../packages/agent/src/resolver/resolver.ts';
import { commitHook } from '../../packages/agent/src/resolver/commit.ts';
import { initialState, type HookInfo, type LocalState } from '../../packages/agent/src/resolver/state.ts';

/** What the harness reads off the agents: counts, and when each unit saw and handled a config value. */
export interface SimCounters {
  viewFetches: number;
  feedMessages: number;
  hooks: number;
  apiCalls: number;
  apiErrors: number;
  lastError: string;
}

export class SimMachine {
  readonly api: AgentApi;
  readonly units = new Map<string, SimUnit>();
  private held: HeldView | undefined;
  private fetching = false;
  private refetch = false;
  private logBuffer: LogLine[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  connected = false;

  /** Told after each (re)connection of the change feed (the failover measurement). */
  onConnect: (() => void) | undefined;
  /** What the change feed went through, with times (performance.now()), for the failover report. */
  readonly feedEvents: { at: number; what: string }[] = [];

  constructor(readonly id: string, urls: string | string[], ca: string, token: string, readonly counters: SimCounters, readonly onUnitEvent: (u: SimUnit) => void) {
    this.api = new AgentApi(urls, ca, token);
  }

  run(signal: AbortSignal): Promise<void> {
    return this.api.watch((m) => this.onMessage(m), () => {
      this.connected = true;
      this.feedEvents.push({ at: performance.now(), what: `open ${this.api.url}` });
      this.onConnect?.();
      this.scheduleFetch();
    }, signal,
    (e) => this.feedEvents.push({ at: performance.now(), what: `failed: ${e.message}` }),
    (from, to, why) => this.feedEvents.push({ at: performance.now(), what: `move ${from} → ${to}: ${why}` }));
  }

  private onMessage(m: WatchMessage): void {
    this.counters.feedMessages++;
    const v = this.held?.view;
    if (m.resync || !m.changes || !v) {
      this.scheduleFetch();
      return;
    }
    const interest = interestOf(this.id, v.units);
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
          this.counters.viewFetches++;
          const delta = await this.call(() => this.api.call('GET /api/agent/view', known.length > 0 ? { query: { known: known.join(',') } } : {}));
          const next = mergeView(this.held, delta);
          this.held = next;
          if (next) this.apply(next.view);
          else this.refetch = true;
        } catch {
          await new Promise((r) => setTimeout(r, 1000));
          this.refetch = true;
        }
      } while (this.refetch);
      this.fetching = false;
    })();
  }

  private apply(view: MachineView): void {
    for (const u of view.units) {
      let unit = this.units.get(u.name);
      if (!unit) {
        unit = new SimUnit(u.name, this);
        this.units.set(u.name, unit);
        void unit.run();
      }
      unit.update(u, view);
    }
    for (const [name, unit] of this.units) {
      if (!view.units.some((u) => u.name === name)) {
        unit.stop();
        this.units.delete(name);
      }
    }
  }

  /** One API call, counted; errors counted and rethrown. */
  async call<T>(f: () => Promise<T>): Promise<T> {
    this.counters.apiCalls++;
    try {
      return await f();
    } catch (e) {
      this.counters.apiErrors++;
      this.counters.lastError = (e as Error).message;
      throw e;
    }
  }

  log(l: LogLine): void {
    this.logBuffer.push(l);
    this.flushTimer ??= setTimeout(() => void this.flush(), 100);
  }

  private async flush(): Promise<void> {
    this.flushTimer = undefined;
    const lines = this.logBuffer;
    this.logBuffer = [];
    if (lines.length > 0) await this.call(() => this.api.call('POST /api/agent/logs', { body: { lines } })).catch(() => {});
  }

  stop(): void {
    for (const u of this.units.values()) u.stop();
    clearTimeout(this.flushTimer);
  }
}

/**
 * One unit: the real resolver decides; the "charm" is in process. Its hooks set the
 * workload status to `active` with the configured token (status-set) and publish the
 * token and the unit's address on every relation (relation-set), as a small charm does.
 */
export class SimUnit {
  view: UnitView | undefined;
  private model: MachineView['model'] | undefined;
  private address = '';
  private revision = 0;
  private settledAt = -1;
  private local: LocalState = initialState();
  private dirty = false;
  private stopped = false;
  private wakeUp: (() => void) | undefined;
  private charmHash = '';
  /** The token this unit's view last showed, when it first showed it, and when a hook had handled it. */
  seenToken = '';
  seenAt = 0;
  handledToken = '';
  handledAt = 0;
  settled = false;

  constructor(readonly name: string, private readonly m: SimMachine) {}

  update(view: UnitView, mv: MachineView): void {
    this.view = view;
    this.model = mv.model;
    this.address = mv.machine.address;
    this.revision = mv.revision;
    const token = String(view.config.token ?? '');
    if (token !== this.seenToken) {
      this.seenToken = token;
      this.seenAt = performance.now();
      this.m.onUnitEvent(this);
    }
    this.dirty = true;
    this.wakeUp?.();
  }

  stop(): void {
    this.stopped = true;
    this.wakeUp?.();
  }

  async run(): Promise<void> {
    while (!this.stopped && !this.local.dead) {
      this.dirty = false;
      const op: Op = this.view ? this.decide() : { type: 'wait' };
      try {
        if (op.type === 'wait') {
          await this.reportSettled();
          await this.sleep(op.until);
        } else {
          this.settled = false;
          await this.execute(op);
        }
      } catch {
        await this.sleep(Date.now() + 1000);
      }
    }
  }

  private decide(): Op {
    return nextOp(this.local, { unit: this.view!, configHash: this.configHash(), retryHooks: this.model!.retryHooks }, Date.now());
  }

  private configHash(): string {
    return createHash('sha1').update(JSON.stringify([this.view!.config, this.address])).digest('hex');
  }

  private sleep(until: number | undefined): Promise<void> {
    if (this.dirty || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = until === undefined ? undefined : setTimeout(() => done(), Math.max(0, until - Date.now()));
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
    });
  }

  private async reportSettled(): Promise<void> {
    const revision = this.revision;
    if (!this.view || this.local.failed || this.settledAt === revision) return;
    await this.m.call(() => this.m.api.call('POST /api/agent/settled', { body: { unit: this.name, revision } }));
    this.settledAt = revision;
    if (!this.settled) {
      this.settled = true;
      this.m.onUnitEvent(this);
    }
  }

  private async execute(op: Exclude<Op, { type: 'wait' }>): Promise<void> {
    const api = this.m.api;
    switch (op.type) {
      case 'run-hook':
      case 'retry-hook':
        return this.runHook(op.hook);
      case 'skip-hook':
        await this.m.call(() => api.call('POST /api/agent/status', { body: { unit: this.name, agent: 'executing', message: `skipping ${op.hook.name} hook`, resolvedAck: true } }));
        this.local = commitHook(this.local, op.hook, this.commitContext({}, this.view!, this.configHash()));
        await this.m.call(() => api.call('POST /api/agent/status', { body: { unit: this.name, agent: 'idle', message: '' } }));
        return;
      case 'run-operation': {
        const id = op.operation.id;
        await this.m.call(() => api.call('POST /api/agent/operations/:id/start', { params: { id: String(id) } }));
        await this.m.call(() => api.call('POST /api/agent/operations/:id/finish', { params: { id: String(id) }, body: { id, status: 'completed', message: '', results: {} } }));
        return;
      }
      case 'enter-scope':
        await this.m.call(() => api.call('POST /api/agent/scope', { body: { unit: this.name, relation: op.relationId, enter: true } }));
        this.local.relations[String(op.relationId)]!.inScope = true;
        return;
      case 'leave-scope':
        await this.m.call(() => api.call('POST /api/agent/scope', { body: { unit: this.name, relation: op.relationId, enter: false } }));
        this.local.relations[String(op.relationId)]!.inScope = false;
        return;
      case 'forget-relation':
        delete this.local.relations[String(op.relationId)];
        return;
      case 'set-dead':
        await this.m.call(() => api.call('POST /api/agent/dead', { body: { unit: this.name } }));
        this.local.dead = true;
        return;
    }
  }

  private async runHook(hook: HookInfo): Promise<void> {
    const api = this.m.api;
    const view = this.view!;
    const configHash = this.configHash();
    if (view.charmHash !== this.charmHash) {
      await this.m.call(() => api.call('GET /api/agent/charms/:hash', { params: { hash: view.charmHash } }));
      this.charmHash = view.charmHash;
    }
    await this.m.call(() => api.call('POST /api/agent/status', { body: { unit: this.name, agent: 'executing', message: `running ${hook.name} hook` } }));
    this.m.counters.hooks++;
    const token = String(view.config.token ?? '');
    // Back to idle with the commit, as the agent does.
    const commit: HookCommit = { unit: this.name, hook: hook.name, relationUnit: {}, relationApp: {}, leaderSettings: {}, unitState: {}, openPorts: [], closePorts: [], idle: {} };
    if (hook.relationId !== undefined && /-relation-(joined|changed|created)$/.test(hook.name)) commit.relationUnit[String(hook.relationId)] = { token, host: this.address };
    if (!/^(stop|remove)$|-relation-broken$/.test(hook.name)) commit.unitStatus = { status: 'active', message: `token=${token}` };
    this.m.log({ entity: `unit-${this.name.replace('/', '-')}`, level: 'INFO', module: 'juju.worker.uniter.operation', message: `ran "${hook.name}" hook`, at: Date.now() });
    const result = await this.m.call(() => api.call('POST /api/agent/commit', { body: commit }));
    this.local = commitHook(this.local, hook, this.commitContext(result.appVersions, view, configHash));
    if (hook.name === 'config-changed' || hook.name === 'install') {
      this.handledToken = token;
      this.handledAt = performance.now();
      this.m.onUnitEvent(this);
    }
  }

  private commitContext(ownAppVersions: Record<string, number>, unit: UnitView, configHash: string) {
    const ms = parseDuration(this.model!.updateStatusInterval);
    return { unit, configHash, now: Date.now(), updateStatusDelay: ms * (0.8 + 0.4 * Math.random()), ownAppVersions };
  }
}
