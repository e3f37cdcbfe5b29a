import { describe, expect, test } from 'vitest';
import type { GoalState } from '@sigil/api';
import type { HookToolEnv, ToolResult } from './context.ts';
import { testEnv } from './testkit.ts';
import { runHookTool } from './tools.ts';

async function run(env: HookToolEnv, command: string, args: string[] = []): Promise<ToolResult> {
  const r = await runHookTool(env, command, args, undefined, '/');
  if ('needStdin' in r) throw new Error('unexpected stdin request');
  return r;
}

const ok = (stdout: string): ToolResult => ({ code: 0, stdout, stderr: '' });

// 2024-03-01 12:00:05Z and 2024-03-01 12:00:07Z
const T1 = Date.UTC(2024, 2, 1, 12, 0, 5, 250);
const T2 = Date.UTC(2024, 2, 1, 12, 0, 7);

const GOAL: GoalState = {
  units: { 'wordpress/0': { status: 'active', since: T1 }, 'wordpress/1': { status: 'dying', since: T2 } },
  relations: {
    db: { mysql: { status: 'joined', since: T1 }, 'mysql/0': { status: 'active', since: T2 } },
    website: { haproxy: { status: 'joining', since: T2 } },
  },
};

function goalEnv(goal: GoalState = GOAL): HookToolEnv {
  const env = testEnv();
  env.goalState = () => Promise.resolve(goal);
  return env;
}

describe('goal-state', () => {
  test('prints YAML by default: units then relations, since as Juju formats it (UTC, whole seconds)', async () => {
    expect(await run(goalEnv(), 'goal-state')).toEqual(
      ok(
        [
          'units:',
          '  wordpress/0:',
          '    status: active',
          '    since: 2024-03-01 12:00:05Z',
          '  wordpress/1:',
          '    status: dying',
          '    since: 2024-03-01 12:00:07Z',
          'relations:',
          '  db:',
          '    mysql:',
          '      status: joined',
          '      since: 2024-03-01 12:00:05Z',
          '    mysql/0:',
          '      status: active',
          '      since: 2024-03-01 12:00:07Z',
          '  website:',
          '    haproxy:',
          '      status: joining',
          '      since: 2024-03-01 12:00:07Z',
          '',
        ].join('\n'),
      ),
    );
  });

  test('--format json is one line with the same keys; smart is not offered', async () => {
    const r = await run(goalEnv({ units: { 'wordpress/0': { status: 'active', since: T2 } }, relations: {} }), 'goal-state', ['--format', 'json']);
    expect(r).toEqual(ok('{"units":{"wordpress/0":{"status":"active","since":"2024-03-01 12:00:07Z"}},"relations":{}}\n'));
    const smart = await run(goalEnv(), 'goal-state', ['--format', 'smart']);
    expect(smart.code).toBe(2);
    expect(smart.stderr).toMatch(/^ERROR invalid value "smart" for option --format: unknown format "smart"\n/);
  });

  test('arguments are refused; a controller error is the tool\'s error', async () => {
    expect((await run(goalEnv(), 'goal-state', ['x'])).stderr).toMatch(/^ERROR unrecognized args: \["x"\]\n/);
    const env = testEnv();
    env.goalState = () => Promise.reject(new Error('connection refused'));
    expect(await run(env, 'goal-state')).toEqual({ code: 1, stdout: '', stderr: 'ERROR connection refused\n' });
  });
});

describe('relation-model-get', () => {
  test('prints the uuid of the model hosting the related application', async () => {
    expect(await run(testEnv(), 'relation-model-get')).toEqual(ok('uuid: 00000000-0000-4000-8000-000000000000\n'));
    expect(await run(testEnv(), 'relation-model-get', ['-r', 'website:3', '--format', 'json'])).toEqual(ok('{"uuid":"00000000-0000-4000-8000-000000000000"}\n'));
  });

  test('outside a relation hook -r is required; an unknown relation is refused', async () => {
    const env = testEnv((s) => {
      delete s.hookRelationId;
    });
    const r = await run(env, 'relation-model-get');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ERROR no relation id specified\n/);
    expect((await run(env, 'relation-model-get', ['-r', '99'])).stderr).toMatch(/^ERROR invalid value "99" for option -r: relation not found\n/);
  });
});

describe('credential-get', () => {
  test('fails as Juju does for an application without trust', async () => {
    const r = await run(testEnv(), 'credential-get');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^ERROR cannot access cloud credentials: permission denied/);
  });
});

describe('juju-reboot', () => {
  test('without --now the reboot waits for the hook; --now kills the hook at once', async () => {
    const env = testEnv();
    let killed = 0;
    env.rebootNow = () => killed++;
    expect(await run(env, 'juju-reboot')).toEqual(ok(''));
    expect(env.changes.reboot).toBe('after-hook');
    expect(killed).toBe(0);
    expect(await run(env, 'juju-reboot', ['--now'])).toEqual(ok(''));
    expect(env.changes.reboot).toBe('now');
    expect(killed).toBe(1);
    await run(env, 'juju-reboot');
    expect(env.changes.reboot).toBe('now');
  });

  test('is refused in an action and takes no arguments', async () => {
    const env = testEnv((s) => {
      s.action = { id: '1', name: 'backup', params: {} };
    });
    expect(await run(env, 'juju-reboot')).toEqual({ code: 1, stdout: '', stderr: 'ERROR juju-reboot is not supported when running an action.\n' });
    expect(env.changes.reboot).toBeUndefined();
    expect((await run(testEnv(), 'juju-reboot', ['soon'])).code).toBe(2);
  });
});

describe('add-metric', () => {
  const metricsEnv = () =>
    testEnv((s) => {
      s.hookName = 'collect-metrics';
      s.metrics = { pings: { type: 'gauge', description: 'pings' }, 'juju-units': { type: '', description: '' } };
    });

  test('records declared metrics with their labels in collect-metrics', async () => {
    const env = metricsEnv();
    expect(await run(env, 'add-metric', ['pings=5.5', '--labels', 'region=eu,tier=web'])).toEqual(ok(''));
    expect(env.changes.metrics).toEqual([{ key: 'pings', value: '5.5', time: expect.any(Number), labels: { region: 'eu', tier: 'web' } }]);
  });

  test("Juju's errors: another hook, undeclared, not a float, negative, reserved prefix, no metrics", async () => {
    expect(await run(testEnv(), 'add-metric', ['pings=5'])).toEqual({ code: 1, stdout: '', stderr: 'ERROR cannot record metric: metrics not allowed in this context\n' });
    const env = metricsEnv();
    expect((await run(env, 'add-metric', ['pongs=5'])).stderr).toBe('ERROR cannot record metric: metric key "pongs" not declared by the charm\n');
    expect((await run(env, 'add-metric', ['pings=abcd'])).stderr).toBe('ERROR cannot record metric: invalid value type: expected float, got "abcd"\n');
    expect((await run(env, 'add-metric', ['pings=-5.0'])).stderr).toBe('ERROR cannot record metric: invalid value: value must be greater or equal to zero, got -5.0\n');
    expect((await run(env, 'add-metric', ['pings=1234567890123456789012345678901234567890'])).stderr).toBe('ERROR cannot record metric: metric value is too large\n');
    expect((await run(env, 'add-metric', ['juju-units=1'])).stderr).toBe('ERROR juju-units uses a reserved prefix\n');
    const none = await run(env, 'add-metric');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^ERROR no metrics specified\n/);
    expect((await run(env, 'add-metric', ['pings'])).stderr).toMatch(/^ERROR invalid metrics: expected "key=value", got "pings"\n/);
    expect(env.changes.metrics).toBeUndefined();
  });
});
