import { describe, expect, test } from 'vitest';
import { formatSize, parseSettings, parseSize, plan, renderSettings } from './settings.ts';
import { ident, literal, userStatements } from './workload.ts';

describe('plan: the least disruptive way to new settings', () => {
  const base = { bind_address: '10.0.0.5', port: '3306', query_cache_type: 'OFF' };
  const cases: [string, Record<string, string> | undefined, Record<string, string>, boolean, { restart: boolean; set: { name: string; value: string | null }[] }][] = [
    ['unchanged', base, base, true, { restart: false, set: [] }],
    ['first configuration', undefined, base, true, { restart: true, set: [] }],
    ['not running', base, base, false, { restart: true, set: [] }],
    ['a dynamic variable', base, { ...base, max_connections: '500' }, true, { restart: false, set: [{ name: 'max_connections', value: '500' }] }],
    ['a dynamic variable back to its default', { ...base, wait_timeout: '60' }, base, true, { restart: false, set: [{ name: 'wait_timeout', value: null }] }],
    ['the port', base, { ...base, port: '3307' }, true, { restart: true, set: [] }],
    ['the address, with a dynamic variable', base, { ...base, bind_address: '10.0.0.6', max_connections: '20' }, true, { restart: true, set: [] }],
  ];
  test.each(cases)('%s', (_name, old, next, isRunning, want) => {
    const p = plan(old, next, isRunning);
    expect({ restart: p.restart, set: p.set }).toEqual(want);
  });
});

describe('sizes and the configuration file', () => {
  test('sizes', () => {
    expect(parseSize('512M')).toBe(512 * 1024 ** 2);
    expect(parseSize('2g')).toBe(2 * 1024 ** 3);
    expect(parseSize('1048576')).toBe(1048576);
    expect(parseSize('1.5G')).toBeUndefined();
    expect(parseSize('lots')).toBeUndefined();
    expect(formatSize(1536 * 1024 ** 2)).toBe('1.5G');
  });

  test('the file reads back as written', () => {
    const s = { bind_address: '10.0.0.5', port: '3306', max_connections: '300' };
    const text = renderSettings(s);
    expect(text).toMatch(/^# Written by the mariadb charm[^\n]*\n\[mysqld\]\nbind_address = 10.0.0.5\nport = 3306\nmax_connections = 300\n$/);
    expect(parseSettings(text)).toEqual(s);
  });
});

describe('SQL quoting', () => {
  test('names and passwords cannot escape their quotes', () => {
    expect(ident('db-client')).toBe('`db-client`');
    expect(ident('a`b')).toBe('`a``b`');
    expect(literal("it's\\")).toBe("'it\\'s\\\\'");
  });

  test('a relation user is created, its password reset and its grant given, idempotently', () => {
    expect(userStatements('wp_7', 'pw', { database: 'wordpress' })).toEqual([
      "CREATE USER IF NOT EXISTS 'wp_7'@'%' IDENTIFIED BY 'pw'",
      "ALTER USER 'wp_7'@'%' IDENTIFIED BY 'pw'",
      "GRANT ALL PRIVILEGES ON `wordpress`.* TO 'wp_7'@'%'",
    ]);
    expect(userStatements('ops_8', 'pw', 'all')[2]).toBe("GRANT ALL PRIVILEGES ON *.* TO 'ops_8'@'%' WITH GRANT OPTION");
  });
});
