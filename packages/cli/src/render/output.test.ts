import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { formatOutput, renderKeyValue, renderList } from './output.ts';
import { statusDoc } from './status-doc.fixture.ts';
import { cell } from './table.ts';

describe('formatOutput json', () => {
  test('is one line with a trailing newline and round-trips', () => {
    const doc = statusDoc();
    const out = formatOutput(doc, 'json');
    expect(out.endsWith('}\n')).toBe(true);
    expect(out.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(out)).toEqual(doc);
  });

  test('leaves undefined fields out', () => {
    expect(formatOutput({ a: 1, b: undefined }, 'json')).toBe('{"a":1}\n');
  });
});

describe('formatOutput yaml', () => {
  test('round-trips the status document', () => {
    const doc = statusDoc();
    expect(parse(formatOutput(doc, 'yaml'))).toEqual(doc);
  });

  test('block style, insertion order, unindented sequences, ambiguous strings quoted', () => {
    const out = formatOutput(
      {
        model: { name: 'prod', version: '3.6.0' },
        machines: { '0': { base: { name: 'ubuntu', channel: '22.04' }, 'ip-addresses': ['10.0.1.1'] } },
        offers: {},
        flags: { exposed: true, answer: 'yes', mode: '0755', rev: 3, empty: '' },
        message: 'hook failed: "install"',
      },
      'yaml',
    );
    expect(out).toBe(`\
model:
  name: prod
  version: 3.6.0
machines:
  "0":
    base:
      name: ubuntu
      channel: "22.04"
    ip-addresses:
    - 10.0.1.1
offers: {}
flags:
  exposed: true
  answer: "yes"
  mode: "0755"
  rev: 3
  empty: ""
message: 'hook failed: "install"'
`);
  });

  test('does not fold long strings', () => {
    const long = 'word '.repeat(40).trim();
    expect(formatOutput({ message: long }, 'yaml')).toBe(`message: ${long}\n`);
  });
});

describe('renderList', () => {
  test('prints headers and rows in the given order', () => {
    const out = renderList(
      ['Model', 'Cloud/Region', 'Type', 'Status', 'Machines', 'Units', 'Access', 'Last connection'],
      [
        ['prod*', 'localhost/localhost', 'iaas', cell('available', 'green'), '2', '4', 'admin', '1 minute ago'],
        ['dev', 'localhost/localhost', 'iaas', cell('available', 'green'), '0', '0', 'admin', 'never connected'],
      ],
      { alignRight: [4, 5] },
    );
    expect(out).toBe(`\
Model  Cloud/Region         Type  Status     Machines  Units  Access  Last connection
prod*  localhost/localhost  iaas  available         2      4  admin   1 minute ago
dev    localhost/localhost  iaas  available         0      0  admin   never connected
`);
  });

  test('prints the empty message when there are no rows', () => {
    expect(renderList(['Controller'], [], { empty: 'No controllers registered.' })).toBe('No controllers registered.\n');
    expect(renderList(['Controller'], [])).toBe('');
  });
});

describe('renderKeyValue', () => {
  test('a record is listed in natural key order', () => {
    expect(renderKeyValue({ 'port-10': 1, 'port-2': true, name: 'x' }, ['Key', 'Value'])).toBe(`\
Key      Value
name     x
port-2   true
port-10  1
`);
  });

  test('pairs keep their order and may go without headers', () => {
    expect(renderKeyValue([['zeta', 'last'], ['alpha', 'first']])).toBe('zeta   last\nalpha  first\n');
  });
});
