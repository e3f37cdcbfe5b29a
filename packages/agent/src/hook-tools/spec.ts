/**
 * What every hook tool is made of: a declaration (name, usage, flags) and a `run`
 * function that reads the hook's snapshot, records into its change buffer, and returns
 * the value to print. Helpers shared by several tools live here too.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SigilError } from '@sigil/core';
import { LineCounter, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { type FlagSpec, type ParsedArgs, usageError } from './args.ts';
import type { HookToolEnv, RelationSnapshot } from './context.ts';
import type { OutputFormat } from './format.ts';
import { type GoValue, goQuote } from './govalue.ts';

/** Returned by `run` when the tool must read stdin that the client has not sent yet. */
export const NEED_STDIN: unique symbol = Symbol('need-stdin');

export interface ToolCall {
  readonly env: HookToolEnv;
  /** Positional arguments, after flag parsing. */
  readonly args: readonly string[];
  readonly parsed: ParsedArgs;
  readonly format: OutputFormat;
  readonly stdin: Buffer | undefined;
  /** The hook process's working directory: relative file names are resolved against it. */
  readonly cwd: string;
  /** Text written to stderr before the output, such as Juju's deprecation notices. */
  warn(text: string): void;
}

export interface ToolSpec {
  readonly name: string;
  /** The positional part of the usage line, e.g. `<key> <unit id>`. */
  readonly args: string;
  readonly purpose: string;
  /** Adds `--format` and `-o/--output`, and prints what `run` returns. */
  readonly output: boolean;
  /** The formats `--format` offers when not juju/cmd's default set (smart, yaml, json; smart by default). */
  readonly formats?: { default: OutputFormat; allowed: readonly OutputFormat[] };
  /** Without output flags: a string `run` returns is printed as one line (secret-add prints the new URI so). */
  readonly printsLine?: boolean;
  flags(env: HookToolEnv): readonly FlagSpec[];
  /**
   * Runs the tool. Throws SigilError: code `invalid-params` is a usage error (exit 2),
   * any other code a run error (exit 1). Returns the value to print (null prints as Go's
   * nil), undefined when the tool prints nothing, or NEED_STDIN; or a promise of the value
   * for a tool that must ask the controller (goal-state).
   */
  run(call: ToolCall): GoValue | undefined | typeof NEED_STDIN | Promise<GoValue>;
}

export function toolError(message: string, hint?: string): SigilError {
  return new SigilError('bad-request', message, hint);
}

/**
 * Whether this unit leads, for is-leader and the leader-only tools: what its snapshot says,
 * while the agent can vouch for the lease (it heard from the controller within half of it).
 * A leader that cannot gets an error, not False, as Juju gives no guarantee then: the hook
 * fails, and runs again once the agent reaches the controller (and knows who leads).
 */
export function leads(env: HookToolEnv): boolean {
  if (!env.snapshot.leader) return false;
  if (env.leaseHeld?.() === false) {
    throw toolError('cannot verify leadership: the controller has not been heard from for half the leadership lease', 'the hook fails and runs again once the agent reaches the controller');
  }
  return true;
}

export function notRunningAction(): SigilError {
  return toolError('not running an action');
}

/** `relation-name:id`, Juju's "fake id" for a relation. */
export function relationRef(rel: RelationSnapshot): string {
  return `${rel.endpoint}:${rel.id}`;
}

/** Parses `-r db:2` or `-r 2` as relationIdValue.Set does. */
export function parseRelationArg(env: HookToolEnv, value: string): number | string {
  const trimmed = value.slice(value.lastIndexOf(':') + 1);
  if (!/^[+-]?[0-9]+$/.test(trimmed)) return 'invalid relation id';
  const id = Number(trimmed);
  return env.snapshot.relations[id] === undefined ? 'relation not found' : id;
}

export function relationFlag(env: HookToolEnv): FlagSpec {
  const hookRel = hookRelation(env);
  return {
    names: ['r', 'relation'],
    kind: 'string',
    help: 'Specify a relation by id',
    default: hookRel === undefined ? '' : relationRef(hookRel),
    check: (v) => {
      const id = parseRelationArg(env, v);
      return typeof id === 'string' ? id : undefined;
    },
  };
}

export function hookRelation(env: HookToolEnv): RelationSnapshot | undefined {
  const id = env.snapshot.hookRelationId;
  return id === undefined ? undefined : env.snapshot.relations[id];
}

/** The relation chosen with `-r`, else the hook's own; undefined when there is neither. */
export function selectedRelation(call: ToolCall): RelationSnapshot | undefined {
  const arg = call.parsed.strings.get('r');
  if (arg === undefined) return hookRelation(call.env);
  const id = parseRelationArg(call.env, arg);
  return typeof id === 'number' ? call.env.snapshot.relations[id] : undefined;
}

/** A bag with this hook's buffered writes applied (null deletes). */
export function overlay(
  base: Readonly<Record<string, string>> | undefined,
  writes: Readonly<Record<string, string | null>> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base ?? {})) putKey(out, k, v);
  for (const [k, v] of Object.entries(writes ?? {})) {
    if (v === null) delete out[k];
    else putKey(out, k, v);
  }
  return out;
}

/** Sets a key on a plain record, safe for keys such as `__proto__` (charms choose keys). */
export function putKey<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
}

/** This unit's bag in `rel` as this hook sees it: committed data plus its own writes. */
export function localUnitBag(env: HookToolEnv, rel: RelationSnapshot): Record<string, string> {
  return overlay(rel.unitData[env.snapshot.unit], env.changes.relationUnit.get(rel.id));
}

/** This application's bag in `rel` as this hook sees it (meaningful for the leader). */
export function localAppBag(env: HookToolEnv, rel: RelationSnapshot): Record<string, string> {
  return overlay(rel.appData[env.snapshot.app], env.changes.relationApp.get(rel.id));
}

const STRERROR: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many levels of symbolic links',
};

/** Go's wording for a failed file operation: `open /x: no such file or directory`. */
export function fileError(op: string, path: string, err: unknown): SigilError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason = (code !== undefined ? STRERROR[code] : undefined) ?? (err instanceof Error ? err.message : String(err));
  return toolError(`${op} ${path}: ${reason}`);
}

/**
 * The contents of `--file <path>` (relative to the hook's directory), or of stdin for
 * `-`; undefined when stdin is needed and the client has not sent it yet.
 */
export function readInputFile(call: ToolCall, path: string): string | undefined {
  if (path === '-') return call.stdin?.toString('utf8');
  const abs = resolve(call.cwd, path);
  try {
    return readFileSync(abs, 'utf8');
  } catch (err) {
    throw fileError((err as NodeJS.ErrnoException).code === 'EISDIR' ? 'read' : 'open', abs, err);
  }
}

/** keyvalues.Parse from juju/utils: `key=value` pairs, duplicates rejected. */
export function parseKeyValues(args: readonly string[], allowEmptyValues: boolean): Map<string, string> {
  const out = new Map<string, string>();
  for (const kv of args) {
    const eq = kv.indexOf('=');
    const key = eq < 0 ? '' : kv.slice(0, eq);
    const value = eq < 0 ? '' : kv.slice(eq + 1);
    if (eq < 0 || key === '' || (!allowEmptyValues && value === '')) {
      throw usageError(`expected "key=value", got ${goQuote(kv)}`);
    }
    if (out.has(key)) throw usageError(`key ${goQuote(key)} specified more than once`);
    out.set(key, value);
  }
  return out;
}

/**
 * A YAML map read into Go's `map[string]string`, as go-yaml v2 decodes it: scalars keep
 * their source text (`5`, `yes`), nulls become "", nested collections are errors.
 */
export function parseSettingsYaml(text: string): Map<string, string> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { schema: 'failsafe', lineCounter });
  const firstError = doc.errors[0];
  if (firstError !== undefined) throw toolError(`yaml: ${firstError.message.split('\n')[0] ?? ''}`);
  const out = new Map<string, string>();
  const root = doc.contents;
  const lineOf = (node: { range?: readonly number[] | null | undefined }): number =>
    lineCounter.linePos(node.range?.[0] ?? 0).line;
  const unmarshalError = (line: number, what: string, into: string): SigilError =>
    toolError(`yaml: unmarshal errors:\n  line ${line}: cannot unmarshal ${what} into ${into}`);
  if (root === null || (isScalar(root) && isNullText(root))) return out;
  if (!isMap(root)) {
    const what = isSeq(root) ? '!!seq' : isScalar(root) ? `!!str \`${String(root.value)}\`` : '!!map';
    throw unmarshalError(lineOf(root), what, 'map[string]string');
  }
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? scalarText(pair.key) : '';
    const value = pair.value;
    if (value === null || value === undefined) out.set(key, '');
    else if (isScalar(value)) out.set(key, scalarText(value));
    else throw unmarshalError(lineOf(value), isSeq(value) ? '!!seq' : '!!map', 'string');
  }
  return out;
}

function isNullText(node: { value: unknown; type?: string | undefined }): boolean {
  return node.type === 'PLAIN' && ['', '~', 'null', 'Null', 'NULL'].includes(String(node.value ?? ''));
}

function scalarText(node: { value: unknown; type?: string | undefined }): string {
  return node.value === null || isNullText(node) ? '' : String(node.value);
}
