import { describe, expect, it } from 'vitest';
import { escapeControl } from './text.ts';

describe('escapeControl', () => {
  it.each([
    ['plain text', 'plain text'],
    ['tab\tkept', 'tab\tkept'],
    ['\x1b[31mred\x1b[0m', '\\x1b[31mred\\x1b[0m'],
    ['one\nunit-x-1: forged', 'one\\nunit-x-1: forged'],
    ['back\rover', 'back\\rover'],
    ['bell\x07 nul\x00 del\x7f', 'bell\\x07 nul\\x00 del\\x7f'],
    ['c1 \x9b31m', 'c1 \\x9b31m'],
    ['line sep \u2028', 'line sep \\u2028'],
    ['ünïcödé ✓', 'ünïcödé ✓'],
  ])('%j → %j', (input, shown) => {
    expect(escapeControl(input)).toBe(shown);
  });

  it('can indent the lines of a multi-line message instead of escaping the breaks', () => {
    expect(escapeControl('failed; last output:\n  boom\nunit-x-1: forged\r', { newline: '\n    ' })).toBe('failed; last output:\n      boom\n    unit-x-1: forged\\r');
  });
});
