/**
 * Argument parsing with the semantics of juju/gnuflag as juju/cmd drives it: flags and
 * positionals may be interspersed, `--` ends flags, `-abc` is a run of short flags whose
 * last may take the rest as its value (`-rdb:1`), long flags take `--name value` or
 * `--name=value`, bools take no value unless written `--name=false`. Error messages are
 * Juju's, with flags called "option" as in jujuc's commands.
 */
import { SigilError } from '@sigil/core';
import { goQuote, goQuoteList } from './govalue.ts';

export interface FlagSpec {
  /** Names without dashes, shortest first; one-letter names are short flags (`-r`). */
  names: readonly string[];
  kind: 'bool' | 'string';
  help: string;
  /** The default shown in `--help`. */
  default?: string;
  /** Validates a value as the flag's gnuflag.Value.Set does; returns an error message. */
  check?: (value: string) => string | undefined;
}

export interface ParsedArgs {
  positional: string[];
  /** Last value given for each string flag, keyed by its first name. */
  strings: Map<string, string>;
  /** Value of each bool flag that was given, keyed by its first name. */
  bools: Map<string, boolean>;
  help: boolean;
}

/** A usage error: Juju prints `ERROR <message>` and exits 2. */
export function usageError(message: string): SigilError {
  return new SigilError('invalid-params', message);
}

/** `cmd.CheckEmpty`: `unrecognized args: ["a" "b"]`. */
export function checkEmpty(args: readonly string[]): void {
  if (args.length > 0) throw usageError(`unrecognized args: ${goQuoteList(args)}`);
}

function flagWithMinus(name: string): string {
  return Array.from(name).length > 1 ? `--${name}` : `-${name}`;
}

export function parseArgs(flags: readonly FlagSpec[], args: readonly string[]): ParsedArgs {
  const byName = new Map<string, FlagSpec>();
  for (const f of flags) for (const n of f.names) byName.set(n, f);
  const result: ParsedArgs = { positional: [], strings: new Map(), bools: new Map(), help: false };
  const rest = [...args];
  let pendingShort = '';

  const apply = (name: string, long: boolean): boolean => {
    const spec = byName.get(name);
    if (spec === undefined) {
      if (name === 'help' || name === 'h') return true;
      throw usageError(`option provided but not defined: ${flagWithMinus(name)}`);
    }
    const key = spec.names[0] ?? name;
    if (spec.kind === 'bool' && !pendingShort.startsWith('=')) {
      result.bools.set(key, true);
      return false;
    }
    let value: string | undefined;
    if (pendingShort !== '') {
      value = long ? pendingShort.slice(1) : pendingShort;
      pendingShort = '';
    } else if (rest.length > 0) {
      value = rest.shift();
    }
    if (value === undefined) throw usageError(`option needs an argument: ${flagWithMinus(name)}`);
    const problem = spec.kind === 'bool' ? checkBool(value) : spec.check?.(value);
    if (problem !== undefined) {
      throw usageError(`invalid value ${goQuote(value)} for option ${flagWithMinus(name)}: ${problem}`);
    }
    if (spec.kind === 'bool') result.bools.set(key, parseBool(value));
    else result.strings.set(key, value);
    return false;
  };

  for (;;) {
    let name: string;
    let long = false;
    if (pendingShort !== '') {
      const [first = ''] = Array.from(pendingShort);
      name = first;
      pendingShort = pendingShort.slice(first.length);
    } else {
      const a = rest.shift();
      if (a === undefined) break;
      if (a === '-' || a === '' || !a.startsWith('-')) {
        result.positional.push(a);
        continue;
      }
      if (a === '--') {
        result.positional.push(...rest.splice(0));
        break;
      }
      if (a[1] === '-') {
        long = true;
        const eq = a.indexOf('=');
        if (eq < 0) name = a.slice(2);
        else {
          name = a.slice(2, eq);
          if (name === '') throw usageError(`empty option in argument ${goQuote(a)}`);
          pendingShort = a.slice(eq);
        }
      } else {
        const [first = ''] = Array.from(a.slice(1));
        name = first;
        pendingShort = a.slice(1 + first.length);
      }
    }
    if (apply(name, long)) {
      result.help = true;
      return result;
    }
  }
  return result;
}

const TRUE_WORDS = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const FALSE_WORDS = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

function checkBool(v: string): string | undefined {
  return TRUE_WORDS.includes(v) || FALSE_WORDS.includes(v) ? undefined : `strconv.ParseBool: parsing ${goQuote(v)}: invalid syntax`;
}

function parseBool(v: string): boolean {
  return TRUE_WORDS.includes(v);
}

/** `Usage: <name> [options] <args>`, the first line of Juju's help. */
export function usageLine(name: string, args: string, flags: readonly FlagSpec[]): string {
  return `Usage: ${name}${flags.length > 0 ? ' [options]' : ''}${args !== '' ? ` ${args}` : ''}`;
}

/** `--help` output in juju/cmd's layout: usage, summary, then the options. */
export function helpText(name: string, args: string, purpose: string, flags: readonly FlagSpec[]): string {
  let out = `${usageLine(name, args, flags)}\n\nSummary:\n${purpose}\n`;
  if (flags.length > 0) {
    out += '\nOptions:\n';
    const sorted = [...flags].sort((a, b) => ((a.names[0] ?? '') < (b.names[0] ?? '') ? -1 : 1));
    for (const f of sorted) {
      const names = f.names.map(flagWithMinus).join(', ');
      const def = f.kind === 'bool' ? (f.default ?? 'false') : goQuote(f.default ?? '');
      out += `${names} (= ${def})\n    ${f.help}\n`;
    }
  }
  return out;
}
