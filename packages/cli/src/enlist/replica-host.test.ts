import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { installAwayReplica, runtimeModules, storeAddress, uninstallScript } from './replica-host.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

describe('a replica on another host', () => {
  const base = { name: 'c', host: '127.0.0.1', port: 17070, provider: 'local-process' as const, adminTokenHash: '0'.repeat(64), octet: 20 };
  const opts = (store?: string) => ({
    dir: '/nonexistent', replica: 1, config: { ...base, ...(store ? { store: { url: store } } : {}) },
    ssh: { acceptHostKey: false }, progress: () => {}, joined: () => Promise.resolve(),
  });

  it.each([
    ['postgresql://sigil@127.0.0.1:5432/sigil', /the store at 127\.0\.0\.1:5432 is on this host's loopback, which 10\.9\.9\.9 cannot reach/],
    ['postgresql://sigil@localhost/sigil', /the store at localhost:5432 is on this host's loopback/],
    ['postgresql://sigil@[::1]:6000/sigil', /the store at ::1:6000 is on this host's loopback/],
  ])('refuses a store at %s before connecting anywhere', async (url, why) => {
    const e = await installAwayReplica('ssh:root@10.9.9.9', opts(url)).catch((x: Error & { hint?: string }) => x);
    expect((e as Error).message).toMatch(why);
    expect((e as { hint?: string }).hint).toContain('--store postgresql://USER@ADDRESS/DB');
  });

  it('refuses a controller without a PostgreSQL store', async () => {
    await expect(installAwayReplica('ssh:root@10.9.9.9', opts())).rejects.toThrow(/keeps its model in SQLite/);
  });

  it('reads the store\'s host and port, with PostgreSQL\'s default port', () => {
    expect(storeAddress('postgresql://u@db.example:6432/x')).toEqual({ host: 'db.example', port: 6432 });
    expect(storeAddress('postgresql://u@10.0.0.5/x')).toEqual({ host: '10.0.0.5', port: 5432 });
  });

  it('ships the modules the controller loads at run time: pg with its dependencies, and only better-sqlite3\'s compiled module and JavaScript', () => {
    const files = runtimeModules(root);
    const names = files.map((f) => f.slice(f.lastIndexOf('node_modules/') + 'node_modules/'.length));
    for (const n of ['pg', 'pg-protocol', 'pg-types', 'pg-pool', 'bindings', 'better-sqlite3/lib', 'better-sqlite3/build/Release/better_sqlite3.node']) expect(names).toContain(n);
    expect(names.some((n) => n.startsWith('prebuild-install') || n === 'better-sqlite3' || n.includes('better-sqlite3/deps'))).toBe(false);
    for (const f of files) expect(existsSync(f), f).toBe(true);
  });

  it('uninstalls only what it put on the host', () => {
    const script = uninstallScript(2);
    expect(script).toContain('/var/lib/sigil-controller/supervisor-2.pid');
    const removed = /^rm -rf (.*)$/m.exec(script)![1]!.split(' ');
    expect(removed).toEqual(['/var/lib/sigil-controller', '/opt/sigil-controller', '/opt/sigil-controller.new']);
  });
});
