import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LXC_CONTROLLER, ROOT, canRunContainers, lxcModel, ok, sigil } from './harness.ts';
import { canRun } from '../tests/ci.ts';

// `sigil drill failover` (issue 18) on real containers with a PostgreSQL-backed stack: the
// source model holds a database with rows, backed up on a schedule into the controller's
// backup store; the drill rebuilds the stack on a fresh model, restores the newest snapshot
// from the store there (not the rows added since), verifies it and prints the recovery time
// by phase. The rebuilt database must have the snapshot's rows.
const INSTALL = '10m';
const PSQL = (sql: string, db = 'postgres') => `port=$(pg_lsclusters -h | awk 'NR==1 {print $3}'); psql -X -At -U postgres -p "$port" -d ${db} -c "${sql}"`;

describe.skipIf(!canRun(canRunContainers(), 'root on Linux (LXC containers)'))('sigil drill failover (real containers)', () => {
  const work = mkdtempSync(join(tmpdir(), 'sigil-drill-e2e-'));
  const bundle = join(work, 'stack.yaml');
  let src: string;
  const target = `drill-${process.pid}`;

  beforeAll(async () => {
    writeFileSync(bundle, `applications:\n  postgresql:\n    charm: ${join(ROOT, 'charms', 'postgresql')}\n    num_units: 1\n`);
    src = await lxcModel('drill-src');
    await ok(['deploy', bundle, '-m', src, '--timeout', INSTALL], { timeoutMs: 700_000 });
    await ok(['exec', '-m', src, '--unit', 'postgresql/0', '--', PSQL('CREATE DATABASE talks')]);
    await ok(['exec', '-m', src, '--unit', 'postgresql/0', '--', PSQL("CREATE TABLE talk (id int PRIMARY KEY, title text); INSERT INTO talk SELECT g, 'talk ' || g FROM generate_series(1, 250) g", 'talks')]);
    // The scheduled backup lands in the store; rows added after it are not in any snapshot.
    await ok(['backup-store', '-c', LXC_CONTROLLER, '--local', join(work, 'store')]);
    await ok(['schedule', 'add', 'nightly', '-m', src, '--unit', 'postgresql/leader', '--action', 'backup', '--every', '1d']);
    await ok(['schedule', 'run', 'nightly', '-m', src]);
    await ok(['exec', '-m', src, '--unit', 'postgresql/0', '--', PSQL("INSERT INTO talk SELECT g, 'late ' || g FROM generate_series(251, 260) g", 'talks')]);
  }, 800_000);

  afterAll(async () => {
    await sigil(['destroy-model', `${LXC_CONTROLLER}:${target}`, '--yes']);
    rmSync(work, { recursive: true, force: true });
  }, 300_000);

  it('refuses bad input with a hint', async () => {
    const none = await sigil(['drill', 'failover', '--to-model', target, '-m', src]);
    expect(none.stderr).toMatch(/give the stack as --bundle FILE or as --spec SPEC --stage STAGE[\s\S]*hint:/);
    const existing = await sigil(['drill', 'failover', '--bundle', bundle, '--to-model', src.split(':')[1]!, '-m', src]);
    expect(existing.stderr).toMatch(/already exists[\s\S]*hint: a drill rebuilds into a fresh model/);
  });

  it('rebuilds the stack on a fresh model with the latest data and prints the recovery time by phase', async () => {
    const r = await sigil(['drill', 'failover', '--bundle', bundle, '--to-model', target, '-m', src, '--timeout', INSTALL], { timeoutMs: 900_000 });
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    console.log(r.stdout);
    expect(r.stdout).toMatch(/Failover drill .* -> .*: passed/);
    for (const phase of ['backup', 'add-model', 'deploy', 'restore', 'verify']) expect(r.stdout).toMatch(new RegExp(`^  ${phase}\\s+\\d`, 'm'));
    expect(r.stdout).toMatch(/^  backup\s+.*postgresql: snapshot \S+ of \S+ from the backup store/m);
    expect(r.stdout).toMatch(/^  restore\s+.*postgresql from snapshot \S+/m);
    expect(r.stdout).toMatch(/postgresql: 1 databases with the same tables \(talks:1\)/);
    expect(r.stdout).toMatch(/recovery time \(add-model to verified\): \d/);
    const rows = await ok(['exec', '-m', `${LXC_CONTROLLER}:${target}`, '--unit', 'postgresql/0', '--', PSQL('SELECT count(*), max(title) FROM talk', 'talks')]);
    expect(rows.trim()).toBe('250|talk 99');
  }, 900_000);
});
