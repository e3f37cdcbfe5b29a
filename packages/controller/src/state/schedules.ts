import { SigilError, parseDuration } from '@sigil/core';
import type { Store } from '../store/store.ts';
import { Reads } from './rows.ts';

export interface Schedule {
  model: string;
  name: string;
  /** `app/N`, or `app/leader` (resolved when it runs). */
  unit: string;
  action: string;
  params: Record<string, unknown>;
  every: string;
  everyMs: number;
  keep: number;
  nextRun: number;
  running: boolean;
  lastRun: number | null;
  lastStatus: '' | 'completed' | 'failed';
  lastMessage: string;
  lastSnapshot: string;
  createdBy: string;
}

/** The shortest interval a schedule may have, and the longest (a year). */
export const MIN_EVERY_MS = 60_000;
const MAX_EVERY_MS = 366 * 24 * 3600_000;
const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const UNIT = /^([a-z][a-z0-9-]*)\/(\d+|leader)$/;

/** Parses `--every`: Sigil's durations (90s, 15m, 6h, 1d), between a minute and a year. */
export function parseEvery(text: string): number {
  let ms: number;
  try {
    const days = /^(\d+)d$/.exec(text.trim());
    ms = days ? Number(days[1]) * 86_400_000 : parseDuration(text);
  } catch {
    throw new SigilError('bad-request', `"${text.slice(0, 40)}" is not an interval`, 'give --every as a duration such as 30m, 6h or 1d');
  }
  if (!(ms >= MIN_EVERY_MS && ms <= MAX_EVERY_MS)) throw new SigilError('bad-request', `--every ${text.slice(0, 40)} is outside 1m..366d`, 'give an interval of at least 1m (for example 6h)');
  return ms;
}

/** Scheduled actions (`sigil schedule`), one row per model and name. */
export class ScheduleRepository {
  private readonly reads: Reads;

  constructor(private readonly s: Store) {
    this.reads = new Reads(s);
  }

  /**
   * Adds a schedule after checking it against the model: the application exists and its
   * charm defines the action (the unit itself, or the leader, is resolved at each run).
   */
  add(model: string, o: { name: string; unit: string; action: string; params: Record<string, unknown>; every: string; keep: number }, by: string, now = Date.now()): Schedule {
    if (!NAME.test(o.name)) throw new SigilError('bad-request', `"${o.name.slice(0, 80)}" is not a valid schedule name`, 'use lowercase letters, digits and dashes, starting with a letter');
    const everyMs = parseEvery(o.every);
    if (!Number.isInteger(o.keep) || o.keep < 1 || o.keep > 10_000) throw new SigilError('bad-request', `--keep ${String(o.keep).slice(0, 20)} is not a count from 1 to 10000`, 'give --keep N, the snapshots to keep (default 14)');
    const m = UNIT.exec(o.unit);
    if (!m) throw new SigilError('bad-request', `"${o.unit.slice(0, 80)}" is not a unit`, 'give --unit app/0, or app/leader to run on the leader at each run');
    return this.s.tx(() => {
      const app = this.reads.mustApp(model, m[1]!);
      const { charm } = this.reads.charm(model, app.charmUrl);
      if (!charm.actions[o.action]) {
        const names = Object.keys(charm.actions).sort();
        throw new SigilError('not-found', `charm ${charm.meta.name} (application ${app.name}) has no action "${o.action.slice(0, 80)}"`, names.length ? `its actions: ${names.join(', ')}` : `charm ${charm.meta.name} defines no actions`);
      }
      if (m[2] !== 'leader') this.reads.mustUnit(model, o.unit);
      if (this.get(model, o.name)) throw new SigilError('already-exists', `schedule "${o.name}" already exists in model ${model}`, `remove it first: sigil schedule remove ${o.name}`);
      this.s.db.prepare('INSERT INTO schedules (model, name, unit, action, params, every_ms, keep, next_run, created_by, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(model, o.name, o.unit, o.action, JSON.stringify(o.params), everyMs, o.keep, now + everyMs, by, now);
      this.s.changed(model, 'schedule', o.name);
      return this.get(model, o.name)!;
    });
  }

  get(model: string, name: string): Schedule | undefined {
    const r = this.s.db.prepare('SELECT * FROM schedules WHERE model = ? AND name = ?').get(model, name) as Record<string, unknown> | undefined;
    return r ? toSchedule(r) : undefined;
  }

  mustGet(model: string, name: string): Schedule {
    const s = this.get(model, name);
    if (!s) throw new SigilError('not-found', `schedule "${name.slice(0, 80)}" not found in model ${model}`, 'see `sigil schedule list`');
    return s;
  }

  list(model?: string): Schedule[] {
    const rows = (model === undefined ? this.s.db.prepare('SELECT * FROM schedules ORDER BY model, name').all() : this.s.db.prepare('SELECT * FROM schedules WHERE model = ? ORDER BY name').all(model)) as Record<string, unknown>[];
    return rows.map(toSchedule);
  }

  remove(model: string, name: string): void {
    this.s.tx(() => {
      this.mustGet(model, name);
      this.s.db.prepare('DELETE FROM schedules WHERE model = ? AND name = ?').run(model, name);
      this.s.changed(model, 'schedule', name);
    });
  }

  /** Makes the schedule due now (`sigil schedule run`); the scheduler runs it as any due run. */
  runNow(model: string, name: string, now = Date.now()): void {
    this.s.tx(() => {
      const s = this.mustGet(model, name);
      if (s.running) throw new SigilError('conflict', `schedule "${name}" is running now`, 'wait for it to finish (`sigil schedule list`)');
      this.s.db.prepare('UPDATE schedules SET next_run = ? WHERE model = ? AND name = ?').run(now, model, name);
    });
  }

  /** Claims the due schedules (marks them running) so no run starts twice; a dying model's schedules start no more runs. */
  claimDue(now = Date.now()): Schedule[] {
    return this.s.tx(() => {
      const due = (this.s.db.prepare("SELECT * FROM schedules WHERE next_run <= ? AND running = 0 AND model IN (SELECT name FROM models WHERE life = 'alive')").all(now) as Record<string, unknown>[]).map(toSchedule);
      for (const d of due) this.s.db.prepare('UPDATE schedules SET running = 1 WHERE model = ? AND name = ?').run(d.model, d.name);
      return due;
    });
  }

  finish(model: string, name: string, o: { status: 'completed' | 'failed'; message: string; snapshot: string }, now = Date.now()): void {
    this.s.tx(() => {
      const s = this.get(model, name);
      if (!s) return;
      this.s.db.prepare('UPDATE schedules SET running = 0, last_run = ?, last_status = ?, last_message = ?, last_snapshot = ?, next_run = ? WHERE model = ? AND name = ?').run(now, o.status, o.message.slice(0, 1000), o.snapshot, now + s.everyMs, model, name);
      this.s.changed(model, 'schedule', name);
    });
  }

  /** Runs cut short by a controller restart are not running any more. */
  releaseAll(): void {
    this.s.db.prepare('UPDATE schedules SET running = 0 WHERE running = 1').run();
  }
}

function toSchedule(r: Record<string, unknown>): Schedule {
  const everyMs = r.every_ms as number;
  return {
    model: r.model as string,
    name: r.name as string,
    unit: r.unit as string,
    action: r.action as string,
    params: JSON.parse(r.params as string) as Record<string, unknown>,
    every: formatEvery(everyMs),
    everyMs,
    keep: r.keep as number,
    nextRun: r.next_run as number,
    running: r.running === 1,
    lastRun: (r.last_run as number | null) ?? null,
    lastStatus: r.last_status as Schedule['lastStatus'],
    lastMessage: r.last_message as string,
    lastSnapshot: r.last_snapshot as string,
    createdBy: r.created_by as string,
  };
}

export function formatEvery(ms: number): string {
  for (const [unit, n] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) if (ms % n === 0) return `${ms / n}${unit}`;
  return `${ms / 1000}s`;
}
