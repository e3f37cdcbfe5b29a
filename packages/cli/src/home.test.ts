// controllers.yaml and accounts.yaml are changed under a lock, each change applied to the
// file as it is when the lock is held (two CLIs bootstrapping at once lost an entry before).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { Home } from './home.ts';

let root: string;
let home: Home;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sigil-home-'));
  home = new Home({ SIGIL_HOME: root });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const entry = (dir: string) => ({ endpoint: 'http://127.0.0.1:1', dir, provider: 'local-process', 'current-model': 'default' });

describe('Home updates', () => {
  it('wait for another process holding the lock, then apply the change to what it wrote', async () => {
    home.updateControllers((f) => (f.controllers.first = entry('/a')));
    const lock = join(root, 'controllers.yaml.lock');
    writeFileSync(lock, '');
    // Another CLI: holds the lock, adds its controller, then lets go.
    const other = spawn('sh', ['-c', `sleep 0.3; printf 'controllers:\\n  first: {endpoint: "http://127.0.0.1:1", dir: /a, provider: local-process, current-model: default}\\n  other: {endpoint: "http://127.0.0.1:2", dir: /b, provider: local-process, current-model: default}\\n' > ${join(root, 'controllers.yaml')}; rm ${lock}`]);
    const exited = new Promise((resolve) => other.on('exit', resolve));
    const started = Date.now();
    home.updateControllers((f) => {
      f.controllers.mine = entry('/c');
      f['current-controller'] = 'mine';
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await exited;
    const f = YAML.parse(readFileSync(join(root, 'controllers.yaml'), 'utf8')) as { controllers: Record<string, unknown>; 'current-controller': string };
    expect(Object.keys(f.controllers).sort()).toEqual(['first', 'mine', 'other']);
    expect(f['current-controller']).toBe('mine');
    expect(existsSync(lock)).toBe(false);
  });

  it('take over a lock left by a process that died holding it', () => {
    const lock = join(root, 'accounts.yaml.lock');
    writeFileSync(lock, '');
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(lock, old, old);
    home.updateAccounts((a) => (a.controllers.x = { user: 'admin', token: 't' }));
    expect(home.accounts().controllers.x).toEqual({ user: 'admin', token: 't' });
    expect(existsSync(lock)).toBe(false);
  });
});
