import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { CHARMS, ROOT, canRunContainers, lxcModel, ok, sigil, status, unit, until, workload } from './harness.ts';
import { canRun } from '../tests/ci.ts';

// The memcached charm on a real machine, used through the db-client test charm the way a
// Juju application would use it: over the `cache` relation's host and port.
describe.skipIf(!canRun(canRunContainers(), 'root on Linux (LXC containers)'))('memcached charm (real containers)', () => {
  let M: string;

  const run = async (u: string, action: string, ...params: string[]) =>
    JSON.parse(await ok(['run', '-m', M, u, action, ...params, '--string-args', '--format', 'json'])) as Record<string, string>;
  const cache = (...params: string[]) => run('db-client/0', 'cache', ...params);
  /** Waits for the model to settle; the harness outwaits the CLI's own deadline by a little. */
  const settle = async () => {
    const w = await sigil(['wait', '-m', M, '--timeout', '2m']);
    expect(w.code, w.stderr + w.stdout).toBe(0);
  };

  /** memcached's `stats settings` and `stats`, read on its machine, not through the charm. */
  async function stats(): Promise<Record<string, string>> {
    const py = 'import socket; s = socket.create_connection(("127.0.0.1", 11211)); s.sendall(b"stats settings\\r\\nstats\\r\\nquit\\r\\n"); print(s.makefile("rb").read().decode())';
    const out = await ok(['exec', '-m', M, '--unit', 'memcached/0', '--', `python3 -c '${py}'`]);
    return Object.fromEntries([...out.matchAll(/^STAT (\S+) (.*?)\r?$/gm)].map((m) => [m[1]!, m[2]!]));
  }

  const log = async () => (await ok(['debug-log', '-m', M, '--replay', '--no-tail', '-i', 'memcached/0', '-l', 'INFO'])).split('\n');

  beforeAll(async () => {
    M = await lxcModel('memcached');
    await ok(['deploy', join(ROOT, 'charms', 'memcached'), '-m', M]);
    await ok(['deploy', join(CHARMS, 'db-client'), '-m', M]);
    await ok(['integrate', 'db-client:cache', 'memcached:cache', '-m', M]);
    // Installing on a 2-core runner shared with other suites' installs takes minutes.
    const w = await sigil(['wait', '-m', M, '--timeout', '8m']);
    expect(w.code, w.stderr + w.stdout).toBe(0);
  }, 600_000); // add-model, three commands and the 8 m wait

  it('publishes the keys of Juju\'s memcached charm and serves set/get to the related client', async () => {
    const s = await status(M);
    const addr = unit(s, 'memcached/0')!['public-address']!;
    expect(workload(s, 'memcached/0')).toBe('active ready on port 11211: 768 MB, 1024 connections');
    expect(unit(s, 'memcached/0')?.['open-ports']).toEqual(['11211/tcp']);
    expect(workload(s, 'db-client/0')).toBe(`active cache: ${addr}:11211`);
    const published = await run('db-client/0', 'credentials', 'endpoint=cache');
    expect(published).toMatchObject({ host: addr, port: '11211', 'udp-port': '0', 'private-address': addr });
    expect(await cache('op=set', 'key=greeting', 'value=hello memcached')).toEqual({ output: 'STORED' });
    expect(await cache('op=get', 'key=greeting')).toEqual({ output: 'hello memcached' });
  }, 60_000);

  it('applies a new size with a restart, visible in memcached\'s own stats and the stats action', async () => {
    const before = await stats();
    expect(before.limit_maxbytes).toBe(String(768 * 1024 * 1024));
    await ok(['config', 'memcached', 'size=64', '-m', M]);
    await settle();
    const after = await stats();
    expect(after.limit_maxbytes).toBe(String(64 * 1024 * 1024));
    expect(after.pid).not.toBe(before.pid);
    expect((await run('memcached/0', 'stats'))['limit-maxbytes']).toBe(String(64 * 1024 * 1024));
    expect(workload(await status(M), 'memcached/0')).toBe('active ready on port 11211: 64 MB, 1024 connections');
  }, 200_000); // a 2 m wait

  it('debug=true makes memcached verbose in place and its output reaches debug-log; false makes it quiet again', async () => {
    const { pid } = await stats();
    await ok(['config', 'memcached', 'debug=true', '-m', M]);
    await settle();
    expect(await stats()).toMatchObject({ verbosity: '2', pid });
    expect(await cache('op=set', 'key=traced', 'value=1')).toEqual({ output: 'STORED' });
    // Output reaches debug-log at memcached's next hook: update-status, made frequent here.
    await ok(['model-config', '-m', M, 'update-status-hook-interval=2s']);
    try {
      const deadline = Date.now() + 30_000;
      while (!(await log()).some((l) => /memcached\/0.* memcached: <\d+ set traced 0 0 1$/.test(l)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1000));
      expect((await log()).filter((l) => /memcached: [<>]\d+ (set traced|STORED)/.test(l)).length).toBeGreaterThanOrEqual(2);
    } finally {
      await ok(['model-config', '-m', M, 'update-status-hook-interval=5m']);
    }

    await ok(['config', 'memcached', 'debug=false', '-m', M]);
    await settle();
    expect(await stats()).toMatchObject({ verbosity: '0', pid });
    expect(await cache('op=set', 'key=untraced', 'value=1')).toEqual({ output: 'STORED' });
    const journal = await ok(['exec', '-m', M, '--unit', 'memcached/0', '--', 'journalctl -u memcached -o cat --no-pager']);
    expect(journal).toContain('set traced');
    expect(journal).not.toContain('untraced');
  }, 360_000); // two 2 m waits and a 30 s poll of the log

  it('a bad value blocks naming it, and memcached keeps serving on its last good config', async () => {
    expect(await cache('op=set', 'key=survivor', 'value=still here')).toEqual({ output: 'STORED' });
    const { pid } = await stats();
    await ok(['config', 'memcached', 'size=0', '-m', M]);
    await until(M, 'memcached blocked', (s) => workload(s, 'memcached/0') === 'blocked size=0 is too small: give memcached at least 1 (MB)');
    await settle();
    expect(await cache('op=get', 'key=survivor')).toEqual({ output: 'still here' });
    expect(await stats()).toMatchObject({ pid, limit_maxbytes: String(64 * 1024 * 1024) });
    await ok(['config', 'memcached', 'size=64', '-m', M]);
    await until(M, 'memcached active again', (s) => workload(s, 'memcached/0') === 'active ready on port 11211: 64 MB, 1024 connections');
    expect((await stats()).pid).toBe(pid);
  }, 240_000); // a 2 m wait between two 30 s waits
});
