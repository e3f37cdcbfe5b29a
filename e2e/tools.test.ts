import { describe, expect, it, beforeAll } from 'vitest';
import { join } from 'node:path';
import { CHARMS, freshModel, hooks, ok, poll, sigil, status, until, workload } from './harness.ts';

/** Hook tools as a charm calls them, through the real C client and agent (via `exec`, which runs in a hook context). */
describe('hook tools in a live model', () => {
  let m: string;
  let rel: string;
  const sh = (u: string, cmd: string) => ok(['exec', '-m', m, '--unit', u, '--', cmd]);
  beforeAll(async () => {
    m = await freshModel('tools');
    await ok(['deploy', join(CHARMS, 'source'), '-m', m, '--config', 'token=t9']);
    await ok(['deploy', join(CHARMS, 'sink'), 'sink', '-m', m, '-n', '2']);
    await ok(['integrate', 'source', 'sink', '-m', m]);
    await until(m, 'sinks active', (s) => ['sink/0', 'sink/1'].every((u) => workload(s, u) === 'active token=t9 app-token=t9'));
    rel = (await sh('sink/0', 'relation-ids input')).trim();
  });

  it('reads relation data with Juju argument forms and output formats', async () => {
    expect(rel).toMatch(/^input:\d+$/);
    expect(await sh('sink/0', `relation-list -r ${rel}`)).toBe('source/0\n');
    expect(await sh('sink/0', `relation-list -r ${rel.split(':')[1]} --app`)).toBe('source\n');
    expect(await sh('sink/0', `relation-get -r ${rel} token source/0`)).toBe('t9\n');
    expect(await sh('sink/0', `relation-get -r ${rel} --app app-token source`)).toBe('t9\n');
    expect(await sh('sink/0', `relation-get -r ${rel} missing source/0`)).toBe('');
    const all = await sh('sink/0', `relation-get -r ${rel} - source/0`);
    expect(all).toMatch(/^egress-subnets: /m);
    expect(all).toMatch(/^private-address: 127\./m);
    expect(all).toMatch(/^token: t9$/m);
    const json = JSON.parse(await sh('sink/0', `relation-get -r ${rel} --format json - source/0`)) as Record<string, string>;
    expect(json.token).toBe('t9');
    const ids = JSON.parse(await sh('sink/0', 'relation-ids input --format=json')) as string[];
    expect(ids).toEqual([rel]);
  }, 120_000); // ten CLI calls: a few seconds each on a loaded 2-core runner

  it('shows every relation bag a unit can see with show-unit', async () => {
    const doc = JSON.parse(await ok(['show-unit', 'sink/0', '-m', m, '--format', 'json'])) as Record<string, { 'relation-info': { endpoint: string; 'application-data': Record<string, string>; 'local-unit': { 'in-scope': boolean; data: Record<string, string> }; 'related-units': Record<string, { data: Record<string, string> }> }[] }>;
    const input = doc['sink/0']!['relation-info'].find((r) => r.endpoint === 'input')!;
    expect(input['application-data']).toEqual({ 'app-token': 't9' });
    expect(input['local-unit']['in-scope']).toBe(true);
    expect(input['local-unit'].data['private-address']).toMatch(/^127\./);
    expect(input['related-units']['source/0']!.data.token).toBe('t9');
  });

  it('enforces relation data permissions', async () => {
    const nonLeader = (await status(m)).applications.sink?.units?.['sink/0']?.leader ? 'sink/1' : 'sink/0';
    const denied = await sigil(['exec', '-m', m, '--unit', nonLeader, '--', `relation-get -r ${rel} --app - sink`]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/permission denied/);
    const write = await sigil(['exec', '-m', m, '--unit', nonLeader, '--', `relation-set -r ${rel} --app x=1`]);
    expect(write.code).not.toBe(0);
    expect(write.stderr).toMatch(/ERROR/);
  });

  it('answers config, leadership, status, ports, addresses and unit state', async () => {
    expect(await sh('source/0', 'config-get token')).toBe('t9\n');
    expect(await sh('source/0', 'config-get verbose')).toBe('False\n');
    expect(JSON.parse(await sh('source/0', 'config-get --format json'))).toMatchObject({ token: 't9', replicas: 1, verbose: false });
    expect(await sh('source/0', 'is-leader')).toBe('True\n');
    expect(await sh('source/0', 'status-get')).toBe('active\n');
    expect(await sh('source/0', 'opened-ports')).toBe('8080/tcp\n');
    const addr = (await sh('source/0', 'unit-get private-address')).trim();
    expect(addr).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect((await sh('source/0', 'network-get output --ingress-address')).trim()).toBe(addr);
    expect(await sh('source/0', 'leader-get leader-unit')).toBe('source/0\n');
    await sh('source/0', 'state-set seen=yes');
    expect(await sh('source/0', 'state-get seen')).toBe('yes\n');
    await sh('source/0', 'state-delete seen');
    expect(await sh('source/0', 'state-get seen')).toBe('');
    await sh('source/0', 'juju-log -l WARNING hello from a hook tool');
    const log = await ok(['debug-log', '-m', m, '--replay', '--no-tail', '-l', 'WARNING', '--include', 'source/0']);
    expect(log).toMatch(/WARNING unit\.source\/0\.juju-log hello from a hook tool/);
  }, 180_000); // seventeen CLI calls: a few seconds each on a loaded 2-core runner

  it('propagates leader settings to followers', async () => {
    const s = await status(m);
    const leader = s.applications.sink?.units?.['sink/0']?.leader ? 'sink/0' : 'sink/1';
    const follower = leader === 'sink/0' ? 'sink/1' : 'sink/0';
    await sh(leader, 'leader-set color=blue');
    // The follower reads the new value at once; its leader-settings-changed hook runs after.
    await poll('the follower to see the leader settings and run leader-settings-changed', async () =>
      (await sh(follower, 'leader-get color')) === 'blue\n' && (await hooks(m, follower)).filter((h) => h === 'leader-settings-changed').length >= 2 ? true : undefined);
    expect(await sh(follower, 'leader-get color')).toBe('blue\n');
    expect((await hooks(m, follower)).filter((h) => h === 'leader-settings-changed').length).toBeGreaterThanOrEqual(2);
  });

  it('runs update-status on the model-configured interval', async () => {
    await ok(['model-config', '-m', m, 'update-status-hook-interval=1s']);
    expect((await ok(['model-config', '-m', m, 'update-status-hook-interval'])).trim()).toBe('1s');
    const bad = await sigil(['model-config', '-m', m, 'update-status-hook-interval=soon']);
    expect(bad.stderr).toMatch(/invalid duration/);
    await poll('update-status to run on sink/0', async () => ((await hooks(m, 'sink/0')).includes('update-status') ? true : undefined));
    expect(await hooks(m, 'sink/0')).toContain('update-status');
    await ok(['model-config', '-m', m, 'update-status-hook-interval=5m']);
  });

  it('exposes and unexposes', async () => {
    await ok(['expose', 'source', '-m', m]);
    expect((await status(m)).applications.source?.exposed).toBe(true);
    expect(await ok(['status', '-m', m])).toMatch(/^source\s+src-1\.0\s+active\s+1\s+source\s+0\s+yes/m);
    await ok(['unexpose', 'source', '-m', m]);
    expect((await status(m)).applications.source?.exposed).toBe(false);
  });
});

describe('models', () => {
  it('adds, lists, switches to and destroys a model', async () => {
    await ok(['add-model', 'scratch', '-c', 'e2e']);
    const list = JSON.parse(await ok(['models', '-c', 'e2e', '--format', 'json'])) as { models: { name: string }[] };
    expect(list.models.map((x) => x.name)).toContain('scratch');
    await ok(['deploy', join(CHARMS, 'sink'), 'sink', '-m', 'e2e:scratch']);
    await until('e2e:scratch', 'sink up', (s) => workload(s, 'sink/0') === 'blocked waiting for a source');
    await ok(['destroy-model', 'e2e:scratch', '--yes']);
    const after = JSON.parse(await ok(['models', '-c', 'e2e', '--format', 'json'])) as { models: { name: string }[] };
    expect(after.models.map((x) => x.name)).not.toContain('scratch');
    const gone = await sigil(['status', '-m', 'e2e:scratch']);
    expect(gone.stderr).toMatch(/model "scratch" not found/);
  });
});
