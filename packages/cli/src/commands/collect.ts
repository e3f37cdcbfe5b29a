import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { OperationDoc } from '@sigil/api';
import { SigilError, parseDuration } from '@sigil/core';
import type { Client } from '../client.ts';
import type { Ctx } from '../context.ts';
import { formatOutput } from '../render/output.ts';

function readConfig(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new SigilError('not-found', `cannot read collect config "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'give a Codetree config file: one `DEST SOURCE[;opt=val]` per line');
  }
}

/** Runs an exec on units and returns each one's finished operation (driven by the change feed). */
async function execOn(c: Client, units: string[], command: string, timeoutMs: number): Promise<OperationDoc[]> {
  const ops = await c.call('POST /api/models/:model/exec', { body: { units, command, timeoutMs } });
  const done = new Map<number, OperationDoc>();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs + 10_000)));
  await Promise.race([
    c.watch(async () => {
      for (const op of ops) {
        if (done.has(op.id)) continue;
        const now = await c.call('GET /api/models/:model/operations/:id', { params: { id: String(op.id) } });
        if (now.status === 'completed' || now.status === 'failed') done.set(op.id, now);
      }
      return done.size === ops.length;
    }),
    timeout,
  ]);
  clearTimeout(timer);
  const missing = ops.filter((op) => !done.has(op.id)).map((op) => op.unit);
  if (missing.length > 0) throw new SigilError('timeout', `no answer from ${missing.join(', ')} within ${timeoutMs / 1000}s`, 'is the unit\'s agent running? see `sigil status`');
  return ops.map((op) => done.get(op.id)!);
}

export function registerCollect(program: Command, ctx: Ctx): void {
  program
    .command('collect')
    .description('collect charms and code from git, local paths and URLs into one tree (Codetree config), with collect-info in each')
    .argument('<config...>', 'Codetree config file(s): one `DEST SOURCE[;opt=val,…]` per line')
    .option('--dir <dest>', 'collect into this directory', '.')
    .option('--pin <file>', 'write a config with every source pinned to the commit or content hash collected')
    .option('-j, --jobs <n>', 'directives collected at once (default: all that are independent)')
    .action(async (configs: string[], o: { dir: string; pin?: string; jobs?: string }) => {
      const { parseCollectConfig } = await import('../collect/config.ts');
      const { collectAll, pinnedConfig, resultLine } = await import('../collect/collect.ts');
      const jobs = o.jobs === undefined ? undefined : Number(o.jobs);
      if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1)) throw new SigilError('bad-request', `--jobs ${o.jobs} is not a positive whole number`, 'e.g. --jobs 4');
      // Every file is parsed before anything is collected: a bad line changes nothing.
      const parsed = configs.map((f) => ({ f, directives: parseCollectConfig(readConfig(f), relative(process.cwd(), resolve(f)) || f, process.env) }));
      const dests = new Map<string, string>();
      for (const { directives } of parsed) {
        for (const d of directives) {
          const first = dests.get(d.dest);
          if (first !== undefined) throw new SigilError('bad-request', `${d.file}:${d.line}: destination "${d.dest}" is already collected at ${first}`, 'each destination may appear once across the config files');
          dests.set(d.dest, `${d.file}:${d.line}`);
        }
      }
      const started = Date.now();
      // Relative local sources resolve against their own config file's directory.
      const directives = parsed.flatMap(({ f, directives: ds }) => ds.map((d) => ({ ...d, base: dirname(resolve(f)) })));
      const results = await collectAll(directives, resolve(o.dir), { baseDir: process.cwd(), onResult: (r) => ctx.info(resultLine(r)), ...(jobs !== undefined ? { jobs } : {}) });
      if (o.pin) {
        writeFileSync(o.pin, pinnedConfig(results.filter((r) => r.status !== 'failed' && r.status !== 'skipped')));
        ctx.info(`Pinned config written to ${o.pin}`);
      }
      const failed = results.filter((r) => r.status === 'failed' || r.status === 'skipped');
      ctx.out(`Collected ${results.length - failed.length} of ${results.length} into ${resolve(o.dir)} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
      if (failed.length > 0) {
        throw new SigilError('conflict', `${failed.length} directive${failed.length === 1 ? '' : 's'} not collected:\n  ${failed.map((r) => r.error!.message).join('\n  ')}`, `${failed[0]!.error!.hint ?? 'fix the directive'}; what was collected stays`);
      }
    });

  program
    .command('collect-info')
    .description("show where each unit's charm was collected from (collect-info) and whether its files still match")
    .argument('<targets...>', 'units or applications')
    .option('-m, --model <model>', 'model')
    .option('--format <format>', 'tabular, yaml or json')
    .option('--timeout <duration>', 'how long to wait for the units', '2m')
    .action(async (targets: string[], o: { model?: string; format?: string; timeout: string }) => {
      const { PROVENANCE_COMMAND, provenanceOf, renderProvenance } = await import('../collect/provenance.ts');
      const c = ctx.client(o.model);
      const st = await c.call('GET /api/models/:model/status');
      const units: string[] = [];
      for (const t of targets) {
        if (t.includes('/')) units.push(t);
        else {
          const app = st.applications[t];
          if (!app) throw new SigilError('not-found', `application "${t}" not found`, 'see `sigil status`');
          units.push(...Object.keys(app.units ?? {}));
        }
      }
      if (units.length === 0) throw new SigilError('not-found', `no units in ${targets.join(', ')}`, 'collect-info reads the charm on a unit; add a unit first');
      const ops = await execOn(c, [...new Set(units)], PROVENANCE_COMMAND, parseDuration(o.timeout));
      const rows = ops.map((op) => provenanceOf(op.unit, String(op.results.stdout ?? '')));
      if (o.format === 'yaml' || o.format === 'json') ctx.out(formatOutput(Object.fromEntries(rows.map(({ unit, ...rest }) => [unit, rest])), o.format));
      else if (o.format === undefined || o.format === 'tabular') ctx.out(renderProvenance(rows));
      else throw new SigilError('bad-request', `unknown format "${o.format}"`, 'use --format tabular, yaml or json');
      if (rows.some((r) => r.collected && !r.matches)) process.exitCode = 1;
    });
}
