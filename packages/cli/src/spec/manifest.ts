import { SigilError } from '@sigil/core';

/**
 * Mojo's manifest grammar: one phase per line, `phase key=value key='quoted value'`, `#`
 * comments, `${VAR}` and `${VAR:-default}` expanded from the environment, and extra
 * `KEY=VALUE` tokens (upper-case names) on `script` and `verify` lines passed to the script
 * as environment variables. Pure: the caller gives the text, the file name and the variables.
 */

export interface ManifestLine {
  phase: string;
  options: Record<string, string>;
  /** Upper-case `KEY=VALUE` tokens (script and verify only). */
  env: Record<string, string>;
  /** Bare words after the phase name (only `stop-on` takes one). */
  args: string[];
  file: string;
  line: number;
}

export interface PhaseSpec {
  options: readonly string[];
  /** Whether upper-case KEY=VALUE tokens are environment for the phase's script. */
  env?: boolean;
  /** How many bare words the phase takes. */
  args?: number;
  /** The config file a bare phase line reads (`collect` reads the file `collect`), as in Mojo. */
  defaultConfig?: string;
  summary: string;
}

const DEPLOY_OPTIONS = ['config', 'local', 'overlay', 'wait', 'timeout'];

/** Every phase Sigil runs, with what it accepts. */
export const PHASES: Record<string, PhaseSpec> = {
  collect: { options: ['config'], defaultConfig: 'collect', summary: 'collect charms and code (Codetree config) into the workspace' },
  secrets: { options: [], summary: "copy the stage's secrets into the workspace" },
  bundle: { options: DEPLOY_OPTIONS, summary: 'deploy a bundle and wait for the model to settle' },
  deploy: { options: DEPLOY_OPTIONS, summary: 'deploy a bundle (older specs) and wait for the model to settle' },
  script: { options: ['config', 'lxc'], env: true, summary: 'run a script from the spec' },
  verify: { options: ['config', 'retry', 'sleep'], env: true, defaultConfig: 'verify', summary: 'run a check from the spec; a non-zero exit fails the run' },
  'juju-check-wait': { options: ['timeout'], summary: 'wait until the model settles' },
  wait: { options: ['timeout'], summary: 'wait until the model settles' },
  sleep: { options: ['config'], summary: 'pause' },
  include: { options: ['config'], summary: 'run the phases of another manifest' },
  'stop-on': { options: ['config'], args: 1, summary: 'stop here when the stage matches a pattern' },
  repo: { options: ['config'], summary: 'nothing to do: charms deploy straight from the collected tree (Mojo made this phase implicit)' },
};

/** Mojo phases Sigil does not run, and what to use instead. */
const NOT_RUN: Record<string, string> = {
  build: 'Sigil runs no build container; build in a `script` phase',
  builddeps: 'Sigil runs no build container; install build dependencies in a `script` phase',
  'nagios-check': 'Sigil has no NRPE checks; check the service in a `verify` script',
};

function fail(file: string, line: number, message: string, hint: string): SigilError {
  return new SigilError('bad-request', `${file}:${line}: ${message}`, hint);
}

/** Expands `${VAR}` and `${VAR:-default}` in `text`; an unset variable without a default is an error. */
export function expandVariables(text: string, env: Readonly<Record<string, string | undefined>>, file: string, line: number): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf('${', i);
    if (at === -1) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, at);
    const end = text.indexOf('}', at);
    if (end === -1) throw fail(file, line, `unterminated "\${" in ${JSON.stringify(text)}`, 'write ${NAME} or ${NAME:-default}');
    const body = text.slice(at + 2, end);
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(:-(.*))?$/s.exec(body);
    if (!m) throw fail(file, line, `"\${${body}}" is not a variable reference`, 'write ${NAME} or ${NAME:-default}');
    const value = env[m[1]!];
    if (m[2] !== undefined) out += value === undefined || value === '' ? m[3]! : value;
    else if (value === undefined) throw fail(file, line, `variable ${m[1]} is not set`, `export ${m[1]}=… before the run, or give a default: \${${m[1]}:-value}`);
    else out += value;
    i = end + 1;
  }
  return out;
}

/**
 * Splits a line into words as a shell would for these lines: whitespace separates words,
 * '…' keeps text as it is, "…" expands variables, a backslash escapes the next character
 * outside single quotes, and `#` at the start of a word begins a comment.
 */
export function splitWords(raw: string, env: Readonly<Record<string, string | undefined>>, file: string, line: number): string[] {
  const words: string[] = [];
  let cur: string | undefined;
  let i = 0;
  const plain = (from: number, to: number) => expandVariables(raw.slice(from, to), env, file, line);
  while (i < raw.length) {
    const c = raw[i]!;
    if (c === ' ' || c === '\t' || c === '\r') {
      if (cur !== undefined) words.push(cur);
      cur = undefined;
      i++;
    } else if (c === '#' && cur === undefined) {
      break;
    } else if (c === "'") {
      const end = raw.indexOf("'", i + 1);
      if (end === -1) throw fail(file, line, 'unterminated single quote', "close the quote: key='a value'");
      cur = (cur ?? '') + raw.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      let text = '';
      let from = j;
      for (; j < raw.length && raw[j] !== '"'; j++) {
        if (raw[j] === '\\' && j + 1 < raw.length && '"\\$'.includes(raw[j + 1]!)) {
          text += plain(from, j) + (raw[j + 1] === '$' ? '$' : raw[j + 1]);
          j++;
          from = j + 1;
        }
      }
      if (j >= raw.length) throw fail(file, line, 'unterminated double quote', 'close the quote: key="a value"');
      cur = (cur ?? '') + text + plain(from, j);
      i = j + 1;
    } else if (c === '\\') {
      if (i + 1 >= raw.length) throw fail(file, line, 'a backslash ends the line', 'each phase is one line; remove the backslash');
      cur = (cur ?? '') + raw[i + 1];
      i += 2;
    } else {
      let j = i;
      while (j < raw.length && !" \t\r'\"\\".includes(raw[j]!)) {
        // `${…}` is one unit even with spaces or quotes inside its default.
        if (raw[j] === '$' && raw[j + 1] === '{') {
          const end = raw.indexOf('}', j);
          j = end === -1 ? raw.length : end + 1;
        } else j++;
      }
      cur = (cur ?? '') + plain(i, j);
      i = j;
    }
  }
  if (cur !== undefined) words.push(cur);
  return words;
}

const OPTION_KEY = /^[a-z][a-z0-9_-]*$/;
const ENV_KEY = /^[A-Z_][A-Z0-9_]*$/;

/** Parses a whole manifest; `file` names it in every error (`manifest:7: …`). */
export function parseManifest(text: string, file: string, env: Readonly<Record<string, string | undefined>>): ManifestLine[] {
  const out: ManifestLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const words = splitWords(raw, env, file, line);
    if (words.length === 0) return;
    const [phase, ...rest] = words as [string, ...string[]];
    const spec = PHASES[phase];
    if (!spec) {
      const instead = NOT_RUN[phase];
      if (instead) throw fail(file, line, `phase "${phase}" is not supported`, instead);
      throw fail(file, line, `unknown phase "${phase}"`, `phases are ${Object.keys(PHASES).join(', ')}`);
    }
    const options: Record<string, string> = {};
    const vars: Record<string, string> = {};
    const args: string[] = [];
    for (const w of rest) {
      const eq = w.indexOf('=');
      const key = eq > 0 ? w.slice(0, eq) : '';
      if (eq > 0 && ENV_KEY.test(key)) {
        if (!spec.env) throw fail(file, line, `${phase} takes no environment variables (${key}=…)`, 'KEY=VALUE tokens are passed to `script` and `verify` scripts only');
        vars[key] = w.slice(eq + 1);
      } else if (eq > 0 && OPTION_KEY.test(key)) {
        if (!spec.options.includes(key)) throw fail(file, line, `${phase} has no option "${key}"`, spec.options.length ? `${phase} takes ${spec.options.map((o) => `${o}=`).join(', ')}${spec.env ? ' and upper-case KEY=VALUE variables' : ''}` : `${phase} takes no options`);
        if (key in options) throw fail(file, line, `option "${key}" is given twice`, 'give each option once');
        options[key] = w.slice(eq + 1);
      } else if (args.length < (spec.args ?? 0)) args.push(w);
      else throw fail(file, line, `"${w}" is not key=value`, `write ${phase} ${spec.options[0] ?? 'key'}=value`);
    }
    if (phase === 'stop-on') {
      if (args.length === 0 && options.config === undefined) throw fail(file, line, 'stop-on needs a stage pattern', 'e.g. `stop-on devel` or `stop-on */production`');
      if (args.length > 0 && options.config !== undefined) throw fail(file, line, 'stop-on has a pattern twice', 'give the pattern as a word or as config=, not both');
    }
    out.push({ phase, options, env: vars, args, file, line });
  });
  return out;
}
