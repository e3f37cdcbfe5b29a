import type { Change } from '../store/store.ts';
import type { Reconcile, WorkerContext } from './context.ts';

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
 * Runs the controller's workers, in order, when something they care about changed (and all
 * of them on a slow tick). A commit wakes only the workers whose `wants` accepts one of its
 * changes, so the stream of agent status reports, which no worker but the exposer reads,
 * does not make every worker re-read the whole model. Runs never overlap: a wake-up during
 * a run schedules exactly one more run of the workers it names. A failing worker is logged
 * and retried on the next run; it never stops the others.
 */
export class Reconciler {
  private running = false;
  private readonly due = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** Runs of each worker since start: what `worker runs` reports. */
  readonly runs = new Map<string, number>();

  constructor(private readonly ctx: WorkerContext, private readonly workers: WorkerSpec[], private readonly tickMs = 2000) {}

  start(signal: AbortSignal): void {
    const tick = () => {
      this.wake();
      this.timer = setTimeout(tick, this.tickMs);
    };
    tick();
    signal.addEventListener('abort', () => clearTimeout(this.timer));
  }

  /** Schedules the named workers (all of them when none are named). */
  wake(names?: readonly string[]): void {
    for (const w of this.workers) if (names === undefined || names.includes(w.name)) this.due.add(w.name);
    this.kick();
  }

  /** Schedules the workers that want one of these committed changes. */
  changed(changes: readonly Change[]): void {
    for (const w of this.workers) if (!this.due.has(w.name) && (w.wants === undefined || changes.some(w.wants))) this.due.add(w.name);
    this.kick();
  }

  private kick(): void {
    if (this.running || this.due.size === 0) return;
    this.running = true;
    void this.run();
  }

  private async run(): Promise<void> {
    while (this.due.size > 0) {
      const now = this.workers.filter((w) => this.due.has(w.name));
      this.due.clear();
      for (const w of now) {
        this.runs.set(w.name, (this.runs.get(w.name) ?? 0) + 1);
        const t = performance.now();
        try {
          await w.run(this.ctx);
          this.ctx.log.debug('worker ran', { worker: w.name, ms: Math.round(performance.now() - t) });
        } catch (e) {
          this.ctx.log.error('worker failed', { worker: w.name, err: String(e), stack: (e as Error).stack });
        }
      }
    }
    this.running = false;
  }
}

/** Structural changes: anything but an entity's own runtime fields (statuses, ports). */
const structural = (kinds: readonly string[]) => (c: Change) => c.op !== 'status' && kinds.includes(c.kind);

/** Which changes each of the controller's workers reads (see each worker for what it converges). */
export const WANTS = {
  cleanup: structural(['model', 'application', 'unit', 'relation', 'machine']),
  subordinates: structural(['application', 'unit', 'relation']),
  leadership: structural(['application', 'unit']),
  provisioner: structural(['model', 'machine', 'unit']),
  // Opened ports are a unit's runtime field: the exposer reads status changes too.
  exposer: (c: Change) => ['application', 'unit', 'machine'].includes(c.kind),
  chaos: structural(['model', 'application', 'unit', 'relation', 'machine']),
  operations: structural(['operation']),
  // A roll-out waits on its units settling (status reports too) and HAProxy seeing a drain;
  // with no roll-out active a run is one indexed read.
  rollouts: (c: Change) => ['rollout', 'unit', 'application', 'relation'].includes(c.kind),
  // Pruning is by time; it rate-limits itself.
  logs: () => false,
  // Inventory collections are asked for on a schedule (the tick) and after hooks (by the route).
  inventory: () => false,
} satisfies Record<string, (c: Change) => boolean>;
