import { describe, expect, test } from 'vitest';
import { sigilError } from '../charm/test-util.ts';
import { load } from './test-kit.ts';

const F = '/srv/bundles/bundle.yaml';

const stack = `description: WordPress backed by MySQL
default-base: ubuntu@22.04
applications:
  wordpress:
    charm: ./charms/wordpress
    channel: latest/stable
    num_units: 2
    to: ["0", new]
    expose: yes
    options: {blog-title: My Blog, port: 8080, debug: true}
    constraints: mem=2G cores=2
    annotations: {gui-x: 450, gui-y: "150.50"}
    bindings: {"": alpha}
    storage: {data: "ebs,10G,1"}
    trust: true
  mysql:
    charm: ../charms/mysql
    scale: 1
    to: [0]
  logging:
    charm: /opt/charms/logger
machines:
  "0": {constraints: mem=4G, series: jammy, annotations: {rack: 7}}
relations:
- ["wordpress:db", "mysql:db"]
- [logging, wordpress]
`;

/** Loads `text` and returns the error it must raise. */
const fails = (text: string) => sigilError(() => load(text));

describe('loadBundle', () => {
  test('a bare charm name (or ch:NAME) names a library charm, with its revision; a path ignores revision', () => {
    const b = load('applications:\n  db: {charm: postgresql, revision: 2}\n  web: {charm: "ch:django"}\n  app: {charm: ./charms/app, revision: 7}\n');
    expect(b.applications['db']).toMatchObject({ charm: 'postgresql', revision: 2 });
    expect(b.applications['web']?.charm).toBe('django');
    expect(b.applications['web']?.revision).toBeUndefined();
    expect(b.applications['app']?.charm).toMatch(/^\/.*\/charms\/app$/);
    expect(b.applications['app']?.revision).toBeUndefined();
  });

  test('reads Juju bundle fields, resolving charm paths against the bundle directory', () => {
    const b = load(stack);
    expect(b.description).toBe('WordPress backed by MySQL');
    expect(b.applications['wordpress']).toEqual({
      charm: '/srv/bundles/charms/wordpress',
      numUnits: 2,
      to: ['0', 'new'],
      options: { 'blog-title': 'My Blog', port: 8080, debug: true },
      expose: true,
      constraints: 'mem=2G cores=2',
      annotations: { 'gui-x': '450', 'gui-y': '150.50' },
    });
    expect(b.applications['mysql']).toEqual({ charm: '/srv/charms/mysql', numUnits: 1, to: ['0'], options: {}, expose: false, constraints: '', annotations: {} });
    expect(b.applications['logging']?.charm).toBe('/opt/charms/logger');
    expect(b.applications['logging']?.numUnits).toBe(0);
    expect(b.machines).toEqual({ '0': { constraints: 'mem=4G', annotations: { rack: '7' } } });
    expect(b.relations).toEqual([['wordpress:db', 'mysql:db'], ['logging', 'wordpress']]);
    expect(b.locations?.['applications.wordpress.options.port']).toBe(`${F}:10`);
    expect(b.locations?.['relations.1']).toBe(`${F}:26`);
  });

  test('accepts the legacy "services" key', () => {
    const b = load('services:\n  mysql: {charm: ./charms/mysql, num_units: 1}\n');
    expect(Object.keys(b.applications)).toEqual(['mysql']);
  });

  test('a document starting with --- is the base, not an overlay', () => {
    expect(Object.keys(load('---\napplications:\n  mysql: {charm: ./charms/mysql}\n').applications)).toEqual(['mysql']);
  });
});

describe('loadBundle errors name the file, line and key', () => {
  const cases: [string, string, string, RegExp][] = [
    ['empty', '', `${F}: the bundle is empty`, /applications/],
    ['not a map', '- a\n', `${F}:1: expected a map with "applications", got a list`, /YAML map/],
    ['malformed YAML', 'applications:\n  mysql: {charm: ./c\n', `${F}:3: malformed YAML at line 3, column 1: `, /fix the YAML syntax/],
    ['unknown top-level key', 'applications: {}\nmachine: {}\n', `${F}:2: machine: unknown bundle key "machine"`, /did you mean "machines"\? valid bundle keys: applications, bundle/],
    ['kubernetes', 'bundle: kubernetes\napplications: {}\n', `${F}:1: bundle: Kubernetes bundles are not supported`, /remove "bundle: kubernetes"/],
    ['saas', 'applications: {}\nsaas: {}\n', `${F}:2: saas: cross-model relations (saas) are not supported yet`, /remove "saas"/],
    ['applications and services', 'applications: {}\nservices: {}\n', `${F}:2: services: both "applications" and "services" are present`, /pre-Juju-2/],
    ['applications not a map', 'applications: [a]\n', `${F}:1: applications: expected a map of application name to application, got a list`, /e\.g\./],
    ['bad application name', 'applications:\n  My_App: {charm: ./c}\n', `${F}:2: applications.My_App: invalid application name "My_App"`, /lowercase letters/],
    ['application not a map', 'applications:\n  mysql: ./charms/mysql\n', `${F}:2: applications.mysql: expected a map with "charm" and other fields, got "./charms/mysql"`, /charm: \.\/charms\/mysql/],
    ['unknown application key', 'applications:\n  mysql:\n    charm: ./c\n    num_unit: 1\n', `${F}:4: applications.mysql.num_unit: unknown application key "num_unit"`, /did you mean "num_units"\? valid application keys: annotations, base, bindings, channel, charm, constraints/],
    ['unsupported application key', 'applications:\n  mysql:\n    charm: ./c\n    offers: {}\n', `${F}:4: applications.mysql.offers: offers (cross-model relations) are not supported yet`, /remove "offers"/],
    ['charm store URL', 'applications:\n  mysql:\n    charm: cs:~me/mysql-3\n', `${F}:3: applications.mysql.charm: charm "cs:~me/mysql-3": not a path or a charm name`, /charm: \.\/charms\/mysql.*sigil charms/],
    ['revision not a number', 'applications:\n  mysql:\n    charm: mysql\n    revision: two\n', `${F}:4: applications.mysql.revision: expected a revision number, got "two"`, /revision: 2/],
    ['charm not a string', 'applications:\n  mysql:\n    charm: 3\n', `${F}:3: applications.mysql.charm: expected a string, got 3`, /quote/],
    ['no charm', 'applications:\n  mysql:\n    num_units: 1\n', `${F}:2: applications.mysql: application "mysql" has no charm`, /charm: \.\/charms\/mysql/],
    ['num_units a string', 'applications:\n  mysql:\n    charm: ./c\n    num_units: "2"\n', `${F}:4: applications.mysql.num_units: expected a non-negative whole number, got "2"`, /num_units: 2/],
    ['num_units negative', 'applications:\n  mysql:\n    charm: ./c\n    num_units: -1\n', `${F}:4: applications.mysql.num_units: expected a non-negative whole number, got -1`, /num_units: 2/],
    ['num_units fractional', 'applications:\n  mysql:\n    charm: ./c\n    num_units: 1.5\n', `${F}:4: applications.mysql.num_units: expected a non-negative whole number, got 1.5`, /num_units/],
    ['scale and num_units', 'applications:\n  mysql:\n    charm: ./c\n    num_units: 1\n    scale: 1\n', `${F}:5: applications.mysql.scale: both "num_units" and "scale" are present`, /keep one/],
    ['expose not a bool', 'applications:\n  mysql:\n    charm: ./c\n    expose: "sure"\n', `${F}:4: applications.mysql.expose: expected true or false, got "sure"`, /expose: true/],
    ['to not a list', 'applications:\n  mysql:\n    charm: ./c\n    num_units: 1\n    to: "0"\n', `${F}:5: applications.mysql.to: expected a list of placements, got "0"`, /to: \["0", "new"\]/],
    ['to item not a string', 'applications:\n  mysql:\n    charm: ./c\n    num_units: 1\n    to:\n    - {a: 1}\n', `${F}:6: applications.mysql.to[0]: expected a placement string, got a map`, /"new"/],
    ['container placement', 'applications:\n  mysql:\n    charm: ./c\n    num_units: 1\n    to: ["lxd:0"]\n', `${F}:5: applications.mysql.to[0]: container placement "lxd:0" is not supported yet`, /\("0"\) or on a new machine/],
    ['bare application placement', 'applications:\n  mysql:\n    charm: ./c\n    num_units: 1\n    to: [wordpress]\n', `${F}:5: applications.mysql.to[0]: placement "wordpress" names an application, not a unit`, /"wordpress\/0"/],
    ['options not a map', 'applications:\n  mysql:\n    charm: ./c\n    options: [a]\n', `${F}:4: applications.mysql.options: expected a map of option name to value, got a list`, /blog-title/],
    ['option not a scalar', 'applications:\n  mysql:\n    charm: ./c\n    options:\n      a: 1\n      b: [1, 2]\n', `${F}:6: applications.mysql.options.b: expected a string, number or boolean, got a list`, /include-file/],
    ['annotation not a scalar', 'applications:\n  mysql:\n    charm: ./c\n    annotations: {gui-x: [1]}\n', `${F}:4: applications.mysql.annotations.gui-x: expected a string, got a list`, /gui-x: "450"/],
    ['invalid machine id', 'applications: {}\nmachines:\n  web: {}\n', `${F}:3: machines.web: invalid machine id "web"`, /whole numbers/],
    ['unknown machine key', 'applications: {}\nmachines:\n  "0": {constrains: mem=1G}\n', `${F}:3: machines.0.constrains: unknown machine key "constrains"`, /did you mean "constraints"\?/],
    ['machine not used', 'applications:\n  mysql: {charm: ./c, num_units: 1, to: ["0"]}\nmachines:\n  "0": {}\n  "1": {}\n', `${F}:5: machines.1: machine "1" is not used`, /to: \["1"\]/],
    ['undeclared machine', 'applications:\n  mysql:\n    charm: ./c\n    num_units: 1\n    to: ["3"]\nmachines:\n  "0": {}\n', `${F}:5: applications.mysql.to: placement "3" refers to machine "3", which is not declared under "machines"`, /declared machines: 0/],
    ['unknown application placement', 'applications:\n  mysql:\n    charm: ./c\n    num_units: 1\n    to: [redis/0]\n', `${F}:5: applications.mysql.to: placement "redis/0" refers to unknown application "redis"`, /applications in the bundle: mysql/],
    ['unit beyond the target count', 'applications:\n  a: {charm: ./c, num_units: 1}\n  b:\n    charm: ./c\n    num_units: 1\n    to: [a/1]\n', `${F}:6: applications.b.to: placement "a/1" names a unit beyond the 1 unit(s) of "a"`, /"a\/0" to "a\/0"/],
    ['own unit', 'applications:\n  a:\n    charm: ./c\n    num_units: 2\n    to: [new, a/0]\n', `${F}:5: applications.a.to: placement "a/0" places "a" on its own unit`, /another application/],
    ['too many placements', 'applications:\n  a:\n    charm: ./c\n    num_units: 1\n    to: [new, new]\n', `${F}:5: applications.a.to: too many placements: 2 for 1 unit(s) of "a"`, /last placement repeats/],
    ['placement cycle', 'applications:\n  a:\n    charm: ./c\n    num_units: 1\n    to: [b/0]\n  b:\n    charm: ./c\n    num_units: 1\n    to: [a/0]\n', `${F}:5: applications.a.to: placements form a cycle: a → b → a`, /do not place themselves/],
    ['relations not a list', 'applications: {}\nrelations: {a: b}\n', `${F}:2: relations: expected a list of relations, got a map`, /wordpress:db/],
    ['relation not a pair', 'applications:\n  a: {charm: ./c}\nrelations:\n- [a]\n', `${F}:4: relations[0]: expected a pair of endpoints, got a list of 1`, /"application:endpoint"/],
    ['relation endpoint malformed', 'applications:\n  a: {charm: ./c}\nrelations:\n- ["a:", "b"]\n', `${F}:4: relations[0][0]: invalid endpoint "a:"`, /pair/],
    ['relation to unknown application', 'applications:\n  a: {charm: ./c}\nrelations:\n- [a, "b:db"]\n', `${F}:4: relation ["a","b:db"]: endpoint "b:db" names unknown application "b"`, /applications in the bundle: a/],
    ['relation to itself', 'applications:\n  a: {charm: ./c}\nrelations:\n- ["a:x", "a:y"]\n', `${F}:4: relations[0]: relation relates application "a" to itself`, /peer relations/],
  ];
  test.each(cases)('%s', (_, text, message, hint) => {
    const e = fails(text);
    expect(e.code).toBe('bad-request');
    expect(e.message.startsWith(message), `${e.message}\n  does not start with\n${message}`).toBe(true);
    expect(e.hint).toMatch(hint);
  });
});
