import type { Change, Fence } from '../store/store.ts';
import type { Reconcile, WorkerContext } from './context.ts';
import { KeyedQueue } from './keyed.ts';
import { LifecycleRepository } from '../state/lifecycle.ts';

/**
 * A worker and the committed changes that can give it work. Without `wants` every commit
 * wakes it. Every worker also runs on the slow tick, which catches what no change
 * announces (a dead agent process, time passing).
 */
export interface WorkerSpec {
  name: string;
  run: Reconcile;
  wants?: (c: Change) => boolean;
}

/**
 * A worker whose work is per key (a machine): a change wakes only the keys it concerns,
 * each key converges on its own (a slow provider call for one machine holds up no other),
 * with its own timeout and backoff (`KeyedQueue`).
 */
export interface KeyedWorkerSpec {
  name: string;
  /** The keys a commit's changes concern (may read the store). */
  keysOf: (ctx: WorkerContext, changes: readonly Change[]) => string[];
  /** Every key there is: what a resync (start-up, the slow tick, a wake-up by name) processes. */
  all: (ctx: WorkerContext) => string[];
  process: (ctx: WorkerContext, key: string) => Promise<void> | void;
  /** How often every key is processed whatever changed (time passing, an agent's death). */
  resyncMs?: number;
  concurrency?: number;
  timeoutMs?: number;
  /** This replica stopped acting on a model (its lease moved): let go of what is held for it (listeners). */
  release?: (ctx: WorkerContext, model: string) => Promise<void> | void;
  /**
   * A key of a model another replica acts on: what this replica still converges for it (what
   * it holds itself, e.g. a chaos proxy a request it served opened). Without it the key is skipped.
   */
  unowned?: (ctx: WorkerContext, key: string) => Promise<void> | void;
}

/**
 * Where replicas share the store: which models this one acts on. Every worker key starts
 * with its model (`model` or `model/…`); a key of a model whose lease another replica holds
 * is skipped, and the writes of one that is processed are fenced by the lease's token.
 */
export interface Ownership {
  holds(model: string): boolean;
  fence(model: string): Fence | undefined;
}

/** The model a worker key belongs to. */
export const modelOfKey = (key: string): string => {
  const i = key.indexOf('/');
  return i < 0 ? key : key.slice(0, i);
};

/**
 * Runs the controller's workers when something they care about changed, and on a slow
 * tick. A commit wakes only the workers whose `wants` accepts one of its changes (and only
 * the keys it concerns of a keyed worker), so the stream of agent status reports, which no
 * worker but the exposer reads, does not make every worker re-read the whole model. Workers
 * run independently: one waiting on a provider does not hold up leadership or cleanup. A
 * worker's runs never overlap: a wake-up during a run schedules exactly one more. A failing
 * worker is logged and retried on its next run; it never stops the others.
 */
export class Reconciler {
  private readonly running = new Set<string>();
  private readonly due = new Set<string>();
  private readonly queues = new Map<string, KeyedQueue>();
  private readonly resynced = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  /** Runs of each worker since start (keys processed, for a keyed worker). */
  readonly runs = new Map<string, number>();

  constructor(private readonly ctx: WorkerContext, private readonly workers: WorkerSpec[], private readonly tickMs = 2000, private readonly keyed: KeyedWorkerSpec[] = [], private readonly owner?: Ownership) {
    for (const k of keyed) {
      this.queues.set(k.name, new KeyedQueue({
        name: k.name, log: ctx.log, concurrency: k.concurrency, timeoutMs: k.timeoutMs,
        process: (key) => {
          const owner = this.owner;
          const model = modelOfKey(key);
          if (owner && !owner.holds(model)) return k.unowned?.(this.ctx, key);
          this.runs.set(k.name, (this.runs.get(k.name) ?? 0) + 1);
          // Fenced by its own model's lease: a key must not inherit the fence of whatever queued it.
          return owner ? this.ctx.store.fenced(owner.fence(model), () => k.process(this.ctx, key)) : k.process(this.ctx, key);
        },
      }));
    }
  }

  /** This replica took a model's lease: every worker converges that model's keys. */
  gained(model: string): void {
    for (const k of this.keyed) {
      const q = this.queues.get(k.name)!;
      try {
        for (const key of k.all(this.ctx)) if (modelOfKey(key) === model) q.add(key);
      } catch (e) {
        this.ctx.log.error('worker failed', { worker: k.name, err: String(e), stack: (e as Error).stack });
      }
    }
  }

  /** This replica lost a model's lease: workers let go of what they hold for it. */
  async lost(model: string): Promise<void> {
    for (const k of this.keyed) {
      try {
        await k.release?.(this.ctx, model);
      } catch (e) {
        this.ctx.log.error('worker failed', { worker: k.name, err: String(e), stack: (e as Error).stack });
      }
    }
  }

  start(signal: AbortSignal): void {
    const tick = () => {
      this.wake(this.workers.map((w) => w.name));
      const now = performance.now();
      for (const k of this.keyed) {
        if (now - (this.resynced.get(k.name) ?? -Infinity) >= (k.resyncMs ?? 30_000)) this.resync(k);
      }
      this.timer = setTimeout(tick, this.tickMs);
    };
    tick();
    signal.addEventListener('abort', () => {
      clearTimeout(this.timer);
      for (const q of this.queues.values()) q.stop();
    });
  }

  /** Schedules the named workers (all of them when none are named); a keyed one processes every key. */
  wake(names?: readonly string[]): void {
    for (const w of this.workers) if (names === undefined || names.includes(w.name)) this.due.add(w.name);
    for (const k of this.keyed) if (names === undefined || names.includes(k.name)) this.resync(k);
    this.kick();
  }

  /** Schedules these keys of a keyed worker (an agent connecting concerns its machine only). */
  wakeKeys(name: string, keys: readonly string[]): void {
    const q = this.queues.get(name);
    for (const key of keys) q?.add(key);
  }

  /** Schedules the workers (and the keys) that want one of these committed changes. */
  changed(changes: readonly Change[]): void {
    for (const w of this.workers) if (!this.due.has(w.name) && (w.wants === undefined || changes.some(w.wants))) this.due.add(w.name);
    for (const k of this.keyed) {
      const q = this.queues.get(k.name)!;
      try {
        for (const key of k.keysOf(this.ctx, changes)) q.add(key);
      } catch (e) {
        // Never out of the commit's notification (later subscribers must hear of it); the
        // resync catches up.
        this.ctx.log.error('worker failed', { worker: k.name, err: String(e), stack: (e as Error).stack });
      }
    }
    this.kick();
  }

  /** Whether no worker is running or due and no key is waiting (tests, shutdown). */
  get idle(): boolean {
    return this.running.size === 0 && this.due.size === 0 && [...this.queues.values()].every((q) => q.idle);
  }

  private resync(k: KeyedWorkerSpec): void {
    this.resynced.set(k.name, performance.now());
    const q = this.queues.get(k.name)!;
    try {
      for (const key of k.all(this.ctx)) q.add(key, { resync: true });
    } catch (e) {
      this.ctx.log.error('worker failed', { worker: k.name, err: String(e), stack: (e as Error).stack });
    }
  }

  private kick(): void {
    for (const w of this.workers) {
      if (!this.due.has(w.name) || this.running.has(w.name)) continue;
      this.running.add(w.name);
      // After the current call stack: a commit's subscribers are still being told of it.
      queueMicrotask(() => void this.run(w));
    }
  }

  private async run(w: WorkerSpec): Promise<void> {
    while (this.due.has(w.name)) {
      this.due.delete(w.name);
      this.runs.set(w.name, (this.runs.get(w.name) ?? 0) + 1);
      const t = performance.now();
      try {
        await w.run(this.ctx);
        this.ctx.log.debug('worker ran', { worker: w.name, ms: Math.round(performance.now() - t) });
      } catch (e) {
        this.ctx.log.error('worker failed', { worker: w.name, err: String(e), stack: (e as Error).stack });
      }
    }
    this.running.delete(w.name);
  }
}

/** Structural changes: anything but an entity's own runtime fields (statuses, ports). */
const structural = (kinds: readonly string[]) => (c: Change) => c.op !== 'status' && kinds.includes(c.kind);

/**
 * Which changes each of the controller's workers reads (see each worker for what it
 * converges). Of the workers keyed by model, a change wakes only its own model's key.
 */
export const WANTS = {
  cleanup: structural(['model', 'application', 'unit', 'relation', 'relation-data', 'machine']),
  subordinates: structural(['application', 'unit', 'relation', 'relation-data']),
  // Opened ports are a unit's runtime field: the exposer reads status changes too.
  exposer: (c: Change) => ['application', 'unit', 'machine'].includes(c.kind),
  // A unit settling may let a removed relation's draining proxy close.
  chaos: structural(['model', 'application', 'unit', 'relation', 'relation-data', 'machine', 'settled']),
  operations: structural(['operation']),
  // A roll-out waits on its units settling (status reports too) and HAProxy seeing a drain;
  // with no roll-out active a run is one indexed read.
  rollouts: (c: Change) => ['rollout', 'unit', 'application', 'relation', 'relation-data'].includes(c.kind),
  // Pruning is by time: each model on a 60 s resync.
  logs: () => false,
  // Inventory collections are asked for on a schedule (a 60 s resync) and after hooks (by the route).
  inventory: () => false,
} satisfies Record<string, (c: Change) => boolean>;

/** Every model's name: the keys of a worker keyed by model. */
export const modelNames = (ctx: WorkerContext): string[] => new LifecycleRepository(ctx.store).models().map((m) => m.name);

/**
 * A worker whose work is per model (what it converges never crosses models): a commit wakes
 * the models of the changes `wants` accepts; a resync processes `all` (every model).
 */
export function perModel(
  name: string,
  wants: (c: Change) => boolean,
  process: (ctx: WorkerContext, model: string) => Promise<void> | void,
  o: { all?: (ctx: WorkerContext) => string[]; resyncMs?: number; timeoutMs?: number; release?: KeyedWorkerSpec['release']; unowned?: KeyedWorkerSpec['unowned'] } = {},
): KeyedWorkerSpec {
  return {
    name,
    keysOf: (_ctx, changes) => [...new Set(changes.filter(wants).map((c) => c.model))],
    all: o.all ?? modelNames,
    process,
    ...(o.release ? { release: o.release } : {}),
    ...(o.unowned ? { unowned: o.unowned } : {}),
    concurrency: 4,
    resyncMs: o.resyncMs ?? 30_000,
    timeoutMs: o.timeoutMs ?? 60_000,
  };
}
