import type { Command } from 'commander';
import type { ApplicationStatusDoc } from '@sigil/api';
import { SigilError } from '@sigil/core';
import type { Ctx } from '../context.ts';
import { formatOutput } from '../render/output.ts';

/**
 * Juju's `show-application` keys (cmd/juju/application/show.go's ApplicationInfo) for one
 * application of the status document, plus Sigil's `charm-provenance` when its charm was
 * collected with `sigil collect`.
 */
export function applicationInfo(a: ApplicationStatusDoc): Record<string, unknown> {
  return {
    charm: a.charm,
    base: `${a.base.name}@${a.base.channel}`,
    ...(a.constraints ? { constraints: a.constraints } : {}),
    principal: a['subordinate-to'] === undefined,
    exposed: a.exposed,
    remote: false,
    life: a.life ?? 'alive',
    ...(a['endpoint-bindings'] ? { 'endpoint-bindings': a['endpoint-bindings'] } : {}),
    ...(a['charm-provenance'] ? { 'charm-provenance': a['charm-provenance'] } : {}),
  };
}

export function registerShowApplication(program: Command, ctx: Ctx): void {
  program
    .command('show-application')
    .description('show applications: charm, base, exposure and, for collected charms, where the charm came from')
    .argument('<applications...>')
    .option('-m, --model <model>', 'model')
    .option('--format <format>', 'yaml or json', 'yaml')
    .action(async (apps: string[], o: { model?: string; format: string }) => {
      const c = ctx.client(o.model);
      const doc = await c.call('GET /api/models/:model/status');
      const out: Record<string, unknown> = {};
      for (const name of apps) {
        const a = doc.applications[name];
        if (!a) throw new SigilError('not-found', `application "${name}" not found`, `\`sigil status\` lists the applications of model "${c.model}"`);
        out[name] = applicationInfo(a);
      }
      ctx.out(formatOutput(out, o.format === 'json' ? 'json' : 'yaml'));
    });
}
