/**
 * storage-get, storage-list, storage-add and resource-get (issue 20), after Juju's
 * worker/uniter/runner/jujuc storage-get.go, storage-list.go, storage-add.go and
 * resource-get. storage-add is buffered with the hook's other changes and the controller
 * checks it at commit (a store the charm lacks or a count over its maximum fails the hook).
 */
import { checkEmpty, usageError } from './args.ts';
import { StringList, goQuote } from './govalue.ts';
import { type ToolSpec, toolError } from './spec.ts';

const STORAGE_ID = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*\/\d+$/;
const STORAGE_NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

export const storageGet: ToolSpec = {
  name: 'storage-get',
  args: '[<key>]',
  purpose: 'print information for storage instance with specified id',
  output: true,
  flags: () => [{
    names: ['s'],
    kind: 'string',
    help: 'specify a storage instance by id',
    check: (v) => (STORAGE_ID.test(v) ? undefined : `invalid storage ID ${goQuote(v)}`),
  }],
  run(call) {
    const [key, ...rest] = call.args;
    checkEmpty(rest);
    const snap = call.env.snapshot;
    const id = call.parsed.strings.get('s') ?? snap.hookStorageId;
    if (id === undefined) throw usageError('no storage instance specified');
    const s = snap.storage?.[id];
    if (!s) throw toolError(`storage ${goQuote(id)} not found`, 'storage-list shows the storage attached to this unit');
    const values: Record<string, string> = { kind: s.kind, location: s.location };
    if (key === undefined || key === '') return values;
    return Object.hasOwn(values, key) ? values[key]! : null;
  },
};

export const storageList: ToolSpec = {
  name: 'storage-list',
  args: '[<storage-name>]',
  purpose: 'list storage attached to the unit',
  output: true,
  flags: () => [],
  run(call) {
    const [name, ...rest] = call.args;
    checkEmpty(rest);
    if (name !== undefined && !STORAGE_NAME.test(name)) throw usageError(`invalid storage name ${goQuote(name)}`);
    const ids = Object.entries(call.env.snapshot.storage ?? {})
      .filter(([, s]) => name === undefined || s.name === name)
      .map(([id]) => id)
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    return new StringList(ids);
  },
};

export const storageAdd: ToolSpec = {
  name: 'storage-add',
  args: '<charm storage name>[=count] ...',
  purpose: 'add storage instances',
  output: false,
  flags: () => [],
  run(call) {
    if (call.args.length === 0) throw usageError('storage add requires a storage directive');
    const add: Record<string, number> = {};
    for (const arg of call.args) {
      const [name, count] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, '1'];
      if (!STORAGE_NAME.test(name)) throw usageError(`invalid storage name ${goQuote(name)}`);
      if (!/^\d+$/.test(count) || Number(count) < 1) throw usageError(`cannot parse count: ${goQuote(count)} is not a positive whole number`);
      add[name] = (add[name] ?? 0) + Number(count);
    }
    const buf = (call.env.changes.storageAdd ??= {});
    for (const [k, v] of Object.entries(add)) buf[k] = (buf[k] ?? 0) + v;
    return undefined;
  },
};

export const resourceGet: ToolSpec = {
  name: 'resource-get',
  args: '<resource name>',
  purpose: 'get the path to the locally cached resource file',
  output: false,
  printsLine: true,
  flags: () => [],
  run(call) {
    const [name, ...rest] = call.args;
    if (name === undefined) throw usageError('missing required resource name');
    checkEmpty(rest);
    const r = call.env.snapshot.resources?.[name];
    if (!r) throw toolError(`could not download resource: resource ${goQuote(name)} not found`, "the charm's metadata.yaml declares no such resource");
    if (r.path === undefined) throw toolError(r.error ?? `could not download resource ${goQuote(name)}`);
    return r.path;
  },
};

export const STORAGE_TOOLS: readonly ToolSpec[] = [resourceGet, storageAdd, storageGet, storageList];
