import { describe, expect, test } from 'vitest';
import { formatOutput } from './format.ts';
import { goYamlKeyCompare, goYamlMarshal, resolvesToString } from './goyaml.ts';
import { type GoValue, StringList, goJsonMarshal, goQuote, goQuoteList } from './govalue.ts';

describe('go-yaml v2 emission', () => {
  // Expected texts are what gopkg.in/yaml.v2 prints; the first three are juju/juju's own
  // relation-get test fixtures (worker/uniter/runner/jujuc/relation-get_test.go).
  const cases: [string, GoValue, string][] = [
    ['multi-line value as a literal block', { pew: 'pew\npew\n' }, 'pew: |\n  pew\n  pew\n'],
    ['numeric-looking string quoted', { value: '12345' }, 'value: "12345"\n'],
    ['value with ": " in a literal block', { 'private-address': 'foo: bar\n' }, 'private-address: |\n  foo: bar\n'],
    ['plain strings', { a: 'hello world', b: '10.0.0.1', c: 'http://x/y?z=1' }, 'a: hello world\nb: 10.0.0.1\nc: http://x/y?z=1\n'],
    ['empty string', { a: '' }, 'a: ""\n'],
    ['YAML 1.1 booleans and nulls', { a: 'yes', b: 'off', c: 'True', d: '~', e: 'null', f: 'y' }, 'a: "yes"\nb: "off"\nc: "True"\nd: "~"\ne: "null"\nf: "y"\n'],
    ['numbers in strings', { a: '1.5', b: '0x1F', c: '1_000', d: '-7', e: '.5', f: '1e3', g: '0777' }, 'a: "1.5"\nb: "0x1F"\nc: "1_000"\nd: "-7"\ne: ".5"\nf: "1e3"\ng: "0777"\n'],
    ['sexagesimal and timestamps', { a: '10:30', b: '2024-01-02', c: '2024-1-2 3:04:05', d: '2024-13-01' }, 'a: "10:30"\nb: "2024-01-02"\nc: "2024-1-2 3:04:05"\nd: 2024-13-01\n'],
    ['indicators force single quotes', { a: 'foo: bar', b: ' lead', c: '-', d: '*star', e: 'a #b', f: "it's" }, "a: 'foo: bar'\nb: ' lead'\nc: '-'\nd: '*star'\ne: 'a #b'\nf: it's\n"],
    ['quote inside single quotes doubled', { a: "'q'" }, "a: '''q'''\n"],
    ['tabs and control characters double-quoted', { a: 'a\tb', b: 'bell\x07', c: 'x"y' }, 'a: "a\\tb"\nb: "bell\\a"\nc: x"y\n'],
    ['astral characters escaped, BMP kept', { a: 'é ü 😀' }, 'a: "é ü \\U0001F600"\n'],
    ['multi-line without final newline', { a: 'a\nb' }, 'a: |-\n  a\n  b\n'],
    ['multi-line with two final newlines', { a: 'a\n\n' }, 'a: |+\n  a\n\n'],
    ['multi-line with leading space', { a: ' a\nb' }, 'a: |2-\n   a\n  b\n'],
    ['space before a line break cannot be a block', { a: 'a \nb' }, 'a: "a \\nb"\n'],
    ['null, bool and numbers', { a: null, b: true, c: 5, d: 1.5, e: 1.5e-7, f: -2 }, 'a: null\nb: true\nc: 5\nd: 1.5\ne: 1.5e-07\nf: -2\n'],
    ['empty collections', { a: {}, b: [] }, 'a: {}\nb: []\n'],
    ['nested maps indent by two', { a: { b: { c: 'd' } } }, 'a:\n  b:\n    c: d\n'],
    ['sequences are not indented under their key', { a: ['x', 'z'] }, 'a:\n- x\n- z\n'],
    ['"y" is a YAML 1.1 bool, so it is quoted', ['x', 'y'], '- x\n- "y"\n'],
    ['maps inside sequences', { a: [{ k: 'v', l: 'w' }] }, 'a:\n- k: v\n  l: w\n'],
    ['sequences inside sequences', [['a', 'b'], 'c'], '- - a\n  - b\n- c\n'],
    ['literal inside a sequence', ['x\ny\n'], '- |\n  x\n  y\n'],
    ['top-level scalar', 'hello', 'hello\n'],
    ['top-level quoted scalar', '123', '"123"\n'],
    ['top-level literal', 'a\nb\n', '|\n  a\n  b\n'],
    ['multi-line key as a complex key', { 'a\nb': 'c' }, '? |-\n  a\n  b\n: c\n'],
  ];
  test.each(cases)('%s', (_name, value, expected) => {
    expect(goYamlMarshal(value)).toBe(expected);
  });

  test('structs (Maps) keep field order, maps sort keys', () => {
    const v = new Map<string, GoValue>([
      ['zeta', 1],
      ['alpha', { b: 1, a: 2 }],
    ]);
    expect(goYamlMarshal(v)).toBe('zeta: 1\nalpha:\n  a: 2\n  b: 1\n');
  });

  test('long plain scalars fold at the first space past column 80', () => {
    const words = (n: number) => Array(n).fill('word').join(' ');
    expect(goYamlMarshal({ k: words(20) })).toBe(`k: ${words(16)}\n  ${words(4)}\n`);
    // Keys (simple-key context) never fold.
    expect(goYamlMarshal({ [words(20)]: 1 })).toBe(`${words(20)}: 1\n`);
  });

  test('long double-quoted scalars fold too, escaping a following space', () => {
    const long = Array(20).fill('word').join(' ') + '\t';
    const out = goYamlMarshal({ k: long });
    expect(out.split('\n')[0]).toBe(`k: "${Array(16).fill('word').join(' ')}`);
    expect(out).toBe(`k: "${Array(16).fill('word').join(' ')}\n  ${Array(4).fill('word').join(' ')}\\t"\n`);
  });

  test('natural key order: letters before digits and symbols, digit runs by value', () => {
    const keys = ['b', 'a10', 'a2', 'A', 'a-b', 'a', '10', '9'];
    // '-' is neither letter nor digit, so it compares as the number 0 against '2'.
    expect([...keys].sort(goYamlKeyCompare)).toEqual(['9', '10', 'A', 'a', 'a-b', 'a2', 'a10', 'b']);
  });

  test('YAML 1.1 resolution decides quoting', () => {
    for (const s of ['hello', '1.2.3', '10.0.0.1', 'yes please', '-foo', '0b102', '2024-02-30', '<<']) expect(resolvesToString(s), s).toBe(true);
    for (const s of ['', 'NO', '12', '+12', '1e5', '0b101', '.inf', '2024-02-29', '99999999999999999999']) {
      expect(resolvesToString(s), s).toBe(false);
    }
  });
});

describe('Go JSON', () => {
  test('sorted keys, HTML-safe escapes, structs in order, one line', () => {
    const v = new Map<string, GoValue>([
      ['z', { b: '<a&b>', a: '\u2028' }],
      ['list', new StringList(['x'])],
    ]);
    expect(goJsonMarshal(v)).toBe('{"z":{"a":"\\u2028","b":"\\u003ca\\u0026b\\u003e"},"list":["x"]}');
    expect(goJsonMarshal({ n: 1.5e-7, i: 3, f: false, x: null })).toBe('{"f":false,"i":3,"n":1.5e-7,"x":null}');
  });

  test('%q quoting', () => {
    expect(goQuote('a"b\\c\n\x01é')).toBe('"a\\"b\\\\c\\n\\x01é"');
    expect(goQuoteList(['a', 'b c'])).toBe('["a" "b c"]');
  });
});

describe('juju/cmd formatters', () => {
  test('smart: strings raw, []string one per line, bools as True/False, nothing for nil or ""', () => {
    expect(formatOutput('pew\npew\n', 'smart')).toBe('pew\npew\n\n');
    expect(formatOutput(new StringList(['a', 'b']), 'smart')).toBe('a\nb\n');
    expect(formatOutput(new StringList([]), 'smart')).toBe('');
    expect(formatOutput(true, 'smart')).toBe('True\n');
    expect(formatOutput(false, 'smart')).toBe('False\n');
    expect(formatOutput(null, 'smart')).toBe('');
    expect(formatOutput('', 'smart')).toBe('');
    expect(formatOutput(80, 'smart')).toBe('80\n');
    expect(formatOutput({ a: '1' }, 'smart')).toBe('a: "1"\n');
    expect(formatOutput(['a'], 'smart')).toBe('- a\n');
  });

  test('yaml trims trailing newlines to one and prints nothing for nil', () => {
    expect(formatOutput('a\n\n', 'yaml')).toBe('|+\n  a\n');
    expect(formatOutput(null, 'yaml')).toBe('');
    expect(formatOutput('', 'yaml')).toBe('""\n');
  });

  test('json prints nil as null', () => {
    expect(formatOutput(null, 'json')).toBe('null\n');
    expect(formatOutput(new StringList([]), 'json')).toBe('[]\n');
  });
});
