/**
 * relation-get, relation-set, relation-ids, relation-list. Access rules (reference §4.1):
 * a unit reads every bag of the relation except its own application's bag in a non-peer
 * relation, which only the leader may read; it writes only its own unit bag, and, when
 * leader, its application's bag. Reading its own bags includes this hook's writes.
 */
import { SigilError } from '@sigil/core';
import { checkEmpty, usageError } from './args.ts';
import type { HookToolEnv, RelationSnapshot } from './context.ts';
import { StringList, compareCodePoints, goQuote } from './govalue.ts';
import {
  NEED_STDIN,
  type ToolSpec,
  leads,
  localAppBag,
  localUnitBag,
  parseKeyValues,
  parseSettingsYaml,
  putKey,
  readInputFile,
  relationFlag,
  relationRef,
  selectedRelation,
  toolError,
} from './spec.ts';

const APP_NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]*[a-z][a-z0-9]*)*$/;
const UNIT_NAME = /^([a-z][a-z0-9]*(?:-[a-z0-9]*[a-z][a-z0-9]*)*)\/(?:0|[1-9][0-9]*)$/;

function permissionDenied(env: HookToolEnv, rel: RelationSnapshot, verb: 'read' | 'write'): SigilError {
  const scope = verb === 'read' && rel.role !== 'peer' ? 'in a non-peer relation ' : '';
  return new SigilError(
    'permission-denied',
    'permission denied',
    `only the leader of ${goQuote(env.snapshot.app)} may ${verb} its application data ${scope}(relation ${relationRef(rel)})`,
  );
}

export const relationGet: ToolSpec = {
  name: 'relation-get',
  args: '<key> <unit id>',
  purpose: 'get relation settings',
  output: true,
  flags: (env) => [
    relationFlag(env),
    { names: ['app'], kind: 'bool', help: 'Get the relation data for the overall application, not just a unit' },
  ],
  run(call) {
    const { env } = call;
    const snap = env.snapshot;
    const rel = selectedRelation(call);
    if (rel === undefined) throw usageError('no relation id specified');
    const args = [...call.args];
    let key = args.shift() ?? '';
    if (key === '-') key = '';
    let app = call.parsed.bools.get('app') ?? false;

    // Juju's determineUnitOrAppName: an explicit name wins, then the hook's remote unit,
    // then (switching to --app) the hook's remote application.
    let target: string;
    const supplied = args.shift();
    if (supplied !== undefined) {
      target = !app ? supplied : APP_NAME.test(supplied) ? supplied : (UNIT_NAME.exec(supplied)?.[1] ?? '');
    } else if (app) {
      if (snap.remoteApp === undefined) throw usageError('no unit or application specified');
      target = snap.remoteApp;
    } else if (snap.remoteUnit !== undefined) {
      target = snap.remoteUnit;
    } else if (snap.remoteApp !== undefined) {
      target = snap.remoteApp;
      app = true;
    } else {
      throw usageError('no unit or application specified');
    }
    checkEmpty(args);

    const bag = app ? readAppBag(env, rel, target) : readUnitBag(env, rel, target);
    if (key === '') return bag;
    return Object.hasOwn(bag, key) ? (bag[key] ?? null) : null;
  },
};

function readUnitBag(env: HookToolEnv, rel: RelationSnapshot, unit: string): Record<string, string> {
  const snap = env.snapshot;
  // Juju reads the local unit's settings, buffered writes included, for the unit's own
  // name and (for the leader) for its application's name.
  if (unit === snap.unit || (unit === snap.app && snap.leader)) return localUnitBag(env, rel);
  if (!UNIT_NAME.test(unit)) throw toolError(`${goQuote(unit)} is not a valid unit or application`);
  const bag = rel.unitData[unit];
  if (bag === undefined) {
    throw toolError(`cannot read settings for unit ${goQuote(unit)} in relation ${relationRef(rel)}: settings not found`);
  }
  return bag;
}

function readAppBag(env: HookToolEnv, rel: RelationSnapshot, app: string): Record<string, string> {
  const snap = env.snapshot;
  if (app === snap.app) {
    if (snap.leader) return localAppBag(env, rel);
    if (rel.role === 'peer') return rel.appData[app] ?? {};
    throw permissionDenied(env, rel, 'read');
  }
  if (app === rel.remoteApp) return rel.appData[app] ?? {};
  if (app === '' || !APP_NAME.test(app)) throw toolError(`${goQuote(app)} is not a valid unit or application`);
  throw new SigilError(
    'permission-denied',
    'permission denied',
    `application ${goQuote(app)} is not part of relation ${relationRef(rel)}`,
  );
}

export const relationSet: ToolSpec = {
  name: 'relation-set',
  args: 'key=value [key=value ...]',
  purpose: 'set relation settings',
  output: false,
  flags: (env) => [
    relationFlag(env),
    { names: ['app'], kind: 'bool', help: 'pick whether you are setting "application" settings or "unit" settings' },
    { names: ['file'], kind: 'string', help: 'file containing key-value pairs' },
    { names: ['format'], kind: 'string', help: 'deprecated format flag' },
  ],
  run(call) {
    const { env } = call;
    const rel = selectedRelation(call);
    if (rel === undefined) throw usageError('no relation id specified');
    const overrides = parseKeyValues(call.args, true);
    if (call.parsed.strings.has('format')) call.warn('--format flag deprecated for command "relation-set"');

    let settings = overrides;
    const file = call.parsed.strings.get('file');
    if (file !== undefined) {
      const text = readInputFile(call, file);
      if (text === undefined) return NEED_STDIN;
      settings = parseSettingsYaml(text);
      for (const [k, v] of overrides) settings.set(k, v);
    }

    const app = call.parsed.bools.get('app') ?? false;
    if (app && !leads(env)) throw permissionDenied(env, rel, 'write');
    const buffers = app ? env.changes.relationApp : env.changes.relationUnit;
    const writes = buffers.get(rel.id) ?? {};
    for (const [k, v] of settings) putKey(writes, k, v === '' ? null : v);
    buffers.set(rel.id, writes);
    return undefined;
  },
};

export const relationIds: ToolSpec = {
  name: 'relation-ids',
  args: '<name>',
  purpose: 'list all relation ids with the given relation name',
  output: true,
  flags: () => [],
  run(call) {
    const snap = call.env.snapshot;
    const [given, ...rest] = call.args;
    const hookRel = snap.hookRelationId === undefined ? undefined : snap.relations[snap.hookRelationId];
    const name = given ?? hookRel?.endpoint;
    if (name === undefined) throw usageError('no relation name specified');
    checkEmpty(rest);
    const ids = Object.values(snap.relations)
      .filter((r) => r.endpoint === name)
      .map(relationRef)
      .sort(compareCodePoints);
    return new StringList(ids);
  },
};

export const relationList: ToolSpec = {
  name: 'relation-list',
  args: '',
  purpose: 'list relation units',
  output: true,
  flags: (env) => [
    relationFlag(env),
    { names: ['app'], kind: 'bool', help: 'List remote application instead of participating units' },
  ],
  run(call) {
    const rel = selectedRelation(call);
    if (rel === undefined) throw usageError('no relation id specified');
    checkEmpty(call.args);
    if (call.parsed.bools.get('app') === true) return rel.remoteApp;
    return new StringList(rel.members);
  },
};
