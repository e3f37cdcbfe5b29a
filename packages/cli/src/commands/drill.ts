import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { OperationDoc } from '@sigil/api';
import { SigilError, formatDuration, parseDuration } from '@sigil/core';
import type { Client } from '../client.ts';
import type { Ctx } from '../context.ts';
import { scpArgs } from './ssh.ts';

interface DrillOpts {
  toModel: string;
  model?: string;
  bundle?: string;
  spec?: string;
  stage?: string;
  timeout: string;
  format?: string;
  freshDump?: boolean;
}

/** Where a database's latest data comes from: a snapshot in the backup store, or a dump just taken. */
type Latest = { kind: 'snapshot'; id: string; created: string } | { kind: 'dump'; path: string };

interface Phase {
  name: string;
  ms: number;
  note: string;
}

/** Each database (not the templates nor postgres) with its count of user tables, as `name:count` lines. */
const VERIFY_SQL = [
  'port=$(pg_lsclusters -h | awk \'NR==1 {print $3}\')',
  'q() { psql -X -At -U postgres -p "$port" "$@"; }',
  'for d in $(q -d postgres -c "SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> \'postgres\'"); do echo "$d:$(q -d "$d" -c \'SELECT count(*) FROM pg_stat_user_tables\')"; done',
].join('\n');

/** The charms whose data a drill restores: the PostgreSQL charm's backup and restore actions. */
const DATA_CHARMS = new Set(['postgresql']);

/**
 * `sigil drill failover` (issue 18): rebuilds the source model's stack on a fresh model and
 * times each phase of the recovery. The latest data is a fresh dump from the source
 * model's database leaders (their charm's `backup` action), copied over and restored with
 * the `restore` action; then the checks run (the spec's verify phases, or with a bundle:
 * every unit settled and active, the same databases on both sides, exposed HTTP answering).
 * The latest data of each database is its newest snapshot in the backup store (what a
 * schedule copied off the unit: the drill works as a real failover would, from the store),
 * restored through the controller (`restore-unit --from-model`); without one, or with
 * `--fresh-dump`, a dump taken now from the source leader and copied over SSH. The source
 * model is only read from (the backup action writes a dump on its unit).
 */
export function registerDrill(program: Command, ctx: Ctx): void {
  const drill = program.command('drill').description('recovery drills (issue 18); see also `sigil chaos drill`');
  drill
    .command('failover')
    .description('rebuild the stack on a fresh model, restore the latest data into it, verify it and print the recovery time by phase')
    .requiredOption('--to-model <name>', 'the fresh model to rebuild into (must not exist)')
    .option('-m, --model <model>', 'the source model whose data is restored (default: current)')
    .option('--bundle <file>', 'the stack as a bundle')
    .option('--spec <spec>', 'the stack as a spec (its non-verify phases deploy, its verify phases check)')
    .option('--stage <stage>', 'the spec\'s stage')
    .option('--timeout <duration>', 'how long the rebuild may take to settle', '20m')
    .option('--fresh-dump', 'take a dump from the source now instead of the newest snapshot in the backup store')
    .option('--format <format>', 'tabular or json')
    .action(async (o: DrillOpts) => {
      if ((o.bundle === undefined) === (o.spec === undefined)) throw new SigilError('bad-request', 'give the stack as --bundle FILE or as --spec SPEC --stage STAGE', '`sigil drill failover --bundle bundles/conference.yaml --to-model drill`');
      if (o.spec !== undefined && o.stage === undefined) throw new SigilError('bad-request', '--spec needs --stage', '`sigil drill failover --spec ./specs --stage production --to-model drill`');
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(o.toModel)) throw new SigilError('bad-request', `invalid model name "${o.toModel}"`, 'use lower-case letters, digits and hyphens');
      const timeoutMs = parseDuration(o.timeout);
      const src = ctx.client(o.model);
      const dst = ctx.client(`${src.controller}:${o.toModel}`);
      const models = await src.call('GET /api/models');
      if (models.some((m) => m.name === o.toModel)) throw new SigilError('already-exists', `model "${o.toModel}" already exists`, 'a drill rebuilds into a fresh model: give another --to-model, or `sigil destroy-model` it first');
      const srcStatus = await src.call('GET /api/models/:model/status');
      const dataApps = Object.entries(srcStatus.applications).filter(([, a]) => DATA_CHARMS.has(a['charm-name'])).map(([n]) => n);

      const phases: Phase[] = [];
      const timed = async <T>(name: string, fn: () => Promise<[T, string]>): Promise<T> => {
        ctx.info(`== ${name}`);
        const t0 = Date.now();
        const [v, note] = await fn();
        phases.push({ name, ms: Date.now() - t0, note });
        ctx.info(`-- ${name}: ${formatDuration(Date.now() - t0)}${note ? ` (${note})` : ''}`);
        return v;
      };
      const work = mkdtempSync(join(tmpdir(), 'sigil-drill-'));
      try {
        // The latest data of each database of the source model: its newest snapshot in the
        // backup store, else (or with --fresh-dump) a dump from its leader now.
        const latest = await timed('backup', async () => {
          const out = new Map<string, Latest>();
          const stored = o.freshDump || dataApps.length === 0 ? [] : (await src.call('GET /api/models/:model/snapshots')).snapshots;
          for (const app of dataApps) {
            const newest = stored.filter((x) => x.app === app).at(-1);
            if (newest) {
              out.set(app, { kind: 'snapshot', id: newest.id, created: newest.created });
              continue;
            }
            const op = await action(src, `${app}/leader`, 'backup', {}, timeoutMs);
            const path = String(op.results.path ?? '').replace(/\/+$/, '');
            if (!path.startsWith('/var/backups/')) throw new SigilError('internal', `${app}'s backup gave no path under /var/backups: ${JSON.stringify(op.results).slice(0, 200)}`);
            out.set(app, { kind: 'dump', path });
          }
          const note = (a: string, l: Latest) => (l.kind === 'snapshot' ? `${a}: snapshot ${l.id} of ${l.created} from the backup store` : `${a}: a dump taken now, ${l.path}`);
          return [out, dataApps.length ? dataApps.map((a) => note(a, out.get(a)!)).join(', ') : 'no database in the source model'];
        });
        const recoveryStart = Date.now();
        await timed('add-model', async () => {
          await dst.call('POST /api/models', { body: { name: o.toModel } });
          return [undefined, `${src.controller}:${o.toModel}`];
        });
        await timed('deploy', async () => {
          if (o.bundle !== undefined) {
            const { deployBundle } = await import('./bundle.ts');
            // The bundle's plan goes to stderr with the phases: stdout is the drill's report only.
            const quiet = Object.assign(Object.create(ctx) as Ctx, { out: (t: string) => ctx.info(t) });
            await deployBundle(quiet, dst, o.bundle, { overlay: [], progress: false, wait: true, timeout: o.timeout });
          } else {
            await runSpecPhases(ctx, dst, o.spec!, o.stage!, (p) => p !== 'verify');
          }
          await settle(dst, timeoutMs);
          return [undefined, ''];
        });
        await timed('restore', async () => {
          const notes: string[] = [];
          for (const [app, l] of latest) {
            if (!(await dst.call('GET /api/models/:model/status')).applications[app]) throw new SigilError('conflict', `the rebuilt stack has no application "${app}" to restore into`, 'the drill restores into the application of the same name');
            if (l.kind === 'snapshot') {
              const r = await dst.call('POST /api/models/:model/restore-unit', { body: { unit: `${app}/leader`, snapshot: l.id, fromModel: src.model } });
              if (r.operation.status !== 'completed') throw new SigilError('internal', `restoring snapshot ${l.id} into ${r.unit} ${r.operation.status}: ${r.operation.message}`, `see \`sigil show-task ${r.operation.id} -m ${dst.model}\``);
              notes.push(`${app} from snapshot ${l.id}`);
              continue;
            }
            const path = l.path;
            const base = path.split('/').pop()!;
            const target = `/var/tmp/sigil-drill-${base}`;
            await copy(src, `${app}/leader`, path, join(work, base));
            await copy(dst, join(work, base), `${app}/leader`, target, true);
            await action(dst, `${app}/leader`, 'restore', { path: target }, timeoutMs);
            notes.push(`${app} from ${base}`);
          }
          await settle(dst, timeoutMs);
          return [undefined, notes.join(', ') || 'no data to restore'];
        });
        const checks = await timed('verify', async () => {
          const done: string[] = [];
          if (o.spec !== undefined) {
            await runSpecPhases(ctx, dst, o.spec, o.stage!, (p) => p === 'verify');
            done.push('spec verify phases');
          }
          done.push(...(await verifyStack(dst, src, dataApps)));
          return [done, done.join('; ')];
        });
        const recoveryMs = Date.now() - recoveryStart;
        const report = { source: `${src.controller}:${src.model}`, target: `${src.controller}:${o.toModel}`, phases, recoveryMs, checks };
        if (o.format === 'json') ctx.out(JSON.stringify(report, null, 2));
        else {
          const w = Math.max(...phases.map((p) => p.name.length));
          ctx.out(`Failover drill ${report.source} -> ${report.target}: passed\n${phases.map((p) => `  ${p.name.padEnd(w)}  ${formatDuration(p.ms).padStart(7)}  ${p.note}`).join('\n')}\n  recovery time (add-model to verified): ${formatDuration(recoveryMs)}`);
        }
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
}

async function action(c: Client, unit: string, name: string, params: Record<string, unknown>, timeoutMs: number): Promise<OperationDoc> {
  const op = await c.call('POST /api/models/:model/actions', { body: { unit, name, params } });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await c.call('GET /api/models/:model/operations/:id', { params: { id: String(op.id) } });
    if (now.status === 'completed') return now;
    if (now.status === 'failed') throw new SigilError('internal', `action ${name} on ${now.unit} failed: ${now.message}`, `see \`sigil show-task ${op.id}\` and \`sigil debug-log --include ${now.unit}\``);
    if (Date.now() > deadline) throw new SigilError('timeout', `action ${name} on ${now.unit} did not finish in time`, `it goes on; see \`sigil show-task ${op.id}\``);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Copies between a unit (`app/leader` or `app/N`) and this host with the controller's SSH key (as `sigil scp -r`). */
async function copy(c: Client, from: string, to: string, target?: string, toUnit = false): Promise<void> {
  const resolve = async (t: string) => (t.endsWith('/leader') ? leaderOf(c, t.slice(0, -'/leader'.length)) : t);
  const address = async (unit: string) => (await c.call('GET /api/models/:model/ssh-address', { query: { target: unit } })).address;
  const words = toUnit ? [from, `${await resolve(to)}:${target!}`] : [`${await resolve(from)}:${to}`, target ?? to];
  const args = await scpArgs(join(c.entry.dir, 'ssh'), words, true, address);
  const r = spawnSync('scp', args, { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new SigilError('internal', `copying ${words.join(' -> ')} failed: ${(r.stderr || r.error?.message || '').trim().slice(0, 300)}`, 'the drill copies dumps over SSH: check `sigil ssh` reaches the units');
}

async function leaderOf(c: Client, app: string): Promise<string> {
  const s = await c.call('GET /api/models/:model/status');
  const leader = Object.entries(s.applications[app]?.units ?? {}).find(([, u]) => u.leader)?.[0];
  if (!leader) throw new SigilError('conflict', `application "${app}" has no leader yet`, 'wait for it to settle');
  return leader;
}

async function settle(c: Client, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const w = await c.call('GET /api/models/:model/wait', { query: { apps: '' } });
    if (w.errors.length > 0) throw new SigilError('conflict', `units in error: ${w.errors.map((e) => `${e.unit}: ${e.message}`).join('; ')}`, `see \`sigil status -m ${c.model}\``);
    if (w.settled) return;
    if (Date.now() > deadline) throw new SigilError('timeout', `the rebuilt model did not settle: ${w.busy.slice(0, 5).map((b) => `${b.unit} (${b.reason})`).join(', ')}`, `see \`sigil status -m ${c.model}\``);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The checks a bundle drill runs: every unit active, the source's databases present, exposed HTTP answering. */
async function verifyStack(dst: Client, src: Client, dataApps: string[]): Promise<string[]> {
  const s = await dst.call('GET /api/models/:model/status');
  const notActive = Object.values(s.applications).flatMap((a) => Object.entries(a.units ?? {})).filter(([, u]) => u['workload-status'].current !== 'active');
  if (notActive.length > 0) throw new SigilError('conflict', `verify: units not active: ${notActive.map(([n, u]) => `${n} (${u['workload-status'].current}: ${u['workload-status'].message ?? ''})`).join(', ')}`, `see \`sigil status -m ${dst.model}\``);
  const out = [`${Object.values(s.applications).reduce((n, a) => n + Object.keys(a.units ?? {}).length, 0)} units active`];
  for (const app of dataApps) {
    const list = async (c: Client) => {
      const [op] = await c.call('POST /api/models/:model/exec', { body: { units: [`${app}/leader`], command: VERIFY_SQL, timeoutMs: 60_000 } });
      const done = await action2(c, op!.id);
      return String(done.results.stdout ?? '').trim().split('\n').filter((l) => l && !l.startsWith('postgres:')).sort();
    };
    const [a, b] = [await list(src), await list(dst)];
    if (JSON.stringify(a) !== JSON.stringify(b)) throw new SigilError('conflict', `verify: ${app}'s databases differ: source ${a.join(', ') || '(none)'}, rebuilt ${b.join(', ') || '(none)'}`, 'see the restore action\'s output: `sigil show-task`');
    out.push(`${app}: ${a.length} databases with the same tables (${a.join(', ')})`);
  }
  for (const [name, a] of Object.entries(s.applications)) {
    if (!a.exposed) continue;
    for (const [u, doc] of Object.entries(a.units ?? {})) {
      const published = (doc['published-ports'] ?? []).map((p) => /^\*:(\d+)->(\d+)\/tcp$/.exec(p)).find((m) => m && (m[2] === '80' || m[2] === '8080'));
      if (!published) continue;
      const res = await fetch(`http://127.0.0.1:${published[1]}/`, { redirect: 'manual', signal: AbortSignal.timeout(15_000) });
      await res.body?.cancel();
      if (res.status >= 400) throw new SigilError('conflict', `verify: ${name} (${u}) answered HTTP ${res.status} on its published port`, `see \`sigil debug-log -m ${dst.model}\``);
      out.push(`${u} answers HTTP ${res.status}`);
    }
  }
  return out;
}

async function action2(c: Client, id: number): Promise<OperationDoc> {
  for (let i = 0; i < 240; i++) {
    const op = await c.call('GET /api/models/:model/operations/:id', { params: { id: String(id) } });
    if (op.status === 'completed' || op.status === 'failed') return op;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new SigilError('timeout', `task ${id} did not finish`);
}

/** Runs the spec's phases that `keep` selects against the target model. */
async function runSpecPhases(ctx: Ctx, dst: Client, spec: string, stageText: string, keep: (phase: string) => boolean): Promise<void> {
  const { checkStage, planSpec } = await import('../spec/plan.ts');
  const { fetchSpec } = await import('../spec/source.ts');
  const { workspaceAt } = await import('../spec/phases.ts');
  const { runSpec } = await import('../spec/run.ts');
  const stage = checkStage(stageText);
  const project = dst.model;
  const ws = workspaceAt(join(ctx.home.root, 'specs', project, ...stage.split('/')));
  const fetched = await fetchSpec(spec, ws.dir, (l) => ctx.info(l));
  const model = `${dst.controller}:${dst.model}`;
  const env: Record<string, string | undefined> = { ...process.env, SIGIL_STAGE: stage, MOJO_STAGE: stage, SIGIL_PROJECT: project, MOJO_PROJECT: project, SIGIL_MODEL: model };
  const plan = planSpec({ root: fetched.dir, stage, manifest: 'manifest', env });
  const phases = plan.phases.filter((p) => keep(p.phase));
  if (phases.length === 0) return;
  const timers = new Set<NodeJS.Timeout>();
  await runSpec({
    ctx, plan: { ...plan, phases }, ws, project, model, secretsDir: join(ctx.home.root, 'secrets', project, ...stage.split('/')), client: () => dst, env, dryRun: false,
    sigilCommand: [process.execPath, process.argv[1]!], sleep: (ms) => new Promise<void>((r) => timers.add(setTimeout(r, ms))),
  });
}
