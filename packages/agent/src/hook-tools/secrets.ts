/**
 * The secret hook tools (Juju 3.x, worker/uniter/runner/jujuc/secret-*.go): secret-add,
 * secret-get, secret-set, secret-grant, secret-revoke, secret-remove, secret-ids and
 * secret-info-get. They read the secrets in the hook's snapshot (the uniter fetched the
 * content this unit may read before the hook started) and buffer every change, which the
 * uniter commits with the hook's other changes. A hook sees its own changes: a secret it
 * added can be read back, a --refresh holds for the rest of the hook.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SecretOp } from '@sigil/api';
import { SecretDataError, isRotatePolicy, newSecretId, parseDuration, parseSecretUri, secretArgPairs, secretDataFromPairs, secretUri } from '@sigil/core';
import { checkEmpty, usageError } from './args.ts';
import type { HookToolEnv, SecretEntry } from './context.ts';
import { type GoValue, StringList, goQuote } from './govalue.ts';
import { NEED_STDIN, type ToolCall, type ToolSpec, fileError, parseRelationArg, parseSettingsYaml, leads, readInputFile, relationFlag, toolError } from './spec.ts';

/** This hook's secrets: the snapshot's, with the hook's own changes applied as it makes them. */
const working = new WeakMap<HookToolEnv, Map<string, SecretEntry>>();

export function hookSecrets(env: HookToolEnv): Map<string, SecretEntry> {
  let m = working.get(env);
  if (!m) {
    m = new Map((env.snapshot.secrets ?? []).map((e) => [e.id, { ...e, content: { ...e.content } }]));
    working.set(env, m);
  }
  return m;
}

function record(env: HookToolEnv, op: SecretOp): void {
  (env.changes.secrets ??= []).push(op);
}

/** The URI argument, as secrets.ParseURI takes it (a usage error when it is not one). */
function parseUriArg(arg: string): string {
  const uri = parseSecretUri(arg);
  if (!uri) throw usageError(`secret URI ${goQuote(arg)} not valid`);
  return uri.id;
}

function notFound(env: HookToolEnv, what: string): Error {
  return toolError(`secret ${goQuote(what)} not found`, `it does not exist or was not granted to ${env.snapshot.unit}`);
}

/** A secret by id, else by the label this unit knows it under. */
function lookup(env: HookToolEnv, id: string | undefined, label: string): SecretEntry {
  const all = hookSecrets(env);
  if (id !== undefined) {
    const e = all.get(id);
    if (!e) throw notFound(env, secretUri(id));
    return e;
  }
  for (const e of all.values()) if (e.label === label && label !== '') return e;
  throw notFound(env, label);
}

function requireManage(env: HookToolEnv, e: SecretEntry, verb: string): void {
  if (e.access === 'manage') return;
  if (e.access === 'owner-app') throw toolError(`cannot ${verb} secret ${goQuote(secretUri(e.id))}: this unit is not the leader`, 'only the leader manages its application\'s secrets (is-leader)');
  throw toolError(`cannot ${verb} secret ${goQuote(secretUri(e.id))}: permission denied`, 'only the secret\'s owner may; a consumer can only read it');
}

/** --expire: an RFC 3339 time, one without a zone (UTC), or a positive Go duration from now. */
function parseExpire(spec: string): number {
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(spec)) return Date.parse(spec);
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(spec)) return Date.parse(spec + 'Z');
  if (/^-/.test(spec)) throw usageError(`negative expire duration ${goQuote(spec)} not valid`);
  let ms: number;
  try {
    ms = parseDuration(spec);
  } catch {
    throw usageError(`expire time or duration ${goQuote(spec)} not valid`);
  }
  if (ms <= 0) throw usageError(`negative expire duration ${goQuote(spec)} not valid`);
  return Date.now() + ms;
}

const UPSERT_FLAGS = [
  { names: ['description'], kind: 'string', help: 'Specifies the secret description.' },
  { names: ['expire'], kind: 'string', help: 'Specifies either a duration or time when the secret should expire.' },
  { names: ['file'], kind: 'string', help: 'Specifies a YAML file containing secret key values.' },
  { names: ['label'], kind: 'string', help: 'Specifies a label used to identify the secret in hooks.' },
  { names: ['owner'], kind: 'string', help: 'Specifies the owner of the secret, either the application or unit.', default: 'application' },
  { names: ['rotate'], kind: 'string', help: 'Specifies the secret rotation policy.' },
] as const;

interface Upsert {
  content: Record<string, string> | undefined;
  meta: { label?: string; description?: string; expire?: number; rotate?: string };
  owner: 'application' | 'unit';
}

/** The flags and key=value arguments secret-add and secret-set share (SecretUpsertContentCommand). */
function parseUpsert(call: ToolCall, args: readonly string[]): Upsert | typeof NEED_STDIN {
  const s = call.parsed.strings;
  const meta: Upsert['meta'] = {};
  const expire = s.get('expire');
  if (expire !== undefined && expire !== '') meta.expire = parseExpire(expire);
  const rotate = s.get('rotate');
  if (rotate !== undefined && rotate !== '') {
    if (!isRotatePolicy(rotate)) throw usageError(`rotate policy ${goQuote(rotate)} not valid`);
    meta.rotate = rotate;
  }
  const owner = s.get('owner') ?? 'application';
  if (owner !== 'application' && owner !== 'unit') throw usageError(`secret owner ${goQuote(owner)} not valid`);
  const label = s.get('label');
  if (label !== undefined && label !== '') meta.label = label;
  const description = s.get('description');
  if (description !== undefined && description !== '') meta.description = description;
  let pairs: [string, string][];
  try {
    pairs = secretArgPairs(args);
  } catch (e) {
    throw usageError((e as Error).message);
  }
  const file = s.get('file');
  if (file !== undefined && file !== '') {
    const text = readInputFile(call, file);
    if (text === undefined) return NEED_STDIN;
    const fromFile = [...parseSettingsYaml(text)];
    const given = new Set(pairs.map(([k]) => k));
    pairs = [...fromFile.filter(([k]) => !given.has(k)), ...pairs];
  }
  let content: Record<string, string> | undefined;
  try {
    content = pairs.length === 0 ? undefined : secretDataFromPairs(pairs, (p) => {
      const abs = resolve(call.cwd, p);
      try {
        return readFileSync(abs);
      } catch (err) {
        throw fileError('open', abs, err);
      }
    });
  } catch (e) {
    if (e instanceof SecretDataError) throw usageError(e.message);
    throw e;
  }
  return { content, meta, owner };
}

export const secretAdd: ToolSpec = {
  name: 'secret-add',
  args: '[key[#base64|#file]=value...]',
  purpose: 'add a new secret',
  output: false,
  printsLine: true,
  flags: () => UPSERT_FLAGS,
  run(call) {
    if (call.args.length === 0 && (call.parsed.strings.get('file') ?? '') === '') throw usageError('missing secret value or filename');
    const u = parseUpsert(call, call.args);
    if (u === NEED_STDIN) return NEED_STDIN;
    if (u.content === undefined) throw toolError('empty secret value not valid');
    const env = call.env;
    if (u.owner === 'application' && !leads(env)) throw toolError('cannot create an application-owned secret: this unit is not the leader', 'use --owner unit, or add it from the leader');
    const all = hookSecrets(env);
    if (u.meta.label !== undefined && [...all.values()].some((e) => e.access === 'manage' && e.label === u.meta.label)) {
      throw toolError(`secret with label ${goQuote(u.meta.label)} already exists`);
    }
    const id = newSecretId();
    all.set(id, { id, access: 'manage', label: u.meta.label ?? '', tracked: 1, latest: 1, content: { 1: u.content } });
    record(env, { op: 'add', id, owner: u.owner, content: u.content, ...u.meta });
    return secretUri(id);
  },
};

export const secretSet: ToolSpec = {
  name: 'secret-set',
  args: '<ID> [key[#base64]=value...]',
  purpose: 'update an existing secret',
  output: false,
  flags: () => UPSERT_FLAGS,
  run(call) {
    const [first, ...rest] = call.args;
    if (first === undefined) throw usageError('missing secret URI');
    const id = parseUriArg(first);
    const u = parseUpsert(call, rest);
    if (u === NEED_STDIN) return NEED_STDIN;
    if (u.content === undefined && Object.keys(u.meta).length === 0) throw usageError('at least one attribute to update must be specified');
    const e = lookup(call.env, id, '');
    requireManage(call.env, e, 'update');
    if (u.content !== undefined) {
      e.latest += 1;
      e.tracked = e.latest;
      e.content[e.latest] = u.content;
    }
    if (u.meta.label !== undefined) e.label = u.meta.label;
    record(call.env, { op: 'set', id, ...(u.content !== undefined ? { content: u.content } : {}), ...u.meta });
    return undefined;
  },
};

export const secretGet: ToolSpec = {
  name: 'secret-get',
  args: '<ID> [key[#base64]]',
  purpose: 'get the content of a secret',
  output: true,
  formats: { default: 'yaml', allowed: ['yaml', 'json'] },
  flags: () => [
    { names: ['label'], kind: 'string', help: 'Specifies a label used to identify the secret in hooks.' },
    { names: ['peek'], kind: 'bool', help: 'Gets the latest revision just this time.' },
    { names: ['refresh'], kind: 'bool', help: 'Gets the latest revision and also gets this same revision for subsequent calls.' },
  ],
  run(call) {
    const args = [...call.args];
    const id = args.length > 0 ? parseUriArg(args.shift()!) : undefined;
    const label = call.parsed.strings.get('label') ?? '';
    if (id === undefined && label === '') throw usageError('require either a secret URI or label');
    const peek = call.parsed.bools.get('peek') === true;
    const refresh = call.parsed.bools.get('refresh') === true;
    if (peek && refresh) throw usageError('specify one of --peek or --refresh but not both');
    let key: string | undefined;
    let asBase64 = false;
    if (args.length > 0) {
      key = args.shift()!;
      if (key.endsWith('#base64')) {
        key = key.slice(0, -7);
        asBase64 = true;
      }
      checkEmpty(args);
    }
    const env = call.env;
    const e = lookup(env, id, label);
    // Giving both the id and a label names the secret for this unit from now on.
    const relabel = id !== undefined && label !== '' && label !== e.label ? label : undefined;
    let revision = e.latest;
    if (e.access === 'granted') {
      const first = e.tracked === 0;
      if (!peek) revision = refresh || first ? e.latest : e.tracked;
      if ((refresh || first) && !peek) {
        e.tracked = e.latest;
        record(env, { op: 'track', id: e.id, revision: e.latest, ...(relabel !== undefined ? { label: relabel } : {}) });
      } else if (relabel !== undefined) record(env, { op: 'track', id: e.id, revision: e.tracked, label: relabel });
    } else if (relabel !== undefined && e.access === 'manage') {
      record(env, { op: 'set', id: e.id, label: relabel });
    }
    if (relabel !== undefined) e.label = relabel;
    const content = e.content[revision];
    if (content === undefined) throw toolError(`secret ${goQuote(secretUri(e.id))} revision ${revision} not available`, 'the agent fetches it before the next hook');
    const decode = (v: string) => (asBase64 ? v : Buffer.from(v, 'base64').toString('utf8'));
    if (key !== undefined) {
      const v = content[key];
      if (v === undefined) throw toolError(`secret key ${goQuote(key)} not found`);
      return decode(v);
    }
    const out: Record<string, GoValue> = {};
    for (const [k, v] of Object.entries(content)) Object.defineProperty(out, k, { value: decode(v), enumerable: true });
    return out;
  },
};

export const secretGrant: ToolSpec = {
  name: 'secret-grant',
  args: '<ID>',
  purpose: 'grant access to a secret',
  output: false,
  flags: (env) => [relationFlag(env), { names: ['unit'], kind: 'string', help: 'Specifies the unit to grant access.' }],
  run(call) {
    const [first, ...rest] = call.args;
    if (first === undefined) throw usageError('missing secret URI');
    const id = parseUriArg(first);
    const relArg = call.parsed.strings.get('r') ?? relationFlag(call.env).default ?? '';
    if (relArg === '') throw usageError('no relation id specified');
    const rel = parseRelationArg(call.env, relArg);
    if (typeof rel === 'string') throw usageError(rel);
    const app = call.env.snapshot.relations[rel]!.remoteApp;
    const unit = call.parsed.strings.get('unit');
    if (unit !== undefined && unit !== '') {
      if (!/^[a-z][a-z0-9-]*\/[0-9]+$/.test(unit)) throw usageError(`unit ${goQuote(unit)} not valid`);
      if (unit.slice(0, unit.lastIndexOf('/')) !== app) throw usageError(`cannot specify unit ${goQuote(unit)} in relation to application ${goQuote(app)}`);
    }
    checkEmpty(rest);
    const e = lookup(call.env, id, '');
    requireManage(call.env, e, 'grant access to');
    record(call.env, { op: 'grant', id, relation: rel, app, ...(unit ? { unit } : {}) });
    return undefined;
  },
};

export const secretRevoke: ToolSpec = {
  name: 'secret-revoke',
  args: '<ID>',
  purpose: 'revoke access to a secret',
  output: false,
  flags: (env) => [
    { names: ['app', 'application'], kind: 'string', help: 'the application to revoke access' },
    relationFlag(env),
    { names: ['unit'], kind: 'string', help: 'the unit to revoke access' },
  ],
  run(call) {
    const [first, ...rest] = call.args;
    if (first === undefined) throw usageError('missing secret name');
    const id = parseUriArg(first);
    const app = call.parsed.strings.get('app') ?? '';
    const unit = call.parsed.strings.get('unit') ?? '';
    const relArg = call.parsed.strings.get('r') ?? relationFlag(call.env).default ?? '';
    if (app !== '' && !/^[a-z][a-z0-9-]*$/.test(app)) throw usageError(`application ${goQuote(app)} not valid`);
    if (unit !== '' && !/^[a-z][a-z0-9-]*\/[0-9]+$/.test(unit)) throw usageError(`unit ${goQuote(unit)} not valid`);
    let relation: number | undefined;
    if (app === '' && unit === '') {
      if (relArg === '') throw usageError('missing relation or application or unit');
      const rel = parseRelationArg(call.env, relArg);
      if (typeof rel === 'string') throw usageError(rel);
      relation = rel;
    }
    checkEmpty(rest);
    const e = lookup(call.env, id, '');
    requireManage(call.env, e, 'revoke access to');
    const target = relation !== undefined ? call.env.snapshot.relations[relation]!.remoteApp : app;
    record(call.env, { op: 'revoke', id, ...(target !== '' ? { app: target } : {}), ...(unit !== '' ? { unit } : {}) });
    return undefined;
  },
};

export const secretRemove: ToolSpec = {
  name: 'secret-remove',
  args: '<ID>',
  purpose: 'remove an existing secret',
  output: false,
  flags: () => [{ names: ['revision'], kind: 'string', help: 'Removes the specified revision.', check: (v) => (/^[0-9]+$/.test(v) ? undefined : `invalid value ${goQuote(v)} for option --revision: strconv.ParseInt: parsing ${goQuote(v)}: invalid syntax`) }],
  run(call) {
    const [first, ...rest] = call.args;
    if (first === undefined) throw usageError('missing secret URI');
    const id = parseUriArg(first);
    checkEmpty(rest);
    const revArg = call.parsed.strings.get('revision');
    const revision = revArg === undefined ? undefined : Number(revArg);
    if (revision !== undefined && revision < 1) throw usageError(`revision must be a positive integer`);
    const all = hookSecrets(call.env);
    const e = lookup(call.env, id, '');
    requireManage(call.env, e, 'remove');
    if (revision === undefined) all.delete(id);
    else delete e.content[revision];
    record(call.env, { op: 'remove', id, ...(revision !== undefined ? { revision } : {}) });
    return undefined;
  },
};

export const secretIds: ToolSpec = {
  name: 'secret-ids',
  args: '',
  purpose: 'Print secret IDs.',
  output: true,
  flags: () => [],
  run(call) {
    checkEmpty(call.args);
    const ids = [...hookSecrets(call.env).values()].filter((e) => e.access === 'manage').map((e) => secretUri(e.id)).sort();
    return new StringList(ids);
  },
};

export const secretInfoGet: ToolSpec = {
  name: 'secret-info-get',
  args: '<ID>',
  purpose: "get a secret's metadata info",
  output: true,
  formats: { default: 'yaml', allowed: ['yaml', 'json'] },
  flags: () => [{ names: ['label'], kind: 'string', help: 'a label used to identify the secret' }],
  run(call) {
    const args = [...call.args];
    const id = args.length > 0 ? parseUriArg(args.shift()!) : undefined;
    const label = call.parsed.strings.get('label') ?? '';
    if (id === undefined && label === '') throw usageError('require either a secret URI or label');
    if (id !== undefined && label !== '') throw usageError('specify either a secret URI or label but not both');
    checkEmpty(args);
    let e: SecretEntry;
    try {
      e = lookup(call.env, id, label);
    } catch {
      throw notFound(call.env, id ?? label);
    }
    if (e.access !== 'manage') throw notFound(call.env, id ?? label);
    const m = e.meta;
    const fields = new Map<string, GoValue>([['revision', e.latest], ['label', e.label], ['owner', m?.owner ?? 'application']]);
    if (m?.description) fields.set('description', m.description);
    if (m?.rotation) fields.set('rotation', m.rotation);
    if (m?.expireAt !== undefined) fields.set('expiry', new Date(m.expireAt).toISOString());
    if (m?.rotateAt !== undefined) fields.set('rotates', new Date(m.rotateAt).toISOString());
    if (m && m.access.length > 0) fields.set('access', m.access.map((a) => new Map<string, GoValue>([['target', a.target], ['scope', a.scope], ['role', a.role]])));
    return { [e.id]: fields };
  },
};

export const SECRET_TOOLS: readonly ToolSpec[] = [secretAdd, secretGet, secretGrant, secretIds, secretInfoGet, secretRemove, secretRevoke, secretSet];

/** Every secret value the hook can see or wrote (decoded), for scrubbing its output. */
export function hookSecretValues(env: HookToolEnv): string[] {
  const out = new Set<string>();
  const add = (content: Record<string, string>) => {
    for (const v of Object.values(content)) out.add(Buffer.from(v, 'base64').toString('utf8'));
  };
  for (const e of env.snapshot.secrets ?? []) for (const c of Object.values(e.content)) add(c);
  for (const op of env.changes.secrets ?? []) if ((op.op === 'add' || op.op === 'set') && op.content) add(op.content);
  return [...out];
}
