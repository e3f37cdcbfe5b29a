import { describe, expect, test } from 'vitest';
import { parseActionsYaml, validateActionParams } from './actions.ts';
import type { ActionSpec } from './types.ts';
import { sigilError } from './test-util.ts';

const BACKUP = `backup:
  description: Take a database backup.
  params:
    filename: {type: string, description: Output file, default: backup.tgz}
    compress: {type: boolean, default: true}
    level: {type: integer, enum: [1, 5, 9]}
  required: [filename]
  additionalProperties: false
  parallel: true
  execution-group: db
`;

describe('parseActionsYaml', () => {
  test('builds the JSON Schema Juju builds, lifting out parallel and execution-group', () => {
    expect(parseActionsYaml('mysql', BACKUP)).toEqual({
      backup: {
        name: 'backup',
        description: 'Take a database backup.',
        parallel: true,
        executionGroup: 'db',
        schema: {
          title: 'backup',
          type: 'object',
          description: 'Take a database backup.',
          properties: {
            filename: { type: 'string', description: 'Output file', default: 'backup.tgz' },
            compress: { type: 'boolean', default: true },
            level: { type: 'integer', enum: [1, 5, 9] },
          },
          required: ['filename'],
          additionalProperties: false,
        },
      },
    });
  });

  test('fills in defaults for a bare action', () => {
    expect(parseActionsYaml('mysql', 'snapshot:\nresume: {}\n')).toEqual({
      snapshot: { name: 'snapshot', description: 'No description', parallel: false, executionGroup: '', schema: { title: 'snapshot', type: 'object', description: 'No description', properties: {} } },
      resume: { name: 'resume', description: 'No description', parallel: false, executionGroup: '', schema: { title: 'resume', type: 'object', description: 'No description', properties: {} } },
    });
  });

  test('passes other keys into the schema and lets a title override the name', () => {
    const spec = parseActionsYaml('mysql', 'x:\n  title: Do X\n  minProperties: 1\n')['x'];
    expect(spec?.schema).toMatchObject({ title: 'Do X', minProperties: 1 });
  });

  test('an empty file means no actions', () => {
    expect(parseActionsYaml('mysql', '')).toEqual({});
  });

  test.each(['Backup', '-backup', 'backup-', 'snap_shot', 'a b'])('rejects action name %j', (name) => {
    const e = sigilError(() => parseActionsYaml('mysql', `"${name}": {}\n`));
    expect(e.code).toBe('invalid-charm');
    expect(e.message).toBe(`actions.yaml:1: ${name}: bad action name ${JSON.stringify(name)}`);
    expect(e.hint).toMatch(/lowercase letters, digits and hyphens/);
  });

  test('accepts names with digits', () => {
    expect(Object.keys(parseActionsYaml('mysql', '2fa-reset: {}\nv2: {}\n'))).toEqual(['2fa-reset', 'v2']);
  });

  test('reserves juju and juju-* unless the charm is named juju-*', () => {
    expect(sigilError(() => parseActionsYaml('mysql', 'juju-run: {}\n')).message).toMatch(/cannot use action name "juju-run": .*reserved/);
    expect(sigilError(() => parseActionsYaml('mysql', 'juju: {}\n')).message).toMatch(/cannot use action name "juju"/);
    expect(Object.keys(parseActionsYaml('juju-tools', 'juju-run: {}\n'))).toEqual(['juju-run']);
  });

  test('forbids $ref and $schema anywhere, naming the line', () => {
    const ref = sigilError(() => parseActionsYaml('mysql', 'a:\n  params:\n    x:\n      $ref: "#/definitions/x"\n'));
    expect(ref.message).toBe('actions.yaml:4: a.params.x.$ref: schema key "$ref" is not supported');
    expect(ref.hint).toMatch(/inline/);
    const schema = sigilError(() => parseActionsYaml('mysql', 'a:\n  description: d\n  $schema: http://json-schema.org/draft-04/schema#\n'));
    expect(schema.message).toBe('actions.yaml:3: a.$schema: schema key "$schema" is not supported');
    const inList = sigilError(() => parseActionsYaml('mysql', 'a:\n  anyOf:\n    - {$ref: x}\n'));
    expect(inList.message).toMatch(/^actions\.yaml:3: a\.anyOf\.0\.\$ref: /);
  });

  test.each([
    ['description: [a]', 'a.description: value for schema key "description" must be a string, got a list'],
    ['execution-group: 5', 'a.execution-group: value for schema key "execution-group" must be a string, got 5'],
    ['parallel: sometimes', 'a.parallel: value for schema key "parallel" must be true or false, got "sometimes"'],
    ['required: filename', 'a.required: value for schema key "required" must be a YAML list, got "filename"'],
    ['params: [filename]', 'a.params: params must be a map of parameter name to JSON Schema, got a list'],
  ])('rejects %s', (line, message) => {
    expect(sigilError(() => parseActionsYaml('mysql', `a:\n  ${line}\n`)).message).toBe(`actions.yaml:2: ${message}`);
  });

  test('rejects an invalid parameter schema at the offending key', () => {
    const e = sigilError(() => parseActionsYaml('mysql', 'a:\n  params:\n    f:\n      type: strng\n'));
    expect(e.message).toMatch(/^actions\.yaml:4: a\.params\.f\.type: invalid params schema for action "a": /);
    expect(e.hint).toMatch(/string, number, integer/);
  });

  test('rejects a file or action that is not a map', () => {
    expect(sigilError(() => parseActionsYaml('mysql', '- a\n')).message).toMatch(/^actions\.yaml:1: expected a map of action name/);
    expect(sigilError(() => parseActionsYaml('mysql', 'a: run it\n')).message).toMatch(/^actions\.yaml:1: a: expected a map/);
  });
});

describe('validateActionParams', () => {
  const backup = parseActionsYaml('mysql', BACKUP)['backup'] as ActionSpec;

  test('fills in defaults without changing the input', () => {
    const given = { filename: 'x.tgz' };
    expect(validateActionParams(backup, given)).toEqual({ filename: 'x.tgz', compress: true });
    expect(given).toEqual({ filename: 'x.tgz' });
  });

  test('a required parameter must be given even if it has a default, as in Juju', () => {
    const e = sigilError(() => validateActionParams(backup, {}));
    expect(e.message).toBe('invalid parameters for action "backup": missing required parameter "filename"');
  });

  test('a spec whose schema is broken is reported as a charm problem', () => {
    const broken: ActionSpec = { ...backup, schema: { type: 'object', properties: { a: { type: 'strng' } } } };
    expect(sigilError(() => validateActionParams(broken, {})).code).toBe('invalid-charm');
  });

  test('fills in nested defaults', () => {
    const spec = parseActionsYaml('x', 'a:\n  params:\n    opts:\n      type: object\n      default: {}\n      properties: {n: {type: integer, default: 3}}\n')['a'] as ActionSpec;
    expect(validateActionParams(spec, {})).toEqual({ opts: { n: 3 } });
  });

  test('reports every problem and lists the parameters in the hint', () => {
    const e = sigilError(() => validateActionParams(backup, { compress: 'yes', level: 4, extra: 1 }));
    expect(e.code).toBe('invalid-params');
    expect(e.message).toBe(
      'invalid parameters for action "backup": missing required parameter "filename"; unknown parameter "extra"; parameter "compress" must be boolean; parameter "level" must be one of 1, 5, 9',
    );
    expect(e.hint).toBe('action "backup" takes: filename (string, required, default "backup.tgz"), compress (boolean, default true), level (integer)');
  });

  test('names nested parameters by path', () => {
    const spec = parseActionsYaml('x', 'a:\n  params:\n    opts: {type: object, properties: {count: {type: integer}}, required: [count]}\n')['a'] as ActionSpec;
    expect(sigilError(() => validateActionParams(spec, { opts: { count: 'x' } })).message).toBe('invalid parameters for action "a": parameter "opts.count" must be integer');
    expect(sigilError(() => validateActionParams(spec, { opts: {} })).message).toBe('invalid parameters for action "a": missing required parameter "opts.count"');
  });

  test('an action without params accepts anything unless additionalProperties is false', () => {
    const [open, closed] = ['a: {}\n', 'a: {additionalProperties: false}\n'].map((t) => parseActionsYaml('x', t)['a'] as ActionSpec);
    expect(validateActionParams(open!, { any: 1 })).toEqual({ any: 1 });
    const e = sigilError(() => validateActionParams(closed!, { any: 1 }));
    expect(e.hint).toBe('action "a" takes no parameters');
  });
});
