import { describe, expect, it, beforeAll } from 'vitest';
import { join } from 'node:path';
import { CHARMS, freshModel, ok, poll, sigil, status, until, unit, workload } from './harness.ts';

/**
 * Issue 20's hook tools and hooks through a bash charm on the local-process controller:
 * goal-state, relation-model-get, credential-get, add-metric with collect-metrics,
 * juju-reboot (after the hook and --now), the JUJU_* environment, juju-info on a
 * principal, and show-status-log.
 */
describe('hook tools of issue 20 in a live model', () => {
  let m: string;
  const sh = (u: string, cmd: string) => ok(['exec', '-m', m, '--unit', u, '--', cmd]);
  const probe = (u: string, file: string) => sh(u, `cat ../probe/${file}`);
  beforeAll(async () => {
    m = await freshModel('hooktools');
    await ok(['deploy', join(CHARMS, 'source'), '-m', m, '--config', 'token=t1']);
    await ok(['deploy', join(CHARMS, 'hooktools'), '-m', m, '--config', 'reboot-once=true']);
    await ok(['integrate', 'hooktools:input', 'source', '-m', m]);
    // start ran, asked for a reboot, and ran again after it.
    await until(m, 'hooktools started twice', (s) => workload(s, 'hooktools/0') === 'active started 2', 90_000);
  }, 150_000);

  // The proxy variables come from the model's juju-*-proxy keys: none set, and Juju's default juju-no-proxy.
  it('exports the JUJU_* environment Juju 3.6 sets', async () => {
    const env = await probe('hooktools/0', 'env-install');
    for (const line of ['JUJU_UNIT_NAME=hooktools/0', 'JUJU_HOOK_NAME=install', 'JUJU_DISPATCH_PATH=hooks/install', 'JUJU_CHARM_HTTP_PROXY=', 'JUJU_CHARM_HTTPS_PROXY=', 'JUJU_CHARM_FTP_PROXY=', 'JUJU_CHARM_NO_PROXY=127.0.0.1,localhost,::1', 'JUJU_AGENT_SOCKET_NETWORK=unix', 'JUJU_PRINCIPAL_UNIT=', 'JUJU_AVAILABILITY_ZONE=', 'CLOUD_API_VERSION=']) {
      expect(env.split('\n')).toContain(line);
    }
    for (const key of ['JUJU_CHARM_DIR', 'CHARM_DIR', 'JUJU_CONTEXT_ID', 'JUJU_AGENT_SOCKET_ADDRESS', 'JUJU_MODEL_UUID', 'JUJU_MODEL_NAME', 'JUJU_API_ADDRESSES', 'JUJU_MACHINE_ID', 'JUJU_VERSION', 'JUJU_SLA']) {
      expect(env).toMatch(new RegExp(`^${key}=.`, 'm'));
    }
  });

  it('goal-state and relation-model-get answer as Juju does', async () => {
    const goal = JSON.parse(await poll('goal-state from input-relation-changed', () => probe('hooktools/0', 'goal-state.json').then((t) => (t.trim() === '' ? undefined : t)), 60_000)) as { units: Record<string, { status: string; since: string }>; relations: Record<string, Record<string, { status: string }>> };
    expect(Object.keys(goal.units)).toEqual(['hooktools/0']);
    expect(goal.units['hooktools/0']!.since).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    expect(goal.relations.input).toMatchObject({ source: { status: 'joined' }, 'source/0': { status: expect.any(String) } });
    const yaml = await sh('hooktools/0', 'goal-state');
    expect(yaml).toMatch(/^units:\n {2}hooktools\/0:\n {4}status: \w+\n {4}since: /);
    const uuid = (await probe('hooktools/0', 'env-install')).match(/^JUJU_MODEL_UUID=(.+)$/m)![1]!;
    expect(await probe('hooktools/0', 'relation-model-get.out')).toBe(`uuid: ${uuid}\n`);
    const rid = (await sh('hooktools/0', 'relation-ids input')).trim();
    expect(await sh('hooktools/0', `relation-model-get -r ${rid} --format json`)).toBe(`{"uuid":"${uuid}"}\n`);
    const noRel = await sigil(['exec', '-m', m, '--unit', 'hooktools/0', '--', 'relation-model-get']);
    expect(noRel.code).not.toBe(0);
    expect(noRel.stdout + noRel.stderr).toMatch(/no relation id specified/);
  }, 120_000);

  it('credential-get fails as on a machine cloud; add-metric works only in collect-metrics', async () => {
    expect(await probe('hooktools/0', 'credential-get.code')).toBe('1\n');
    expect(await probe('hooktools/0', 'credential-get.err')).toMatch(/^ERROR cannot access cloud credentials: permission denied/);
    expect(await probe('hooktools/0', 'add-metric-install.err')).toBe('ERROR cannot record metric: metrics not allowed in this context\n');
    await poll('collect-metrics ran', () => probe('hooktools/0', 'collect-metrics').then((t) => (t.includes('collected') ? t : undefined)), 60_000);
    const log = await poll('the metric in the unit log', async () => {
      const r = await ok(['debug-log', '-m', m, '--replay', '--no-tail', '--include', 'hooktools/0']);
      return r.includes('metric pings=7 (labels region=test)') ? r : undefined;
    }, 30_000);
    expect(log).toMatch(/collect-metrics/);
  }, 120_000);

  it('juju-reboot --now kills the hook, which runs again after the reboot', async () => {
    await ok(['config', 'hooktools', 'reboot-now=true', '-m', m]);
    await poll('config-changed ran again after the reboot', () => probe('hooktools/0', 'config-changed-after-reboot').then(() => true).catch(() => undefined), 90_000);
    const killed = await sigil(['exec', '-m', m, '--unit', 'hooktools/0', '--', 'test', '-e', '../probe/not-killed']);
    expect(killed.code).not.toBe(0);
    // Each reboot ran start again: 2 after the first, 3 after this one.
    await until(m, 'started after the second reboot', (s) => workload(s, 'hooktools/0') === 'active started 3', 60_000);
  }, 180_000);

  it('show-status-log lists the unit\'s statuses with Juju\'s columns, rebooting included', async () => {
    const table = await ok(['show-status-log', 'hooktools/0', '-m', m, '-n', '200', '--utc']);
    const lines = table.trim().split('\n');
    expect(lines[0]).toMatch(/^Time {2,}Type {2,}Status {2,}Message$/);
    expect(table).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ {2}juju-unit {2,}rebooting/m);
    expect(table).toMatch(/workload {2,}active {2,}started 3/);
    const json = JSON.parse(await ok(['show-status-log', 'hooktools/0', '-m', m, '--type', 'workload', '-n', '3', '--format', 'json'])) as { type: string; status: string }[];
    expect(json).toHaveLength(3);
    expect(json.every((e) => e.type === 'workload')).toBe(true);
    const bad = await sigil(['show-status-log', 'hooktools/9', '-m', m]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/unit hooktools\/9 not found[\s\S]*hint/i);
  }, 60_000);

  it('every principal provides juju-info: a subordinate attaches to the test charm', async () => {
    await ok(['deploy', join(CHARMS, 'logger'), '-m', m]);
    await ok(['integrate', 'logger', 'hooktools', '-m', m]);
    await until(m, 'logger/0 under hooktools/0', (s) => unit(s, 'logger/0') !== undefined, 60_000);
    const s = await status(m);
    expect(Object.keys(s.applications.hooktools?.units?.['hooktools/0']?.subordinates ?? {})).toEqual(['logger/0']);
  }, 90_000);
});
