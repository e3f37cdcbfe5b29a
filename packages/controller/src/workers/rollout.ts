import type { OperationEventNotice, RolloutDoc } from '@sigil/api';
import { Reads } from '../state/rows.ts';
import { Operations } from '../domain/operations.ts';
import { waitReport } from '../domain/settle.ts';
import { LifecycleRepository } from '../state/lifecycle.ts';
import { RolloutRepository } from '../state/rollouts.ts';
import { decideRollout, type Effect, type RolloutFacts } from '../domain/rollout-plan.ts';
import type { WorkerContext } from './context.ts';

const GATE_EXEC_TIMEOUT_MS = 5 * 60_000;
const GATE_HTTP_TIMEOUT_MS = 10_000;
const GATE_HTTP_TRIES = 3;

type GateRun =
  | { kind: 'exec'; ops: number[] }
  | { kind: 'http'; state: 'running' | 'passed' | 'failed'; message: string };

/**
 * Moves every running roll-out on (issue 18). Each run reads a roll-out and the model,
 * asks the pure `decideRollout` for the next step, and applies it and stores the document
 * in one transaction, so a controller that stops between two steps resumes at the right
 * one. Gates run beside it: a command gate as `exec` operations on the batch's units (their
 * results are in the store), an HTTP gate as a fetch whose outcome is held here (lost on a
 * restart, when the decider runs the gate again).
 */
export class RolloutWorker {
  private readonly gates = new Map<string, GateRun>();

  constructor(private readonly notify: (e: OperationEventNotice) => void) {}

  /** Moves one model's running roll-outs on (every model's without one). */
  reconcile(ctx: WorkerContext, only?: string): void {
    const repo = new RolloutRepository(ctx.store);
    for (const { model, doc } of repo.active()) {
      if (doc.status !== 'running' || (only !== undefined && model !== only)) continue;
      const app = new Reads(ctx.store).app(model, doc.app);
      if (!app || app.life !== 'alive') {
        // Nothing left to roll out to: the roll-out ends halted, naming why.
        ctx.store.tx(() => {
          const repo2 = new RolloutRepository(ctx.store);
          repo2.unpinUnits(model, Object.keys(doc.units));
          repo2.update(model, { ...doc, status: 'halted', message: `application "${doc.app}" is being removed`, updated: Date.now() });
        });
        continue;
      }
      // A few steps per run at most: each step's change wakes the reconciler again.
      let current = doc;
      for (let i = 0; i < 4; i++) {
        const step = decideRollout(current, this.facts(ctx, model, current));
        if (!step) break;
        const effects = step.effects;
        ctx.store.tx(() => {
          for (const e of effects) this.apply(ctx, model, step.doc, e);
          repo.update(model, step.doc);
        });
        for (const e of effects) this.after(ctx, model, step.doc, e);
        if (step.doc.phase === current.phase && step.doc.status === current.status) break;
        current = step.doc;
        if (current.status !== 'running') break;
      }
    }
  }

  private facts(ctx: WorkerContext, model: string, doc: RolloutDoc): RolloutFacts {
    const reads = new Reads(ctx.store);
    const batch = new Set(doc.batches[doc.batch] ?? []);
    const balancers = balancerRelations(reads, model, doc.app);
    const presence = { connected: (m: string, id: string) => ctx.connected(m, id) };
    const mine = waitReport(ctx.store, model, [doc.app], presence);
    let balancersSettled = true;
    if (balancers.apps.length > 0) {
      const lb = waitReport(ctx.store, model, balancers.apps, presence);
      balancersSettled = lb.errors.length === 0 && lb.busy.filter((b) => balancers.apps.includes(b.unit.slice(0, b.unit.lastIndexOf('/')))).length === 0;
    }
    return {
      now: Date.now(),
      balanced: balancers.ids.length > 0,
      balancersSettled,
      errors: mine.errors.filter((e) => batch.has(e.unit)).map((e) => ({ unit: e.unit, message: e.message })),
      busy: mine.busy.filter((b) => batch.has(b.unit)),
      gate: this.gateState(ctx, model, doc),
    };
  }

  private gateState(ctx: WorkerContext, model: string, doc: RolloutDoc): RolloutFacts['gate'] {
    const run = this.gates.get(gateKey(model, doc));
    if (!run) return { state: 'unknown', message: '' };
    if (run.kind === 'http') return { state: run.state, message: run.message };
    const ops = new Operations(ctx.store);
    const docs = run.ops.map((id) => ops.get(model, id));
    if (docs.some((o) => o.status === 'pending' || o.status === 'running')) return { state: 'running', message: `gate running on ${docs.filter((o) => o.status !== 'completed' && o.status !== 'failed').map((o) => o.unit).join(', ')}` };
    const bad = docs.filter((o) => o.status !== 'completed' || o.results['return-code'] !== 0);
    if (bad.length === 0) return { state: 'passed', message: '' };
    return {
      state: 'failed',
      message: bad.map((o) => {
        const out = String(o.results.stderr ?? o.results.stdout ?? '').trim().split('\n').pop()?.slice(0, 200) ?? '';
        return `${o.unit}: ${o.status === 'completed' ? `exit status ${String(o.results['return-code'])}` : o.message}${out ? ` (${out})` : ''}`;
      }).join('; '),
    };
  }

  /** The store side of an effect, inside the step's transaction. */
  private apply(ctx: WorkerContext, model: string, doc: RolloutDoc, e: Effect): void {
    const repo = new RolloutRepository(ctx.store);
    const reads = new Reads(ctx.store);
    switch (e.kind) {
      case 'set-drained':
        repo.setDrained(model, doc.app, e.units, balancerRelations(reads, model, doc.app).ids);
        break;
      case 'pin':
        for (const u of e.units) if (reads.unit(model, u)) repo.pinUnit(model, u, e.url);
        break;
      case 'resolve':
        for (const u of e.units) new LifecycleRepository(ctx.store).resolveWithoutRetry(model, u);
        break;
      case 'complete': {
        const app = reads.mustApp(model, doc.app);
        const next = reads.charm(model, doc.to).charm;
        const config = Object.fromEntries(Object.entries(app.config).filter(([k]) => k in next.config));
        new LifecycleRepository(ctx.store).setCharm(model, doc.app, doc.to, config);
        repo.unpinUnits(model, reads.units(model, doc.app).map((u) => u.name));
        repo.setDrained(model, doc.app, [], []);
        break;
      }
      case 'restore':
        repo.unpinUnits(model, reads.units(model, doc.app).map((u) => u.name));
        repo.setDrained(model, doc.app, [], balancerRelations(reads, model, doc.app).ids);
        break;
      case 'run-gate':
        if (doc.gate.command !== undefined) {
          const ops = new Operations(ctx.store).enqueueExec(model, e.units.filter((u) => reads.unit(model, u)), doc.gate.command, GATE_EXEC_TIMEOUT_MS);
          this.gates.set(gateKey(model, doc), { kind: 'exec', ops: ops.map((o) => o.id) });
        }
        break;
      case 'notify':
        break;
    }
  }

  /** The side of an effect outside the store: HTTP gates and notifications. */
  private after(ctx: WorkerContext, model: string, doc: RolloutDoc, e: Effect): void {
    if (e.kind === 'notify') {
      try {
        this.notify({ event: e.event, model, application: doc.app, from: doc.from, to: doc.to, by: doc.startedBy, message: e.message, at: Date.now() });
      } catch (err) {
        ctx.log.warn('operation event hook failed', { err: String(err) });
      }
    }
    if (e.kind === 'run-gate' && doc.gate.command === undefined && doc.gate.http !== undefined) {
      const reads = new Reads(ctx.store);
      const machines = new Map(reads.machines(model).map((m) => [m.id, m.address ?? '']));
      const urls = doc.gate.http.includes('{address}')
        ? e.units.map((u) => doc.gate.http!.replaceAll('{address}', machines.get(reads.unit(model, u)?.machine ?? '') ?? ''))
        : [doc.gate.http];
      const run: GateRun = { kind: 'http', state: 'running', message: `checking ${urls.join(', ')}` };
      this.gates.set(gateKey(model, doc), run);
      void Promise.all(urls.map(checkUrl)).then((results) => {
        const bad = results.filter((r) => r !== undefined);
        run.state = bad.length === 0 ? 'passed' : 'failed';
        run.message = bad.join('; ');
        ctx.log.info('rollout gate finished', { model, app: doc.app, batch: doc.batch, passed: bad.length === 0 });
      });
    }
  }
}

function gateKey(model: string, doc: RolloutDoc): string {
  return `${model}\0${doc.id}\0${doc.gateRun}`;
}

/** The relations in which the application serves `http` to another (its load balancers). */
function balancerRelations(reads: Reads, model: string, app: string): { ids: number[]; apps: string[] } {
  const ids: number[] = [];
  const apps = new Set<string>();
  for (const r of reads.relations(model)) {
    if (r.life !== 'alive') continue;
    const mine = r.endpoints.find((e) => e.app === app);
    const other = r.endpoints.find((e) => e.app !== app);
    if (!mine || !other || mine.interface !== 'http' || mine.role !== 'provider') continue;
    ids.push(r.id);
    apps.add(other.app);
  }
  return { ids, apps: [...apps] };
}

/** Undefined when the URL answered 2xx or 3xx within a few tries; else why not. */
async function checkUrl(url: string): Promise<string | undefined> {
  let why = '';
  for (let i = 0; i < GATE_HTTP_TRIES; i++) {
    try {
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(GATE_HTTP_TIMEOUT_MS) });
      await res.body?.cancel();
      if (res.status >= 200 && res.status < 400) return undefined;
      why = `${url} answered ${res.status}`;
    } catch (e) {
      why = `${url}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`;
    }
    if (i < GATE_HTTP_TRIES - 1) await new Promise((r) => setTimeout(r, 1000));
  }
  return why;
}
