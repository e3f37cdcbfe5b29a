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
import { Reads } from '../domain/rows.ts';
import { waitReport } from '../domain/settle.ts';
import { silentLogger } from '../logger.ts';
import { AGENT_SILENCE_MS, explainAbsence } from './provisioner.ts';
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
    connected: () => connected, awayMs: () => (connected ? 0 : 10 * AGENT_SILENCE_MS), ensuredAtStart: new Set(), diagnosing: new Set(), controllerUrl: '', caCert: '',
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
