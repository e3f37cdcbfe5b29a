import { formatDuration } from '@sigil/core';
import type { RolloutDoc, RolloutEvent, RolloutUnitState } from '@sigil/api';

/** What the worker saw of the model for the roll-out's current batch. */
export interface RolloutFacts {
  now: number;
  /** The application has load balancers to drain its units from (an `http` relation's other side). */
  balanced: boolean;
  /** Every load balancer unit has seen the latest drain change. */
  balancersSettled: boolean;
  /** Units of the current batch in error, and those not yet settled (with why). */
  errors: { unit: string; message: string }[];
  busy: { unit: string; reason: string }[];
  /** The outcome of the current gate run: unknown when no run of that number is known (for one, after a restart). */
  gate: { state: 'unknown' | 'running' | 'passed' | 'failed'; message: string };
}

export type Effect =
  | { kind: 'set-drained'; units: string[] }
  | { kind: 'pin'; units: string[]; url: string }
  /** Units in error that a rollback moves on anyway (`resolve --no-retry`, as Juju's `--force-units`). */
  | { kind: 'resolve'; units: string[] }
  | { kind: 'run-gate'; units: string[]; run: number }
  /** The roll-out finished forward: the application takes the new charm and units follow it again. */
  | { kind: 'complete' }
  /** The roll-out was undone: units follow the application's (old) charm again. */
  | { kind: 'restore' }
  | { kind: 'notify'; event: RolloutEvent; message: string };

/**
 * The next step of a roll-out, or undefined when it must wait. Pure: the worker gathers the
 * facts, applies the effects and stores the returned document in one transaction. A step
 * never depends on which change woke the worker, only on the document and the facts.
 */
export function decideRollout(doc: RolloutDoc, f: RolloutFacts): { doc: RolloutDoc; effects: Effect[] } | undefined {
  if (doc.status !== 'running') return undefined;
  const batch = doc.batches[doc.batch] ?? [];
  const back = doc.direction === 'back';
  const next = (patch: Partial<RolloutDoc>, effects: Effect[] = [], states?: RolloutUnitState): { doc: RolloutDoc; effects: Effect[] } => {
    const units = { ...doc.units };
    if (states) for (const u of batch) units[u] = states;
    return { doc: { ...doc, message: '', ...patch, units, updated: f.now, phaseSince: patch.phase !== undefined ? f.now : doc.phaseSince }, effects };
  };
  const elapsed = f.now - doc.phaseSince;
  const timedOut = elapsed > doc.batchTimeoutMs;
  const halt = (message: string, states?: RolloutUnitState) => next({ status: 'halted', message }, [{ kind: 'notify', event: 'refresh-halted', message }], states);
  const waitMsg = (message: string) => (message === doc.message ? undefined : { doc: { ...doc, message, updated: f.now }, effects: [] });

  switch (doc.phase) {
    case 'drain':
      if (!f.balanced) return next({ phase: 'upgrade' });
      return next({ phase: 'drain-wait', drained: batch }, [{ kind: 'set-drained', units: batch }], 'draining');
    case 'drain-wait':
      if (f.balancersSettled) return next({ phase: 'upgrade' });
      if (timedOut) return halt(`the load balancers did not take ${batch.join(', ')} out of rotation within ${formatDuration(doc.batchTimeoutMs)}`);
      return waitMsg('waiting for the load balancers to drain the batch');
    case 'upgrade': {
      const effects: Effect[] = [{ kind: 'pin', units: batch, url: back ? doc.from : doc.to }];
      const stuck = f.errors.map((e) => e.unit);
      if (back && stuck.length > 0) effects.unshift({ kind: 'resolve', units: stuck });
      return next({ phase: 'upgrade-wait' }, effects, back ? 'reverting' : 'upgrading');
    }
    case 'upgrade-wait': {
      if (f.errors.length > 0) {
        const what = f.errors.map((e) => `${e.unit}: ${e.message}`).join('; ');
        if (doc.haltOnError && !back) return halt(`unit in error during the upgrade (${what})`, 'halted');
        if (timedOut) return halt(`unit in error during the ${back ? 'rollback' : 'upgrade'} (${what})`, 'halted');
        return waitMsg(`waiting for ${f.errors.map((e) => e.unit).join(', ')} in error: \`sigil resolve\` it and the roll-out goes on`);
      }
      if (f.busy.length === 0) return next({ phase: back ? 'undrain' : 'gate' });
      if (timedOut) return halt(`the batch did not settle within ${formatDuration(doc.batchTimeoutMs)}: ${f.busy.map((b) => `${b.unit} (${b.reason})`).join(', ')}`, 'halted');
      return waitMsg(`upgrading ${batch.join(', ')}`);
    }
    case 'gate': {
      if (doc.gate.command === undefined && doc.gate.http === undefined) return next({ phase: 'undrain' });
      const run = doc.gateRun + 1;
      return next({ phase: 'gate-wait', gateRun: run }, [{ kind: 'run-gate', units: batch, run }], 'gating');
    }
    case 'gate-wait':
      switch (f.gate.state) {
        case 'passed': return next({ phase: 'undrain' });
        case 'failed': return halt(`gate failed on batch ${doc.batch + 1}/${doc.batches.length}: ${f.gate.message}`, 'halted');
        // The controller restarted while the gate ran: run it again.
        case 'unknown': return next({ phase: 'gate' });
        default:
          if (timedOut) return halt(`the gate did not answer within ${formatDuration(doc.batchTimeoutMs)}`, 'halted');
          return waitMsg(f.gate.message || 'running the gate');
      }
    case 'undrain':
      if (doc.drained.length === 0) return next({ phase: 'undrain-wait' });
      return next({ phase: 'undrain-wait', drained: [] }, [{ kind: 'set-drained', units: [] }], 'undraining');
    case 'undrain-wait': {
      if (f.balanced && !f.balancersSettled) {
        if (timedOut) return halt(`the load balancers did not put ${batch.join(', ')} back within ${formatDuration(doc.batchTimeoutMs)}`);
        return waitMsg('waiting for the load balancers to put the batch back');
      }
      const batchMs = [...doc.batchMs, f.now - doc.batchStarted];
      const done: RolloutUnitState = back ? 'reverted' : 'done';
      if (doc.batch + 1 >= doc.batches.length) {
        const finished = back ? 'rolled-back' : 'done';
        const message = back ? `rolled back to ${doc.from}` : `refreshed to ${doc.to}`;
        return next({ phase: 'finish', status: finished, finished: f.now, batchMs, message }, [{ kind: back ? 'restore' : 'complete' }, { kind: 'notify', event: back ? 'refresh-rolled-back' : 'refresh-finished', message }], done);
      }
      return next({ phase: 'pause', batch: doc.batch + 1, batchMs }, [], done);
    }
    case 'pause':
      if (back || elapsed >= doc.pauseMs) return next({ phase: 'drain', batchStarted: f.now });
      return waitMsg(`pausing ${formatDuration(doc.pauseMs)} between batches`);
    case 'finish':
      return undefined;
  }
}

/**
 * Turns a running or halted forward roll-out into its rollback: the batches that moved (or
 * started to), newest first, go back to the old charm one at a time, drained as before.
 */
export function rollbackOf(doc: RolloutDoc, now: number): RolloutDoc {
  const moved = doc.batches.map((b) => b.filter((u) => doc.units[u] !== undefined && doc.units[u] !== 'pending' && doc.units[u] !== 'reverted')).filter((b) => b.length > 0);
  const batches = doc.direction === 'back' ? doc.batches.slice(doc.batch) : moved.reverse();
  return {
    ...doc, direction: 'back', status: 'running', batches, batch: 0, phase: 'drain', message: '', updated: now, phaseSince: now, batchStarted: now, batchMs: [],
  };
}
