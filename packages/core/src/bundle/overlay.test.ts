import { describe, expect, test } from 'vitest';
import { sigilError } from '../charm/test-util.ts';
import { loadBundle } from './load.ts';
import { files, load } from './test-kit.ts';

const base = `applications:
  wordpress:
    charm: ./charms/wordpress
    num_units: 1
    to: ["0"]
    options: {blog-title: Base, port: 8080}
    annotations: {gui-x: "1", gui-y: "2"}
  mysql:
    charm: ./charms/mysql
    num_units: 1
    to: ["0"]
  memcached:
    charm: ./charms/memcached
    num_units: 1
machines:
  "0": {constraints: mem=4G}
relations:
- ["wordpress:db", "mysql:db"]
- [wordpress, memcached]
`;

describe('overlays', () => {
  test('application fields merge, options and annotations key by key', () => {
    const b = load(base, [['prod.yaml', 'applications:\n  wordpress:\n    num_units: 3\n    expose: true\n    options: {port: 443, debug: true}\n    annotations: {gui-x: "9"}\n']]);
    expect(b.applications['wordpress']).toEqual({
      charm: '/srv/bundles/charms/wordpress',
      numUnits: 3,
      to: ['0'],
      options: { 'blog-title': 'Base', port: 443, debug: true },
      expose: true,
      constraints: '',
      annotations: { 'gui-x': '9', 'gui-y': '2' },
    });
  });

  test('a null option in an overlay unsets it, so the charm default applies', () => {
    const b = load(base, [['o.yaml', 'applications:\n  wordpress:\n    options: {port: null}\n']]);
    expect(b.applications['wordpress']?.options).toEqual({ 'blog-title': 'Base' });
  });

  test('relations append, without duplicates in either order', () => {
    const b = load(base, [['o.yaml', 'relations:\n- ["mysql:db", "wordpress:db"]\n- ["memcached", "mysql"]\n']]);
    expect(b.relations).toEqual([['wordpress:db', 'mysql:db'], ['wordpress', 'memcached'], ['memcached', 'mysql']]);
  });

  test('a machines section replaces the base machines', () => {
    const b = load(base, [['o.yaml', 'machines:\n  "0": {}\n  "1": {constraints: cores=8}\napplications:\n  memcached: {to: ["1"]}\n']]);
    expect(b.machines).toEqual({ '0': { constraints: '', annotations: {} }, '1': { constraints: 'cores=8', annotations: {} } });
  });

  test('an application with no fields is removed with every relation that mentions it', () => {
    for (const empty of ['memcached:', 'memcached: {}', 'memcached: null']) {
      const b = load(base, [['o.yaml', `applications:\n  ${empty}\n`]]);
      expect(Object.keys(b.applications)).toEqual(['wordpress', 'mysql']);
      expect(b.relations).toEqual([['wordpress:db', 'mysql:db']]);
    }
  });

  test('removing an application others are placed on is an error in the overlay that causes it', () => {
    const text = 'applications:\n  a: {charm: ./c, num_units: 1}\n  b: {charm: ./c, num_units: 1, to: [a/0]}\n---\napplications:\n  a:\n';
    const e = sigilError(() => load(text));
    expect(e.message).toBe('/srv/bundles/bundle.yaml:3: applications.b.to: placement "a/0" refers to unknown application "a"');
  });

  test('removing the only application on a machine leaves the machine unused', () => {
    const e = sigilError(() => load(base, [['o.yaml', 'applications:\n  wordpress:\n  mysql:\n']]));
    expect(e.message).toBe('/srv/bundles/bundle.yaml:16: machines.0: machine "0" is not used');
  });

  test('multi-document bundles apply their overlays first, then --overlay files, in order', () => {
    const text = `${base}---\napplications:\n  wordpress:\n    options: {blog-title: Doc2}\n---\napplications:\n  wordpress:\n    options: {blog-title: Doc3}\n    num_units: 2\n`;
    const b = load(text, [['a.yaml', 'applications:\n  wordpress:\n    options: {blog-title: A}\n'], ['b.yaml', 'applications:\n  mysql:\n    num_units: 2\n']]);
    expect(b.applications['wordpress']?.options['blog-title']).toBe('A');
    expect(b.applications['wordpress']?.numUnits).toBe(2);
    expect(b.applications['mysql']?.numUnits).toBe(2);
    // An empty document (a trailing ---) changes nothing.
    expect(load(`${base}---\n`).applications['wordpress']?.numUnits).toBe(1);
  });

  test('an overlay may add an application; its charm path is relative to the overlay file', () => {
    const b = loadBundle(
      { path: '/srv/bundles/bundle.yaml', text: base },
      [{ path: '/srv/overlays/extra.yaml', text: 'applications:\n  haproxy: {charm: ../charms/haproxy, num_units: 1}\nrelations:\n- [haproxy, wordpress]\n' }],
      files({}),
    );
    expect(b.applications['haproxy']?.charm).toBe('/srv/charms/haproxy');
    expect(b.relations.at(-1)).toEqual(['haproxy', 'wordpress']);
  });

  test('errors in an overlay name the overlay file and its line', () => {
    const e = sigilError(() => load(base, [['prod.yaml', 'applications:\n  wordpress:\n    expose: 1\n']]));
    expect(e.message).toBe('/srv/bundles/prod.yaml:3: applications.wordpress.expose: expected true or false, got 1');
    const m = sigilError(() => load(`${base}---\napplications:\n  wordpress:\n    num_units: x\n`));
    expect(m.message).toBe('/srv/bundles/bundle.yaml:23: applications.wordpress.num_units: expected a non-negative whole number, got "x"');
  });

  test('a new overlay application without a charm is an error', () => {
    const e = sigilError(() => load(base, [['o.yaml', 'applications:\n  redis:\n    num_units: 1\n']]));
    expect(e.message).toBe('/srv/bundles/o.yaml:2: applications.redis: application "redis" has no charm');
  });
});

describe('include-file:// and include-base64://', () => {
  const tree = {
    '/srv/bundles/motd.txt': 'Hello\nworld\n',
    '/srv/secrets/key.bin': Buffer.from([0, 1, 2, 255]),
    '/srv/overlays/certs/site.pem': '-----BEGIN CERTIFICATE-----\n',
  };

  test('option values are replaced by the text or base64 of a file relative to the file naming it', () => {
    const b = loadBundle(
      { path: '/srv/bundles/bundle.yaml', text: 'applications:\n  wordpress:\n    charm: ./charms/wordpress\n    options:\n      blog-title: include-file://motd.txt\n      key: include-base64://../secrets/key.bin\n' },
      [{ path: '/srv/overlays/tls.yaml', text: 'applications:\n  wordpress:\n    options: {tls-cert: "include-file://certs/site.pem"}\n' }],
      files(tree),
    );
    expect(b.applications['wordpress']?.options).toEqual({ 'blog-title': 'Hello\nworld\n', key: 'AAEC/w==', 'tls-cert': '-----BEGIN CERTIFICATE-----\n' });
  });

  test('a file that cannot be read is an error naming the option', () => {
    const e = sigilError(() => load('applications:\n  wordpress:\n    charm: ./charms/wordpress\n    options:\n      blog-title: include-file://missing.txt\n'));
    expect(e.code).toBe('bad-request');
    expect(e.message).toMatch(/^\/srv\/bundles\/bundle\.yaml:5: applications\.wordpress\.options\.blog-title: cannot read \/srv\/bundles\/missing\.txt for include-file:\/\/missing\.txt: ENOENT/);
    expect(e.hint).toMatch(/relative to the directory of \/srv\/bundles\/bundle\.yaml/);
  });
});
