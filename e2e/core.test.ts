import { describe, expect, it, beforeAll } from 'vitest';
import { join } from 'node:path';
import { CHARMS, freshModel, hookLines, hooks, ok, sigil, status, unit, until, workload } from './harness.ts';

const src = join(CHARMS, 'source');
const sink = join(CHARMS, 'sink');

describe('deploy, relate, configure', () => {
  let m: string;
  beforeAll(async () => {
    m = await freshModel('core');
    await ok(['deploy', src, '-m', m, '-n', '1', '--config', 'token=abc']);
    await ok(['deploy', sink, 'sink', '-m', m, '-n', '2']);
    await ok(['integrate', 'source', 'sink', '-m', m]);
  });

  it('delivers relation data from unit and application bags', async () => {
    const s = await until(m, 'sinks to receive the token', (s) =>
      ['sink/0', 'sink/1'].every((u) => workload(s, u) === 'active token=abc app-token=abc'));
    expect(s.applications.source?.['application-status'].current).toBe('active');
    expect(s.applications.source?.['charm-version']).toBe('src-1.0');
    expect(s.applications.source?.version).toBe('src-1.0');
    expect(unit(s, 'source/0')?.leader).toBe(true);
    expect(unit(s, 'source/0')?.['open-ports']).toEqual(['8080/tcp']);
    expect(s.applications.sink?.relations?.input).toEqual([{ 'related-application': 'source', interface: 'token', scope: 'global' }]);
    expect(s.applications.sink?.relations?.cluster).toEqual([{ 'related-application': 'sink', interface: 'sink-peers', scope: 'global' }]);
  });

  it('runs hooks in Juju order', async () => {
    await until(m, 'sink/1 to settle', (s) => workload(s, 'sink/1').startsWith('active'));
    const seq = await hooks(m, 'sink/1');
    const pos = (h: string) => seq.indexOf(h);
    expect(seq[0]).toBe('install');
    expect(pos('cluster-relation-created')).toBeGreaterThan(pos('install'));
    expect(pos('leader-settings-changed')).toBeGreaterThan(pos('cluster-relation-created'));
    expect(pos('config-changed')).toBeGreaterThan(pos('leader-settings-changed'));
    expect(pos('start')).toBe(pos('config-changed') + 1);
    expect(pos('input-relation-joined')).toBeGreaterThan(pos('start'));
    // The next hook of that relation is -changed; other relations' hooks may run in between.
    const input = seq.filter((h) => h.startsWith('input-relation-'));
    expect(input[input.indexOf('input-relation-joined') + 1]).toBe('input-relation-changed');
    expect(seq).not.toContain('leader-elected');
    const leaderSeq = await hooks(m, 'sink/0');
    expect(leaderSeq).toContain('leader-elected');
    // The remote application's bag change arrives with an empty JUJU_REMOTE_UNIT.
    expect((await hookLines(m, 'sink/0')).some((l) => l.startsWith('input-relation-changed remote= app=source'))).toBe(true);
  });

  it('sets, shows and resets config, and charms see the change', async () => {
    await ok(['config', 'source', 'token=xyz', '-m', m]);
    expect((await ok(['config', 'source', 'token', '-m', m])).trim()).toBe('xyz');
    await until(m, 'the new token to reach the sinks', (s) => workload(s, 'sink/0') === 'active token=xyz app-token=xyz');
    const doc = JSON.parse(await ok(['config', 'source', '-m', m, '--format', 'json'])) as { settings: Record<string, { source: string; value?: unknown }> };
    expect(doc.settings.token).toMatchObject({ source: 'user', value: 'xyz' });
    expect(doc.settings.replicas).toMatchObject({ source: 'default', value: 1 });
    await ok(['config', 'source', '--reset', 'token', '-m', m]);
    expect((await ok(['config', 'source', 'token', '-m', m])).trim()).toBe('');
  });

  it('refuses bad input with a hint and changes nothing', async () => {
    const before = await status(m);
    const cases: [string[], RegExp][] = [
      [['config', 'source', 'nope=1', '-m', m], /unknown option "nope"/],
      [['config', 'source', 'replicas=many', '-m', m], /replicas/],
      [['integrate', 'source:nothing', 'sink', '-m', m], /nothing/],
      [['integrate', 'source', 'source', '-m', m], /relation/],
      [['remove-unit', 'sink/99', '-m', m, '--yes'], /not found/],
      [['remove-application', 'ghost', '-m', m, '--yes'], /not found/],
      [['deploy', join(CHARMS, 'does-not-exist'), '-m', m], /does not exist/],
      [['run', 'source/0', 'echo', '-m', m], /value/],
      [['run', 'source/0', 'echo', 'value=1', 'extra=2', '-m', m], /extra|additional/i],
      [['deploy', src, '-m', m], /already exists/],
    ];
    for (const [args, re] of cases) {
      const r = await sigil(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(re);
      expect(r.stderr, args.join(' ')).toMatch(/hint: /);
    }
    const after = await status(m);
    expect(Object.keys(after.applications).sort()).toEqual(Object.keys(before.applications).sort());
    expect(Object.keys(after.applications.sink?.units ?? {}).sort()).toEqual(Object.keys(before.applications.sink?.units ?? {}).sort());
  });

  it('runs commands and actions in a hook context', async () => {
    expect((await ok(['exec', '-m', m, '--unit', 'sink/0', '--', 'relation-ids', 'input'])).trim()).toMatch(/^input:\d+$/);
    const multi = await ok(['exec', '-m', m, '--application', 'sink', '--', 'echo', 'hi']);
    expect(multi).toMatch(/sink\/0:/);
    expect(multi).toMatch(/sink\/1:/);
    const out = await ok(['run', 'source/0', 'echo', 'value=hi', '-m', m]);
    expect(out).toMatch(/value: hi/);
    expect(out).toMatch(/unit: source\/0/);
    const failed = await sigil(['run', 'source/0', 'fail', '-m', m]);
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toMatch(/failed on purpose/);
  });

  it('prints a Juju-style status table', async () => {
    const table = await ok(['status', '-m', m, '--relations']);
    expect(table).toMatch(/^Model\s+Controller\s+Cloud\/Region\s+Version/m);
    expect(table).toMatch(/^App\s+Version\s+Status\s+Scale\s+Charm/m);
    expect(table).toMatch(/^source\/0\*\s+active\s+idle/m);
    expect(table).toMatch(/^Machine\s+State\s+Address/m);
    expect(table).toMatch(/source:output\s+sink:input\s+token\s+regular/);
  });
});
