import { describe, expect, test } from 'vitest';
import { charmEndpoints, inferRelation, relationKey, type AppEndpoints, type EndpointRef } from './endpoints.ts';
import { parseMetadata } from './metadata.ts';
import type { CharmMeta } from './types.ts';
import { sigilError } from './test-util.ts';

const charm = (name: string, body: string): CharmMeta => parseMetadata(`name: ${name}\nsummary: s\ndescription: d\n${body}`);

const wordpress = charm('wordpress', `provides:
  website: {interface: http}
requires:
  db: {interface: mysql, limit: 1}
peers:
  cluster: {interface: wp-peers}
`);
const mysql = charm('mysql', 'provides:\n  db: {interface: mysql}\npeers:\n  cluster: {interface: wp-peers}\n');
const mariadb = charm('mariadb', 'provides:\n  db: {interface: mysql}\n  db-admin: {interface: mysql}\n');
// A subordinate that attaches to any principal, and also consumes http.
const logger = charm('logger', 'subordinate: true\nrequires:\n  host: {interface: juju-info, scope: container}\n  logs: {interface: http}\n');

const side = (app: string, meta: CharmMeta, endpoint?: string): AppEndpoints => (endpoint === undefined ? { app, meta } : { app, meta, endpoint });
const keyOf = (refs: [EndpointRef, EndpointRef]) => relationKey(...refs);

describe('charmEndpoints', () => {
  test('lists provides, requires, peers and the implicit juju-info provider', () => {
    expect(charmEndpoints(wordpress).map((e) => `${e.name}:${e.role}:${e.interface}`)).toEqual([
      'website:provider:http',
      'db:requirer:mysql',
      'cluster:peer:wp-peers',
      'juju-info:provider:juju-info',
    ]);
  });

  test('a juju-* charm that provides juju-info itself gets no second one', () => {
    const meta = charm('juju-agent', 'provides:\n  juju-info: {interface: juju-info, limit: 3}\n');
    expect(charmEndpoints(meta)).toEqual([{ name: 'juju-info', role: 'provider', interface: 'juju-info', limit: 3, optional: false, scope: 'global' }]);
  });
});

describe('relationKey', () => {
  const db = (app: string, role: 'provider' | 'requirer'): EndpointRef => ({ app, spec: { name: 'db', role, interface: 'mysql', optional: false, scope: 'global' } });
  const peer: EndpointRef = { app: 'wordpress', spec: { name: 'cluster', role: 'peer', interface: 'wp-peers', optional: false, scope: 'global' } };

  test('puts the requirer first, whatever the argument order', () => {
    expect(relationKey(db('wordpress', 'requirer'), db('mysql', 'provider'))).toBe('wordpress:db mysql:db');
    expect(relationKey(db('mysql', 'provider'), db('wordpress', 'requirer'))).toBe('wordpress:db mysql:db');
  });

  test('a peer relation has a single endpoint', () => {
    expect(relationKey(peer)).toBe('wordpress:cluster');
    expect(relationKey(peer, peer)).toBe('wordpress:cluster');
  });
});

describe('inferRelation', () => {
  test('finds the one compatible pair and returns it in argument order', () => {
    const [a, b] = inferRelation(side('wordpress', wordpress), side('mysql', mysql));
    expect(a).toEqual({ app: 'wordpress', spec: { name: 'db', role: 'requirer', interface: 'mysql', limit: 1, optional: false, scope: 'global' } });
    expect(b).toEqual({ app: 'mysql', spec: { name: 'db', role: 'provider', interface: 'mysql', optional: false, scope: 'global' } });
    expect(keyOf(inferRelation(side('mysql', mysql), side('wordpress', wordpress)))).toBe('wordpress:db mysql:db');
  });

  test('never relates peers, even with equal interfaces', () => {
    const e = sigilError(() => inferRelation(side('mysql', mysql), side('other', charm('other', 'peers:\n  cluster: {interface: wp-peers}\n'))));
    expect(e.code).toBe('no-relation');
  });

  test('never relates two providers of the same interface', () => {
    expect(sigilError(() => inferRelation(side('mysql', mysql), side('mariadb', mariadb))).code).toBe('no-relation');
  });

  test('several candidates are ambiguous, and the hint says how to choose', () => {
    const e = sigilError(() => inferRelation(side('wordpress', wordpress), side('mariadb', mariadb)));
    expect(e.code).toBe('ambiguous-relation');
    expect(e.message).toBe('ambiguous relation: "wordpress mariadb" could refer to "wordpress:db mariadb:db"; "wordpress:db mariadb:db-admin"');
    expect(e.hint).toBe('name the endpoints to choose one, e.g. "sigil integrate wordpress:db mariadb:db"');
  });

  test('a named endpoint settles the ambiguity', () => {
    expect(keyOf(inferRelation(side('wordpress', wordpress), side('mariadb', mariadb, 'db-admin')))).toBe('wordpress:db mariadb:db-admin');
  });

  test('drops juju-info candidates when another remains', () => {
    const refs = inferRelation(side('logger', logger), side('wordpress', wordpress));
    expect(keyOf(refs)).toBe('logger:logs wordpress:website');
    expect(refs.map((r) => r.spec.scope)).toEqual(['global', 'global']);
  });

  test('a container-scoped match makes both ends container-scoped', () => {
    const refs = inferRelation(side('mysql', mysql), side('logger', logger));
    expect(keyOf(refs)).toBe('logger:host mysql:juju-info');
    expect(refs.map((r) => r.spec.scope)).toEqual(['container', 'container']);
  });

  test('several juju-info candidates and nothing else stay ambiguous', () => {
    const twoHosts = charm('twohosts', 'subordinate: true\nrequires:\n  a: {interface: juju-info, scope: container}\n  b: {interface: juju-info, scope: container}\n');
    expect(sigilError(() => inferRelation(side('twohosts', twoHosts), side('mysql', mysql))).message).toBe(
      'ambiguous relation: "twohosts mysql" could refer to "twohosts:a mysql:juju-info"; "twohosts:b mysql:juju-info"',
    );
  });

  test('no candidates: the error names both apps and the hint lists their endpoints', () => {
    const e = sigilError(() => inferRelation(side('wordpress', wordpress), side('logger2', charm('logger2', 'requires:\n  logs: {interface: syslog}\n'))));
    expect(e.code).toBe('no-relation');
    expect(e.message).toBe('no relations found between "wordpress" and "logger2"');
    expect(e.hint).toBe(
      'two endpoints can be related when they have the same interface and one provides what the other requires. Endpoints: ' +
        'wordpress: website (provides http), db (requires mysql), juju-info (provides juju-info); ' +
        'logger2: logs (requires syslog), juju-info (provides juju-info)',
    );
  });

  test('container scope needs at least one subordinate', () => {
    const principal = charm('agent', 'requires:\n  host: {interface: juju-info, scope: container}\n');
    const e = sigilError(() => inferRelation(side('agent', principal), side('mysql', mysql)));
    expect(e.code).toBe('no-relation');
    expect(e.message).toBe('no relations found between "agent" and "mysql": "agent:host mysql:juju-info" is container-scoped, which needs at least one subordinate application');
    expect(e.hint).toMatch(/^neither application is subordinate/);
    expect(e.hint).toMatch(/agent: host \(requires juju-info, container scope\)/);
  });

  test('a named endpoint that does not exist is an invalid endpoint', () => {
    const e = sigilError(() => inferRelation(side('wordpress', wordpress, 'database'), side('mysql', mysql)));
    expect(e.code).toBe('invalid-endpoint');
    expect(e.message).toBe('application "wordpress" has no "database" relation');
    expect(e.hint).toBe('endpoints of wordpress: website, db, juju-info');
  });

  test('a named peer endpoint is an invalid endpoint', () => {
    const e = sigilError(() => inferRelation(side('wordpress', wordpress, 'cluster'), side('mysql', mysql, 'cluster')));
    expect(e.code).toBe('invalid-endpoint');
    expect(e.message).toBe('"wordpress:cluster" is a peer endpoint and cannot be related to another application');
    expect(e.hint).toMatch(/created automatically/);
  });

  test('named endpoints with different interfaces do not relate', () => {
    const e = sigilError(() => inferRelation(side('wordpress', wordpress, 'website'), side('mysql', mysql, 'db')));
    expect(e.code).toBe('no-relation');
  });

  test('the implicit juju-info endpoint can be named', () => {
    expect(keyOf(inferRelation(side('logger', logger, 'host'), side('wordpress', wordpress, 'juju-info')))).toBe('logger:host wordpress:juju-info');
  });

  test('an application cannot be related to itself', () => {
    const e = sigilError(() => inferRelation(side('wordpress', wordpress), side('wordpress', wordpress)));
    expect(e.code).toBe('no-relation');
    expect(e.message).toBe('cannot relate application "wordpress" to itself: "wordpress wordpress"');
  });

  test('the returned specs are copies', () => {
    const [a] = inferRelation(side('wordpress', wordpress), side('mysql', mysql));
    a.spec.scope = 'container';
    expect(wordpress.requires['db']?.scope).toBe('global');
  });
});
