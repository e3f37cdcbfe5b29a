import { describe, expect, test } from 'vitest';
import { phpString, renderSite, renderWpConfig } from './render.ts';
import { SALT_NAMES, type Salts, databaseFrom, databaseId, installedInto, memcachedFrom, parseSalts, settingsFrom } from './settings.ts';

const settings = settingsFrom({ 'blog-title': 'T', tagline: '', 'admin-user': 'admin', 'admin-email': 'a@example.com', 'blog-public': true, 'upload-max-size': '8m', debug: false });
const salts = Object.fromEntries(SALT_NAMES.map((n) => [n, 'k'])) as Salts;
const db = { host: '10.0.0.3', port: 3306, name: 'wordpress', user: 'wordpress_7', password: "it's a \\ secret", unit: 'mariadb/0' };

describe('PHP literals', () => {
  test.each([
    ['plain', "'plain'"],
    ["it's", "'it\\'s'"],
    ['back\\slash', "'back\\\\slash'"],
    ["\\'", "'\\\\\\''"],
    ['$HOME {$x}', "'$HOME {$x}'"],
  ])('%s', (value, literal) => expect(phpString(value)).toBe(literal));
});

describe('wp config', () => {
  const text = renderWpConfig({ db, salts, memcached: ['10.0.0.5:11211'], settings });

  test('quotes relation data so a password cannot end the string', () => {
    expect(text).toContain("define('DB_PASSWORD', 'it\\'s a \\\\ secret');");
  });

  test('is the same for the same input (no needless rewrite) and keeps sites apart in a shared memcached', () => {
    expect(renderWpConfig({ db, salts, memcached: ['10.0.0.5:11211'], settings })).toBe(text);
    const salt = (t: string) => /WP_CACHE_KEY_SALT', '([0-9a-f]{12})'/.exec(t)?.[1];
    expect(salt(text)).toBeDefined();
    expect(salt(renderWpConfig({ db: { ...db, name: 'other' }, salts, memcached: [], settings }))).not.toBe(salt(text));
    // The same database reached through a proxy keeps its cache: only DB_HOST changes.
    const proxied = renderWpConfig({ db: { ...db, host: '10.0.0.1', port: 40123 }, salts, memcached: ['10.0.0.5:11211'], settings });
    expect(salt(proxied)).toBe(salt(text));
    expect(proxied.split('\n').filter((l) => !text.includes(l))).toEqual(["define('DB_HOST', '10.0.0.1:40123');"]);
  });

  test('takes the site URL from the request, keeping only a host name or address and a port', () => {
    const m = /preg_match\('\/(.*)\/', \$sigil_host\)/.exec(text);
    const hostPattern = new RegExp(m![1]!);
    for (const good of ['127.0.0.1:34157', 'blog.example.com', '[::1]:8080', '10.212.61.5']) expect(hostPattern.test(good), good).toBe(true);
    for (const bad of ['evil.com/<script>', 'a b', "x'y", 'host:port']) expect(hostPattern.test(bad), bad).toBe(false);
    expect(text).toContain("define('WP_HOME', ($sigil_https ? 'https://' : 'http://') . $sigil_host);");
  });
});

test('the site names the unit in a header and refuses the HTTP installer', () => {
  const site = renderSite('wordpress/3', settings);
  expect(site).toContain('Header always set X-Sigil-Unit "wordpress/3"');
  expect(site).toContain('php_admin_value upload_max_filesize 8M');
  // A rewritten configuration (the database moved) counts from the next request.
  expect(site).toContain('php_admin_value opcache.revalidate_freq 0');
  expect(site).toMatch(/<LocationMatch "\^\/wp-admin\/\(install\|setup-config\)\\\.php">\s+Require all denied/);
});

describe('relation data', () => {
  test('the database comes from the unit that published all of it; port defaults to 3306', () => {
    const bag = (unit: string, data: Record<string, string>) => ({ unit, data });
    expect(databaseFrom([bag('m/0', {}), bag('m/1', { host: 'h', database: 'd', user: 'u' })])).toBeUndefined();
    expect(databaseFrom([bag('m/0', { 'private-address': 'x' }), bag('m/1', { host: 'h', database: 'd', user: 'u', password: 'p' })])).toEqual({ host: 'h', port: 3306, name: 'd', user: 'u', password: 'p', unit: 'm/1' });
    expect(databaseFrom([bag('m/0', { host: 'h', database: 'd', user: 'u', password: 'p', port: 'x' })])).toBeUndefined();
  });

  test("a database is known by its user, name and serving unit, not by the address it is reached at", () => {
    expect(databaseId(db)).toBe('wordpress_7@mariadb/0/wordpress');
    expect(databaseId({ ...db, host: '10.0.0.1', port: 40123 })).toBe(databaseId(db));
    expect(databaseId({ ...db, unit: 'mariadb/1' })).not.toBe(databaseId(db));
    expect(installedInto('wordpress_7@mariadb/0/wordpress', db)).toBe(true);
    // As earlier revisions recorded it: by address.
    expect(installedInto('wordpress_7@10.0.0.3:3306/wordpress', db)).toBe(true);
    expect(installedInto('wordpress_7@10.0.0.9:3306/wordpress', db)).toBe(false);
    expect(installedInto(undefined, db)).toBe(false);
  });

  test('memcached servers: every unit with a host, sorted, without duplicates or junk', () => {
    expect(memcachedFrom([{ host: '10.0.0.6', port: '11211' }, { host: '10.0.0.5' }, { host: '10.0.0.5', port: '11211' }, { host: 'a b', port: '1' }, { port: '1' }])).toEqual(['10.0.0.5:11211', '10.0.0.6:11211']);
  });

  test('salts are used only when all eight are there', () => {
    expect(parseSalts(JSON.stringify(salts))).toEqual(salts);
    expect(parseSalts(JSON.stringify({ AUTH_KEY: 'k' }))).toBeUndefined();
    expect(parseSalts('not json')).toBeUndefined();
    expect(parseSalts(undefined)).toBeUndefined();
  });
});
