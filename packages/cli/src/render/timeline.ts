/**
 * `sigil status --timeline` (issue 21): where a deploy's time goes, per unit, from the status
 * history the controller already keeps. A unit's lines are its machine's statuses (added,
 * creating, agent connected), each hook it ran (from its agent's "running <hook> hook"
 * statuses, the duration being the time until its agent's next status), its workload's
 * statuses, and when its agent went idle for the last time (settled). Times are seconds since
 * the model's earliest entry.
 */
import type { StatusHistoryEntry } from '@sigil/api';
import { renderTable } from './table.ts';

export interface TimelineUnit {
  name: string;
  machine?: string | undefined;
}

export interface TimelineStep {
  unit: string;
  /** 'machine', 'hook', 'workload' or 'settled'. */
  kind: 'machine' | 'hook' | 'workload' | 'settled';
  step: string;
  /** ms since the epoch. */
  start: number;
  /** ms; absent for instants (a workload status, settled) and for a step still going on. */
  duration?: number;
}

export interface Timeline {
  /** ms since the epoch of the earliest entry; 0 when there is none. */
  origin: number;
  steps: TimelineStep[];
}

const HOOK = /^running (.+) hook$/;

/** Machine status → the step it starts. */
function machineStep(e: StatusHistoryEntry, machine: string): string {
  if (e.status === 'pending') return `machine ${machine} added`;
  if (e.status === 'allocating') return `machine ${machine} ${e.message || 'allocating'}`;
  // The provider made the instance; it boots until its agent connects.
  if (e.status === 'running') return `machine ${machine} booting`;
  if (e.status === 'started') return `machine ${machine} ${e.message || 'agent connected'}`;
  return `machine ${machine} ${e.status}${e.message ? `: ${e.message}` : ''}`;
}

/**
 * The steps of every unit, each unit's in time order. `history` holds each machine's
 * entries (type machine) and each unit's (juju-unit and workload), oldest first.
 */
export function buildTimeline(units: readonly TimelineUnit[], machineHistory: ReadonlyMap<string, readonly StatusHistoryEntry[]>, unitHistory: ReadonlyMap<string, readonly StatusHistoryEntry[]>): Timeline {
  const steps: TimelineStep[] = [];
  let origin = Infinity;
  for (const u of units) {
    const mine: TimelineStep[] = [];
    const mh = u.machine === undefined ? [] : (machineHistory.get(u.machine) ?? []);
    mh.forEach((e, i) => {
      const next = mh[i + 1];
      // A started machine's step ends when the agent connects: nothing follows it.
      const duration = next && e.status !== 'started' ? next.since - e.since : undefined;
      mine.push({ unit: u.name, kind: 'machine', step: machineStep(e, u.machine!), start: e.since, ...(duration !== undefined ? { duration } : {}) });
    });
    const uh = unitHistory.get(u.name) ?? [];
    const agent = uh.filter((e) => e.type === 'juju-unit');
    agent.forEach((e, i) => {
      const hook = HOOK.exec(e.message);
      if (e.status !== 'executing' || !hook) return;
      const next = agent[i + 1];
      mine.push({ unit: u.name, kind: 'hook', step: `hook ${hook[1]}`, start: e.since, ...(next ? { duration: next.since - e.since } : {}) });
    });
    for (const e of uh) {
      if (e.type === 'workload') mine.push({ unit: u.name, kind: 'workload', step: `workload ${e.status}${e.message ? `: ${e.message}` : ''}`, start: e.since });
    }
    const last = agent[agent.length - 1];
    if (last && last.status === 'idle') mine.push({ unit: u.name, kind: 'settled', step: 'settled', start: last.since });
    // Stable: a machine's step sorts before a unit's at the same millisecond.
    mine.sort((a, b) => a.start - b.start);
    for (const s of mine) origin = Math.min(origin, s.start);
    steps.push(...mine);
  }
  return { origin: Number.isFinite(origin) ? origin : 0, steps };
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)}s`;

/** The table: Unit (on its first line only), Step, At (+s since the origin), Took. */
export function renderTimeline(t: Timeline, o: { slowest?: number } = {}): string {
  if (t.steps.length === 0) return 'No units in the model: nothing to show on a timeline.';
  let prev = '';
  const rows = t.steps.map((s) => {
    const unit = s.unit === prev ? '' : s.unit;
    prev = s.unit;
    return [unit, `+${secs(s.start - t.origin)}`, s.duration === undefined ? '' : secs(s.duration), s.step];
  });
  let out = renderTable(['Unit', 'At', 'Took', 'Step'], rows, { alignRight: [1, 2] });
  const slow = t.steps.filter((s) => s.duration !== undefined && s.kind !== 'workload').sort((a, b) => b.duration! - a.duration!).slice(0, o.slowest ?? 5);
  if (slow.length > 0) {
    out = out.replace(/\n?$/, '\n') + '\nSlowest steps:\n' + renderTable(['Took', 'Unit', 'Step'], slow.map((s) => [secs(s.duration!), s.unit, s.step]), { alignRight: [0] });
  }
  const settled = t.steps.filter((s) => s.kind === 'settled').map((s) => s.start);
  if (settled.length > 0) out = out.replace(/\n?$/, '\n') + `\nAll units settled at +${secs(Math.max(...settled) - t.origin)}.\n`;
  return out;
}

/** The JSON/YAML document: the origin, and per unit its steps with offsets and durations in seconds. */
export function timelineDoc(t: Timeline): Record<string, unknown> {
  const units: Record<string, unknown[]> = {};
  for (const s of t.steps) {
    (units[s.unit] ??= []).push({ step: s.step, kind: s.kind, at: Number(((s.start - t.origin) / 1000).toFixed(3)), ...(s.duration !== undefined ? { took: Number((s.duration / 1000).toFixed(3)) } : {}) });
  }
  return { origin: t.origin > 0 ? new Date(t.origin).toISOString() : null, units };
}
