import { describe, expect, test } from 'vitest';
import { event, run, state } from '@sigil/charm-sdk/testing';
import { spec } from './charm.gen.ts';
import { build } from './charm.ts';
import { parse, plan, render, settingsFrom } from './settings.ts';
import type { Workload } from './workload.ts';

const PW = 'pw-from-leader';

/** A machine in memory: the config file, whether Redis runs, and what was done to it. */
class FakeMachine implements Workload {
  calls: string[] = [];
  conf: string;
  up: boolean;

  constructor(opts: { conf?: string; up?: boolean } = {}) {
    this.conf = opts.conf ?? '';
    this.up = opts.up ?? false;
  }
  async install() {
    this.calls.push('install');
  }
  async version() {
    return '7.0.15';
  }
  async readConfig() {
    return this.conf;
  }
  async writeConfig(text: string) {
    this.calls.push('write');
    this.conf = text;
  }
  async running() {
    return this.up;
  }
  async restart() {
    this.calls.push('restart');
    this.up = true;
  }
  async stop() {
    this.calls.push('stop');
    this.up = false;
  }
  async configSet(port: number, password: string, values: [string, string][]) {
    this.calls.push(`CONFIG SET ${values.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')} (port ${port}, auth ${password})`);
  }
}

const runningWith = (config: { port?: number; persistence?: string } = {}) =>
  new FakeMachine({ conf: render(settingsFrom({ port: 6379, persistence: 'rdb', ...config }, PW)), up: true });
const withPassword = { appSecrets: { 'redis-password': { password: PW } } };

describe('the password', () => {
  test('the leader generates it once, keeps it in a Juju secret (never in leader data) and requires it', async () => {
    const m = new FakeMachine({ conf: 'bind 127.0.0.1 -::1\nport 6379\n' });
    const out = await run(build(m, () => 'generated-1'), event.install(), state(spec, { leader: true }));
    expect(out.appSecrets).toEqual({ 'redis-password': { password: 'generated-1' } });
    expect(out.leaderData).toEqual({ 'password-secret': 'redis-password' });
    expect(parse(m.conf).get('requirepass')).toBe('generated-1');
    expect(m.calls).toEqual(['install', 'write', 'restart']);
    expect(out.unitStatus).toEqual({ name: 'active', message: 'ready on port 6379, persistence rdb' });
    expect(out.workloadVersion).toBe('7.0.15');

    const again = await run(build(m, () => 'generated-2'), event.leaderElected(), out);
    expect(again.appSecrets).toEqual({ 'redis-password': { password: 'generated-1' } });
  });

  test('a password older revisions kept in leader data moves into the secret', async () => {
    const m = runningWith();
    const out = await run(build(m, () => 'not-used'), event.leaderElected(), state(spec, { leader: true, leaderData: { password: PW } }));
    expect(out.appSecrets).toEqual({ 'redis-password': { password: PW } });
    expect(out.leaderData).toEqual({ 'password-secret': 'redis-password' });
    expect(parse(m.conf).get('requirepass')).toBe(PW);
  });

  test('a unit that is not the leader waits for it, then uses it', async () => {
    const m = new FakeMachine();
    const waitingOut = await run(build(m), event.configChanged(), state(spec, { leader: false }));
    expect(waitingOut.unitStatus).toEqual({ name: 'waiting', message: 'waiting for the leader to generate the password' });
    expect(m.calls).toEqual([]);
    await run(build(m), event.leaderSettingsChanged(), state(spec, { leader: false, ...withPassword }));
    expect(parse(m.conf).get('requirepass')).toBe(PW);
  });
});

describe('configuration', () => {
  test('the managed file binds every address, listens on the port and keeps the Debian paths', () => {
    const conf = parse(render(settingsFrom({ port: 6400, persistence: 'rdb' }, PW)));
    expect(Object.fromEntries(conf)).toEqual({
      bind: '* -::*',
      port: '6400',
      requirepass: PW,
      pidfile: '/run/redis/redis-server.pid',
      logfile: '/var/log/redis/redis-server.log',
      dir: '/var/lib/redis',
      save: '3600 1 300 100 60 10000',
      appendonly: 'no',
      appendfsync: 'everysec',
    });
  });

  test('an unchanged config neither writes, sets nor restarts', async () => {
    const m = runningWith();
    await run(build(m), event.configChanged(), state(spec, withPassword));
    await run(build(m), event.updateStatus(), state(spec, withPassword));
    expect(m.calls).toEqual([]);
  });

  test('persistence changes are applied with CONFIG SET, then written, without a restart', async () => {
    const m = runningWith();
    const aof = await run(build(m), event.configChanged(), state(spec, { ...withPassword, config: { persistence: 'aof' } }));
    expect(m.calls).toEqual([`CONFIG SET save="" appendonly="yes" (port 6379, auth ${PW})`, 'write']);
    expect(parse(m.conf).get('appendonly')).toBe('yes');
    expect(aof.unitStatus?.message).toBe('ready on port 6379, persistence aof');
    m.calls = [];
    await run(build(m), event.configChanged(), state(spec, { ...withPassword, config: { persistence: 'none' } }));
    expect(m.calls).toEqual([`CONFIG SET appendonly="no" (port 6379, auth ${PW})`, 'write']);
    expect(parse(m.conf).get('save')).toBe('');
  });

  test('a failed CONFIG SET leaves the file alone, so the retried hook tries again', async () => {
    const m = runningWith();
    const before = m.conf;
    m.configSet = () => Promise.reject(new Error('Redis refused CONFIG SET appendonly'));
    await expect(run(build(m), event.configChanged(), state(spec, { ...withPassword, config: { persistence: 'aof' } }))).rejects.toThrow(/refused/);
    expect(m.conf).toBe(before);
  });

  test('a new port restarts Redis and moves the opened port', async () => {
    const m = runningWith();
    const out = await run(build(m), event.configChanged(), state(spec, { ...withPassword, config: { port: 6400 }, ports: [{ port: 6379, protocol: 'tcp' }] }));
    expect(m.calls).toEqual(['write', 'restart']);
    expect(out.ports).toEqual([{ port: 6400, protocol: 'tcp' }]);
  });

  test('Redis found stopped is started again', async () => {
    const m = runningWith();
    m.up = false;
    await run(build(m), event.updateStatus(), state(spec, withPassword));
    expect(m.calls).toEqual(['restart']);
  });

  const bad: [string, { port?: number; persistence?: string }, string][] = [
    ['persistence', { persistence: 'sometimes' }, 'persistence=sometimes is not one of none, rdb, aof'],
    ['port', { port: 0 }, 'port=0 is not a port: use 1-65535'],
  ];
  test.each(bad)('a bad %s blocks, naming it, and leaves Redis, its port and relations as they were', async (_name, config, message) => {
    const m = runningWith();
    const before = m.conf;
    const rel = { endpoint: 'redis', id: 2, remoteApp: 'web', remoteUnits: { 'web/0': {} }, localUnitData: { hostname: '10.0.0.10', host: '10.0.0.10', port: '6379', password: PW } };
    const out = await run(build(m), event.configChanged(), state(spec, { ...withPassword, config, ports: [{ port: 6379, protocol: 'tcp' }], relations: [rel] }));
    expect(out.unitStatus).toEqual({ name: 'blocked', message });
    expect(m.calls).toEqual([]);
    expect(m.conf).toBe(before);
    expect(out.ports).toEqual([{ port: 6379, protocol: 'tcp' }]);
    expect(out.relations[0]!.localUnitData).toEqual(rel.localUnitData);
  });
});

describe('the redis relation', () => {
  test("publishes the keys of Juju's Redis charms: hostname, port, password, and host", async () => {
    const s = state(spec, { ...withPassword, relations: [{ endpoint: 'redis', id: 3, remoteApp: 'web', remoteUnits: { 'web/0': {} } }] });
    const out = await run(build(runningWith()), event.relationJoined(s.relations[0]!, 'web/0'), s);
    expect(out.relations[0]!.localUnitData).toEqual({ hostname: '10.0.0.10', host: '10.0.0.10', port: '6379', password: PW });
  });

  test('a port change reaches every related application', async () => {
    const rels = [1, 2].map((id) => ({ endpoint: 'redis', id, remoteApp: `app${id}`, remoteUnits: { [`app${id}/0`]: {} }, localUnitData: { hostname: '10.0.0.10', host: '10.0.0.10', port: '6379', password: PW } }));
    const out = await run(build(runningWith()), event.configChanged(), state(spec, { ...withPassword, config: { port: 6400 }, relations: rels }));
    expect(out.relations.map((r) => r.localUnitData.port)).toEqual(['6400', '6400']);
  });
});

test('stop stops Redis and does not start it again', async () => {
  const m = runningWith();
  await run(build(m), event.stop(), state(spec, withPassword));
  expect(m.calls).toEqual(['stop']);
});

describe('plan', () => {
  const conf = (persistence: string, port = 6379, pw = PW) => render(settingsFrom({ port, persistence }, pw));
  const cases: [string, string, string, ReturnType<typeof plan>][] = [
    ['same text', conf('rdb'), conf('rdb'), { kind: 'none' }],
    ['rdb to aof', conf('rdb'), conf('aof'), { kind: 'set', values: [['save', ''], ['appendonly', 'yes']] }],
    ['a new password', conf('rdb'), conf('rdb', 6379, 'new'), { kind: 'set', values: [['requirepass', 'new']] }],
    ['a new port', conf('rdb'), conf('rdb', 6400), { kind: 'restart' }],
    ['port and persistence', conf('rdb'), conf('aof', 6400), { kind: 'restart' }],
    ["Debian's default file", 'bind 127.0.0.1 -::1\nprotected-mode yes\nport 6379\nappendonly no\n', conf('rdb'), { kind: 'restart' }],
    ['only comments differ', `# old header\n${conf('rdb')}`, conf('rdb'), { kind: 'none' }],
  ];
  test.each(cases)('%s', (_name, current, wanted, expected) => {
    expect(plan(current, wanted)).toEqual(expected);
  });
});
