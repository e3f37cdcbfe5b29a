import { SigilError } from '../errors.ts';
import type { ConfigOption, ConfigType, ConfigValue } from './types.ts';
import { describe, isMap, loadYaml, type YamlFile } from './yaml-file.ts';

const TYPES: readonly ConfigType[] = ['string', 'int', 'float', 'boolean', 'secret'];

// Names people reach for instead of Juju's; used only to sharpen a hint.
const TYPE_ALIASES: Record<string, ConfigType> = { integer: 'int', number: 'float', double: 'float', bool: 'boolean', str: 'string' };

/**
 * Parses config.yaml as juju/charm `ReadConfig` does: only `options` matters, a missing
 * type means string, and every default must already have its option's type.
 */
export function parseConfigYaml(text: string): Record<string, ConfigOption> {
  const f: YamlFile = loadYaml('config.yaml', text);
  const emptyHint = 'put the options under a top-level "options:" key, e.g. "options: {title: {type: string, default: My Blog}}", or delete config.yaml if the charm has none';
  if (f.data === null || f.data === undefined) f.fail([], 'invalid config: empty configuration', emptyHint);
  if (!isMap(f.data)) f.fail([], `invalid config: expected a map with an "options" key, got ${describe(f.data)}`, emptyHint);
  if (!('options' in f.data)) throw new SigilError('invalid-charm', 'config.yaml: invalid config: empty configuration (no "options" key)', emptyHint);
  const options = f.data['options'];
  if (options === null || options === undefined) return {};
  if (!isMap(options)) f.fail(['options'], `expected a map of option name to definition, got ${describe(options)}`, emptyHint);

  const out: [string, ConfigOption][] = [];
  for (const [name, def] of Object.entries(options)) {
    const path = ['options', name];
    if (def !== null && def !== undefined && !isMap(def)) {
      f.fail(path, `expected a map with type, default and description, got ${describe(def)}`, `write e.g. "${name}: {type: string, default: "", description: ...}"`);
    }
    const spec = def ?? {};
    const type = spec['type'] ?? 'string';
    if (typeof type !== 'string' || !(TYPES as readonly string[]).includes(type)) {
      const alias = typeof type === 'string' ? TYPE_ALIASES[type] : undefined;
      f.fail([...path, 'type'], `invalid config: option "${name}" has unknown type ${describe(type)}`, `use one of ${TYPES.join(', ')}${alias ? ` (did you mean "${alias}"?)` : ''}`);
    }
    const description = spec['description'] ?? '';
    if (typeof description !== 'string') f.fail([...path, 'description'], `expected a string, got ${describe(description)}`, 'quote the description');
    const option: ConfigOption = { type: type as ConfigType, description };
    const raw = spec['default'];
    if (raw !== null && raw !== undefined) {
      const written = f.source([...path, 'default']);
      // YAML `4.0` is a float to Juju even though JavaScript reads it as the integer 4.
      const value = option.type === 'int' && written !== undefined && isFloatLiteral(written) ? undefined : checkValue(option.type, raw);
      if (value === undefined) {
        f.fail([...path, 'default'], `invalid config default: option "${name}" expected ${option.type}, got ${written ?? describe(raw)}`, typeHint(option.type));
      }
      option.default = value;
    }
    out.push([name, option]);
  }
  return Object.fromEntries(out);
}

function isFloatLiteral(source: string): boolean {
  return !/^[-+]?0x/i.test(source) && /[.eE]/.test(source);
}

/**
 * Parses a value given as a string on the command line (`sigil config app key=value`) by
 * the option's type, with Go's rules: base-10 ParseInt, ParseFloat, ParseBool
 * (`1 t T TRUE true True`, `0 f F FALSE false False`).
 */
export function coerceConfigValue(key: string, option: ConfigOption, raw: string): ConfigValue {
  const value = parseString(option.type, raw);
  if (value === undefined) {
    throw new SigilError('invalid-config', `option "${key}" expected ${option.type}, got ${JSON.stringify(raw)}`, typeHint(option.type, raw));
  }
  return value;
}

/**
 * Checks user-supplied settings against a charm's options and returns them typed. Strings
 * are parsed by the option's type, as Juju's schema coercion does; null or undefined means
 * "unset" and is left out of the result so the default applies.
 */
export function validateConfigValues(
  charmName: string,
  options: Record<string, ConfigOption>,
  values: Record<string, unknown>,
): Record<string, ConfigValue> {
  const out: [string, ConfigValue][] = [];
  for (const [key, v] of Object.entries(values)) {
    const option = Object.hasOwn(options, key) ? options[key] : undefined;
    if (option === undefined) {
      const names = Object.keys(options).sort();
      throw new SigilError(
        'invalid-config',
        `unknown option "${key}" for charm "${charmName}"`,
        names.length === 0 ? `charm "${charmName}" has no config options` : `valid options: ${names.join(', ')}`,
      );
    }
    if (v === null || v === undefined) continue;
    const typed = checkValue(option.type, v);
    if (typed === undefined) {
      throw new SigilError(
        'invalid-config',
        `invalid value for option "${key}" of charm "${charmName}": expected ${option.type}, got ${describe(v)}`,
        typeHint(option.type, v),
      );
    }
    out.push([key, typed]);
  }
  return Object.fromEntries(out);
}

/** Every option of the charm: the value the user set, else the default, else null (unset). */
export function effectiveConfig(options: Record<string, ConfigOption>, set: Record<string, ConfigValue>): Record<string, ConfigValue | null> {
  return Object.fromEntries(
    Object.entries(options).map(([key, option]): [string, ConfigValue | null] => [
      key,
      (Object.hasOwn(set, key) ? set[key] : undefined) ?? option.default ?? null,
    ]),
  );
}

/** A value of any JSON/YAML type as the option's type, or undefined if it is not one. */
function checkValue(type: ConfigType, v: unknown): ConfigValue | undefined {
  if (typeof v === 'string') return parseString(type, v);
  switch (type) {
    case 'int':
      return typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined;
    case 'float':
      return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
    case 'boolean':
      return typeof v === 'boolean' ? v : undefined;
    case 'string':
    case 'secret':
      return undefined;
  }
}

const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);
// Secrets are passed as URIs: `secret:<id>` or `secret://<model-uuid>/<id>`.
const SECRET_RE = /^secret:(?:\/\/[0-9a-f-]+\/)?[0-9a-z]+$/i;

function parseString(type: ConfigType, s: string): ConfigValue | undefined {
  switch (type) {
    case 'string':
      return s;
    case 'secret':
      return s === '' || SECRET_RE.test(s) ? s : undefined;
    case 'boolean':
      return GO_TRUE.has(s) ? true : GO_FALSE.has(s) ? false : undefined;
    case 'int': {
      if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
      const n = Number(s);
      return Number.isSafeInteger(n) ? n : undefined;
    }
    case 'float': {
      if (!/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(s)) return undefined;
      const n = Number(s);
      return Number.isFinite(n) ? n : undefined;
    }
  }
}

function typeHint(type: ConfigType, got?: unknown): string {
  switch (type) {
    case 'int':
      return Number.isInteger(got) || (typeof got === 'string' && /^[+-]?[0-9]+$/.test(got))
        ? `use a whole number between ${Number.MIN_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`
        : 'use a whole number, e.g. 4';
    case 'float':
      return 'use a finite number, e.g. 0.5';
    case 'boolean':
      return 'use true or false';
    case 'string':
      return 'quote the value to pass it as a string, e.g. "1.0"';
    case 'secret':
      return 'use a secret URI such as secret:9m4e2mr0ui3e8a215n4g (created with add-secret and granted to the application), or an empty string';
  }
}
