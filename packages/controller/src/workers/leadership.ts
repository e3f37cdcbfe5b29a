import { LEADERSHIP_LEASE_MS } from '@sigil/api';
import { naturalCompare } from '@sigil/core';
import { Reads } from '../state/rows.ts';
import { LifecycleRepository } from '../state/lifecycle.ts';
import type { Change } from '../store/store.ts';
import type { WorkerContext } from './context.ts';
import { AGENT_SILENCE_MS } from './provisioner.ts';

export interface Candidate {
  name: string;
  life: string;
  /**
   * Its machine's agent is connected, or left less than a lease ago; or it has not connected
   * since the controller started, and was first found away less than UNSEEN_LEASE_MS ago (a
   * booting machine, a controller restart).
   */
  holdsLease: boolean;
  /** Its machine's agent is connected now. */
  connected: boolean;
}

/**
 * Who leads an application. A leader keeps the role while it is alive and its agent holds
 * the lease (connected, or away for less than LEADERSHIP_LEASE_MS); then the lowest-numbered
 * alive unit whose agent is connected takes over, or, when none is, the lowest-numbered alive
 * unit (a new application whose agents have not connected yet). Users cannot pick the leader,
 * as in Juju. Null when no unit is alive.
 */
export function chooseLeader(current: string | null, units: readonly Candidate[]): string | null {
  const alive = units.filter((u) => u.life === 'alive').sort((a, b) => naturalCompare(a.name, b.name));
  const holder = alive.find((u) => u.name === current);
  if (holder?.holdsLease) return holder.name;
  const next = alive.find((u) => u.connected) ?? alive[0];
  // A leader that lost its lease stays while nobody else can take over (no other unit).
  return holder && next?.name !== holder.name && !next?.connected ? holder.name : next?.name ?? null;
}

/**
 * How long an agent not seen since the controller started holds the lease, counted from when
 * this worker first found it away: a machine still booting, or the controller just restarted.
 */
export const UNSEEN_LEASE_MS = Math.max(LEADERSHIP_LEASE_MS, AGENT_SILENCE_MS);

/** An application's key: `model/app`. */
const appKey = (model: string, app: string) => `${model}/${app}`;

/** The applications a commit's changes concern: those changed, and those whose units changed. */
export function leadershipKeysOf(_ctx: WorkerContext, changes: readonly Change[]): string[] {
  const keys = new Set<string>();
  for (const c of changes) {
    if (c.op === 'status') continue;
    if (c.kind === 'application') keys.add(appKey(c.model, c.key));
    else if (c.kind === 'unit') keys.add(appKey(c.model, c.key.split('/')[0]!));
  }
  return [...keys];
}

/** The applications with units on a machine whose agent came or went. */
export function leadershipKeysOn(ctx: WorkerContext, model: string, machine: string): string[] {
  return [...new Set(new Reads(ctx.store).unitsOn(model, machine).map((u) => appKey(model, u.app)))];
}

export const allApplicationKeys = (ctx: WorkerContext): string[] => {
  const reads = new Reads(ctx.store);
  return new LifecycleRepository(ctx.store).models().flatMap((m) => reads.apps(m.name).map((a) => appKey(m.name, a.name)));
};

/**
 * The leadership worker, keyed by application: each has exactly one leader while it has
 * alive units (`chooseLeader`). It remembers since when each never-seen machine agent has
 * been away.
 */
export function leadership(): (ctx: WorkerContext, key: string) => void {
  const unseenSince = new Map<string, number>();
  return (ctx, key) => elect(ctx, key, unseenSince);
}

export function elect(ctx: WorkerContext, key: string, unseenSince = new Map<string, number>(), now = Date.now()): void {
  const cut = key.indexOf('/');
  const [model, name] = [key.slice(0, cut), key.slice(cut + 1)];
  const reads = new Reads(ctx.store);
  const app = reads.app(model, name);
  if (!app) return;
  const lease = (machine: string | null) => {
    if (machine === null || ctx.connected(model, machine)) return { holdsLease: true, connected: true };
    const k = `${model}/${machine}`;
    if (ctx.seen(model, machine)) {
      unseenSince.delete(k);
      return { holdsLease: ctx.awayMs(model, machine) < LEADERSHIP_LEASE_MS, connected: false };
    }
    if (!unseenSince.has(k)) unseenSince.set(k, now);
    return { holdsLease: now - unseenSince.get(k)! < UNSEEN_LEASE_MS, connected: false };
  };
  const candidates = reads.units(model, name).map((u) => ({ name: u.name, life: u.life, ...lease(u.machine) }));
  const next = chooseLeader(app.leader, candidates);
  if (next === app.leader) return;
  ctx.store.tx(() => new LifecycleRepository(ctx.store).setLeader(model, name, next));
  ctx.log.info('leader elected', { model, application: name, leader: next, previous: app.leader });
}
