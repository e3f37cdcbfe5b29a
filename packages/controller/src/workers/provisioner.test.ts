import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Provider } from '@sigil/providers';
import { openTestDb } from '../store/test-store.ts';
import { Store } from '../store/store.ts';
import { Models } from '../domain/models.ts';
import { Charms } from '../domain/charms.ts';
import { Applications } from '../domain/applications.ts';
import { Machines } from '../domain/machines.ts';
import { Reads } from '../state/rows.ts';
import { waitReport } from '../domain/settle.ts';
import { silentLogger } from '../logger.ts';
import { AGENT_SILENCE_MS, decideMachine, explainAbsence, machineKeysOf, type MachineAction, type MachineFacts } from './provisioner.ts';
import type { WorkerContext } from './context.ts';

const M = 'm';
const WEB = { files: [{ path: 'metadata.yaml', mode: 0o644, data: Buffer.from('name: web\nsummary: s\ndescription: d\n').toString('base64') }] };

let dir: string;
let store: Store;
let machines: Machines;
let reads: Reads;
let connected: boolean;
let asked: string[];
let answer: () => Promise<string>;
let warnings: Record<string, unknown>[];
let ctx: WorkerContext;

const machine = () => reads.machines(M).find((m) => m.id === '0')!;
const presence = { connected: () => connected };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sigil-provisioner-'));
  store = new Store(openTestDb(dir));
  new Models(store).add(M);
  reads = new Reads(store);
  machines = new Machines(store);
  new Applications(store).deploy({ model: M, app: 'web', charmUrl: new Charms(store).add(M, WEB).url, numUnits: 1, config: {}, constraints: '', to: [] });
  machines.provisioned(M, '0', { instanceId: 'i-0', address: '10.0.0.2', hostname: 'h0' });
  connected = false;
  asked = [];
  warnings = [];
  answer = () => Promise.resolve('container sigil-m-0 is RUNNING (systemd: running), sigil-agent.service activating; agent output: cannot connect to the controller: Unexpected server response: 401');
  const provider = { diagnose: (model: string, id: string) => (asked.push(`${model}/${id}`), answer()) } as unknown as Provider;
  ctx = {
    store, provider, log: { ...silentLogger, warn: (_m: string, f?: Record<string, unknown>) => warnings.push(f ?? {}) },
    connected: () => connected, awayMs: () => (connected ? 0 : 10 * AGENT_SILENCE_MS), ensuredAtStart: new Set(), diagnosing: new Set(), repointing: new Set(), controllerUrl: '', caCert: '',
  } as unknown as WorkerContext;
});

afterEach(() => {
  store.db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a provisioned machine whose agent stays away', () => {
  it('is left alone for its first minutes: a booting machine is not a problem', () => {
    explainAbsence(ctx, machines, machine(), machine().status.since + AGENT_SILENCE_MS - 1000);
    expect(asked).toEqual([]);
    expect(machine().status.message).toBe('running');
  });

  it('then gets the provider\'s account in its status, in the log, and in what `sigil wait` says is busy', async () => {
    const later = machine().status.since + AGENT_SILENCE_MS + 1000;
    explainAbsence(ctx, machines, machine(), later);
    // One question at a time, however often the worker runs meanwhile.
    explainAbsence(ctx, machines, machine(), later);
    expect(asked).toEqual(['m/0']);
    const why = await answer();
    await vi.waitFor(() => expect(machine().status.message).toBe(`agent not connected for 3m1s: ${why}`));
    expect(machine().status.current).toBe('running');
    expect(warnings).toEqual([expect.objectContaining({ machine: '0', why: expect.stringContaining('sigil-agent.service activating') })]);
    const busy = waitReport(store, M, [], presence).busy;
    expect(busy).toEqual([{ unit: 'web/0', reason: expect.stringMatching(/^machine 0 agent not connected for .*: container sigil-m-0 is RUNNING/) }]);
  });

  it('keeps `sigil wait` for the whole model waiting while a machine with no unit has no agent, and says why', async () => {
    const empty = machines.add(M, { constraints: '', autoRemove: false });
    expect(waitReport(store, M, [], presence).busy).toContainEqual({ unit: `machine ${empty.id}`, reason: 'being created' });
    machines.provisioned(M, empty.id, { instanceId: 'i-1', address: '10.0.0.3', hostname: 'h1' });
    expect(waitReport(store, M, [], presence).busy).toContainEqual({ unit: `machine ${empty.id}`, reason: 'agent starting' });
    // Each machine once: machine 0's absence is its unit's reason already.
    expect(waitReport(store, M, [], presence).busy.map((b) => b.unit)).toEqual(['web/0', `machine ${empty.id}`]);
    // Waiting on applications leaves other machines out.
    expect(waitReport(store, M, ['web'], presence).busy.map((b) => b.unit)).toEqual(['web/0']);
    connected = true;
    expect(waitReport(store, M, [], presence).busy.map((b) => b.unit)).toEqual(['web/0']);
  });

  it('is asked about again only after as long again, counting from when the agent went away', async () => {
    const first = machine().status.since + AGENT_SILENCE_MS + 1000;
    explainAbsence(ctx, machines, machine(), first);
    await vi.waitFor(() => expect(ctx.diagnosing.size).toBe(0));
    const explained = machine().status;
    explainAbsence(ctx, machines, machine(), explained.since + 1000);
    expect(asked).toHaveLength(1);
    answer = () => Promise.resolve('container sigil-m-0 is STOPPED');
    explainAbsence(ctx, machines, machine(), explained.since + AGENT_SILENCE_MS + 1000);
    await vi.waitFor(() => expect(machine().status.message).toContain('STOPPED'));
    expect(asked).toHaveLength(2);
    expect(machine().status.data?.awaySince).toBe(explained.data?.awaySince);
  });

  it('loses the explanation once its agent connects', async () => {
    explainAbsence(ctx, machines, machine(), machine().status.since + AGENT_SILENCE_MS + 1000);
    await vi.waitFor(() => expect(machine().status.message).toMatch(/^agent not connected/));
    connected = true;
    explainAbsence(ctx, machines, machine());
    expect(machine().status).toMatchObject({ current: 'running', message: 'running' });
  });

  it('is not diagnosed when it was never created, and a provider that fails is logged, not thrown', async () => {
    machines.setStatus(M, '0', 'provisioning error', 'lxc-start failed');
    explainAbsence(ctx, machines, machine(), Date.now() + 10 * AGENT_SILENCE_MS);
    expect(asked).toEqual([]);
    machines.setStatus(M, '0', 'running', 'running');
    const errors: unknown[] = [];
    ctx.log = { ...silentLogger, error: (_m: string, f?: Record<string, unknown>) => errors.push(f) };
    answer = () => Promise.reject(new Error('lxc-info vanished'));
    explainAbsence(ctx, machines, machine(), Date.now() + AGENT_SILENCE_MS + 1000);
    await vi.waitFor(() => expect(errors).toEqual([expect.objectContaining({ err: 'Error: lxc-info vanished' })]));
    expect(machine().status.message).toBe('running');
  });
});

describe('decideMachine', () => {
  const base: MachineFacts = {
    kind: 'provider', life: 'alive', hasInstance: true, status: 'running', occupied: true, connected: true,
    modelAlive: true, forced: false, hostGone: false, restartsDeadAgents: false, ensuredSinceStart: true, repointing: false,
  };
  const cases: [string, Partial<MachineFacts>, MachineAction][] = [
    ['a new machine is created', { hasInstance: false, status: 'pending' }, { do: 'create' }],
    ['a failed create is tried again', { hasInstance: false, status: 'provisioning error' }, { do: 'create' }],
    ['a running machine with its agent is left alone', {}, { do: 'none' }],
    ['LXC: an absent agent is started once after the controller starts', { connected: false, ensuredSinceStart: false }, { do: 'ensure-running' }],
    ['LXC: and then left down, as Juju shows a stopped machine', { connected: false }, { do: 'none' }],
    ['local-process: a dead agent is restarted whenever found', { connected: false, restartsDeadAgents: true }, { do: 'ensure-running' }],
    ['but not while migrate-agents stops and restarts it with a new address', { connected: false, restartsDeadAgents: true, repointing: true }, { do: 'none' }],
    ['a dying machine with units waits for them', { life: 'dying' }, { do: 'none' }],
    ['a dying machine with none left is destroyed', { life: 'dying', occupied: false }, { do: 'destroy' }],
    ['enlisted: marked running when its agent connects', { kind: 'enlisted', status: 'pending' }, { do: 'status', current: 'running', message: 'running' }],
    ['enlisted: never created or restarted', { kind: 'enlisted', hasInstance: false, connected: false }, { do: 'none' }],
    ['enlisted: dying and empty, its agent uninstalls itself', { kind: 'enlisted', life: 'dying', occupied: false }, { do: 'status', current: 'stopping', message: 'the agent is uninstalling itself' }],
    ['enlisted: forced with its agent away, forgotten', { kind: 'enlisted', life: 'dying', occupied: false, forced: true, connected: false }, { do: 'forget', log: 'enlisted machine forgotten' }],
    ['enlisted: a destroyed model forgets it once its agent is gone', { kind: 'enlisted', life: 'dying', occupied: false, modelAlive: false, connected: false }, { do: 'forget', log: 'enlisted machine forgotten' }],
    ['enlisted: never destroyed by the provider', { kind: 'enlisted', life: 'dying', occupied: false, status: 'stopping' }, { do: 'none' }],
    ['container: running once created and connected', { kind: 'container', status: 'allocating', host: '0' }, { do: 'status', current: 'running', message: 'running' }],
    ['container: not created by the provider', { kind: 'container', hasInstance: false, connected: false, host: '0' }, { do: 'none' }],
    ['container: dying, its host destroys it', { kind: 'container', life: 'dying', occupied: false, host: '0' }, { do: 'status', current: 'stopping', message: 'machine 0 is destroying the container' }],
    ['container: never created, forgotten', { kind: 'container', life: 'dying', occupied: false, hasInstance: false, host: '0' }, { do: 'forget', log: 'container forgotten' }],
    ['container: its host gone, forgotten', { kind: 'container', life: 'dying', occupied: false, hostGone: true, host: '0' }, { do: 'forget', log: 'container forgotten' }],
  ];
  it.each(cases)('%s', (_what, facts, action) => {
    expect(decideMachine({ ...base, ...facts })).toEqual(action);
  });
});

describe('machineKeysOf: which machines a change wakes', () => {
  it('a machine change its machine, a container its host too, a unit its machine and the dying ones, a status report none', () => {
    machines.add(M, { constraints: '', autoRemove: false });
    machines.add(M, { constraints: '', autoRemove: false });
    machines.remove(M, '2', false);
    const change = (kind: string, key: string, op: 'change' | 'status' | 'remove' = 'change') => ({ rev: 1, model: M, kind, key, op });
    const keys = (...cs: ReturnType<typeof change>[]) => machineKeysOf(ctx, cs);
    expect(keys(change('machine', '1'))).toEqual(['m/1']);
    expect(keys(change('machine', '1/lxc/0'))).toEqual(['m/1/lxc/0', 'm/1']);
    expect(keys(change('unit', 'web/0'))).toEqual(['m/0', 'm/2']);
    expect(keys(change('unit', 'web/9', 'remove'))).toEqual(['m/2']);
    expect(keys(change('unit', 'web/0', 'status'), change('machine', '0', 'status'))).toEqual([]);
    expect(keys(change('model', M)).sort()).toEqual(['m/0', 'm/1', 'm/2']);
    expect(keys(change('relation', '1'))).toEqual([]);
    // A commit of many changes: each machine once.
    expect(keys(change('unit', 'web/0'), change('unit', 'web/0'), change('machine', '0'), change('unit', 'web/7', 'remove'))).toEqual(['m/0', 'm/2']);
  });
});
