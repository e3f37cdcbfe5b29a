import { describe, expect, it, beforeAll } from 'vitest';
import { cpSync, existsSync, appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { CHARMS, ROOT, freshModel, hookLines, ok, sigil, status, unit, until, workload } from './harness.ts';

const run = promisify(execFile);

// TypeScript charms end to end on the local-process provider: scaffold, test, pack,
// deploy the archive, hook tools in process, relation rules, holistic batches.
const work = (() => {
  mkdirSync(join(ROOT, '.sigil-test'), { recursive: true });
  return mkdtempSync(join(ROOT, '.sigil-test', 'charm-sdk-'));
})();

describe('TypeScript charms', () => {
  let m: string;
  beforeAll(async () => {
    m = await freshModel('sdk');
  });

  it('charm init scaffolds a charm whose own tests pass; pack makes an archive deploy accepts', async () => {
    const dir = join(work, 'hello');
    const init = await ok(['charm', 'init', 'hello', '--path', dir]);
    expect(init).toContain('Created charm "hello"');
    expect(existsSync(join(dir, 'dist', 'charm.mjs'))).toBe(true);
    // The scaffold's test runs as a charm author runs it (it lives in the Sigil tree here),
    // with its own limit. Never synchronously: a nested run of a minute or more would hold
    // this worker's event loop past vitest's 60 s RPC deadline, which fails the whole run.
    const { stdout: vitest } = await run(join(ROOT, 'node_modules', '.bin', 'vitest'), ['run', '--root', dir], { encoding: 'utf8', cwd: dir, env: { ...process.env, CI: '1' }, timeout: 120_000 });
    expect(vitest).toMatch(/4 passed/);
    const archive = join(work, 'hello.charm');
    expect(await ok(['charm', 'pack', dir, '-o', archive])).toContain('Packed "hello"');
    expect(await ok(['deploy', archive, '-m', m])).toContain('Deployed "hello"');
    await ok(['wait', '-m', m, '--timeout', '60s']);
    const s = await status(m);
    expect(workload(s, 'hello/0')).toBe('active hello on port 8080');
    expect(unit(s, 'hello/0')?.['open-ports']).toEqual(['8080/tcp']);
    const greet = JSON.parse(await ok(['run', 'hello/0', 'greet', 'name=Ada', '-m', m, '--format', 'json'])) as Record<string, unknown>;
    expect(greet.message).toBe('hello, Ada');
  }, 300_000); // the scaffold's own tests (up to 2 m), pack, deploy and a 60 s wait

  it('a bad config value blocks the unit with the reason and keeps the last good ports', async () => {
    await ok(['config', 'hello', 'port=80', '-m', m]);
    const s = await until(m, 'hello blocked', (x) => workload(x, 'hello/0').startsWith('blocked'));
    expect(workload(s, 'hello/0')).toBe('blocked port 80 is out of range; use 1024-65535');
    expect(unit(s, 'hello/0')?.['open-ports']).toEqual(['8080/tcp']);
    await ok(['config', 'hello', 'port=9001', '-m', m]);
    const back = await until(m, 'hello active on 9001', (x) => workload(x, 'hello/0') === 'active hello on port 9001');
    expect(unit(back, 'hello/0')?.['open-ports']).toEqual(['9001/tcp']);
  });

  it('a charm breaking the relation data rules fails its hook with the rule named', async () => {
    const dir = join(work, 'rude');
    cpSync(join(work, 'hello'), dir, { recursive: true });
    writeFileSync(join(dir, 'metadata.yaml'), 'name: rude\nsummary: s\ndescription: d\nrequires:\n  upstream:\n    interface: http\n');
    writeFileSync(
      join(dir, 'src', 'charm.ts'),
      `import { Charm } from '@sigil/charm-sdk';\nimport { spec } from './charm.gen.ts';\nconst charm = new Charm(spec);\ncharm.on.relationChanged('upstream', async (_ctx, ev) => ev.relation.unit(ev.remoteUnit!).update({ mine: 'now' }));\nexport default charm;\n`,
    );
    writeFileSync(join(dir, 'src', 'charm.test.ts'), '');
    await ok(['deploy', dir, '-m', m]);
    await ok(['integrate', 'rude:upstream', 'hello:website', '-m', m]);
    const s = await until(m, 'rude in error', (x) => unit(x, 'rude/0')?.['workload-status'].current === 'error');
    expect(unit(s, 'rude/0')?.['workload-status'].message).toBe('hook failed: "upstream-relation-changed"');
    const log = await ok(['debug-log', '-m', m, '--replay', '--no-tail', '-i', 'rude/0', '-l', 'ERROR']);
    expect(log).toMatch(/upstream-relation-changed failed: cannot write the unit bag of hello\/0 on relation upstream:\d+: it belongs to the other side of the relation/);
    expect(log).toMatch(/hint: write your own bag/);
    await ok(['remove-application', 'rude', '-m', m, '--yes']).catch(() => ok(['remove-application', 'rude', '-m', m]));
  }, 90_000);

  it('holistic mode: one reconcile for a run of relation events, same result as per-event dispatch', async () => {
    const dir = join(work, 'fanout-provider');
    cpSync(join(ROOT, 'bench', 'charms', 'fanout-provider'), dir, { recursive: true });
    appendFileSync(join(dir, 'metadata.yaml'), 'sigil:\n  holistic: true\n');
    await ok(['deploy', dir, '-m', m]);
    await ok(['deploy', join(ROOT, 'bench', 'charms', 'fanout-client'), '-n', '6', '-m', m]);
    await ok(['wait', '-m', m, '--timeout', '90s']);
    await ok(['integrate', 'fanout-provider', 'fanout-client', '-m', m]);
    await ok(['wait', '-m', m, '--timeout', '90s']);
    expect(workload(await status(m), 'fanout-provider/0')).toBe('active 6 clients allowed');
    const log = await ok(['debug-log', '-m', m, '--replay', '--no-tail', '-i', 'fanout-provider/0', '-l', 'INFO']);
    const ran = log.split('\n').filter((l) => /ran "[^"]+" hook/.test(l)).map((l) => /ran "([^"]+)"/.exec(l)![1]!);
    expect(ran).toContain('reconcile');
    // Classic dispatch runs joined + changed per client unit (12 hooks) after created.
    const relationHooks = ran.filter((h) => h === 'reconcile' || h.startsWith('feed-relation-'));
    expect(relationHooks.length).toBeLessThan(8);
    const allowed = JSON.parse(await ok(['show-unit', 'fanout-client/0', '-m', m, '--format', 'json'])) as Record<string, { 'relation-info': { 'related-units': Record<string, { data: Record<string, string> }> }[] }>;
    const seen = allowed['fanout-client/0']!['relation-info'][0]!['related-units']['fanout-provider/0']!.data['allowed-units']!.split(' ').sort();
    expect(seen).toEqual(['fanout-client/0', 'fanout-client/1', 'fanout-client/2', 'fanout-client/3', 'fanout-client/4', 'fanout-client/5']);
  }, 300_000); // two 90 s waits

  it('an action queued while a hook runs runs exactly once', async () => {
    await ok(['deploy', join(CHARMS, 'source'), '-m', m]);
    await ok(['wait', '-m', m, '--timeout', '60s']);
    await ok(['config', 'source', 'sleep=3', '-m', m]);
    await until(m, 'config-changed running', (x) => unit(x, 'source/0')?.['juju-status'].message === 'running config-changed hook');
    const out = JSON.parse(await ok(['run', 'source/0', 'echo', 'value=once', '-m', m, '--format', 'json'])) as Record<string, unknown>;
    expect(out.value).toBe('once');
    await ok(['wait', '-m', m, '--timeout', '60s']);
    // Not a synchronisation: an observation window in which a second run would show up.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await hookLines(m, 'source/0')).filter((l) => l.startsWith('actions/echo'))).toHaveLength(1);
  }, 240_000); // two 60 s waits and a 30 s one

  it('a broken charm source is refused at deploy with the file and line', async () => {
    const dir = join(work, 'broken');
    cpSync(join(work, 'hello'), dir, { recursive: true });
    writeFileSync(join(dir, 'src', 'charm.ts'), "import { Charm } from '@sigil/charm-sdk';\nexport default new Charm(;\n");
    const r = await sigil(['deploy', dir, 'broken', '-m', m]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ERROR cannot build charm at .*broken: .*src\/charm.ts:2:\d+: /);
    expect(r.stderr).toMatch(/hint: fix src\/charm.ts/);
    expect((await status(m)).applications.broken).toBeUndefined();
  });
});
