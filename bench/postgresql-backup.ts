// A scheduled backup of a large PostgreSQL database, end to end: the charm's backup action
// (pg_dump), the dump streamed off the LXC machine, kept in a restic repository on the host;
// then a second run after a small change, which restic stores incrementally. Prints the time
// of each run, the dump's size and the bytes restic added. Size: SIGIL_BENCH_PG_MB (default
// 1024, the 1 GB of table data). Needs root on Linux (LXC); skips otherwise.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, withController } from './lib.ts';

if (process.getuid?.() !== 0 || process.platform !== 'linux') {
  console.log('postgresql-backup: skipped (LXC machines need root on Linux)');
  process.exit(0);
}

const mb = Number(process.env.SIGIL_BENCH_PG_MB ?? '1024');
// About 101 bytes of heap per row (two md5 texts and an int, with tuple overhead; measured:
// 7,895,160 rows made 762 MiB).
const rows = Math.round((mb * 1024 * 1024) / 101);
const scratch = mkdtempSync(join(tmpdir(), 'sigil-bench-backup-'));
const c = withController('bench-backup', ['--provider', 'lxc']);
try {
  const model = 'pgb';
  c.run(['add-model', model]);
  c.run(['deploy', join(ROOT, 'charms', 'postgresql'), '-m', model]);
  c.run(['wait', '-m', model, '--timeout', '15m']);
  const psql = (db: string, sql: string) => c.run(['exec', '-m', model, '--unit', 'postgresql/0', '--timeout', '60m', '--', `psql -U postgres -At -d ${db} -c "${sql}"`]).trim();
  psql('postgres', 'CREATE DATABASE bench');
  let t = performance.now();
  psql('bench', `CREATE TABLE big AS SELECT g AS id, md5(g::text) AS a, md5((g * 7)::text) AS b FROM generate_series(1, ${rows}) g`);
  const bytes = Number(psql('bench', "SELECT pg_total_relation_size('big')"));
  console.log(`postgresql-backup: ${rows} rows, ${(bytes / 1024 ** 2).toFixed(0)} MiB of table data, made in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  // Baseline in the same run: pg_dump alone, on the machine, to a local file (no copy, no restic).
  t = performance.now();
  c.run(['exec', '-m', model, '--unit', 'postgresql/0', '--timeout', '60m', '--', 'pg_dump -U postgres -p "$(pg_lsclusters -h | awk \'NR==1 {print $3}\')" --format=custom --compress=0 -f /var/tmp/baseline.dump bench && rm -f /var/tmp/baseline.dump']);
  const baseS = (performance.now() - t) / 1000;
  console.log(`postgresql-backup baseline: pg_dump alone on the machine ${baseS.toFixed(1)} s`);

  const pw = join(scratch, 'pw');
  writeFileSync(pw, 'bench-password\n', { mode: 0o600 });
  c.run(['backup-store', '--restic', join(scratch, 'repo'), '--password-file', pw]);
  c.run(['schedule', 'add', 'bench', '-m', model, '--unit', 'postgresql/leader', '--action', 'backup', '--param', 'database=bench', '--every', '1d', '--keep', '5']);
  for (const run of ['first', 'second (after 1,000 rows changed)'] as const) {
    if (run !== 'first') psql('bench', 'UPDATE big SET a = md5(a) WHERE id % 1000 = 0 AND id <= 1000000');
    t = performance.now();
    const out = JSON.parse(c.run(['schedule', 'run', 'bench', '-m', model, '--format', 'json'])) as { 'last-status': string; 'last-message': string };
    const s = (performance.now() - t) / 1000;
    if (out['last-status'] !== 'completed') throw new Error(`${run} backup failed: ${out['last-message']}`);
    const m = /\((\d+) bytes, (\d+) added/.exec(out['last-message']);
    console.log(`postgresql-backup ${run}: ${s.toFixed(1)} s end to end (pg_dump, copy off the machine, restic); dump ${(Number(m?.[1]) / 1024 ** 2).toFixed(1)} MiB, restic added ${(Number(m?.[2]) / 1024 ** 2).toFixed(2)} MiB; ratio to pg_dump alone ${(s / baseS).toFixed(2)}`);
  }
} finally {
  c.close();
  rmSync(scratch, { recursive: true, force: true });
}
