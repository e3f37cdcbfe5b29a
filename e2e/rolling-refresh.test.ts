import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelStatusDoc } from '@sigil/api';
import { CHARMS, freshModel, ok, sigil, status, unit, workload } from './harness.ts';

// Rolling refresh (issue 18) on local-process machines with small bash charms: `rolling`
// (3 units, shows the REVISION file it runs in its status) behind `rolling-lb`, which logs
// every backend bag change with the `busy` key the controller shows it while a unit is
// drained. Batches go leader last, each unit drained around its upgrade-charm; a failing
// gate halts the roll-out with the rest on the old revision; resume and rollback finish or
// undo it; bad input changes nothing.

const work = mkdtempSync(join(tmpdir(), 'sigil-rolling-'));
/** A copy of the rolling charm whose REVISION file says `rev` (a different charm archive, so a new revision). */
function revision(rev: string, opts: { dropWebsite?: boolean } = {}): string {
  const dir = join(work, `rev-${rev}${opts.dropWebsite ? '-dropped' : ''}`);
  cpSync(join(CHARMS, 'rolling'), dir, { recursive: true, verbatimSymlinks: true });
  writeFileSync(join(dir, 'REVISION'), `${rev}\n`);
  if (opts.dropWebsite) writeFileSync(join(dir, 'metadata.yaml'), 'name: rolling\nsummary: s\ndescription: no website endpoint\n');
  return dir;
}

const revs = (s: ModelStatusDoc) => Object.fromEntries(['rolling/0', 'rolling/1', 'rolling/2'].map((u) => [u, workload(s, u)]));
const lines = async (m: string, u: string, file: string) => (await ok(['exec', '-m', m, '--unit', u, '--', 'cat', `../${file}`])).trim().split('\n');
const at = (line: string) => BigInt(/at=(\d+)/.exec(line)![1]!);

describe('sigil refresh --batch (local-process)', () => {
  let m: string;
  let leader: string;

  beforeAll(async () => {
    m = await freshModel('rolling');
    await ok(['deploy', revision('1'), 'rolling', '-n', '3', '-m', m]);
    await ok(['deploy', join(CHARMS, 'rolling-lb'), '-m', m]);
    await ok(['integrate', 'rolling-lb', 'rolling', '-m', m]);
    await ok(['wait', '-m', m, '--timeout', '3m']);
    const s = await status(m);
    leader = Object.entries(s.applications.rolling!.units!).find(([, u]) => u.leader)![0];
    expect(revs(s)).toEqual({ 'rolling/0': 'active rev=1', 'rolling/1': 'active rev=1', 'rolling/2': 'active rev=1' });
  }, 240_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('refuses bad input with a hint and changes nothing', async () => {
    const before = await status(m);
    const cases: [string[], RegExp, RegExp][] = [
      [['--batch', '0'], /invalid batch "0"/, /--batch 25%/],
      [['--batch', '150%'], /a share must be 1-100%/, /--batch 25%/],
      [['--gate', 'if then fi'], /the gate command is not valid shell/, /quote it whole/],
      [['--gate', ' '], /the gate command is empty/, /--gate/],
      [['--gate-http', 'ftp://example/'], /is not http or https/, /\{address\}/],
      [['--pause-between', 'soon'], /invalid duration "soon"/, /90s/],
    ];
    for (const [flags, message, hint] of cases) {
      const r = await sigil(['refresh', 'rolling', '--path', revision('9'), '-m', m, ...flags]);
      expect(r.code, flags.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(new RegExp(`hint:.*${hint.source}`));
    }
    const dropped = await sigil(['refresh', 'rolling', '--path', revision('9', { dropWebsite: true }), '--batch', '1', '-m', m]);
    expect(dropped.code).not.toBe(0);
    expect(dropped.stderr).toMatch(/the new charm drops endpoint "website" of "rolling", in use by relations to rolling-lb/);
    expect(dropped.stderr).toMatch(/hint: remove those relations first \(`sigil remove-relation rolling:website rolling-lb`\)/);
    const after = await status(m);
    expect(after.applications.rolling!['charm-rev']).toBe(before.applications.rolling!['charm-rev']);
    expect(after.applications.rolling!.rollout).toBeUndefined();
    expect(revs(after)).toEqual(revs(before));
  }, 120_000);

  it('rolls out one unit at a time, leader last, each drained on the balancer around its upgrade-charm', async () => {
    const r = await sigil(['refresh', 'rolling', '--path', revision('2'), '--batch', '1', '-m', m], { timeoutMs: 180_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Rolling "rolling" out to revision \d+ in 3 batches/);
    expect(r.stdout).toMatch(/Roll-out of "rolling" done in/);
    const s = await status(m);
    expect(revs(s)).toEqual({ 'rolling/0': 'active rev=2', 'rolling/1': 'active rev=2', 'rolling/2': 'active rev=2' });
    expect(s.applications.rolling!.rollout).toMatchObject({ status: 'done', batch: '3/3' });

    // Juju's order per unit: upgrade-charm, config-changed, start; batches one after the other, leader last.
    const upgraded: [string, bigint][] = [];
    const drains = await lines(m, 'rolling-lb/0', 'drains.log');
    for (const u of ['rolling/0', 'rolling/1', 'rolling/2']) {
      const log = await lines(m, u, 'hooks.log');
      const i = log.findIndex((l) => l.startsWith('upgrade-charm rev=2'));
      expect(i, log.join('\n')).toBeGreaterThan(0);
      expect(log.slice(i, i + 3).map((l) => l.split(' ')[0])).toEqual(['upgrade-charm', 'config-changed', 'start']);
      const t = at(log[i]!);
      upgraded.push([u, t]);
      // The balancer saw the unit busy before its upgrade and back (busy empty) after it.
      const mine = drains.filter((l) => l.startsWith(`${u} `));
      const busyBefore = mine.filter((l) => l.includes('busy=true ') && at(l) < t);
      const backAfter = mine.filter((l) => l.includes('busy= ') && at(l) > t);
      expect(busyBefore.length, mine.join('\n')).toBeGreaterThan(0);
      expect(backAfter.length, mine.join('\n')).toBeGreaterThan(0);
    }
    upgraded.sort((a, b) => (a[1] < b[1] ? -1 : 1));
    expect(upgraded[2]![0]).toBe(leader);
  }, 240_000);

  it('a failing gate halts after the first batch with the rest on the old revision; --resume finishes it', async () => {
    const r = await sigil(['refresh', 'rolling', '--path', revision('3'), '--batch', '1', '--gate', 'test -e ../gate-ok', '-m', m], { timeoutMs: 180_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/roll-out of "rolling" halted at batch 1\/3: gate failed on batch 1\/3: rolling\/\d: exit status 1/);
    expect(r.stderr).toMatch(/hint: fix the cause, then `sigil refresh rolling --resume`/);
    const s = await status(m);
    expect(s.applications.rolling!.rollout).toMatchObject({ status: 'halted', batch: '1/3', phase: 'gate-wait' });
    const moved = Object.entries(revs(s)).filter(([, w]) => w === 'active rev=3').map(([u]) => u);
    expect(moved).toHaveLength(1);
    expect(moved[0]).not.toBe(leader);
    expect(Object.values(revs(s)).filter((w) => w === 'active rev=2')).toHaveLength(2);
    expect(unit(s, moved[0]!)?.rollout).toBe('halted');
    const table = await ok(['status', '-m', m]);
    expect(table).toMatch(/Roll-out\s+Status\s+Direction\s+Batch\s+Phase/);
    expect(table).toMatch(/rolling\s+halted\s+refresh\s+1\/3\s+gate-wait/);

    await ok(['exec', '-m', m, '--application', 'rolling', '--', 'touch', '../gate-ok']);
    const resumed = await sigil(['refresh', 'rolling', '--resume', '-m', m], { timeoutMs: 180_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/done/);
    expect(revs(await status(m))).toEqual({ 'rolling/0': 'active rev=3', 'rolling/1': 'active rev=3', 'rolling/2': 'active rev=3' });
  }, 300_000);

  it('--rollback undoes a halted roll-out: every unit back on the old revision', async () => {
    const before = (await status(m)).applications.rolling!['charm-rev'];
    const r = await sigil(['refresh', 'rolling', '--path', revision('4'), '--batch', '2', '--gate', 'echo unhealthy >&2; exit 3', '-m', m], { timeoutMs: 180_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/gate failed on batch 1\/2: .*exit status 3 \(unhealthy\)/);
    expect(Object.values(revs(await status(m))).filter((w) => w === 'active rev=4')).toHaveLength(2);
    const back = await sigil(['refresh', 'rolling', '--rollback', '-m', m], { timeoutMs: 180_000 });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toMatch(/rolled back/);
    const s = await status(m);
    expect(revs(s)).toEqual({ 'rolling/0': 'active rev=3', 'rolling/1': 'active rev=3', 'rolling/2': 'active rev=3' });
    expect(s.applications.rolling!['charm-rev']).toBe(before);
    expect(s.applications.rolling!.rollout).toMatchObject({ status: 'rolled-back', direction: 'back' });
    for (const u of ['rolling/0', 'rolling/1', 'rolling/2']) expect(unit(s, u)?.['charm-rev']).toBeUndefined();
    const again = await sigil(['refresh', 'rolling', '--resume', '-m', m]);
    expect(again.stderr).toMatch(/the roll-out of "rolling" is rolled-back: nothing to resume/);
  }, 300_000);
});
