import { readFileSync } from 'node:fs';
import { deployBundle, type BundleDeployOpts } from './bundle.ts';
import type { Command } from 'commander';
import YAML from 'yaml';
import { SigilError } from '@sigil/core';
import type { Ctx } from '../context.ts';
import { collect } from '../context.ts';

export function registerDeploy(program: Command, ctx: Ctx): void {
  program
    .command('deploy')
    .description('deploy an application from a local charm directory, or a bundle (.yaml)')
    .argument('<charm>', 'path to a charm directory or a bundle file')
    .argument('[application]', 'application name (default: the charm name)')
    .option('-n, --num-units <n>', 'number of units', '1')
    .option('--config <key=value|file.yaml>', 'configuration (repeatable)', collect, [])
    .option('--constraints <constraints>', 'machine constraints, e.g. "mem=2G cores=2"', '')
    .option('--to <placement>', 'placement: machine id or "new" (comma-separated per unit)')
    .option('-m, --model <model>', 'model to deploy into')
    .option('--overlay <file>', 'bundle overlay (repeatable)', collect, [])
    .option('--dry-run', 'bundles: print the plan and change nothing')
    .option('--no-progress', 'bundles: plain progress lines instead of a live view')
    .option('--no-wait', 'bundles: return once the changes are applied')
    .option('--timeout <duration>', 'bundles: how long to wait for the model to settle', '10m')
    .action(async (path: string, name: string | undefined, o: BundleDeployOpts & { numUnits: string; config: string[]; constraints: string; to?: string; model?: string }) => {
      if (/\.ya?ml$/i.test(path)) {
        if (name !== undefined) throw new SigilError('bad-request', 'an application name cannot be given with a bundle', 'names come from the bundle\'s applications section');
        await deployBundle(ctx, ctx.client(o.model), path, o);
        return;
      }
      const n = Number(o.numUnits);
      if (!Number.isInteger(n) || n < 0) throw new SigilError('bad-request', `invalid --num-units "${o.numUnits}"`, 'give a whole number, e.g. -n 3');
      const { readCharmDir } = await import('../charm-dir.ts');
      const { charm, archive } = readCharmDir(path);
      const app = name ?? charm.meta.name;
      const config = parseConfigArgs(o.config, app);
      const c = ctx.client(o.model);
      const uploaded = await c.post<{ url: string; revision: number }>(c.m('/charms'), archive);
      ctx.info(`Located local charm "${charm.meta.name}", revision ${uploaded.revision}`);
      const res = await c.post<{ name: string; units: string[] }>(c.m('/applications'), {
        app,
        charmUrl: uploaded.url,
        numUnits: charm.meta.subordinate ? 0 : n,
        config,
        constraints: o.constraints,
        to: o.to ? o.to.split(',') : [],
      });
      ctx.out(`Deployed "${res.name}" from local charm "${charm.meta.name}", revision ${uploaded.revision}${res.units.length ? ` with ${res.units.length} unit${res.units.length === 1 ? '' : 's'}` : ''}`);
    });
}

export function registerRefresh(program: Command, ctx: Ctx): void {
  program
    .command('refresh')
    .alias('upgrade-charm')
    .description("upgrade an application's charm from a local directory")
    .argument('<application>')
    .requiredOption('--path <dir>', 'the new charm directory')
    .option('-m, --model <model>', 'model')
    .action(async (app: string, o: { path: string; model?: string }) => {
      const { readCharmDir } = await import('../charm-dir.ts');
      const { charm, archive } = readCharmDir(o.path);
      const c = ctx.client(o.model);
      const uploaded = await c.post<{ url: string; revision: number }>(c.m('/charms'), archive);
      await c.post(c.m(`/applications/${app}/refresh`), { charmUrl: uploaded.url });
      ctx.out(`Added local charm "${charm.meta.name}", revision ${uploaded.revision}, to the model\nUpgrading "${app}"`);
    });
}

/** `--config k=v` pairs and `--config file.yaml` (Juju's `app: {k: v}` layout, or a flat map). */
export function parseConfigArgs(args: string[], app: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq > 0) {
      out[a.slice(0, eq)] = a.slice(eq + 1);
      continue;
    }
    let doc: unknown;
    try {
      doc = YAML.parse(readFileSync(a, 'utf8'));
    } catch (e) {
      throw new SigilError('bad-request', `cannot read config "${a}": ${(e as Error).message}`, 'pass key=value, or a YAML file of options');
    }
    const map = (doc as Record<string, unknown> | null)?.[app] ?? doc;
    if (typeof map !== 'object' || map === null) throw new SigilError('bad-request', `config file "${a}" is not a map of options`);
    Object.assign(out, map);
  }
  return out;
}
