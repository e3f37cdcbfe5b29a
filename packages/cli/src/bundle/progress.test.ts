import { describe, expect, it } from 'vitest';
import type { UnitStatusDoc } from '@sigil/api';
import { ChangeLines } from './progress.ts';
import { progressMode } from '../commands/bundle.ts';

const u = (work: string, message: string, agent: string, hook?: string): UnitStatusDoc => ({
  'workload-status': { current: work, ...(message ? { message } : {}) },
  'juju-status': { current: agent, ...(hook ? { message: `running ${hook} hook` } : {}) },
});

/** One unit from first sight to active, as the change feed shows it: each hook starts and ends. */
const life: UnitStatusDoc[] = [
  u('waiting', 'agent initialising', 'allocating'),
  u('waiting', 'agent initialising', 'executing', 'install'),
  u('maintenance', 'installing mariadb-server', 'executing', 'install'),
  u('maintenance', 'installing mariadb-server', 'idle'),
  u('maintenance', 'installing mariadb-server', 'executing', 'leader-elected'),
  u('maintenance', 'installing mariadb-server', 'idle'),
  u('maintenance', 'installing mariadb-server', 'executing', 'config-changed'),
  u('active', 'ready on 10.0.0.10:3306', 'executing', 'config-changed'),
  u('active', 'ready on 10.0.0.10:3306', 'idle'),
  u('active', 'ready on 10.0.0.10:3306', 'executing', 'start'),
  u('active', 'ready on 10.0.0.10:3306', 'idle'),
  u('active', 'ready on 10.0.0.10:3306', 'executing', 'db-relation-joined'),
  u('active', 'ready on 10.0.0.10:3306', 'idle'),
];

function lines(hooks: boolean): string[] {
  const c = new ChangeLines(hooks);
  return life.flatMap((doc) => c.next([['mariadb/0', doc], ['mariadb/1', u('waiting', 'agent initialising', 'allocating')]]));
}

describe('bundle progress without a terminal', () => {
  it('prints a line when a unit\'s workload status or message changes, not per hook', () => {
    expect(lines(false)).toEqual([
      'mariadb/0: waiting "agent initialising"',
      'mariadb/1: waiting "agent initialising"',
      'mariadb/0: maintenance "installing mariadb-server"',
      'mariadb/0: active "ready on 10.0.0.10:3306"',
    ]);
  });

  it('prints every hook start and end with --verbose', () => {
    const verbose = lines(true);
    expect(verbose).toHaveLength(life.length + 1);
    expect(verbose).toContain('mariadb/0: active "ready on 10.0.0.10:3306" (running start hook)');
  });

  it.each([
    [{ progress: true }, true, 'live'],
    [{ progress: true }, false, 'changes'],
    [{ progress: false }, true, 'changes'],
    [{ progress: true, verbose: true }, true, 'verbose'],
    [{ progress: false, verbose: true }, false, 'verbose'],
  ] as const)('%j on a terminal: %s → %s', (o, tty, mode) => {
    expect(progressMode(o, tty)).toBe(mode);
  });
});
