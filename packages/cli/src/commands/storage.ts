/**
 * Storage and resources, with Juju's verbs, flags and output (issue 20): `storage`,
 * `storage-pools`, `add-storage`, `attach-storage`, `detach-storage`, `remove-storage`,
 * `resources`, `attach-resource`. A resource file is checked (exists, is a regular file,
 * within the size limit) before it is read, and before anything is sent.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { MAX_RESOURCE_SIZE, type ResourceDoc, type StorageInstanceDoc, type StoragePoolDoc } from '@sigil/api';
import { SigilError, humanizeIMiB, naturalCompare, splitStorageArg, type StorageDirective } from '@sigil/core';
import type { Ctx } from '../context.ts';
import { renderList } from '../render/output.ts';

interface ModelOpt {
  model?: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');
/** Juju's status timestamp layout: `02 Jan 2006 15:04:05Z`. */
const since = (ms: number) => {
  const d = new Date(ms);
  return `${p2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}Z`;
};

/** `juju storage`'s table (cmd/juju/storage formatStorageInstancesListTabular): detached storage has no unit and sorts first. */
export function renderStorageTable(list: StorageInstanceDoc[]): string {
  const rows = [...list].sort((a, b) => (a.unit === b.unit ? naturalCompare(a.id, b.id) : a.unit < b.unit ? -1 : 1));
  return renderList(['Unit', 'Storage ID', 'Type', 'Pool', 'Size', 'Status', 'Message'], rows.map((s) => [s.unit, s.id, s.kind, s.pool, humanizeIMiB(s.size), s.status, s.message]), { empty: 'No storage to display.' });
}

/** `juju storage --format json|yaml`: Juju's CombinedStorage (`storage`, then `filesystems` and `volumes`). */
export function storageDocument(list: StorageInstanceDoc[]): Record<string, unknown> {
  const storage: Record<string, unknown> = {};
  const filesystems: Record<string, unknown> = {};
  const volumes: Record<string, unknown> = {};
  list.forEach((s, i) => {
    const attachments = s.unit === '' ? undefined : { units: { [s.unit]: { machine: s.machine, ...(s.location ? { location: s.location } : {}), life: 'alive' } } };
    storage[s.id] = { kind: s.kind, ...(s.owner ? { owner: s.owner } : {}), life: s.life, status: { current: s.status, ...(s.message ? { message: s.message } : {}), since: since(s.since) }, persistent: s.persistent, ...(attachments ? { attachments } : {}) };
    const backing = { storage: s.id, ...(attachments ? { attachments: { machines: { [s.machine]: { ...(s.kind === 'filesystem' ? { 'mount-point': s.location } : { 'device-link': s.location }), 'read-only': false, life: 'alive' } }, units: { [s.unit]: { machine: s.machine, ...(s.location ? { location: s.location } : {}), life: 'alive' } } } } : {}), pool: s.pool, size: s.size, life: s.life, status: { current: s.status === 'attached' ? 'attached' : s.status, since: since(s.since) } };
    (s.kind === 'filesystem' ? filesystems : volumes)[`${s.machine || 'none'}/${i}`] = backing;
  });
  return { storage, ...(Object.keys(filesystems).length ? { filesystems } : {}), ...(Object.keys(volumes).length ? { volumes } : {}) };
}

/** `juju storage-pools`: `Name  Provider  Attributes`, by name. */
export function renderPools(pools: StoragePoolDoc[]): string {
  const sorted = [...pools].sort((a, b) => a.name.localeCompare(b.name));
  return renderList(['Name', 'Provider', 'Attributes'], sorted.map((p) => [p.name, p.provider, Object.entries(p.attributes).map(([k, v]) => `${k}=${v}`).join(' ')]), { empty: 'No storage pools to display.' });
}

export function poolsDocument(pools: StoragePoolDoc[]): Record<string, unknown> {
  return Object.fromEntries([...pools].sort((a, b) => a.name.localeCompare(b.name)).map((p) => [p.name, { provider: p.provider, ...(Object.keys(p.attributes).length ? { attrs: p.attributes } : {}) }]));
}

/** Juju's upload revision column: the upload time, `2006-01-02T15:04`. */
const uploadRevision = (ms: number) => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}T${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}`;
};

/** `juju resources APP` (cmd/juju/resource output_tabular.go): `Resource  Supplied by  Revision`. */
export function renderResources(list: ResourceDoc[]): string {
  return renderList(['Resource', 'Supplied by', 'Revision'], list.map((r) => [r.name, r.origin === 'upload' ? r.username : '-', r.origin === 'upload' ? uploadRevision(r.timestamp) : '-']), { empty: 'No resources to display.' });
}

export function resourcesDocument(list: ResourceDoc[]): Record<string, unknown> {
  return {
    resources: list.map((r) => ({
      name: r.name, type: r.type, path: r.path, description: r.description, revision: r.origin === 'upload' ? uploadRevision(r.timestamp) : '-',
      fingerprint: r.fingerprint, size: r.size, origin: r.origin || 'upload', used: r.origin === 'upload',
      ...(r.origin === 'upload' ? { timestamp: new Date(r.timestamp).toISOString(), username: r.username } : {}),
    })),
  };
}

/**
 * Reads `--resource NAME=FILE` arguments: every name must be one the charm declares (when
 * known), every file a regular file within the limit, all checked before any is read.
 */
export function readResourceArgs(args: readonly string[], declared: readonly string[] | undefined): Record<string, Buffer> {
  const files: [string, string][] = [];
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0 || eq === arg.length - 1) throw new SigilError('bad-request', `invalid resource "${arg}"`, 'write NAME=FILE, e.g. --resource theme=./theme.zip');
    const [name, file] = [arg.slice(0, eq), arg.slice(eq + 1)];
    if (declared !== undefined && !declared.includes(name)) {
      throw new SigilError('not-found', `the charm has no resource "${name}"`, declared.length ? `its resources: ${[...declared].sort().join(', ')}` : 'its metadata.yaml declares no resources');
    }
    let st;
    try {
      st = statSync(file);
    } catch {
      throw new SigilError('not-found', `resource file "${file}" for "${name}" does not exist`, 'check the path (relative paths are from the current directory)');
    }
    if (!st.isFile()) throw new SigilError('bad-request', `resource "${name}": "${file}" is not a regular file`, 'give the path of a file');
    if (st.size > MAX_RESOURCE_SIZE) {
      throw new SigilError('too-large', `resource file "${file}" is ${st.size} bytes, over the limit of ${MAX_RESOURCE_SIZE} bytes (64 MiB)`, 'give a smaller file, or fetch large payloads from the charm itself');
    }
    files.push([name, file]);
  }
  return Object.fromEntries(files.map(([name, file]) => [name, readFileSync(file)]));
}

/** `--storage NAME=POOL,SIZE,COUNT` arguments (repeatable), checked against the charm's stores when known. */
export function parseStorageArgs(args: readonly string[], declared: readonly string[] | undefined): Record<string, StorageDirective> {
  const out: Record<string, StorageDirective> = {};
  for (const arg of args) {
    const [name, d] = splitStorageArg(arg);
    if (!arg.includes('=')) throw new SigilError('bad-request', `invalid storage directive "${arg}"`, 'write NAME=[POOL,][SIZE,][COUNT], e.g. --storage data=rootfs,2G');
    if (declared !== undefined && !declared.includes(name)) {
      throw new SigilError('not-found', `the charm has no store called "${name}"`, declared.length ? `its stores: ${[...declared].sort().join(', ')}` : 'its metadata.yaml declares no storage');
    }
    out[name] = d;
  }
  return out;
}

export function registerStorage(program: Command, ctx: Ctx): void {
  const withModel = (c: Command) => c.option('-m, --model <model>', 'model to operate in');

  withModel(program.command('storage').alias('list-storage'))
    .description('list storage instances')
    .option('--format <format>', 'tabular, yaml or json', 'tabular')
    .action(async (o: ModelOpt & { format: string }) => {
      const c = ctx.client(o.model);
      const { storage } = await c.call('GET /api/models/:model/storage');
      ctx.print(storageDocument(storage), o.format, () => renderStorageTable(storage));
    });

  withModel(program.command('storage-pools').alias('list-storage-pools'))
    .description('list storage pools')
    .option('--format <format>', 'tabular, yaml or json', 'tabular')
    .action(async (o: ModelOpt & { format: string }) => {
      const c = ctx.client(o.model);
      const { pools } = await c.call('GET /api/models/:model/storage-pools');
      ctx.print(poolsDocument(pools), o.format, () => renderPools(pools));
    });

  withModel(program.command('add-storage'))
    .description('add storage to a unit: NAME=[POOL,][SIZE,][COUNT] (count defaults to 1)')
    .argument('<unit>')
    .argument('<directives...>', 'e.g. data=2 or data=loop,1G')
    .action(async (unit: string, directives: string[], o: ModelOpt) => {
      const parsed: Record<string, StorageDirective> = {};
      for (const d of directives) {
        const [name, dir] = splitStorageArg(d);
        parsed[name] = dir;
      }
      const c = ctx.client(o.model);
      const { ids } = await c.call('POST /api/models/:model/storage/add', { body: { unit, directives: parsed } });
      for (const id of ids) ctx.info(`added storage ${id} to ${unit}`);
    });

  withModel(program.command('attach-storage'))
    .description('attach detached storage to a unit')
    .argument('<unit>')
    .argument('<storage...>', 'storage ids, e.g. data/0')
    .action(async (unit: string, ids: string[], o: ModelOpt) => {
      const c = ctx.client(o.model);
      await c.call('POST /api/models/:model/storage/attach', { body: { unit, ids } });
      for (const id of ids) ctx.info(`attaching ${id} to ${unit}`);
    });

  withModel(program.command('detach-storage'))
    .description('detach storage from its unit (the data is kept)')
    .argument('<storage...>', 'storage ids, e.g. data/0')
    .option('--force', 'accepted for Juju compatibility')
    .action(async (ids: string[], o: ModelOpt & { force?: boolean }) => {
      const c = ctx.client(o.model);
      await c.call('POST /api/models/:model/storage/detach', { body: { ids, ...(o.force ? { force: true } : {}) } });
      for (const id of ids) ctx.info(`detaching ${id}`);
    });

  withModel(program.command('remove-storage'))
    .description('remove storage from the model (attached storage is detached first)')
    .argument('<storage...>', 'storage ids, e.g. data/0')
    .option('--force', 'accepted for Juju compatibility')
    .option('--no-destroy', 'keep the data on disk')
    .action(async (ids: string[], o: ModelOpt & { force?: boolean; destroy?: boolean }) => {
      const c = ctx.client(o.model);
      await c.call('POST /api/models/:model/storage/remove', { body: { ids, ...(o.destroy === false ? { noDestroy: true } : {}) } });
      for (const id of ids) ctx.info(`removing ${id}`);
    });

  withModel(program.command('resources').alias('list-resources'))
    .description('show the resources of an application')
    .argument('<application>')
    .option('--format <format>', 'tabular, yaml or json', 'tabular')
    .action(async (app: string, o: ModelOpt & { format: string }) => {
      const c = ctx.client(o.model);
      const { resources } = await c.call('GET /api/models/:model/applications/:app/resources', { params: { app } });
      ctx.print(resourcesDocument(resources), o.format, () => renderResources(resources));
    });

  withModel(program.command('attach-resource'))
    .description('upload a file as a resource of an application (its units run upgrade-charm)')
    .argument('<application>')
    .argument('<resource>', 'NAME=FILE')
    .action(async (app: string, arg: string, o: ModelOpt) => {
      const c = ctx.client(o.model);
      const known = (await c.call('GET /api/models/:model/applications/:app/resources', { params: { app } })).resources.map((r) => r.name);
      const [[name, data]] = Object.entries(readResourceArgs([arg], known)) as [[string, Buffer]];
      const r = await c.call('POST /api/models/:model/applications/:app/resources', { params: { app }, body: { name, filename: name, data: data.toString('base64') } });
      ctx.info(`uploaded resource "${name}" for ${app}: revision ${r.revision}, ${r.size} bytes`);
    });
}
