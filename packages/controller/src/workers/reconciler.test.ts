// The reconciler's scheduling: a commit wakes only the workers that want its changes (and
// only the keys it concerns of a keyed worker), an explicit wake-up the workers it names,
// a wake-up during a worker's run one more run of that worker, and a slow worker holds up
// no other.
import { describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../logger.ts';
import type { Change } from '../store/store.ts';
import type { WorkerContext } from './context.ts';
import { Reconciler, WANTS, perModel, type KeyedWorkerSpec, type WorkerSpec } from './reconciler.ts';

const ctx = { log: silentLogger } as unknown as WorkerContext;
const change = (kind: string, op: Change['op'] = 'change', key = 'k'): Change => ({ rev: 1, model: 'm', kind, key, op });

function setup(block?: Promise<void>, keyed: KeyedWorkerSpec[] = []) {
  const ran: string[] = [];
  const spec = (name: keyof typeof WANTS): WorkerSpec => ({
    name,
    wants: WANTS[name],
    run: async () => {
      ran.push(name);
      if (block && name === 'cleanup') await block;
      ran.push(`${name} done`);
    },
  });
  const r = new Reconciler(ctx, (Object.keys(WANTS) as (keyof typeof WANTS)[]).map(spec), 2000, keyed);
  const idle = () => vi.waitFor(() => expect(r.idle).toBe(true));
  const started = () => ran.filter((x) => !x.endsWith(' done'));
  return { r, ran, started, idle };
}

describe('Reconciler', () => {
  it('runs only the workers that want a commit\'s changes', async () => {
    const { r, started, ran, idle } = setup();
    // A unit's status report (what agents send most): only the exposer reads it, and the
    // roll-out worker, which waits on units settling.
    r.changed([change('unit', 'status')]);
    await idle();
    expect(started()).toEqual(['exposer', 'rollouts']);
    ran.length = 0;
    r.changed([change('unit')]);
    await idle();
    expect(started()).toEqual(['cleanup', 'subordinates', 'exposer', 'chaos', 'rollouts']);
    ran.length = 0;
    r.changed([change('operation')]);
    await idle();
    expect(started()).toEqual(['operations']);
    ran.length = 0;
    // Log lines and relation bags leave the machine workers alone.
    r.changed([change('relation')]);
    await idle();
    expect(started()).toEqual(['cleanup', 'subordinates', 'chaos', 'rollouts']);
    expect(r.runs.get('logs')).toBeUndefined();
  });

  it('runs the named workers on an explicit wake-up, and all of them when none are named', async () => {
    const { r, started, ran, idle } = setup();
    r.wake(['subordinates', 'operations']);
    await idle();
    expect(started()).toEqual(['subordinates', 'operations']);
    ran.length = 0;
    r.wake();
    await idle();
    expect(started()).toEqual(Object.keys(WANTS));
  });

  it('lets the other workers run while one is stuck, and gives the stuck one exactly one more run', async () => {
    let release = () => {};
    const { r, ran, idle } = setup(new Promise<void>((f) => (release = f)));
    r.changed([change('unit')]);
    // cleanup is running (blocked); these arrive meanwhile.
    await vi.waitFor(() => expect(ran).toContain('rollouts done'));
    r.changed([change('unit')]);
    r.changed([change('unit')]);
    await vi.waitFor(() => expect(ran.filter((x) => x === 'subordinates done')).toHaveLength(2));
    expect(ran).not.toContain('cleanup done');
    release();
    await idle();
    expect(ran.filter((x) => x === 'cleanup')).toHaveLength(2);
    expect(r.runs.get('cleanup')).toBe(2);
  });
});

describe('Reconciler with a keyed worker', () => {
  function keyed(onProcess: (key: string) => Promise<void> | void): KeyedWorkerSpec {
    return {
      name: 'machines',
      keysOf: (_ctx, cs) => cs.filter((c) => c.kind === 'machine' && c.op !== 'status').map((c) => `${c.model}/${c.key}`),
      all: () => ['m/0', 'm/1', 'm/2'],
      process: (_ctx, key) => onProcess(key),
    };
  }

  it('processes only the keys a commit concerns, each once however often it is named', async () => {
    const seen: string[] = [];
    const { r, idle } = setup(undefined, [keyed((k) => void seen.push(k))]);
    r.changed([change('machine', 'change', '1'), change('machine', 'change', '1'), change('machine', 'status', '2'), change('unit')]);
    await idle();
    expect(seen).toEqual(['m/1']);
    r.wakeKeys('machines', ['m/2']);
    await idle();
    expect(seen).toEqual(['m/1', 'm/2']);
    // A wake-up by name is a resync: every key.
    r.wake(['machines']);
    await idle();
    expect(seen.slice(2).sort()).toEqual(['m/0', 'm/1', 'm/2']);
    expect(r.runs.get('machines')).toBe(5);
  });

  it('goes on with other keys while one is slow, and runs a key changed meanwhile once more after it', async () => {
    let release = () => {};
    const gate = new Promise<void>((f) => (release = f));
    const seen: string[] = [];
    const { r, idle } = setup(undefined, [keyed(async (k) => {
      seen.push(k);
      if (k === 'm/0' && seen.filter((x) => x === 'm/0').length === 1) await gate;
      seen.push(`${k} done`);
    })]);
    r.wakeKeys('machines', ['m/0']);
    r.wakeKeys('machines', ['m/1']);
    await vi.waitFor(() => expect(seen).toContain('m/1 done'));
    r.wakeKeys('machines', ['m/0']);
    r.wakeKeys('machines', ['m/0']);
    expect(seen.filter((x) => x === 'm/0')).toHaveLength(1);
    release();
    await idle();
    expect(seen.filter((x) => x === 'm/0')).toEqual(['m/0', 'm/0']);
    expect(seen.indexOf('m/0 done')).toBeLessThan(seen.lastIndexOf('m/0'));
  });

  it('wakes, of a worker keyed by model, only the models whose changes it wants', async () => {
    const seen: string[] = [];
    const { r, idle } = setup(undefined, [perModel('models', WANTS.cleanup, (_ctx, model) => void seen.push(model), { all: () => ['a', 'b', 'c'] })]);
    r.changed([{ ...change('unit'), model: 'a' }, { ...change('unit', 'status'), model: 'b' }, { ...change('relation'), model: 'a' }, { ...change('operation'), model: 'c' }]);
    await idle();
    expect(seen).toEqual(['a']);
    r.wake(['models']);
    await idle();
    expect(seen.slice(1).sort()).toEqual(['a', 'b', 'c']);
  });

  it('with replicas, processes the keys of the models this one holds, fenced, and hands the others to `unowned`; a lease taken resyncs its model, a lease lost releases it', async () => {
    const seen: string[] = [];
    const fences: unknown[] = [];
    const held = new Set(['a']);
    const fence = { check: () => {} };
    const store = { fenced: (f: unknown, fn: () => unknown) => (fences.push(f), fn()) };
    const owned = new Reconciler({ ...ctx, store } as unknown as WorkerContext, [], 2000, [
      perModel('models', WANTS.cleanup, (_c, model) => void seen.push(model), {
        all: () => ['a', 'b'],
        unowned: (_c, model) => void seen.push(`${model} (unowned)`),
        release: (_c, model) => void seen.push(`${model} released`),
      }),
    ], { holds: (m) => held.has(m), fence: (m) => (held.has(m) ? fence : undefined) });
    const idle = () => vi.waitFor(() => expect(owned.idle).toBe(true));
    owned.changed([{ ...change('unit'), model: 'a' }, { ...change('unit'), model: 'b' }]);
    await idle();
    expect(seen).toEqual(['a', 'b (unowned)']);
    expect(fences).toEqual([fence]);
    held.add('b');
    owned.gained('b');
    await idle();
    expect(seen.at(-1)).toBe('b');
    held.delete('a');
    await owned.lost('a');
    expect(seen.at(-1)).toBe('a released');
  });
});
