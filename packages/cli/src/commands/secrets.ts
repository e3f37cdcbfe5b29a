/**
 * User secrets, as Juju 3.3+: `add-secret`, `secrets`, `show-secret`, `update-secret`,
 * `remove-secret`, `grant-secret`, `revoke-secret`. Values travel only in request bodies;
 * `--file` keeps them off the command line (and out of shell history).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import YAML from 'yaml';
import type { SecretSummary } from '@sigil/api';
import { SecretDataError, SigilError, secretArgPairs, secretDataFromPairs } from '@sigil/core';
import type { Ctx } from '../context.ts';
import { renderList } from '../render/output.ts';

interface ModelOpt {
  model?: string;
}

/** Secret content from key=value arguments and an optional YAML `--file` (arguments win). */
export function secretContent(args: readonly string[], file: string | undefined): Record<string, string> {
  try {
    let pairs = secretArgPairs(args);
    if (file !== undefined) {
      let doc: unknown;
      try {
        doc = YAML.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        throw new SigilError('bad-request', `cannot read secret values from ${file}: ${(e as Error).message}`, 'give a YAML map of key: value');
      }
      if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new SigilError('bad-request', `${file} is not a YAML map of key: value`);
      const given = new Set(pairs.map(([k]) => k));
      pairs = [...Object.entries(doc as Record<string, unknown>).filter(([k]) => !given.has(k)).map(([k, v]): [string, string] => [k, v === null || v === undefined ? '' : String(v)]), ...pairs];
    }
    return secretDataFromPairs(pairs, (p) => readFileSync(p));
  } catch (e) {
    if (e instanceof SecretDataError) throw new SigilError('bad-request', e.message, e.hint ?? 'give values as key=value, key#base64=value or key#file=path');
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new SigilError('bad-request', (e as Error).message, 'check the file name');
    throw e;
  }
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** show-secret's YAML/JSON document for one secret (Juju's secretDisplayDetails, field order kept). */
export function secretDoc(s: SecretSummary): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    revision: s.revision,
    expires: iso(s.expires),
    rotation: s.rotation || undefined,
    rotates: iso(s.rotates),
    owner: s.owner,
    description: s.description || undefined,
    name: s.name || undefined,
    label: s.label || undefined,
    created: iso(s.created),
    updated: iso(s.updated),
    content: s.content,
    revisions: s.revisions?.map((r) => ({ revision: r.revision, created: iso(r.created), updated: iso(r.created), ...(r.expires !== undefined ? { expires: iso(r.expires) } : {}) })),
    access: s.access.length > 0 ? s.access : undefined,
  };
  return Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== undefined));
}

export function ago(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  const unit = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'} ago`;
  if (s < 60) return unit(s, 'second');
  if (s < 3600) return unit(Math.floor(s / 60), 'minute');
  if (s < 86_400) return unit(Math.floor(s / 3600), 'hour');
  return unit(Math.floor(s / 86_400), 'day');
}

/** Applications given as `a b` or Juju's `a,b`. */
const appList = (apps: readonly string[]) => apps.flatMap((a) => a.split(',')).map((a) => a.trim()).filter((a) => a !== '');

export function registerSecrets(program: Command, ctx: Ctx): void {
  const withModel = (c: Command) => c.option('-m, --model <model>', 'model to operate in');
  
  withModel(program.command('add-secret'))
    .description('add a new user secret (prints its URI)')
    .argument('<name>', 'the secret name')
    .argument('[values...]', 'key=value, key#base64=value or key#file=path')
    .option('--file <file>', 'a YAML file of key: value (keeps values off the command line)')
    .option('--info <text>', 'the secret description')
    .action(async (name: string, values: string[], o: ModelOpt & { file?: string; info?: string }) => {
      if (values.length === 0 && o.file === undefined) throw new SigilError('bad-request', 'missing secret value or filename', 'give key=value pairs, or --file with a YAML map');
      const c = ctx.client(o.model);
      const r = await c.call('POST /api/models/:model/secrets', { body: { name, content: secretContent(values, o.file), ...(o.info !== undefined ? { info: o.info } : {}) } });
      ctx.out(r.uri);
    });

  withModel(program.command('secrets').alias('list-secrets'))
    .description('list the secrets in the model (values are never shown here)')
    .option('--format <format>', 'tabular, yaml or json', 'tabular')
    .option('--owner <owner>', 'only secrets of this owner (an application, a unit, or <model>)')
    .action(async (o: ModelOpt & { format: string; owner?: string }) => {
      const c = ctx.client(o.model);
      const all = (await c.call('GET /api/models/:model/secrets')).filter((s) => o.owner === undefined || s.owner === o.owner);
      const doc = Object.fromEntries(all.map((s) => [s.id, secretDoc(s)]));
      ctx.print(doc, o.format, () =>
        renderList(['ID', 'Name', 'Owner', 'Rotation', 'Revision', 'Last updated'], all.map((s) => [s.id, s.name || '-', s.owner, s.rotation || 'never', String(s.revision), ago(s.updated)]), { alignRight: [4], empty: 'No secrets to display.' }),
      );
    });

  withModel(program.command('show-secret'))
    .description('show a secret; --reveal prints its values (model admins only)')
    .argument('<secret>', 'the secret URI, id or name')
    .option('--format <format>', 'yaml or json', 'yaml')
    .option('--reveal', 'reveal the secret values')
    .option('--revisions', 'show the secret revisions')
    .option('-r, --revision <n>', 'the revision whose values --reveal shows')
    .action(async (ref: string, o: ModelOpt & { format: string; reveal?: boolean; revisions?: boolean; revision?: string }) => {
      if (o.format !== 'yaml' && o.format !== 'json') throw new SigilError('bad-request', `unknown format "${o.format}"`, 'use --format yaml or json');
      const c = ctx.client(o.model);
      const query = { ...(o.reveal ? { reveal: 'true' } : {}), ...(o.revisions ? { revisions: 'true' } : {}), ...(o.revision !== undefined ? { revision: o.revision } : {}) };
      const s = await c.call('GET /api/models/:model/secrets/:secret', { params: { secret: ref }, query });
      ctx.print({ [s.id]: secretDoc(s) }, o.format, () => '');
    });

  withModel(program.command('update-secret'))
    .description('update a user secret: new values make a new revision')
    .argument('<secret>', 'the secret URI, id or name')
    .argument('[values...]', 'key=value, key#base64=value or key#file=path')
    .option('--file <file>', 'a YAML file of key: value')
    .option('--info <text>', 'a new description')
    .option('--name <name>', 'a new name')
    .action(async (ref: string, values: string[], o: ModelOpt & { file?: string; info?: string; name?: string }) => {
      const content = values.length > 0 || o.file !== undefined ? secretContent(values, o.file) : undefined;
      if (content === undefined && o.info === undefined && o.name === undefined) throw new SigilError('bad-request', 'nothing to update', 'give new values, --info or --name');
      const c = ctx.client(o.model);
      await c.call('POST /api/models/:model/secrets/:secret', { params: { secret: ref }, body: { ...(content ? { content } : {}), ...(o.info !== undefined ? { info: o.info } : {}), ...(o.name !== undefined ? { name: o.name } : {}) } });
    });

  withModel(program.command('remove-secret'))
    .description('remove a user secret, or one of its revisions')
    .argument('<secret>', 'the secret URI, id or name')
    .option('--revision <n>', 'remove only this revision')
    .action(async (ref: string, o: ModelOpt & { revision?: string }) => {
      const c = ctx.client(o.model);
      await c.call('DELETE /api/models/:model/secrets/:secret', { params: { secret: ref }, ...(o.revision !== undefined ? { query: { revision: o.revision } } : {}) });
    });

  for (const [verb, route, what] of [['grant-secret', 'grant', 'let applications read a user secret'], ['revoke-secret', 'revoke', 'stop applications reading a user secret']] as const) {
    withModel(program.command(verb))
      .description(what)
      .argument('<secret>', 'the secret URI, id or name')
      .argument('<applications...>', 'application names (or one comma-separated list)')
      .action(async (ref: string, apps: string[], o: ModelOpt) => {
        const c = ctx.client(o.model);
        await c.call(`POST /api/models/:model/secrets/:secret/${route}`, { params: { secret: ref }, body: { apps: appList(apps) } });
      });
  }
}
