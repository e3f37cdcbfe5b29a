import { SigilError, checkGateCommand, checkGateUrl, parseBatchSpec, planBatches } from '@sigil/core';
import type { RolloutDoc, StartRolloutRequest } from '@sigil/api';
import type { Store } from '../store/store.ts';
import { RolloutRepository } from '../state/rollouts.ts';
import { Reads } from '../state/rows.ts';
import { checkRefresh } from './applications.ts';
import { rollbackOf } from './rollout-plan.ts';

const MIN_TIMEOUT_MS = 10_000;

/**
 * Rolling refreshes (issue 18): starting one checks everything up front (charm, endpoints,
 * batch, gate) and changes nothing when any check fails; the rollout worker then moves it
 * on. Resume and rollback only change the document: the worker does the rest.
 */
export class Rollouts {
  private readonly reads: Reads;
  readonly repo: RolloutRepository;

  constructor(private readonly s: Store) {
    this.reads = new Reads(s);
    this.repo = new RolloutRepository(s);
  }

  start(model: string, app: string, req: StartRolloutRequest, by: string): RolloutDoc {
    const spec = parseBatchSpec(req.batch);
    if (req.gate.command !== undefined) checkGateCommand(req.gate.command);
    if (req.gate.http !== undefined) checkGateUrl(req.gate.http);
    if (!Number.isFinite(req.pauseMs) || req.pauseMs < 0 || req.pauseMs > 24 * 3600_000) throw new SigilError('bad-request', `invalid pause ${req.pauseMs}ms`, 'give --pause-between a duration from 0s to 24h');
    if (!Number.isFinite(req.batchTimeoutMs) || req.batchTimeoutMs < MIN_TIMEOUT_MS) throw new SigilError('bad-request', `invalid batch timeout ${req.batchTimeoutMs}ms`, 'give --batch-timeout at least 10s');
    return this.s.tx(() => {
      const row = this.reads.mustApp(model, app);
      if (row.life !== 'alive') throw new SigilError('conflict', `application "${app}" is being removed`);
      const active = this.repo.active(model).find((r) => r.doc.app === app);
      if (active) throw new SigilError('conflict', `application "${app}" already has a roll-out ${active.doc.status} (batch ${active.doc.batch + 1}/${active.doc.batches.length})`, `continue it with \`sigil refresh ${app} --resume\` or undo it with \`sigil refresh ${app} --rollback\``);
      if (row.charmUrl === req.charmUrl) throw new SigilError('conflict', `application "${app}" already runs ${req.charmUrl}`, 'change the charm, then refresh again');
      checkRefresh(this.reads, model, row, req.charmUrl);
      const units = this.reads.units(model, app).filter((u) => u.life === 'alive' && u.principal === null).map((u) => u.name);
      if (units.length === 0) throw new SigilError('conflict', `application "${app}" has no units to roll out to`, `refresh it at once with \`sigil refresh ${app} --path DIR\` (without --batch or gates)`);
      const batches = planBatches(units, row.leader, spec);
      const now = Date.now();
      return this.repo.insert(model, {
        app, status: 'running', direction: 'forward', phase: 'drain', from: row.charmUrl, to: req.charmUrl, batches, batch: 0,
        units: Object.fromEntries(units.map((u) => [u, 'pending'])), drained: [], gate: req.gate, pauseMs: req.pauseMs, haltOnError: req.haltOnError,
        batchTimeoutMs: req.batchTimeoutMs, message: '', startedBy: by, started: now, updated: now, batchMs: [], phaseSince: now, batchStarted: now, gateRun: 0,
      });
    });
  }

  get(model: string, app: string): RolloutDoc {
    this.reads.mustApp(model, app);
    const doc = this.repo.latest(model, app);
    if (!doc) throw new SigilError('not-found', `application "${app}" has no roll-out`, `start one with \`sigil refresh ${app} --path DIR --batch N\``);
    return doc;
  }

  /** Continues a halted roll-out from the step it halted at (a failed gate runs again). */
  resume(model: string, app: string): RolloutDoc {
    return this.s.tx(() => {
      const doc = this.get(model, app);
      if (doc.status === 'running') return doc;
      if (doc.status !== 'halted') throw new SigilError('conflict', `the roll-out of "${app}" is ${doc.status}: nothing to resume`, `start a new one with \`sigil refresh ${app} --path DIR\``);
      const now = Date.now();
      const phase = doc.phase === 'gate-wait' ? 'gate' : doc.phase;
      const batch = doc.batches[doc.batch] ?? [];
      const units = { ...doc.units };
      for (const u of batch) if (units[u] === 'halted') units[u] = doc.direction === 'back' ? 'reverting' : 'upgrading';
      const next: RolloutDoc = { ...doc, status: 'running', phase, units, message: 'resumed', updated: now, phaseSince: now };
      this.repo.update(model, next);
      return next;
    });
  }

  /** Undoes a running or halted roll-out: the units it moved go back to the old charm, batch by batch. */
  rollback(model: string, app: string): RolloutDoc {
    return this.s.tx(() => {
      const doc = this.get(model, app);
      if (doc.status === 'done') throw new SigilError('conflict', `the roll-out of "${app}" finished: every unit runs ${doc.to}`, `roll the old charm out again: \`sigil refresh ${app} --path OLD-DIR --batch N\``);
      if (doc.status === 'rolled-back') throw new SigilError('conflict', `the roll-out of "${app}" is already rolled back`);
      if (doc.direction === 'back' && doc.status === 'running') return doc;
      const now = Date.now();
      const next = rollbackOf(doc, now);
      if (next.batches.length === 0) {
        const finished: RolloutDoc = { ...next, status: 'rolled-back', phase: 'finish', finished: now, message: 'nothing had moved yet' };
        this.repo.update(model, finished);
        return finished;
      }
      this.repo.update(model, next);
      return next;
    });
  }
}
