import { LEADERSHIP_LEASE_MS } from '@sigil/api';
import { naturalCompare } from '@sigil/core';
import { Models } from '../domain/models.ts';
import { Reads } from '../domain/rows.ts';
import type { Reconcile, WorkerContext } from './context.ts';
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

/**
 * The leadership worker: every application with alive units has exactly one leader
 * (`chooseLeader`). It remembers since when each never-seen machine agent has been away.
 */
export function leadership(): Reconcile {
  const unseenSince = new Map<string, number>();
  return (ctx) => elect(ctx, unseenSince);
}

export function elect(ctx: WorkerContext, unseenSince = new Map<string, number>(), now = Date.now()): void {
  const reads = new Reads(ctx.store);
  for (const { name: model } of new Models(ctx.store).list()) {
    const units = reads.units(model);
    const lease = (machine: string | null) => {
      if (machine === null || ctx.connected(model, machine)) return { holdsLease: true, connected: true };
      const key = `${model}/${machine}`;
      if (ctx.seen(model, machine)) {
        unseenSince.delete(key);
        return { holdsLease: ctx.awayMs(model, machine) < LEADERSHIP_LEASE_MS, connected: false };
      }
      if (!unseenSince.has(key)) unseenSince.set(key, now);
      return { holdsLease: now - unseenSince.get(key)! < UNSEEN_LEASE_MS, connected: false };
    };
    for (const app of reads.apps(model)) {
      const candidates = units.filter((u) => u.app === app.name).map((u) => ({ name: u.name, life: u.life, ...lease(u.machine) }));
      const next = chooseLeader(app.leader, candidates);
      if (next === app.leader) continue;
      ctx.store.tx(() => {
        ctx.store.db.prepare('UPDATE applications SET leader = ? WHERE model = ? AND name = ?').run(next, model, app.name);
        ctx.store.changed(model, 'application', app.name);
      });
      ctx.log.info('leader elected', { model, application: app.name, leader: next, previous: app.leader });
    }
  }
}
