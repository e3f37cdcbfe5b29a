import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { SigilError } from '@sigil/core';
import type { Client } from '../client.ts';
import type { Ctx } from '../context.ts';

interface SpecRunOpts {
  stage?: string;
  manifest?: string;
  phase?: string;
  dryRun?: boolean;
  project?: string;
  workspace?: string;
  model?: string;
}

/**
 * The command a script runs as `sigil`: this very CLI. The bundled CLI is `node dist/sigil.mjs`;
 * otherwise the checkout's `bin/sigil` above this file.
 */
export function sigilCommand(): string[] {
  const entry = process.argv[1] !== undefined && existsSync(process.argv[1]) ? realpathSync(process.argv[1]) : '';
  if (/sigil\.mjs$/.test(entry)) return [process.execPath, entry];
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++, dir = dirname(dir)) if (existsSync(join(dir, 'bin', 'sigil'))) return [join(dir, 'bin', 'sigil')];
  return ['sigil'];
}

/** A name safe as one directory component (projects and stages name workspace directories). */
function component(kind: string, v: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(v)) throw new SigilError('bad-request', `${kind} "${v}" is not a valid name`, `use letters, digits, ".", "_" and "-"`);
  return v;
}

export function registerSpec(program: Command, ctx: Ctx): void {
  const spec = program.command('spec').description('run Mojo-style specs: a manifest of phases (collect, secrets, bundle, verify, …) per stage');

  spec
    .command('run')
    .description('run a spec\'s manifest for a stage: collect, deploy, verify, each phase in order')
    .argument('<spec>', 'spec directory, git URL (git+https://…, git+file://…, optional @ref) or tarball URL')
    .option('--stage <stage>', 'stage directory in the spec, e.g. devel or web/production (default: $SIGIL_STAGE or $MOJO_STAGE)')
    .option('--manifest <name>', 'manifest file name', 'manifest')
    .option('--phase <n>', 'run only phase N of the plan')
    .option('--dry-run', 'collect into the workspace and print every plan, changing nothing in the model')
    .option('--project <name>', 'project: names the workspace and the secrets directory (default: the model name)')
    .option('--workspace <dir>', 'workspace directory (default: $SIGIL_HOME/specs/<project>/<stage>)')
    .option('-m, --model <model>', 'model to deploy into')
    .action(async (source: string, o: SpecRunOpts) => {
      const { checkStage, planSpec, renderPlan } = await import('../spec/plan.ts');
      const { fetchSpec } = await import('../spec/source.ts');
      const { workspaceAt } = await import('../spec/phases.ts');
      const { runSpec } = await import('../spec/run.ts');
      const stageText = o.stage ?? process.env.SIGIL_STAGE ?? process.env.MOJO_STAGE;
      if (!stageText) throw new SigilError('bad-request', 'no stage given', 'give --stage STAGE (a directory of the spec, e.g. devel), or set SIGIL_STAGE');
      const stage = checkStage(stageText);
      let client: Client | undefined;
      let model = '';
      try {
        client = ctx.client(o.model);
        // Qualified, so a script's `sigil status -m "$SIGIL_MODEL"` reaches this controller whatever is current.
        model = `${client.controller}:${client.model}`;
      } catch (e) {
        // A spec that only collects and runs scripts needs no controller; one that deploys says so then.
        if (o.model !== undefined) throw e;
      }
      const project = component('project', o.project ?? process.env.SIGIL_PROJECT ?? process.env.MOJO_PROJECT ?? (client?.model.split('/').pop() || 'default'));
      const wsDir = o.workspace ?? join(ctx.home.root, 'specs', project, ...stage.split('/'));
      const ws = workspaceAt(wsDir);
      const fetched = await fetchSpec(source, ws.dir, (l) => ctx.info(l));
      const env: Record<string, string | undefined> = { ...process.env, SIGIL_STAGE: stage, MOJO_STAGE: stage, SIGIL_PROJECT: project, MOJO_PROJECT: project, SIGIL_MODEL: model };
      const plan = planSpec({ root: fetched.dir, stage, manifest: o.manifest ?? 'manifest', env });
      ctx.info(renderPlan(plan));
      let only: number | undefined;
      if (o.phase !== undefined) {
        only = Number(o.phase);
        if (!Number.isInteger(only) || only < 1 || only > plan.phases.length) throw new SigilError('bad-request', `--phase ${o.phase} is not a phase of this plan`, `give a number from 1 to ${plan.phases.length}, as listed above`);
      }
      const controller = (): Client => {
        if (client === undefined) client = ctx.client(o.model);
        return client;
      };
      const timers = new Set<NodeJS.Timeout>();
      await runSpec({
        ctx,
        plan,
        ws,
        project,
        model,
        secretsDir: join(ctx.home.root, 'secrets', project, ...stage.split('/')),
        client: controller,
        env,
        dryRun: o.dryRun === true,
        sigilCommand: sigilCommand(),
        sleep: (ms) => new Promise<void>((r) => timers.add(setTimeout(r, ms))),
      }, only);
    });
}
