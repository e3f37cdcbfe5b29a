import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CharmArchive, GuiCharmSummary } from '@sigil/api';
import { SigilError, checkApplicationName } from '@sigil/core';
import type { Client } from '../client.ts';
import type { Ctx } from '../context.ts';

/**
 * The controller's charm library, from the command line: the charms shipped in the
 * installation's `charms/` and every charm uploaded to the controller (`sigil charm publish`,
 * or any deploy), as the GUI's charm search offers them. `sigil deploy NAME` deploys from it.
 */

/** A deploy argument that names a library charm rather than a path: a bare charm name with nothing of that name on disk. */
export function isLibraryName(arg: string): boolean {
  return /^[a-z][a-z0-9-]*$/.test(arg) && !existsSync(arg);
}

async function library(c: Client, query = ''): Promise<GuiCharmSummary[]> {
  return c.call('GET /api/gui/charms', { query: { q: query } });
}

export interface ByNameDeploy {
  name: string;
  /** A revision of an uploaded charm of that name; the library's choice (`sigil charms`) when absent. */
  revision?: number;
  app?: string;
  numUnits: number;
  config: Record<string, unknown>;
  dryRun: boolean;
}

/** `sigil deploy postgresql`: finds the charm in the library by exact name and deploys it there (the controller reads the files). */
export async function deployByName(ctx: Ctx, c: Client, d: ByNameDeploy): Promise<void> {
  const all = await library(c);
  const hit = all.find((x) => x.name === d.name);
  if (!hit) {
    const near = all.filter((x) => x.name.includes(d.name) || d.name.includes(x.name)).map((x) => x.name);
    throw new SigilError('not-found', `no charm "${d.name}" in the controller's charm library, and no such path`, near.length ? `did you mean ${near.join(', ')}? \`sigil charms\` lists the library` : 'give the path of a charm directory, or see `sigil charms`; add one to the library with `sigil charm publish DIR`');
  }
  const app = d.app ?? hit.name;
  checkApplicationName(app);
  const picked = pickRevision(hit, d.revision);
  const from = picked.source === 'library' ? 'the charm library' : `a charm published to the controller, revision ${picked.revision}`;
  if (d.dryRun) {
    const config = Object.entries(d.config).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    ctx.out([`Dry run: deploying would add application "${app}"; nothing was changed.`, `  application: ${app}`, `  charm:       ${hit.name} (${from}, ${picked.id})`, `  units:       ${d.numUnits}`, `  config:      ${config.length ? config.join(', ') : 'charm defaults'}`, 'Run the same command without --dry-run to deploy.'].join('\n'));
    return;
  }
  await c.call('POST /api/gui/models/:model/deploy', { body: { charm: picked.id, app, numUnits: d.numUnits, config: d.config, annotations: {} } });
  ctx.out(`Deployed "${app}" from ${from}: ${hit.name} (${picked.id}) with ${d.numUnits} unit${d.numUnits === 1 ? '' : 's'}`);
}

/** The library entry itself, or the uploaded revision asked for; an unknown revision is refused, listing those there are. */
export function pickRevision(hit: GuiCharmSummary, revision: number | undefined): { id: string; source: GuiCharmSummary['source']; revision?: number } {
  if (revision === undefined) return { id: hit.id, source: hit.source, ...(hit.revision !== undefined ? { revision: hit.revision } : {}) };
  const found = hit.revisions?.find((r) => r.revision === revision);
  if (found) return { id: found.id, source: 'controller', revision };
  const there = (hit.revisions ?? []).map((r) => r.revision).sort((a, b) => a - b);
  throw new SigilError('not-found', `charm "${hit.name}" has no revision ${revision}`, there.length ? `revisions there are: ${there.join(', ')} (\`sigil charms\`)` : `it has no uploaded revisions: deploy it without --revision, or publish one with \`sigil charm publish DIR\``);
}

/** The files of a library charm a bundle names (`charm: NAME`, maybe with `revision:`); an unknown name names the application. */
export async function libraryArchive(c: Client, app: string, name: string, revision: number | undefined): Promise<{ archive: CharmArchive; source: string }> {
  const hit = (await library(c)).find((x) => x.name === name);
  if (!hit) throw new SigilError('not-found', `application "${app}": no charm "${name}" in the controller's charm library`, 'see `sigil charms` for the charms it has, publish one with `sigil charm publish DIR`, or give a path ("charm: ./charms/' + name + '")');
  let picked;
  try {
    picked = pickRevision(hit, revision);
  } catch (e) {
    throw new SigilError('not-found', `application "${app}": ${(e as SigilError).message}`, (e as SigilError).hint);
  }
  const got = await c.call('GET /api/gui/charm/archive', { query: { id: picked.id } });
  return { archive: { files: got.files }, source: got.source };
}

export function registerCharms(program: Command, ctx: Ctx): void {
  program
    .command('charms')
    .description("list the controller's charm library: shipped charms and charms published to the controller")
    .argument('[query]', 'words to look for in names, summaries and interfaces')
    .option('-m, --model <model>', 'model (selects the controller)')
    .option('--format <format>', 'tabular, yaml or json')
    .action(async (query: string | undefined, o: { model?: string; format?: string }) => {
      const rows = await library(ctx.client(o.model), query ?? '');
      ctx.print(rows.map(({ icon: _icon, ...r }) => r), o.format, () => {
        if (rows.length === 0) return query ? `No charm matches "${query}".` : 'The charm library is empty.';
        const revs = (r: GuiCharmSummary) => (r.revisions?.length ? r.revisions.map((x) => x.revision).sort((a, b) => b - a).join(',') : '-');
        const table = [['Charm', 'Source', 'Rev', 'Revisions', 'Id', 'Summary'], ...rows.map((r) => [r.name, r.source, r.revision === undefined ? '-' : String(r.revision), revs(r), r.id, r.summary.split('\n')[0]!])];
        const w = table[0]!.map((_, i) => Math.max(...table.map((t) => t[i]!.length)));
        return table.map((t) => t.map((x, i) => (i === t.length - 1 ? x : x.padEnd(w[i]!))).join('  ')).join('\n');
      });
    });

  const charm = program.commands.find((x) => x.name() === 'charm') ?? program.command('charm');
  charm
    .command('publish')
    .description("add a charm directory (or .charm) to the controller's library, so `sigil deploy NAME` finds it")
    .argument('<dir>', 'charm directory or .charm archive (e.g. one collected with `sigil collect`)')
    .option('-m, --model <model>', 'model whose controller gets the charm')
    .action(async (dir: string, o: { model?: string }) => {
      const { readCharmDir } = await import('../charm-dir.ts');
      const { charm: ch, archive } = readCharmDir(dir);
      const c = ctx.client(o.model);
      const up = await c.call('POST /api/models/:model/charms', { body: { ...archive, source: resolve(dir) } });
      const shadowed = (await library(c)).find((x) => x.name === ch.meta.name && x.source === 'library');
      ctx.out(`Published "${ch.meta.name}", revision ${up.revision}, to the controller.${shadowed ? `\nNote: the shipped library charm "${ch.meta.name}" keeps that name; \`sigil deploy ${ch.meta.name}\` deploys the shipped one.` : `\nDeploy it with: sigil deploy ${ch.meta.name}`}`);
    });
}
