import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { SigilError, describeChange, exportBundle, parseDuration, parseMapMachines, planBundle, type Change } from '@sigil/core';
import type { Client } from '../client.ts';
import type { Ctx } from '../context.ts';
import { collect } from '../context.ts';
import type { ProgressMode } from '../bundle/progress.ts';

export interface BundleDeployOpts {
  overlay: string[];
  mapMachines?: string;
  dryRun?: boolean;
  progress: boolean;
  verbose?: boolean;
  wait: boolean;
  timeout: string;
}

async function plan(c: Client, path: string, overlays: string[], mapMachines?: string) {
  const { readBundle } = await import('../bundle/read.ts');
  const { libraryArchive } = await import('./charms.ts');
  const read = await readBundle(path, overlays, (app, name, revision) => libraryArchive(c, app, name, revision));
  const current = await c.call('GET /api/models/:model/bundle-state');
  const mapping = mapMachines === undefined ? new Map<string, string>() : parseMapMachines(mapMachines, Object.keys(read.bundle.machines), current.state.machines);
  const changes = planBundle(read.bundle, current.state, read.charms, current.charms, mapping);
  return { read, changes };
}

function printPlan(ctx: Ctx, changes: Change[]): void {
  if (changes.length === 0) ctx.out('No changes: the model already matches the bundle.');
  else ctx.out(`Plan (${changes.length} change${changes.length === 1 ? '' : 's'}):\n${changes.map((ch, i) => `${String(i + 1).padStart(3)}. ${describeChange(ch)}`).join('\n')}`);
}

/**
 * A live view on a terminal; otherwise (or with --no-progress) a line per workload status
 * change, so a log is not drowned in hook starts and ends; every hook with --verbose.
 */
export function progressMode(o: Pick<BundleDeployOpts, 'progress' | 'verbose'>, tty: boolean): ProgressMode {
  if (o.verbose) return 'verbose';
  return o.progress && tty ? 'live' : 'changes';
}

/** `sigil deploy bundle.yaml`: plan, print, apply, then follow the model until it settles. */
export async function deployBundle(ctx: Ctx, c: Client, path: string, o: BundleDeployOpts): Promise<void> {
  const { read, changes } = await plan(c, path, o.overlay, o.mapMachines);
  printPlan(ctx, changes);
  if (o.dryRun && changes.length > 0) ctx.info('Dry run: nothing was changed; run the same command without --dry-run to apply the plan.');
  if (o.dryRun || changes.length === 0) return;
  const { applyPlan } = await import('../bundle/apply.ts');
  ctx.info('Applying:');
  await applyPlan(c, changes, read, (l) => ctx.info(l));
  if (!o.wait) return;
  const { followUntilSettled } = await import('../bundle/progress.ts');
  const apps = Object.keys(read.bundle.applications);
  const { report, seconds } = await followUntilSettled(c, apps, parseDuration(o.timeout), progressMode(o, process.stderr.isTTY === true), (l) => ctx.info(l));
  if (report.errors.length > 0) {
    throw new SigilError('conflict', `deploy finished with units in error:\n  ${report.errors.map((e) => `${e.unit}: ${e.message}${e.output.length ? '\n    ' + e.output.join('\n    ') : ''}`).join('\n  ')}`, `fix the cause, then \`sigil resolve ${report.errors[0]!.unit}\``);
  }
  if (!report.settled) {
    throw new SigilError('timeout', `deploy applied but did not settle within ${o.timeout}; still busy:\n  ${report.busy.map((b) => `${b.unit}: ${b.reason}`).join('\n  ')}`, 'follow it with `sigil wait` or `sigil status --watch`');
  }
  ctx.info(`Deployed: ${changes.length} change${changes.length === 1 ? '' : 's'} applied; ${apps.length} application${apps.length === 1 ? '' : 's'} settled in ${seconds.toFixed(1)}s`);
}

export function registerBundle(program: Command, ctx: Ctx): void {
  program
    .command('diff')
    .alias('diff-bundle')
    .description('show what deploying a bundle would change, in order (exit 0 when nothing)')
    .argument('<bundle>')
    .option('--overlay <file>', 'overlay bundle (repeatable)', collect, [])
    .option('-m, --model <model>', 'model')
    .action(async (path: string, o: { overlay: string[]; model?: string }) => {
      const c = ctx.client(o.model);
      const { changes } = await plan(c, path, o.overlay);
      printPlan(ctx, changes);
      if (changes.length > 0) process.exitCode = 1;
    });

  program
    .command('export-bundle')
    .description('write the model as a bundle')
    .option('--filename <file>', 'write to this file instead of stdout')
    .option('-m, --model <model>', 'model')
    .action(async (o: { filename?: string; model?: string }) => {
      const c = ctx.client(o.model);
      const doc = await c.call('GET /api/models/:model/bundle-state');
      const text = exportBundle({ ...doc.state, charmPaths: doc.charmPaths }, doc.charms);
      if (o.filename) {
        writeFileSync(o.filename, text);
        ctx.info(`Bundle successfully exported to ${o.filename}`);
      } else ctx.out(text);
    });
}
