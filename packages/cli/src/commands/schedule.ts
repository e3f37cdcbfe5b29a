import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { SigilError, formatSize } from '@sigil/core';
import type { UnitSnapshot } from '@sigil/api';
import type { Ctx } from '../context.ts';
import { collect } from '../context.ts';
import { renderList } from '../render/output.ts';

/** Reads a secret from a file (trailing newline dropped) or an environment variable; never from argv. */
export function secretFrom(file: string | undefined, envName: string, what: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new SigilError('bad-request', `cannot read the ${what} from ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'give a readable file holding only the value');
    }
    const v = text.replace(/\r?\n$/, '');
    if (v === '') throw new SigilError('bad-request', `${file} is empty`, `put the ${what} in it`);
    return v;
  }
  const v = env[envName];
  return v === undefined || v === '' ? undefined : v;
}

function params(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new SigilError('bad-request', `"${p}" is not key=value`, 'give action parameters as --param key=value');
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

/** `sigil schedule add|list|remove|run`, `sigil backup-store`, `sigil restore-unit`. */
export function registerSchedule(program: Command, ctx: Ctx): void {
  const schedule = program.command('schedule').description('run actions on a schedule (backups copied off the unit into the backup store)');

  schedule
    .command('add')
    .description('run an action every interval, e.g. --unit postgresql/leader --action backup --every 6h')
    .argument('<name>', 'schedule name')
    .requiredOption('--unit <unit>', 'app/N, or app/leader (resolved at each run)')
    .requiredOption('--action <action>', "the charm's action")
    .requiredOption('--every <interval>', 'interval: 30m, 6h, 1d (at least 1m)')
    .option('--keep <n>', 'snapshots to keep in the backup store', '14')
    .option('--param <key=value>', 'action parameter (repeatable)', collect, [])
    .option('-m, --model <model>', 'model')
    .action(async (name: string, o: { unit: string; action: string; every: string; keep: string; param: string[]; model?: string }) => {
      const keep = /^\d+$/.test(o.keep) ? Number(o.keep) : NaN;
      if (!(keep >= 1)) throw new SigilError('bad-request', `--keep ${o.keep} is not a positive count`, 'give --keep N (default 14)');
      const c = ctx.client(o.model);
      const s = await c.call('POST /api/models/:model/schedules', { body: { name, unit: o.unit, action: o.action, params: params(o.param), every: o.every, keep } });
      ctx.out(`schedule ${s.name}: ${s.action} on ${s.unit} every ${s.every}, keeping ${s.keep}; first run ${s['next-run']}`);
    });

  schedule
    .command('list')
    .description('list schedules and their last run')
    .option('-m, --model <model>', 'model')
    .option('--format <format>', 'tabular, yaml or json')
    .action(async (o: { model?: string; format?: string }) => {
      const c = ctx.client(o.model);
      const { schedules } = await c.call('GET /api/models/:model/schedules');
      ctx.print({ schedules: Object.fromEntries(schedules.map((s) => [s.name, s])) }, o.format, () =>
        renderList(['Schedule', 'Unit', 'Action', 'Every', 'Keep', 'Next run', 'Last run', 'Status', 'Snapshot'], schedules.map((s) => [s.name, s.unit, s.action, s.every, String(s.keep), s['next-run'], s['last-run'] ?? '-', s.running ? 'running' : s['last-status'] || '-', s['last-snapshot'] || '-']), { empty: 'No schedules. Add one with `sigil schedule add NAME --unit APP/leader --action backup --every 6h`.' }));
    });

  schedule
    .command('remove')
    .description('remove a schedule (snapshots it made stay in the store)')
    .argument('<name>')
    .option('-m, --model <model>', 'model')
    .action(async (name: string, o: { model?: string }) => {
      const c = ctx.client(o.model);
      await c.call('DELETE /api/models/:model/schedules/:name', { params: { name } });
      ctx.out(`removed schedule ${name}`);
    });

  schedule
    .command('run')
    .description('run a schedule now and wait for its outcome')
    .argument('<name>')
    .option('-m, --model <model>', 'model')
    .option('--format <format>', 'tabular, yaml or json')
    .action(async (name: string, o: { model?: string; format?: string }) => {
      const c = ctx.client(o.model);
      const s = await c.call('POST /api/models/:model/schedules/:name/run', { params: { name } });
      ctx.print(s, o.format, () => `schedule ${s.name}: ${s['last-status']}: ${s['last-message']}`);
      if (s['last-status'] !== 'completed') process.exitCode = 1;
    });

  program
    .command('backup-store')
    .description('show or set where backups copied off units are kept: a local directory or a restic repository')
    .option('--local <dir>', 'a directory on the controller host')
    .option('--restic <repo>', 'a restic repository: a path on the controller host (or sftp:host:/path)')
    .option('--password-file <file>', 'the restic password (else $SIGIL_RESTIC_PASSWORD); never on the command line')
    .option('-c, --controller <name>', 'controller')
    .option('--format <format>', 'tabular, yaml or json')
    .action(async (o: { local?: string; restic?: string; passwordFile?: string; controller?: string; format?: string }) => {
      const { name, entry, token } = ctx.home.resolve(o.controller);
      const { Client } = await import('../client.ts');
      const c = new Client(name, entry, token, entry['current-model']);
      if (o.local === undefined && o.restic === undefined) {
        const { store } = await c.call('GET /api/backup-store');
        ctx.print({ store }, o.format, () => (store ? `${store.kind} ${store.location}` : 'No backup store. Set one with `sigil backup-store --local DIR` or `--restic REPO --password-file FILE`.'));
        return;
      }
      if (o.local !== undefined && o.restic !== undefined) throw new SigilError('bad-request', 'give --local or --restic, not both');
      const password = o.restic !== undefined ? secretFrom(o.passwordFile, 'SIGIL_RESTIC_PASSWORD', 'restic password') : undefined;
      const body = o.restic !== undefined ? { kind: 'restic', location: o.restic, ...(password !== undefined ? { password } : {}) } : { kind: 'local', location: o.local! };
      const { store } = await c.call('POST /api/backup-store', { body });
      ctx.out(`backup store: ${store.kind} ${store.location}`);
    });

  program
    .command('restore-unit')
    .description("restore a snapshot from the backup store into a unit through its charm's restore action")
    .argument('<unit>', 'app/N or app/leader')
    .requiredOption('--from <snapshot>', 'snapshot id (see `sigil backups --snapshots`)')
    .option('--action <name>', 'the restore action', 'restore')
    .option('--from-model <model>', 'the model whose snapshot it is (default: the unit\'s own), e.g. to restore into a rebuilt model')
    .option('-m, --model <model>', 'model')
    .option('--format <format>', 'tabular, yaml or json')
    .action(async (unit: string, o: { from: string; action: string; fromModel?: string; model?: string; format?: string }) => {
      const c = ctx.client(o.model);
      const fromModel = o.fromModel?.split(':').pop();
      const r = await c.call('POST /api/models/:model/restore-unit', { body: { unit, snapshot: o.from, action: o.action, ...(fromModel ? { fromModel } : {}) } });
      ctx.print(r, o.format, () => `restored snapshot ${r.snapshot} into ${r.unit} (${r.path}): ${o.action} ${r.operation.status}${r.operation.message ? `: ${r.operation.message}` : ''}`);
      if (r.operation.status !== 'completed') {
        throw new SigilError('internal', `the ${o.action} action on ${r.unit} ${r.operation.status}: ${r.operation.message}`, `see \`sigil show-operation ${r.operation.id}\` and \`sigil debug-log --include ${r.unit}\``);
      }
    });
}

export function renderSnapshots(snapshots: UnitSnapshot[]): string {
  return renderList(['Snapshot', 'Created', 'Unit', 'Schedule', 'Store', 'Size', 'Added', 'Source'], snapshots.map((s) => [s.id, s.created, s.unit, s.schedule, s.store, formatSize(s.bytes), formatSize(s.added), s['source-path']]), { empty: 'No snapshots in the backup store for this model.' });
}
