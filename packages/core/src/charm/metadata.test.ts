import { describe, expect, test } from 'vitest';
import { parseMetadata } from './metadata.ts';
import { sigilError } from './test-util.ts';

const HEAD = 'name: wordpress\nsummary: Blog engine\ndescription: WordPress on Apache\n';

describe('parseMetadata', () => {
  test('reads the reference example, with both endpoint spec forms', () => {
    const meta = parseMetadata(`${HEAD}maintainer: someone <a@b.c>
provides:
  website: {interface: http}
requires:
  db: {interface: mysql, limit: 1}
  nfs: {interface: mount, optional: true}
  cache: memcache
peers:
  loadbalancer: {interface: reversenginx}
extra-bindings:
  admin-api:
storage:
  uploads: {type: filesystem, location: /srv/uploads, minimum-size: 1G}
`);
    expect(meta).toMatchObject({ name: 'wordpress', summary: 'Blog engine', description: 'WordPress on Apache', subordinate: false });
    expect(meta.provides).toEqual({ website: { name: 'website', role: 'provider', interface: 'http', optional: false, scope: 'global' } });
    expect(meta.requires).toEqual({
      db: { name: 'db', role: 'requirer', interface: 'mysql', limit: 1, optional: false, scope: 'global' },
      nfs: { name: 'nfs', role: 'requirer', interface: 'mount', optional: true, scope: 'global' },
      cache: { name: 'cache', role: 'requirer', interface: 'memcache', optional: false, scope: 'global' },
    });
    expect(meta.peers['loadbalancer']).toEqual({ name: 'loadbalancer', role: 'peer', interface: 'reversenginx', optional: false, scope: 'global' });
    expect(meta.extraBindings).toEqual(['admin-api']);
    // Unknown keys are ignored but kept in raw.
    expect(meta.raw['maintainer']).toBe('someone <a@b.c>');
    expect(meta.raw['storage']).toEqual({ uploads: { type: 'filesystem', location: '/srv/uploads', 'minimum-size': '1G' } });
  });

  test('a minimal charm has no endpoints and no extra bindings', () => {
    const meta = parseMetadata(HEAD);
    expect(meta).toMatchObject({ provides: {}, requires: {}, peers: {}, extraBindings: [], subordinate: false });
  });

  test('reads YAML 1.1 booleans as Juju does, but keeps keys as written', () => {
    const meta = parseMetadata(`${HEAD}requires:\n  n: {interface: x, optional: yes}\n`);
    expect(meta.requires['n']?.optional).toBe(true);
  });

  test.each([
    ['name', 'summary: s\ndescription: d\n'],
    ['summary', 'name: x\ndescription: d\n'],
    ['description', 'name: x\nsummary: s\n'],
  ])('requires %s', (key, text) => {
    const e = sigilError(() => parseMetadata(text));
    expect(e.code).toBe('invalid-charm');
    expect(e.message).toBe(`metadata.yaml: missing required key "${key}"`);
    expect(e.hint).toMatch(/^add /);
  });

  test('rejects a non-string name, naming the line', () => {
    const e = sigilError(() => parseMetadata('summary: s\nname: 123\ndescription: d\n'));
    expect(e.message).toBe('metadata.yaml:2: name: expected a string, got 123');
  });

  test('rejects an invalid charm name', () => {
    const e = sigilError(() => parseMetadata('name: My_Charm\nsummary: s\ndescription: d\n'));
    expect(e.message).toBe('metadata.yaml:1: name: invalid charm name "My_Charm"');
    expect(e.hint).toMatch(/lowercase/);
  });

  test('rejects an empty file and a file that is not a map', () => {
    expect(sigilError(() => parseMetadata('')).message).toBe('metadata.yaml: the file is empty');
    expect(sigilError(() => parseMetadata('- a\n- b\n')).message).toMatch(/^metadata\.yaml:1: expected a map .* got a list$/);
  });

  test('malformed YAML names the file and line', () => {
    const e = sigilError(() => parseMetadata('name: x\nsummary: s\n  description: d\n'));
    expect(e.code).toBe('invalid-charm');
    expect(e.message).toMatch(/^metadata\.yaml:2: malformed YAML at line 2, column \d+: /);
    expect(e.hint).toMatch(/near line 2/);
  });

  test('duplicate YAML keys are malformed', () => {
    expect(sigilError(() => parseMetadata(`${HEAD}name: again\n`)).message).toMatch(/^metadata\.yaml:4: malformed YAML .*unique/);
  });

  test.each([
    ['db:', /requires\.db: expected an interface name or a map with "interface", got nothing$/],
    ['db: [a]', /requires\.db: expected an interface name or a map with "interface", got a list$/],
    ['db: ""', /requires\.db: the interface name is empty$/],
    ['db: {limit: 1}', /requires\.db: missing required key "interface"$/],
    ['db: {interface: 5}', /requires\.db\.interface: expected an interface name, got 5$/],
    ['db: {interface: mysql, limit: two}', /requires\.db\.limit: expected a whole number of relations, got "two"$/],
    ['db: {interface: mysql, limit: -1}', /requires\.db\.limit: expected a whole number of relations, got -1$/],
    ['db: {interface: mysql, optional: maybe}', /requires\.db\.optional: expected true or false, got "maybe"$/],
    ['db: {interface: mysql, scope: machine}', /requires\.db\.scope: expected "global" or "container", got "machine"$/],
  ])('rejects endpoint spec %s', (spec, message) => {
    const e = sigilError(() => parseMetadata(`${HEAD}requires:\n  ${spec}\n`));
    expect(e.code).toBe('invalid-charm');
    expect(e.message).toMatch(/^metadata\.yaml:5: /);
    expect(e.message).toMatch(message);
    expect(e.hint).toBeTruthy();
  });

  test('rejects a section that is not a map', () => {
    expect(sigilError(() => parseMetadata(`${HEAD}provides: [a, b]\n`)).message).toBe(
      'metadata.yaml:4: provides: expected a map of endpoint name to interface, got a list',
    );
  });

  test.each([
    ['provides', 'juju-foo: {interface: http}', 'charm "wordpress" using a reserved relation name: "juju-foo"'],
    ['requires', 'juju: {interface: http}', 'charm "wordpress" using a reserved relation name: "juju"'],
    ['provides', 'info: {interface: juju-info}', 'charm "wordpress" relation "info" using a reserved interface: "juju-info"'],
    ['peers', 'cluster: {interface: juju}', 'charm "wordpress" relation "cluster" using a reserved interface: "juju"'],
  ])('reserves juju names in %s: %s', (section, spec, message) => {
    const e = sigilError(() => parseMetadata(`${HEAD}${section}:\n  ${spec}\n`));
    expect(e.message).toBe(`metadata.yaml:5: ${section}.${spec.split(':')[0]}: ${message}`);
    expect(e.hint).toMatch(/reserved/);
  });

  test('a requires endpoint may use a juju interface', () => {
    expect(parseMetadata(`${HEAD}requires:\n  host: {interface: juju-info}\n`).requires['host']?.interface).toBe('juju-info');
  });

  test('charms named juju-* may use reserved names', () => {
    const meta = parseMetadata('name: juju-controller\nsummary: s\ndescription: d\nprovides:\n  juju-api: {interface: juju}\n');
    expect(meta.provides['juju-api']?.interface).toBe('juju');
  });

  test('a subordinate container-scoped requires endpoint may be named juju-info', () => {
    const meta = parseMetadata('name: nrpe\nsummary: s\ndescription: d\nsubordinate: true\nrequires:\n  juju-info: {interface: juju-info, scope: container}\n');
    expect(meta.requires['juju-info']?.scope).toBe('container');
  });

  test('endpoint names must be unique across sections', () => {
    const e = sigilError(() => parseMetadata(`${HEAD}provides:\n  db: {interface: http}\nrequires:\n  db: {interface: mysql}\n`));
    expect(e.message).toBe('metadata.yaml:7: requires.db: charm "wordpress" using a duplicated relation name: "db" (already in provides)');
    expect(e.hint).toMatch(/unique across provides, requires and peers/);
  });

  test('a subordinate needs a container-scoped requires endpoint', () => {
    const text = 'name: logger\nsummary: s\ndescription: d\nsubordinate: true\nrequires:\n  host: {interface: juju-info}\nprovides:\n  out: {interface: logs, scope: container}\n';
    const e = sigilError(() => parseMetadata(text));
    expect(e.message).toBe('metadata.yaml:4: subordinate: subordinate charm "logger" lacks requires relation with container scope');
    expect(e.hint).toMatch(/scope: container/);
    const ok = parseMetadata(text.replace('{interface: juju-info}', '{interface: juju-info, scope: container}'));
    expect(ok.subordinate).toBe(true);
  });

  test('subordinate must be a boolean', () => {
    expect(sigilError(() => parseMetadata(`${HEAD}subordinate: sometimes\n`)).message).toBe(
      'metadata.yaml:4: subordinate: expected true or false, got "sometimes"',
    );
  });

  test('extra bindings may not reuse endpoint names', () => {
    const e = sigilError(() => parseMetadata(`${HEAD}requires:\n  db: mysql\nextra-bindings:\n  admin:\n  db:\n`));
    expect(e.message).toBe('metadata.yaml:8: extra-bindings.db: relation names (db) cannot be used in extra bindings');
    expect(sigilError(() => parseMetadata(`${HEAD}extra-bindings: [a]\n`)).message).toMatch(/extra-bindings: expected a map of binding names, got a list$/);
  });
});
