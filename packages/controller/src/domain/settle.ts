import { concerns, interestOf } from '@sigil/api';
import type { WaitReport } from '@sigil/api';
import { formatDuration } from '@sigil/core';
import type { Store } from '../store/store.ts';
import { AGENT_AWAY } from './machines.ts';
import { Reads, remoteApp } from '../state/rows.ts';
import { ChangeLogRepository } from '../state/change-log.ts';
import { OperationRepository } from '../state/operations.ts';
import type { Presence } from './status.ts';

/**
 * Is the model done? Every unit's agent must have found nothing to do at a view that
 * includes every change concerning it (the same rule the agent uses to re-read its view),
 * with no unit in error, no operation queued, nothing allocating or being removed; for the
 * whole model, also every machine's agent connected.
 */
export function waitReport(s: Store, model: string, apps: string[], presence: Presence): WaitReport {
  const reads = new Reads(s);
  return s.db.transaction(() => {
    const relations = reads.relations(model);
    const machines = new Map(reads.machines(model).map((m) => [m.id, m]));
    const units = reads.units(model).filter((u) => apps.length === 0 || apps.includes(u.app));
    const errors: WaitReport['errors'] = [];
    const busy: WaitReport['busy'] = [];
    const since = Math.min(...units.map((u) => u.settled), Number.MAX_SAFE_INTEGER);
    const changes = new ChangeLogRepository(s).since(model, since === Number.MAX_SAFE_INTEGER ? 0 : since);
    const leaders = new Map(reads.apps(model).map((a) => [a.name, a.leader]));
    // The oldest unfinished operation per unit, named so a stuck one is visible.
    const pending = new Map<string, string>();
    for (const o of new OperationRepository(s).pendingOfModel(model)) {
      if (pending.has(o.unit)) continue;
      const what = o.kind === 'exec' ? 'exec' : `action ${o.name}`;
      const age = formatDuration(Date.now() - (o.started ?? o.enqueued));
      pending.set(o.unit, o.status === 'running' ? `operation ${o.id} (${what}) running for ${age}` : `operation ${o.id} (${what}) queued for ${age}`);
    }
    for (const u of units) {
      const machine = u.machine === null ? undefined : machines.get(u.machine);
      if (u.agent.current === 'error') {
        const output = (u.agent.data?.output as string[] | undefined) ?? [];
        errors.push({ unit: u.name, message: u.agent.message, output });
        continue;
      }
      const mine = relations.filter((r) => r.endpoints.some((e) => e.app === u.app));
      const interest = interestOf(u.machine ?? '', [{
        name: u.name,
        app: u.app,
        leader: leaders.get(u.app) === u.name,
        relations: mine.map((r) => ({ id: r.id, remoteApp: remoteApp(r, u.app) })),
      }]);
      const unseen = changes.find((c) => c.rev > u.settled && concerns(c.kind, c.key, interest, c.op));
      let why: string | undefined;
      if (!machine?.instanceId) why = 'waiting for its machine';
      // The provisioner's account of an agent that stays away (container state, agent output).
      else if (!presence.connected(model, machine.id)) why = machine.status.message.startsWith(AGENT_AWAY) ? `machine ${machine.id} ${machine.status.message}` : 'agent not connected';
      else if (u.life !== 'alive') why = 'being removed';
      else if (u.agent.current === 'executing') why = u.agent.message;
      else if (pending.has(u.name)) why = pending.get(u.name);
      else if (u.settled === 0 || unseen) why = u.agent.current === 'allocating' ? 'agent starting' : 'has changes to process';
      if (why) busy.push({ unit: u.name, reason: why });
    }
    // The whole model: machines with no unit yet count too (`add-machine -n 4`, then `wait`).
    if (apps.length === 0) {
      const hosting = new Set(units.map((u) => u.machine));
      for (const m of machines.values()) {
        if (m.life !== 'alive' || hosting.has(m.id)) continue;
        if (!m.instanceId) busy.push({ unit: `machine ${m.id}`, reason: 'being created' });
        else if (!presence.connected(model, m.id)) busy.push({ unit: `machine ${m.id}`, reason: m.status.message.startsWith(AGENT_AWAY) ? m.status.message : 'agent starting' });
      }
    }
    for (const a of reads.apps(model)) if ((apps.length === 0 || apps.includes(a.name)) && a.life !== 'alive') busy.push({ unit: a.name, reason: 'application being removed' });
    for (const r of relations) if (r.life !== 'alive') busy.push({ unit: r.key, reason: 'relation being removed' });
    return { settled: errors.length === 0 && busy.length === 0, errors, busy, revision: s.revision() };
  })();
}
