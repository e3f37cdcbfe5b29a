import { readFileSync } from 'node:fs';
import { deployBundle, type BundleDeployOpts } from './bundle.ts';
import type { Command } from 'commander';
import YAML from 'yaml';
import { SigilError } from '@sigil/core';
import { planCharmDeploy, renderCharmPlan } from '../bundle/charm-plan.ts';
import type { Ctx } from '../context.ts';
import { collect } from '../context.ts';
import { parseStorageArgs, readResourceArgs } from './storage.ts';

/** Every flag of `sigil deploy`, parsed. */
interface DeployOpts extends BundleDeployOpts {
  numUnits: string;
  config: string[];
  constraints: string;
  to?: string;
  model?: string;
  storage: string[];
  resource: string[];
  revision?: string;
}

/**
 * Flags that mean something for one kind of deploy only. Given with the other kind they
 * are refused, never ignored: a user who typed them expects them to do something.
 */
const CHARM_ONLY = ['numUnits', 'config', 'constraints', 'to', 'storage', 'resource', 'revision'];
const BUNDLE_ONLY = ['overlay', 'mapMachines', 'progress', 'wait', 'timeout', 'verbose'];
/** Flags about following the model until it settles, which `--no-wait` skips. */
const FOLLOWING = ['progress', 'timeout', 'verbose'];

/** The flags among `names` that the command line gave, as a user would recognise them. */
export function givenFlags(cmd: Command, names: readonly string[]): string[] {
  return cmd.options
    .filter((o) => names.includes(o.attributeName()) && cmd.getOptionValueSource(o.attributeName()) === 'cli')
    .map((o) => (o.short && o.long ? `${o.short}/${o.long}` : (o.long ?? o.flags)));
}

const listed = (flags: string[]) => `${flags.join(', ')} ${flags.length === 1 ? 'does' : 'do'} not apply`;

/** Refuses flags that do not apply to this deploy, before anything is read or sent. */
export function checkDeployFlags(cmd: Command, bundle: boolean, app: string | undefined): void {
  if (bundle) {
    if (app !== undefined) throw new SigilError('bad-request', 'an application name cannot be given with a bundle', 'names come from the bundle\'s applications section');
    const wrong = givenFlags(cmd, CHARM_ONLY);
    if (wrong.length) throw new SigilError('bad-request', `${listed(wrong)} when deploying a bundle`, 'a bundle gives each application its units, placement (to:), options and constraints: set them there, or in an overlay with --overlay FILE');
    const idle = cmd.getOptionValueSource('wait') === 'cli' ? givenFlags(cmd, FOLLOWING) : [];
    if (idle.length) throw new SigilError('bad-request', `${listed(idle)} with --no-wait`, `${idle.length === 1 ? 'it shapes' : 'they shape'} how deploy follows the model until it settles, which --no-wait skips; drop one or the other`);
    return;
  }
  const wrong = givenFlags(cmd, BUNDLE_ONLY);
  if (wrong.length) throw new SigilError('bad-request', `${listed(wrong)} when deploying a charm`, `${wrong.length === 1 ? 'it is' : 'they are'} for bundles (.yaml); deploying a charm returns once the application is added: follow it with \`sigil wait${app ? ` ${app}` : ''}\` or \`sigil status --watch\``);
}

/** A subordinate has no units or machines of its own: flags about them would be ignored. */
function checkSubordinateFlags(cmd: Command, app: string): void {
  const wrong = givenFlags(cmd, ['numUnits', 'to', 'constraints']);
  if (wrong.length) throw new SigilError('bad-request', `${listed(wrong)} to subordinate application "${app}"`, `its units are created beside the units of the application it is related to: \`sigil integrate ${app} <principal>\``);
}

export function registerDeploy(program: Command, ctx: Ctx): void {
  program
    .command('deploy')
    .description('deploy an application from a local charm directory, or a bundle (.yaml)')
    .argument('<charm>', 'path to a charm directory or a bundle file, or the name of a charm in the library (`sigil charms`)')
    .argument('[application]', 'application name (default: the charm name)')
    .option('-n, --num-units <n>', 'charms: number of units', '1')
    .option('--config <key=value|file.yaml>', 'charms: configuration (repeatable)', collect, [])
    .option('--constraints <constraints>', 'charms: machine constraints, e.g. "mem=2G cores=2"', '')
    .option('--to <placement>', 'charms: placement: machine id, "new", or lxc:N for a new container on machine N (comma-separated per unit)')
    .option('--storage <name=pool,size,count>', 'charms: storage directive, e.g. data=rootfs,10G,1 (repeatable)', collect, [])
    .option('--resource <name=file>', 'charms: upload a file as a resource (repeatable)', collect, [])
    .option('--revision <n>', 'charms from the library: deploy this revision (`sigil charms` lists them)')
    .option('-m, --model <model>', 'model to deploy into')
    .option('--dry-run', 'print what would be deployed and change nothing')
    .option('--overlay <file>', 'bundles: overlay bundle (repeatable)', collect, [])
    .option('--map-machines <mapping>', 'bundles: use existing machines: "existing" (same ids) and/or bundle=model pairs, e.g. existing,1=3')
    .option('--no-progress', 'bundles: plain lines instead of a live view on a terminal')
    .option('--verbose', 'bundles: a line for every hook each unit runs, instead of one per workload status change')
    .option('--no-wait', 'bundles: return once the changes are applied')
    .option('--timeout <duration>', 'bundles: how long to wait for the model to settle', '10m')
    .action(async (path: string, name: string | undefined, o: DeployOpts, cmd: Command) => {
      const bundle = /\.ya?ml$/i.test(path);
      checkDeployFlags(cmd, bundle, name);
      if (bundle) {
        await deployBundle(ctx, ctx.client(o.model), path, o);
        return;
      }
      const n = Number(o.numUnits);
      if (!Number.isInteger(n) || n < 0) throw new SigilError('bad-request', `invalid --num-units "${o.numUnits}"`, 'give a whole number, e.g. -n 3');
      const { isLibraryName, deployByName } = await import('./charms.ts');
      if (isLibraryName(path)) {
        // A bare name with no such path: the controller's charm library (`sigil charms`).
        const wrong = givenFlags(cmd, ['constraints', 'to', 'storage', 'resource']);
        if (wrong.length) throw new SigilError('bad-request', `${listed(wrong)} when deploying from the charm library`, `deploy it first, then place units with \`sigil add-unit ${name ?? path} --to M\`; or deploy the charm's directory`);
        await deployByName(ctx, ctx.client(o.model), { name: path, ...(o.revision !== undefined ? { revision: parseRevision(o.revision) } : {}), ...(name !== undefined ? { app: name } : {}), numUnits: n, config: parseConfigArgs(o.config, name ?? path), dryRun: o.dryRun === true });
        return;
      }
      if (o.revision !== undefined) throw new SigilError('bad-request', `--revision does not apply to the charm directory "${path}"`, 'it picks a revision of a charm in the library: `sigil deploy NAME --revision N` (see `sigil charms`); a directory deploys what it holds');
      const { readCharmDir } = await import('../charm-dir.ts');
      const { charm, archive } = readCharmDir(path);
      const app = name ?? charm.meta.name;
      if (charm.meta.subordinate) checkSubordinateFlags(cmd, app);
      const config = parseConfigArgs(o.config, app);
      const to = o.to ? o.to.split(',') : [];
      // Checked before anything is uploaded: a bad directive or resource file changes nothing.
      const storage = parseStorageArgs(o.storage, Object.keys(charm.meta.storage));
      const resources = readResourceArgs(o.resource, Object.keys(charm.meta.resources));
      const c = ctx.client(o.model);
      if (o.dryRun) {
        const plan = planCharmDeploy({ app, charm, path, numUnits: n, config, constraints: o.constraints, to }, await c.call('GET /api/models/:model/status'));
        ctx.out(renderCharmPlan(plan));
        return;
      }
      const uploaded = await c.call('POST /api/models/:model/charms', { body: archive });
      ctx.info(`Located local charm "${charm.meta.name}", revision ${uploaded.revision}`);
      const res = await c.call('POST /api/models/:model/applications', {
        body: {
          app,
          charmUrl: uploaded.url,
          numUnits: charm.meta.subordinate ? 0 : n,
          config,
          constraints: o.constraints,
          to,
          ...(Object.keys(storage).length ? { storage } : {}),
          ...(Object.keys(resources).length ? { resources: Object.fromEntries(Object.entries(resources).map(([k, v]) => [k, v.toString('base64')])) } : {}),
        },
      });
      ctx.out(`Deployed "${res.name}" from local charm "${charm.meta.name}", revision ${uploaded.revision}${res.units.length ? ` with ${res.units.length} unit${res.units.length === 1 ? '' : 's'}` : ''}`);
    });
}

/** `--revision N`: a whole number. */
export function parseRevision(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new SigilError('bad-request', `invalid --revision "${v}"`, 'give a revision number, e.g. --revision 2; `sigil charms` lists them');
  return n;
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
