// The reconciler's scheduling: a commit wakes only the workers that want its changes, an
// explicit wake-up the workers it names, and a wake-up during a run one more run.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.ts';
import type { Change } from '../store/store.ts';
import type { WorkerContext } from './context.ts';
import { Reconciler, WANTS, type WorkerSpec } from './reconciler.ts';

const ctx = { log: silentLogger } as unknown as WorkerContext;
const change = (kind: string, op: Change['op'] = 'change'): Change => ({ rev: 1, model: 'm', kind, key: 'k', op });

function setup(block?: Promise<void>) {
  const ran: string[] = [];
  const spec = (name: keyof typeof WANTS): WorkerSpec => ({
    name,
    wants: WANTS[name],
    run: async () => {
      ran.push(name);
      if (block && name === 'cleanup') await block;
    },
  });
  const r = new Reconciler(ctx, (Object.keys(WANTS) as (keyof typeof WANTS)[]).map(spec));
  const idle = async () => {
    for (let i = 0; i < 50 && (r as unknown as { running: boolean }).running; i++) await new Promise((f) => setImmediate(f));
  };
  return { r, ran, idle };
}

describe('Reconciler', () => {
  it('runs only the workers that want a commit\'s changes, in their order', async () => {
    const { r, ran, idle } = setup();
    // A unit's status report (what agents send most): only the exposer reads it, and the
    // roll-out worker, which waits on units settling.
    r.changed([change('unit', 'status')]);
    await idle();
    expect(ran).toEqual(['exposer', 'rollouts']);
    ran.length = 0;
    r.changed([change('unit')]);
    await idle();
    expect(ran).toEqual(['cleanup', 'subordinates', 'leadership', 'provisioner', 'exposer', 'chaos', 'rollouts']);
    ran.length = 0;
    r.changed([change('operation')]);
    await idle();
    expect(ran).toEqual(['operations']);
    ran.length = 0;
    // Log lines and relation bags leave the machine workers alone.
    r.changed([change('relation')]);
    await idle();
    expect(ran).toEqual(['cleanup', 'subordinates', 'chaos', 'rollouts']);
    expect(r.runs.get('logs')).toBeUndefined();
  });

  it('runs the named workers on an explicit wake-up, and all of them when none are named', async () => {
    const { r, ran, idle } = setup();
    r.wake(['provisioner', 'operations']);
    await idle();
    expect(ran).toEqual(['provisioner', 'operations']);
    ran.length = 0;
    r.wake();
    await idle();
    expect(ran).toEqual(Object.keys(WANTS));
  });

  it('coalesces wake-ups during a run into one more run of the workers they name', async () => {
    let release = () => {};
    const { r, ran, idle } = setup(new Promise<void>((f) => (release = f)));
    r.changed([change('unit')]);
    // cleanup is running (blocked); these arrive meanwhile.
    r.changed([change('unit', 'status')]);
    r.changed([change('unit', 'status')]);
    r.changed([change('operation')]);
    release();
    await idle();
    expect(ran).toEqual(['cleanup', 'subordinates', 'leadership', 'provisioner', 'exposer', 'chaos', 'rollouts', 'exposer', 'operations', 'rollouts']);
    expect(r.runs.get('exposer')).toBe(2);
  });
});
