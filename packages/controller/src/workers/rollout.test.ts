// The rollout worker against a real SQLite store, with the agents' side played through the
// same domain calls their routes make: a web application behind a load balancer rolls out
// batch by batch (leader last), the balancer sees the drained units busy, units run their
// own revision meanwhile, a failing gate halts it, and resume and rollback finish or undo.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OperationEventNotice, RolloutDoc } from '@sigil/api';
import { openTestDb } from '../store/test-store.ts';
import { Store } from '../store/store.ts';
import { Models } from '../domain/models.ts';
import { Charms } from '../domain/charms.ts';
import { Applications } from '../domain/applications.ts';
import { Machines } from '../domain/machines.ts';
import { Relations } from '../domain/relations.ts';
import { Reads } from '../state/rows.ts';
import { AgentFacade } from '../domain/agent.ts';
import { Rollouts } from '../domain/rollouts.ts';
import { Operations } from '../domain/operations.ts';
import { silentLogger } from '../logger.ts';
import { buildStatus } from '../domain/status.ts';
import { RolloutWorker } from './rollout.ts';
import type { WorkerContext } from './context.ts';

const M = 'm';
const charm = (meta: string) => ({ files: [{ path: 'metadata.yaml', mode: 0o644, data: Buffer.from(meta).toString('base64') }] });
const WEB = (extra = '') => charm(`name: web\nsummary: s\ndescription: d${extra}\nprovides:\n  website: {interface: http}\n`);
const LB = charm('name: lb\nsummary: s\ndescription: d\nrequires:\n  reverseproxy: {interface: http}\n');

let dir: string;
let store: Store;
let reads: Reads;
let agent: AgentFacade;
let rollouts: Rollouts;
let worker: RolloutWorker;
let ctx: WorkerContext;
let events: OperationEventNotice[];
let relId: number;
let v1: string;
let v2: string;

const view = (unit: string) => agent.view(M, reads.mustUnit(M, unit).machine!).units.find((u) => u.name === unit)!;
/** Every agent catches up with the store, as a settled report at the current revision says. */
const settleAll = () => { for (const u of reads.units(M)) agent.reportSettled(M, u.name, store.revision()); };
/** Runs the worker, letting agents settle after each run, until the roll-out stops moving or `until` holds. */
function drive(until: (d: RolloutDoc) => boolean, onStep: (d: RolloutDoc) => void = () => {}): RolloutDoc {
  for (let i = 0; i < 100; i++) {
    worker.reconcile(ctx);
    const d = rollouts.get(M, 'web');
    onStep(d);
    if (until(d)) return d;
    settleAll();
  }
  throw new Error(`roll-out did not get there: ${JSON.stringify(rollouts.get(M, 'web'))}`);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sigil-rollout-'));
  store = new Store(openTestDb(dir));
  new Models(store).add(M);
  reads = new Reads(store);
  agent = new AgentFacade(store);
  rollouts = new Rollouts(store);
  events = [];
  worker = new RolloutWorker((e) => events.push(e));
  ctx = { store, log: silentLogger, connected: () => true, awayMs: () => 0, ensuredAtStart: new Set(), diagnosing: new Set(), repointing: new Set(), controllerUrl: '', caCert: '' } as unknown as WorkerContext;
  const charms = new Charms(store);
  const apps = new Applications(store);
  v1 = charms.add(M, WEB()).url;
  v2 = charms.add(M, WEB('\nseries: [bookworm]')).url;
  apps.deploy({ model: M, app: 'web', charmUrl: v1, numUnits: 4, config: {}, constraints: '', to: [] });
  apps.deploy({ model: M, app: 'lb', charmUrl: charms.add(M, LB).url, numUnits: 1, config: {}, constraints: '', to: [] });
  const machines = new Machines(store);
  for (const m of reads.machines(M)) machines.provisioned(M, m.id, { instanceId: `i-${m.id}`, address: `10.0.0.${Number(m.id) + 1}`, hostname: `h${m.id}` });
  store.tx(() => {
    store.db.prepare("UPDATE applications SET leader = 'web/1' WHERE model = ? AND name = 'web'").run(M);
    store.changed(M, 'application', 'web');
  });
  relId = new Relations(store).integrate(M, 'lb', 'web').id;
  for (const u of ['web/0', 'web/1', 'web/2', 'web/3', 'lb/0']) agent.enterScope(M, u, relId, `addr-${u}`);
  settleAll();
});

afterEach(() => {
  store.db.close();
  rmSync(dir, { recursive: true, force: true });
});

const start = (patch: Partial<Parameters<Rollouts['start']>[2]> = {}) =>
  rollouts.start(M, 'web', { charmUrl: v2, batch: '2', gate: {}, pauseMs: 0, haltOnError: false, batchTimeoutMs: 60_000, ...patch }, 'admin');

describe('rolling refresh', () => {
  it('moves batches in order, leader last, each drained on the balancer while it runs the new charm', () => {
    const hash2 = reads.charm(M, v2).hash;
    const doc = start();
    expect(doc.batches).toEqual([['web/0', 'web/2'], ['web/3', 'web/1']]);
    const order: string[][] = [];
    let sawDrained = false;
    let sawMixed = false;
    const final = drive((d) => d.status !== 'running', (d) => {
      const moving = Object.entries(d.units).filter(([u, s]) => s === 'upgrading' && !order.flat().includes(u)).map(([u]) => u);
      if (moving.length > 0) order.push(moving);
      if (d.phase === 'upgrade-wait' && d.batch === 0) {
        // The balancer sees the batch busy, the rest not; the batch runs v2, the rest v1.
        const lbRel = view('lb/0').relations.find((r) => r.id === relId)!;
        expect(lbRel.unitData['web/0']?.busy).toBe('true');
        expect(lbRel.unitData['web/3']?.busy).toBeUndefined();
        expect(view('web/0').charmHash).toBe(hash2);
        expect(view('web/3').charmHash).not.toBe(hash2);
        expect(buildStatus(store, M, 'c', { connected: () => true }).applications.web!.units!['web/0']).toMatchObject({ rollout: 'upgrading', 'charm-rev': 1 });
        sawDrained = true;
        sawMixed = true;
      }
    });
    expect(sawDrained && sawMixed).toBe(true);
    // Two batches of two, the leader (web/1) in the last.
    expect(order).toEqual([['web/0', 'web/2'], ['web/1', 'web/3']]);
    expect(final).toMatchObject({ status: 'done', units: { 'web/0': 'done', 'web/1': 'done' } });
    expect(reads.mustApp(M, 'web').charmUrl).toBe(v2);
    expect(view('web/1').charmHash).toBe(hash2);
    expect(view('lb/0').relations[0]!.unitData['web/0']?.busy).toBeUndefined();
    expect(events.map((e) => e.event)).toEqual(['refresh-finished']);
  });

  it('a failing command gate halts after the first batch; resume runs it again; rollback restores the old charm', () => {
    const hash1 = reads.charm(M, v1).hash;
    start({ gate: { command: 'exit 3' } });
    const ops = new Operations(store);
    // Play the agents' exec: the gate fails on web/0.
    const finishOps = (code: number) => {
      for (const r of store.db.prepare("SELECT id FROM operations WHERE model = ? AND status = 'pending'").all(M) as { id: number }[]) {
        store.tx(() => {
          store.db.prepare("UPDATE operations SET status = 'completed', results = ? WHERE id = ?").run(JSON.stringify({ 'return-code': code, stderr: 'not healthy' }), r.id);
          store.changed(M, 'operation', `x#${r.id}`);
        });
      }
    };
    const halted = drive((d) => d.status !== 'running', () => finishOps(3));
    expect(halted).toMatchObject({ status: 'halted', batch: 0, units: { 'web/0': 'halted', 'web/2': 'halted', 'web/3': 'pending', 'web/1': 'pending' } });
    expect(halted.message).toMatch(/gate failed on batch 1\/2: web\/0: exit status 3 \(not healthy\)/);
    expect(view('web/3').charmHash).toBe(hash1);
    expect(view('lb/0').relations[0]!.unitData['web/0']?.busy).toBe('true');
    expect(events.map((e) => e.event)).toEqual(['refresh-halted']);
    expect(ops.get(M, 1).params).toMatchObject({ command: 'exit 3' });

    rollouts.resume(M, 'web');
    const again = drive((d) => d.status !== 'running', () => finishOps(3));
    expect(again.status).toBe('halted');
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM operations').get()).toEqual({ n: 4 });

    rollouts.rollback(M, 'web');
    const back = drive((d) => d.status !== 'running');
    expect(back).toMatchObject({ status: 'rolled-back', units: { 'web/0': 'reverted', 'web/2': 'reverted' } });
    for (const u of ['web/0', 'web/1', 'web/2', 'web/3']) expect(view(u).charmHash).toBe(hash1);
    expect(reads.mustApp(M, 'web').charmUrl).toBe(v1);
    expect(view('lb/0').relations[0]!.unitData['web/0']?.busy).toBeUndefined();
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM unit_charms').get()).toEqual({ n: 0 });
  });

  it('resume after a passing fix finishes the roll-out', () => {
    start({ gate: { command: 'test -f /ok' } });
    let code = 1;
    const finishOps = () => {
      for (const r of store.db.prepare("SELECT id FROM operations WHERE model = ? AND status = 'pending'").all(M) as { id: number }[]) {
        store.tx(() => store.db.prepare("UPDATE operations SET status = 'completed', results = ? WHERE id = ?").run(JSON.stringify({ 'return-code': code }), r.id));
      }
    };
    expect(drive((d) => d.status !== 'running', finishOps).status).toBe('halted');
    code = 0;
    rollouts.resume(M, 'web');
    expect(drive((d) => d.status !== 'running', finishOps)).toMatchObject({ status: 'done' });
    expect(reads.mustApp(M, 'web').charmUrl).toBe(v2);
  });

  it('a unit in error halts with --halt-on-error', () => {
    start({ haltOnError: true });
    const d = drive((x) => x.status !== 'running', (x) => {
      if (x.phase === 'upgrade-wait') agent.reportStatus(M, { unit: 'web/2', agent: 'error', message: 'hook failed: "upgrade-charm"' });
    });
    expect(d).toMatchObject({ status: 'halted', message: expect.stringMatching(/web\/2: hook failed: "upgrade-charm"/) });
  });

  it('halts when its application is being removed', () => {
    start();
    worker.reconcile(ctx);
    new Applications(store).remove(M, 'web');
    worker.reconcile(ctx);
    expect(rollouts.get(M, 'web')).toMatchObject({ status: 'halted', message: 'application "web" is being removed' });
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM unit_charms').get()).toEqual({ n: 0 });
  });

  it('refuses bad input and changes nothing', () => {
    const before = store.revision();
    const dropping = new Charms(store).add(M, charm('name: web\nsummary: s\ndescription: d\n')).url;
    const revAfterUpload = store.revision();
    expect(() => rollouts.start(M, 'web', { charmUrl: dropping, batch: '1', gate: {}, pauseMs: 0, haltOnError: false, batchTimeoutMs: 60_000 }, 'admin'))
      .toThrow(expect.objectContaining({ code: 'conflict', message: expect.stringMatching(/drops endpoint "website" of "web", in use by lb:reverseproxy web:website/), hint: expect.stringMatching(/remove-relation/) }));
    expect(() => start({ batch: '0%' })).toThrow(expect.objectContaining({ hint: expect.stringMatching(/--batch/) }));
    expect(() => start({ gate: { http: 'gopher://x' } })).toThrow(/not http/);
    expect(() => start({ gate: { command: '' } })).toThrow(/empty/);
    expect(() => new Applications(store).refresh(M, 'web', dropping)).toThrow(/drops endpoint/);
    expect(store.revision()).toBe(revAfterUpload);
    expect(revAfterUpload).toBeGreaterThanOrEqual(before);
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM rollouts').get()).toEqual({ n: 0 });
    start();
    expect(() => start()).toThrow(expect.objectContaining({ code: 'conflict', hint: expect.stringMatching(/--resume/) }));
    expect(() => new Applications(store).refresh(M, 'web', v2)).toThrow(/roll-out running/);
  });
});
