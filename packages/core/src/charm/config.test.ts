import { describe, expect, test } from 'vitest';
import { coerceConfigValue, effectiveConfig, parseConfigYaml, validateConfigValues } from './config.ts';
import type { ConfigOption } from './types.ts';
import { sigilError } from './test-util.ts';

describe('parseConfigYaml', () => {
  test('reads the reference example; type defaults to string', () => {
    const options = parseConfigYaml(`options:
  blog-title: {type: string, default: "My Blog", description: Title}
  workers:    {type: int, default: 4}
  ratio:      {type: float}
  debug:      {type: boolean, default: false}
  db-creds:   {type: secret, description: "secret:<id> URI of a user secret"}
  theme:      {default: dark}
`);
    expect(options).toEqual({
      'blog-title': { type: 'string', default: 'My Blog', description: 'Title' },
      workers: { type: 'int', default: 4, description: '' },
      ratio: { type: 'float', description: '' },
      debug: { type: 'boolean', default: false, description: '' },
      'db-creds': { type: 'secret', description: 'secret:<id> URI of a user secret' },
      theme: { type: 'string', default: 'dark', description: '' },
    });
  });

  test.each(['', '# nothing here\n', 'other: {}\n'])('rejects an empty configuration: %j', (text) => {
    const e = sigilError(() => parseConfigYaml(text));
    expect(e.code).toBe('invalid-charm');
    expect(e.message).toMatch(/^config\.yaml: invalid config: empty configuration/);
    expect(e.hint).toMatch(/options:/);
  });

  test('an options key with nothing under it means no options', () => {
    expect(parseConfigYaml('options:\n')).toEqual({});
    expect(parseConfigYaml('options: {}\n')).toEqual({});
  });

  test('an option with no definition is an unset string', () => {
    expect(parseConfigYaml('options:\n  name:\n')).toEqual({ name: { type: 'string', description: '' } });
  });

  test('rejects an unknown type, suggesting the Juju name', () => {
    const e = sigilError(() => parseConfigYaml('options:\n  workers:\n    type: integer\n'));
    expect(e.message).toBe('config.yaml:3: options.workers.type: invalid config: option "workers" has unknown type "integer"');
    expect(e.hint).toBe('use one of string, int, float, boolean, secret (did you mean "int"?)');
  });

  test.each([
    ['{type: int, default: four}', 'expected int, got four', /whole number/],
    ['{type: int, default: 4.5}', 'expected int, got 4.5', /whole number/],
    ['{type: int, default: 4.0}', 'expected int, got 4.0', /whole number/],
    ['{type: float, default: fast}', 'expected float, got fast', /number/],
    ['{type: boolean, default: maybe}', 'expected boolean, got maybe', /true or false/],
    ['{type: string, default: 1.0}', 'expected string, got 1.0', /quote/],
    ['{type: secret, default: hunter2}', 'expected secret, got hunter2', /secret:/],
  ])('validates the default against the type: %s', (spec, got, hint) => {
    const e = sigilError(() => parseConfigYaml(`options:\n  opt: ${spec}\n`));
    expect(e.code).toBe('invalid-charm');
    expect(e.message).toBe(`config.yaml:2: options.opt.default: invalid config default: option "opt" ${got}`);
    expect(e.hint).toMatch(hint);
  });

  test.each([
    ['{type: string, default: ""}', ''],
    ['{type: secret, default: ""}', ''],
    ['{type: secret, default: "secret:9m4e2mr0ui3e8a215n4g"}', 'secret:9m4e2mr0ui3e8a215n4g'],
    ['{type: float, default: 1}', 1],
    ['{type: boolean, default: yes}', true],
    ['{type: int, default: "4"}', 4],
    ['{type: int, default: 0x10}', 16],
    // Juju's YAML decoder leaves dates and base-60 numbers as strings.
    ['{type: string, default: 2001-12-14}', '2001-12-14'],
    ['{type: string, default: 1:20}', '1:20'],
  ])('accepts default %s', (spec, value) => {
    expect(parseConfigYaml(`options:\n  opt: ${spec}\n`)['opt']?.default).toBe(value);
  });

  test('rejects malformed definitions', () => {
    expect(sigilError(() => parseConfigYaml('options: [a]\n')).message).toMatch(/^config\.yaml:1: options: expected a map/);
    expect(sigilError(() => parseConfigYaml('options:\n  a: 5\n')).message).toMatch(/^config\.yaml:2: options\.a: expected a map/);
    expect(sigilError(() => parseConfigYaml('options:\n  a: {description: [x]}\n')).message).toMatch(/options\.a\.description: expected a string, got a list$/);
  });
});

const opt = (type: ConfigOption['type'], def?: ConfigOption['default']): ConfigOption =>
  def === undefined ? { type, description: '' } : { type, default: def, description: '' };

describe('coerceConfigValue', () => {
  test.each([
    ['int', '42', 42], ['int', '+7', 7], ['int', '-3', -3], ['int', '007', 7],
    ['float', '1.5', 1.5], ['float', '.5', 0.5], ['float', '-2.', -2], ['float', '1e3', 1000], ['float', '3', 3],
    ['boolean', '1', true], ['boolean', 't', true], ['boolean', 'T', true], ['boolean', 'TRUE', true], ['boolean', 'true', true], ['boolean', 'True', true],
    ['boolean', '0', false], ['boolean', 'f', false], ['boolean', 'F', false], ['boolean', 'FALSE', false], ['boolean', 'false', false], ['boolean', 'False', false],
    ['string', '', ''], ['string', '42', '42'], ['string', ' spaced ', ' spaced '],
    ['secret', '', ''], ['secret', 'secret:9m4e2mr0ui3e8a215n4g', 'secret:9m4e2mr0ui3e8a215n4g'],
    ['secret', 'secret://3b6a9a2e-1234-4c1d-8e3a-7f6d5e4c3b2a/9m4e2mr0ui3e8a215n4g', 'secret://3b6a9a2e-1234-4c1d-8e3a-7f6d5e4c3b2a/9m4e2mr0ui3e8a215n4g'],
  ] as const)('%s %j → %j', (type, raw, value) => {
    expect(coerceConfigValue('k', opt(type), raw)).toBe(value);
  });

  test.each([
    ['int', '4.5'], ['int', '0x10'], ['int', ''], ['int', '1_000'], ['int', ' 4'], ['int', '9007199254740993'],
    ['float', 'inf'], ['float', 'NaN'], ['float', '1e400'], ['float', ''], ['float', '1,5'],
    ['boolean', 'yes'], ['boolean', 'on'], ['boolean', 'tRUE'], ['boolean', ''],
    ['secret', 'hunter2'], ['secret', 'secret:'],
  ] as const)('%s rejects %j', (type, raw) => {
    const e = sigilError(() => coerceConfigValue('k', opt(type), raw));
    expect(e.code).toBe('invalid-config');
    expect(e.message).toBe(`option "k" expected ${type}, got ${JSON.stringify(raw)}`);
    expect(e.hint).toBeTruthy();
  });

  test('an int out of range says so', () => {
    expect(sigilError(() => coerceConfigValue('k', opt('int'), '9007199254740993')).hint).toMatch(/between -9007199254740991 and 9007199254740991/);
  });
});

describe('validateConfigValues', () => {
  const options = { workers: opt('int', 4), ratio: opt('float'), debug: opt('boolean'), title: opt('string'), creds: opt('secret') };

  test('returns typed values, parsing strings by type', () => {
    expect(validateConfigValues('wp', options, { workers: '8', ratio: 2, debug: 'true', title: 'Hi', creds: '' }))
      .toEqual({ workers: 8, ratio: 2, debug: true, title: 'Hi', creds: '' });
  });

  test('null or undefined means unset and is left out', () => {
    expect(validateConfigValues('wp', options, { workers: null, ratio: undefined, title: 'x' })).toEqual({ title: 'x' });
  });

  test('rejects unknown keys, listing the valid ones', () => {
    const e = sigilError(() => validateConfigValues('wp', options, { wokers: 3 }));
    expect(e.code).toBe('invalid-config');
    expect(e.message).toBe('unknown option "wokers" for charm "wp"');
    expect(e.hint).toBe('valid options: creds, debug, ratio, title, workers');
    expect(sigilError(() => validateConfigValues('bare', {}, { a: 1 })).hint).toBe('charm "bare" has no config options');
    expect(sigilError(() => validateConfigValues('wp', options, { toString: 1 })).message).toBe('unknown option "toString" for charm "wp"');
  });

  test.each([
    ['workers', 3.5, 'expected int, got 3.5', /whole number/],
    ['workers', 'many', 'expected int, got "many"', /whole number/],
    ['ratio', true, 'expected float, got true', /number/],
    ['debug', 'yes', 'expected boolean, got "yes"', /true or false/],
    ['title', 5, 'expected string, got 5', /quote/],
    ['title', ['a'], 'expected string, got a list', /quote/],
    ['creds', 'password', 'expected secret, got "password"', /secret:/],
  ])('rejects %s = %j, naming key, type and value', (key, value, detail, hint) => {
    const e = sigilError(() => validateConfigValues('wp', options, { [key]: value }));
    expect(e.code).toBe('invalid-config');
    expect(e.message).toBe(`invalid value for option "${key}" of charm "wp": ${detail}`);
    expect(e.hint).toMatch(hint);
  });
});

describe('effectiveConfig', () => {
  test('gives every option its set value, else its default, else null', () => {
    const options = { workers: opt('int', 4), title: opt('string', 'Blog'), ratio: opt('float') };
    expect(effectiveConfig(options, { title: 'Mine', stray: 1 })).toEqual({ workers: 4, title: 'Mine', ratio: null });
    expect(effectiveConfig(options, {})).toEqual({ workers: 4, title: 'Blog', ratio: null });
  });
});
