import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { CHARMS, ROOT, canRunContainers, lxcModel, ok, sigil, status, unit, until, workload } from './harness.ts';
import { canRun } from '../tests/ci.ts';

// The redis charm on a real machine, used through the db-client test charm the way a Juju
// application would use it: with the host, port and password of the `redis` relation.
describe.skipIf(!canRun(canRunContainers(), 'root on Linux (LXC containers)'))('redis charm (real containers)', () => {
  let M: string;

  const run = async (u: string, action: string, ...params: string[]) =>
    JSON.parse(await ok(['run', '-m', M, u, action, ...params, '--string-args', '--format', 'json'])) as Record<string, string>;
  const redis = async (command: string, ...params: string[]) => (await run('db-client/0', 'redis', `command=${command}`, ...params)).output ?? '';
  /** Waits for the model to settle; the harness outwaits the CLI's own deadline by a little. */
  const settle = async () => {
    const w = await sigil(['wait', '-m', M, '--timeout', '2m']);
    expect(w.code, w.stderr + w.stdout).toBe(0);
  };
  /** Redis's run id: a new one after every restart. */
  const runId = async () => /run_id:(\w+)/.exec(await redis('INFO server'))?.[1];

  beforeAll(async () => {
    M = await lxcModel('redis');
    await ok(['deploy', join(ROOT, 'charms', 'redis'), '-m', M]);
    await ok(['deploy', join(CHARMS, 'db-client'), '-m', M]);
    await ok(['integrate', 'db-client:redis', 'redis:redis', '-m', M]);
    // Installing on a 2-core runner shared with other suites' installs takes minutes.
    const w = await sigil(['wait', '-m', M, '--timeout', '8m']);
    expect(w.code, w.stderr + w.stdout).toBe(0);
  }, 600_000); // add-model, three commands and the 8 m wait

  it("publishes the keys of Juju's Redis charms, with a generated password the client connects with", async () => {
    const s = await status(M);
    const addr = unit(s, 'redis/0')!['public-address']!;
    expect(workload(s, 'redis/0')).toBe('active ready on port 6379, persistence rdb');
    expect(unit(s, 'redis/0')?.['open-ports']).toEqual(['6379/tcp']);
    expect(workload(s, 'db-client/0')).toBe(`active redis: ${addr}:6379`);
    const published = await run('db-client/0', 'credentials', 'endpoint=redis');
    expect(published).toMatchObject({ hostname: addr, host: addr, port: '6379' });
    expect(published.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(await redis('PING')).toBe('PONG');
    expect(await redis('SET greeting hello')).toBe('OK');
    expect(await redis('GET greeting')).toBe('hello');
  }, 60_000);

  it('refuses a wrong password and no password', async () => {
    const wrong = await redis('GET greeting', 'password=not-the-password');
    expect(wrong).toMatch(/NOAUTH|WRONGPASS/);
    expect(wrong).not.toContain('hello');
    const addr = unit(await status(M), 'redis/0')!['public-address']!;
    const anonymous = await ok(['exec', '-m', M, '--unit', 'db-client/0', '--', `redis-cli -h ${addr} GET greeting`]);
    expect(anonymous).toMatch(/NOAUTH/);
  }, 60_000);

  it('changes persistence in place with CONFIG SET and keeps it in redis.conf', async () => {
    const id = await runId();
    expect(id).toMatch(/^\w{40}$/);
    await ok(['config', 'redis', 'persistence=aof', '-m', M]);
    await settle();
    expect(await redis('CONFIG GET appendonly')).toBe('appendonly\nyes');
    expect(await redis('CONFIG GET save')).toBe('save');
    expect(await redis('GET greeting')).toBe('hello');
    expect(await runId()).toBe(id);
    const conf = await ok(['ssh', '-m', M, 'redis/0', "grep -E '^(appendonly|save) ' /etc/redis/redis.conf"]);
    expect(conf.trim().split('\n').sort()).toEqual(['appendonly yes', 'save ""']);
    expect(workload(await status(M), 'redis/0')).toBe('active ready on port 6379, persistence aof');

    await ok(['config', 'redis', 'persistence=none', '-m', M]);
    await settle();
    expect(await redis('CONFIG GET appendonly')).toBe('appendonly\nno');
    expect(await redis('CONFIG GET save')).toBe('save');
    await ok(['config', 'redis', 'persistence=rdb', '-m', M]);
    await settle();
    expect(await redis('CONFIG GET save')).toBe('save\n3600 1 300 100 60 10000');
    expect(await runId()).toBe(id);
  }, 480_000); // three 2 m waits

  it('a bad value blocks naming it, and Redis keeps serving on its last good config', async () => {
    const id = await runId();
    await ok(['config', 'redis', 'persistence=sometimes', '-m', M]);
    await until(M, 'redis blocked', (s) => workload(s, 'redis/0') === 'blocked persistence=sometimes is not one of none, rdb, aof');
    expect(await redis('GET greeting')).toBe('hello');
    expect(await redis('CONFIG GET save')).toBe('save\n3600 1 300 100 60 10000');
    expect(await runId()).toBe(id);
    await ok(['config', 'redis', 'persistence=rdb', '-m', M]);
    await until(M, 'redis active again', (s) => workload(s, 'redis/0') === 'active ready on port 6379, persistence rdb');
  }, 120_000); // two 30 s waits
});
