import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SigilError } from '@sigil/core';
import type { OperationDoc } from '@sigil/api';
import type { Provider } from '@sigil/providers';
import type { Store } from '../store/store.ts';
import { Operations } from './operations.ts';
import { Reads } from '../state/rows.ts';
import { ScheduleRepository, type Schedule } from '../state/schedules.ts';
import type { BackupStore, Snapshot } from './backup-store.ts';
import { copyOffMachine, copyOntoMachine } from './artifacts.ts';
import type { NotifyEvent } from '../state/notifications.ts';

/** Where a restore puts a snapshot on the unit before its charm's restore action reads it. */
export const RESTORE_DIR = '/var/backups/sigil-restore';
const ACTION_TIMEOUT_MS = 2 * 3600_000;

export interface RunOutcome {
  status: 'completed' | 'failed';
  message: string;
  unit: string;
  operation?: number;
  snapshot?: Snapshot;
}

export interface UnitBackupsDeps {
  store: Store;
  provider: Provider;
  backupStore: BackupStore;
  /** The controller's directory: staging areas live under it (0700), never in /tmp. */
  dir: string;
  /** A line in the model's debug-log, under the unit. */
  log(model: string, unit: string, level: 'INFO' | 'ERROR', message: string): void;
  notify(e: NotifyEvent): void;
}

/**
 * Runs scheduled actions and restores units (issue 18). A run resolves its unit when it
 * starts (`app/leader` is whichever unit leads then), runs the action as `sigil run` would,
 * and when the action returns a `path` and a backup store is configured, copies that file
 * or directory off the unit into the store, then keeps only the newest `keep` snapshots.
 * Each outcome goes to the schedule (status's `last-backup`), the debug-log and notifications.
 */
export class UnitBackups {
  readonly schedules: ScheduleRepository;
  private readonly ops: Operations;
  private readonly reads: Reads;

  constructor(private readonly d: UnitBackupsDeps) {
    this.schedules = new ScheduleRepository(d.store);
    this.ops = new Operations(d.store);
    this.reads = new Reads(d.store);
  }

  /** Runs every due schedule (each on its own; one slow run holds up no other). */
  runDue(now = Date.now()): Promise<RunOutcome>[] {
    return this.schedules.claimDue(now).map((s) => this.run(s));
  }

  async run(s: Schedule): Promise<RunOutcome> {
    let outcome: RunOutcome;
    try {
      outcome = await this.attempt(s);
    } catch (e) {
      outcome = { status: 'failed', unit: s.unit, message: e instanceof Error ? e.message : String(e) };
    }
    this.schedules.finish(s.model, s.name, { status: outcome.status, message: outcome.message, snapshot: outcome.snapshot?.id ?? '' });
    this.d.log(s.model, outcome.unit, outcome.status === 'completed' ? 'INFO' : 'ERROR', `schedule ${s.name}: ${s.action} ${outcome.status}: ${outcome.message}`);
    this.d.notify({ kind: outcome.status === 'completed' ? 'backup-done' : 'backup-failed', model: s.model, subject: `${outcome.unit} (schedule ${s.name}, action ${s.action})`, outcome: outcome.status === 'completed' ? 'ok' : 'failed', detail: outcome.message, by: `schedule ${s.name} (added by ${s.createdBy})` });
    return outcome;
  }

  private async attempt(s: Schedule): Promise<RunOutcome> {
    const op = this.ops.enqueueAction(s.model, s.unit, s.action, s.params);
    const done = await this.awaitOperation(s.model, op);
    if (done.status !== 'completed') return { status: 'failed', unit: op.unit, operation: op.id, message: `action ${s.action} on ${op.unit} ${done.status}${done.message ? `: ${done.message}` : ''}` };
    const path = done.results.path;
    if (typeof path !== 'string' || path === '' || !this.d.backupStore.config()) {
      return { status: 'completed', unit: op.unit, operation: op.id, message: `action ${s.action} on ${op.unit} completed${typeof path === 'string' ? ` (${path} left on the unit: no backup store is configured)` : ''}` };
    }
    const snapshot = await this.keep(s, op.unit, path);
    await this.d.backupStore.prune(s.model, s.name, s.keep);
    return { status: 'completed', unit: op.unit, operation: op.id, snapshot, message: `snapshot ${snapshot.id} of ${path} from ${op.unit} (${snapshot.bytes} bytes, ${snapshot.added} added to the ${snapshot.store} store)` };
  }

  private async keep(s: Schedule, unit: string, path: string): Promise<Snapshot> {
    const u = this.reads.mustUnit(s.model, unit);
    if (!u.machine) throw new SigilError('conflict', `${unit} has no machine`);
    // A stable staging path per application: restic finds the last snapshot of the same path as its parent.
    const staging = join(this.d.dir, 'backup-staging', s.model, u.app);
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true, mode: 0o700 });
    try {
      const staged = await copyOffMachine(this.d.provider, s.model, u.machine, path, staging);
      return await this.d.backupStore.put({ model: s.model, schedule: s.name, unit, app: u.app, sourcePath: path, staged });
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }

  /**
   * Puts a snapshot on `unitSpec` and runs its charm's restore action with `path=` the copy
   * there. The action must exist and take `path`; that is checked before anything is copied.
   * The snapshot is this model's, or `fromModel`'s (a failover drill restores the source's).
   */
  async restoreUnit(model: string, unitSpec: string, snapshotId: string, action = 'restore', fromModel = model): Promise<{ unit: string; snapshot: string; path: string; operation: OperationDoc }> {
    const target = this.ops.target(model, unitSpec);
    const app = this.reads.mustApp(model, target.app);
    const spec = this.reads.charm(model, app.charmUrl).charm.actions[action];
    if (!spec) throw new SigilError('not-found', `application ${app.name} has no "${action}" action`, 'restore-unit runs the charm\'s restore action with path=<the snapshot on the unit>');
    if (!(spec.schema.properties as Record<string, unknown> | undefined)?.path) {
      throw new SigilError('bad-request', `${app.name}'s ${action} action takes no "path" parameter`, 'restore-unit needs a restore action that takes path=');
    }
    if (!this.d.backupStore.get(fromModel, snapshotId)) throw new SigilError('not-found', `snapshot "${snapshotId.slice(0, 80)}" not found in model ${fromModel}`, 'see `sigil backups --snapshots -m MODEL`');
    if (!target.machine) throw new SigilError('conflict', `${target.name} has no machine yet`, 'wait for it to start (`sigil wait`)');
    const staging = mkdtempSync(join(this.d.dir, 'restore-'));
    try {
      const local = await this.d.backupStore.fetch(fromModel, snapshotId, join(staging, 'data'));
      const name = local.split('/').pop()!;
      const parent = local.slice(0, -name.length - 1);
      const onUnit = await copyOntoMachine(this.d.provider, model, target.machine, parent, name, `${RESTORE_DIR}/${snapshotId}`);
      const op = this.ops.enqueueAction(model, target.name, action, { path: onUnit });
      const done = await this.awaitOperation(model, op);
      this.d.log(model, target.name, done.status === 'completed' ? 'INFO' : 'ERROR', `restore of snapshot ${snapshotId} into ${target.name}: ${done.status}${done.message ? `: ${done.message}` : ''}`);
      return { unit: target.name, snapshot: snapshotId, path: onUnit, operation: done };
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }

  private async awaitOperation(model: string, op: OperationDoc): Promise<OperationDoc> {
    const deadline = Date.now() + ACTION_TIMEOUT_MS;
    for (;;) {
      const now = this.ops.get(model, op.id);
      if (now.status !== 'pending' && now.status !== 'running') return now;
      if (Date.now() > deadline) return { ...now, status: 'failed', message: `no result within ${ACTION_TIMEOUT_MS / 60_000} minutes` };
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

