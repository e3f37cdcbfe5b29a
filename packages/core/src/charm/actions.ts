import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { SigilError } from '../errors.ts';
import { isReservedName } from './metadata.ts';
import type { ActionSpec } from './types.ts';
import { describe, isMap, loadYaml, type YamlFile, type YamlPath } from './yaml-file.ts';

const ACTION_NAME_RE = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const FORBIDDEN_KEYS = new Set(['$ref', '$schema']);

/**
 * A JSON Schema validator for action parameters. Juju uses gojsonschema (draft 4); Ajv's
 * default draft agrees on everything charms use. Unknown keywords and formats are
 * tolerated rather than rejected, as gojsonschema tolerates them.
 */
function newAjv(useDefaults = false): Ajv {
  return new Ajv({ useDefaults, allErrors: true, strict: false, validateFormats: false, logger: false });
}

const pointerSegments = (pointer: string): string[] =>
  pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));

/** Checks an action's schema against the JSON Schema meta-schema, pointing at the bad key. */
function checkSchema(f: YamlFile, ajv: Ajv, name: string, schema: Record<string, unknown>): void {
  const hint = 'each parameter must be a valid JSON Schema, e.g. "filename: {type: string, default: backup.tgz}"; types are string, number, integer, boolean, object, array and null';
  if (ajv.validateSchema(schema) !== true) {
    const e = ajv.errors?.[0];
    const at = pointerSegments(e?.instancePath ?? '');
    // The schema's "properties" is the file's "params".
    const path = at[0] === 'properties' ? ['params', ...at.slice(1)] : at;
    f.fail([name, ...path], `invalid params schema for action "${name}": ${e?.message ?? 'not a valid JSON Schema'}`, hint);
  }
  try {
    ajv.compile(schema);
  } catch (e) {
    f.fail([name], `invalid params schema for action "${name}": ${(e as Error).message}`, hint);
  }
}

/**
 * Parses actions.yaml as juju/charm `ReadActionsYaml` does: each action becomes a JSON
 * Schema `{title, type: object, description, properties, ...}`; `params` becomes
 * `properties`; `parallel` and `execution-group` are lifted out; any other key passes
 * into the schema unchanged.
 */
export function parseActionsYaml(charmName: string, text: string): Record<string, ActionSpec> {
  const f: YamlFile = loadYaml('actions.yaml', text);
  if (f.data === null || f.data === undefined) return {};
  if (!isMap(f.data)) {
    f.fail([], `expected a map of action name to definition, got ${describe(f.data)}`, 'write each action as a key, e.g. "backup: {description: Take a backup}"');
  }
  // One validator instance for the whole file: creating one costs about 10 ms.
  const ajv = newAjv();
  const out: [string, ActionSpec][] = [];
  for (const [name, def] of Object.entries(f.data)) {
    out.push([name, parseAction(f, ajv, charmName, name, def)]);
  }
  return Object.fromEntries(out);
}

function parseAction(f: YamlFile, ajv: Ajv, charmName: string, name: string, def: unknown): ActionSpec {
  if (!ACTION_NAME_RE.test(name)) {
    f.fail([name], `bad action name ${JSON.stringify(name)}`, 'action names use lowercase letters, digits and hyphens, and start and end with a letter or digit (e.g. "create-backup")');
  }
  if (isReservedName(charmName, name)) {
    f.fail([name], `cannot use action name "${name}": the name "juju" and the prefix "juju-" are reserved`, 'rename the action');
  }
  if (def !== null && def !== undefined && !isMap(def)) {
    f.fail([name], `expected a map with description and params, got ${describe(def)}`, `write e.g. "${name}: {description: ..., params: {...}}"`);
  }
  let description = 'No description';
  let parallel = false;
  let executionGroup = '';
  const schema: Record<string, unknown> = { title: name, type: 'object', description, properties: {} };
  for (const [key, value] of Object.entries(def ?? {})) {
    const path = [name, key];
    switch (key) {
      case 'description':
      case 'title':
      case 'execution-group':
        if (typeof value !== 'string') f.fail(path, `value for schema key "${key}" must be a string, got ${describe(value)}`, 'quote the value');
        if (key === 'execution-group') executionGroup = value;
        else schema[key] = value;
        if (key === 'description') description = value;
        break;
      case 'parallel':
        if (typeof value !== 'boolean') f.fail(path, `value for schema key "parallel" must be true or false, got ${describe(value)}`, 'write "parallel: true" or leave it out');
        parallel = value;
        break;
      case 'required':
        if (!Array.isArray(value)) f.fail(path, `value for schema key "required" must be a YAML list, got ${describe(value)}`, 'list the required parameter names, e.g. "required: [filename]"');
        schema[key] = value;
        break;
      case 'params':
        if (value === null || value === undefined) break;
        if (!isMap(value)) f.fail(path, `params must be a map of parameter name to JSON Schema, got ${describe(value)}`, 'write e.g. "params: {filename: {type: string}}"');
        rejectForbiddenKeys(f, path, value);
        schema['properties'] = value;
        break;
      default:
        rejectForbiddenKeys(f, [name], { [key]: value });
        schema[key] = value;
    }
  }
  checkSchema(f, ajv, name, schema);
  return { name, description, schema, parallel, executionGroup };
}

/** Juju refuses `$ref` and `$schema` anywhere in an action schema (juju/charm cleanse). */
function rejectForbiddenKeys(f: YamlFile, path: YamlPath, v: unknown): void {
  if (Array.isArray(v)) {
    v.forEach((item, i) => rejectForbiddenKeys(f, [...path, i], item));
  } else if (isMap(v)) {
    for (const [key, value] of Object.entries(v)) {
      if (FORBIDDEN_KEYS.has(key)) {
        f.fail([...path, key], `schema key "${key}" is not supported`, `Juju does not allow "$ref" or "$schema" in action schemas; inline the definition instead`);
      }
      rejectForbiddenKeys(f, [...path, key], value);
    }
  }
}

/**
 * Validates parameters given to an action against its schema and returns a copy with
 * schema defaults filled in. As in Juju (state/unit.go AddAction), the parameters are
 * validated before defaults are inserted, so a required parameter must be given even if
 * it has a default. The input is not changed.
 */
export function validateActionParams(spec: ActionSpec, params: Record<string, unknown>): Record<string, unknown> {
  let validate: ValidateFunction;
  let fillDefaults: ValidateFunction;
  try {
    validate = newAjv().compile(spec.schema);
    fillDefaults = newAjv(true).compile(spec.schema);
  } catch (e) {
    throw new SigilError('invalid-charm', `invalid params schema for action "${spec.name}": ${(e as Error).message}`, "fix the action's definition in the charm's actions.yaml");
  }
  if (!validate(params)) {
    const problems = (validate.errors ?? []).map(explain);
    throw new SigilError('invalid-params', `invalid parameters for action "${spec.name}": ${problems.join('; ')}`, paramsHint(spec));
  }
  const data = structuredClone(params);
  fillDefaults(data);
  return data;
}

function explain(e: ErrorObject): string {
  const at = pointerSegments(e.instancePath).join('.');
  const prefix = at === '' ? '' : `${at}.`;
  switch (e.keyword) {
    case 'required':
      return `missing required parameter "${prefix}${String(e.params['missingProperty'])}"`;
    case 'additionalProperties':
      return `unknown parameter "${prefix}${String(e.params['additionalProperty'])}"`;
    case 'enum': {
      const allowed = e.params['allowedValues'] as unknown[];
      return `parameter "${at}" must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`;
    }
    default:
      return at === '' ? `parameters ${e.message ?? 'are invalid'}` : `parameter "${at}" ${e.message ?? 'is invalid'}`;
  }
}

/** "action "backup" takes: filename (string, required), compress (boolean, default true)". */
function paramsHint(spec: ActionSpec): string {
  const props = isMap(spec.schema['properties']) ? spec.schema['properties'] : {};
  const required = Array.isArray(spec.schema['required']) ? (spec.schema['required'] as unknown[]) : [];
  const names = Object.keys(props);
  if (names.length === 0) return `action "${spec.name}" takes no parameters`;
  const parts = names.map((n) => {
    const p = props[n];
    const notes: string[] = [];
    if (isMap(p) && p['type'] !== undefined) notes.push(String(p['type']));
    if (required.includes(n)) notes.push('required');
    if (isMap(p) && p['default'] !== undefined) notes.push(`default ${JSON.stringify(p['default'])}`);
    return notes.length === 0 ? n : `${n} (${notes.join(', ')})`;
  });
  return `action "${spec.name}" takes: ${parts.join(', ')}`;
}
