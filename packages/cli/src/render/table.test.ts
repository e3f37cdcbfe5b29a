import { describe, expect, test } from 'vitest';
import { paint, relationStatusColour, statusColour, stripAnsi, visibleWidth } from './colour.ts';
import { cell, renderTable } from './table.ts';

describe('renderTable', () => {
  test('pads every column but the last with two spaces and trims trailing spaces', () => {
    const out = renderTable(
      ['App', 'Status', 'Message'],
      [
        ['mysql', 'maintenance', 'installing all the things'],
        ['wordpress', 'active', ''],
      ],
    );
    expect(out).toBe(
      'App        Status       Message\n' +
        'mysql      maintenance  installing all the things\n' +
        'wordpress  active\n',
    );
  });

  test('right-aligns the columns it is told to, headers included', () => {
    const out = renderTable(
      ['App', 'Scale', 'Rev', 'Exposed'],
      [
        ['mysql', '1/2', '1', 'yes'],
        ['wordpress', '1', '1024', 'no'],
      ],
      { alignRight: [1, 2] },
    );
    expect(out).toBe(
      'App        Scale   Rev  Exposed\n' +
        'mysql        1/2     1  yes\n' +
        'wordpress      1  1024  no\n',
    );
  });

  test('a last cell never widens its column, as with Go tabwriter', () => {
    const out = renderTable(['Type', 'Message'], [['regular', 'suspended', 'long reason'], ['peer', '']]);
    expect(out).toBe('Type     Message\n' + 'regular  suspended  long reason\n' + 'peer\n');
  });

  test('colours cells only when asked, padding on visible width', () => {
    const rows = [[cell('active', 'green'), 'x'], [cell('error', 'red'), 'y']];
    expect(renderTable(['Status', 'Next'], rows)).toBe('Status  Next\nactive  x\nerror   y\n');
    const coloured = renderTable(['Status', 'Next'], rows, { color: true });
    expect(coloured).toBe('Status  Next\n\x1b[32mactive\x1b[0m  x\n\x1b[31merror\x1b[0m   y\n');
    expect(stripAnsi(coloured)).toBe(renderTable(['Status', 'Next'], rows));
  });

  test('measures pre-coloured strings by what shows', () => {
    const out = renderTable(['A', 'B'], [[paint('long-value', 'cyan'), 'b']]);
    expect(stripAnsi(out)).toBe('A           B\nlong-value  b\n');
  });

  test('renders nothing for nothing', () => {
    expect(renderTable([], [])).toBe('');
  });
});

describe('colours', () => {
  test.each([
    ['active', 'green'],
    ['idle', 'green'],
    ['executing', 'green'],
    ['started', 'green'],
    ['running', 'green'],
    ['maintenance', 'yellow'],
    ['allocating', 'yellow'],
    ['pending', 'yellow'],
    ['unknown', 'yellow'],
    ['lost', 'yellow'],
    ['blocked', 'red'],
    ['error', 'red'],
    ['down', 'red'],
    ['terminated', 'red'],
    ['waiting', undefined],
  ])('status %s is %s', (status, colour) => {
    expect(statusColour(status)).toBe(colour);
  });

  test('relation statuses', () => {
    expect(relationStatusColour('joined')).toBe('green');
    expect(relationStatusColour('suspended')).toBe('yellow');
    expect(relationStatusColour('broken')).toBe('red');
    expect(relationStatusColour('joining')).toBeUndefined();
  });

  test('visible width ignores escapes and counts code points', () => {
    expect(visibleWidth(paint('idle', 'green'))).toBe(4);
    expect(visibleWidth('café')).toBe(4);
    expect(paint('', 'red')).toBe('');
  });
});
