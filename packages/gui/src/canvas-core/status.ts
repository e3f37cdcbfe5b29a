import { deriveApplicationStatus } from '@sigil/core';
import type { GuiApp, GuiMachine, GuiModel, GuiRelation, GuiStatus, GuiUnit } from '@sigil/api';

/** Colours of Juju's status vocabulary, most severe first. */
export const STATUS_COLOURS: Record<string, string> = {
  error: '#d4351c',
  blocked: '#f47738',
  maintenance: '#1d70b8',
  waiting: '#b58a00',
  active: '#00703c',
  terminated: '#505a5f',
  unknown: '#8c8c8c',
};

export function statusColour(current: string): string {
  return STATUS_COLOURS[current] ?? STATUS_COLOURS.unknown!;
}

export interface UnitView {
  workload: GuiStatus;
  agent: GuiStatus;
}

/**
 * A unit as `sigil status` shows it: a failed hook is the workload's error (the agent is
 * idle, waiting for `resolve`); a unit whose machine agent is away is lost.
 */
export function unitView(u: GuiUnit, machine: GuiMachine | undefined): UnitView {
  if (u.agent.current === 'error') return { workload: { current: 'error', message: u.agent.message }, agent: { current: 'idle', message: '' } };
  if (u.agent.current !== 'allocating' && u.machine !== null && machine?.up !== true) {
    return {
      workload: { current: 'unknown', message: `agent lost, see 'sigil debug-log --include ${u.name}'` },
      agent: { current: 'lost', message: 'agent is not communicating with the server' },
    };
  }
  return { workload: u.workload, agent: u.agent };
}

/**
 * Application status as Juju derives it: what the leader set, unless a unit is in error;
 * otherwise the most severe unit workload status.
 */
export function appStatus(app: GuiApp, units: readonly UnitView[]): GuiStatus {
  const workloads = units.map((u) => u.workload);
  if (app.status !== null && !workloads.some((w) => w.current === 'error')) return app.status;
  return deriveApplicationStatus(workloads) ?? { current: 'unknown', message: 'waiting for units' };
}

export interface AppSummary {
  status: GuiStatus;
  units: number;
  /** Units whose workload is in error. */
  errors: number;
}

/** Every application's derived status and unit count, in one pass over the units. */
export function summarize(model: GuiModel): Map<string, AppSummary> {
  const byApp = new Map<string, UnitView[]>();
  for (const u of Object.values(model.units)) {
    const list = byApp.get(u.app);
    const v = unitView(u, u.machine === null ? undefined : model.machines[u.machine]);
    if (list) list.push(v);
    else byApp.set(u.app, [v]);
  }
  const out = new Map<string, AppSummary>();
  for (const app of Object.values(model.apps)) {
    const units = byApp.get(app.name) ?? [];
    out.set(app.name, { status: appStatus(app, units), units: units.length, errors: units.filter((u) => u.workload.current === 'error').length });
  }
  return out;
}

/** A relation is shown in error when an application on either side has a unit in error. */
export function relationInError(r: GuiRelation, summaries: ReadonlyMap<string, AppSummary>): boolean {
  return r.endpoints.some((e) => (summaries.get(e.app)?.errors ?? 0) > 0);
}

/**
 * `next`, but with the summaries (and the map) of `prev` wherever nothing changed, so the
 * canvas re-renders only the nodes whose colour, count or message moved. Unit deltas that
 * change no application summary (most of them) then cost the canvas nothing.
 */
export function reuseSummaries(prev: ReadonlyMap<string, AppSummary>, next: Map<string, AppSummary>): ReadonlyMap<string, AppSummary> {
  let same = prev.size === next.size;
  for (const [app, s] of next) {
    const p = prev.get(app);
    if (p && p.units === s.units && p.errors === s.errors && p.status.current === s.status.current && p.status.message === s.status.message) next.set(app, p);
    else same = false;
  }
  return same ? prev : next;
}
