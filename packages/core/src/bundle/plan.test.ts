import { describe, expect, test } from 'vitest';
import { sigilError } from '../charm/test-util.ts';
import { describeChange } from './describe.ts';
import { EXISTING_MACHINE, planBundle } from './plan.ts';
import { parseMapMachines } from './map-machines.ts';
import { applyPlan, charmAt, charmsFor, emptyModel, load, modelCharms } from './test-kit.ts';
import type { Bundle, Change, ModelState } from './types.ts';

const C = '/srv/bundles/charms';
const stack = `applications:
  wordpress:
    charm: ./charms/wordpress
    num_units: 2
    to: ["0", new]
    expose: true
    options: {blog-title: Hello, port: "8080"}
    constraints: mem=2G
    annotations: {gui-x: "450", gui-y: "150"}
  mysql:
    charm: ./charms/mysql
    num_units: 1
    to: ["0"]
    options: {max-connections: 100}
  memcached:
    charm: ./charms/memcached
    num_units: 1
    to: [wordpress/1]
  logging:
    charm: ./charms/logger
machines:
  "0": {constraints: mem=4G}
relations:
- ["wordpress:db", "mysql:db"]
- [wordpress, memcached]
- [logging, wordpress]
`;

const plan = (b: Bundle, model: ModelState = emptyModel(), hash = 'h1') => planBundle(b, model, charmsFor(b, hash), modelCharms(model));
/** The model after deploying `text` into an empty model. */
const deployed = (text = stack): ModelState => applyPlan(emptyModel(), plan(load(text)));

describe('planBundle into an empty model', () => {
  test('adds charms, machines, applications, relations, exposure and annotations in order', () => {
    expect(plan(load(stack))).toEqual<Change[]>([
      { kind: 'add-charm', app: 'wordpress', path: `${C}/wordpress` },
      { kind: 'add-charm', app: 'mysql', path: `${C}/mysql` },
      { kind: 'add-charm', app: 'memcached', path: `${C}/memcached` },
      { kind: 'add-charm', app: 'logging', path: `${C}/logger` },
      { kind: 'add-machine', id: '0', constraints: 'mem=4G' },
      { kind: 'deploy', app: 'wordpress', charmPath: `${C}/wordpress`, numUnits: 2, to: ['0', 'new'], options: { 'blog-title': 'Hello', port: 8080 }, constraints: 'mem=2G' },
      // max-connections is the charm default, so it is not set.
      { kind: 'deploy', app: 'mysql', charmPath: `${C}/mysql`, numUnits: 1, to: ['0'], options: {}, constraints: '' },
      { kind: 'deploy', app: 'memcached', charmPath: `${C}/memcached`, numUnits: 1, to: ['wordpress/1'], options: {}, constraints: '' },
      { kind: 'deploy', app: 'logging', charmPath: `${C}/logger`, numUnits: 0, to: [], options: {}, constraints: '' },
      { kind: 'relate', a: 'wordpress:db', b: 'mysql:db' },
      { kind: 'relate', a: 'wordpress:cache', b: 'memcached:cache' },
      { kind: 'relate', a: 'logging:host', b: 'wordpress:juju-info' },
      { kind: 'expose', app: 'wordpress' },
      { kind: 'set-annotations', app: 'wordpress', annotations: { 'gui-x': '450', 'gui-y': '150' } },
    ]);
  });

  test('deploys an application before those placed on its units', () => {
    const b = load('applications:\n  mysql: {charm: ./charms/mysql, num_units: 1, to: [wordpress/0]}\n  wordpress: {charm: ./charms/wordpress, num_units: 1}\n');
    expect(plan(b).filter((c) => c.kind === 'deploy').map((c) => c.kind === 'deploy' && c.app)).toEqual(['wordpress', 'mysql']);
  });

  test('uploads a charm used by several applications once', () => {
    const b = load('applications:\n  a: {charm: ./charms/mysql}\n  b: {charm: ./charms/mysql}\n');
    expect(plan(b).filter((c) => c.kind === 'add-charm')).toEqual([{ kind: 'add-charm', app: 'a', path: `${C}/mysql` }]);
  });
});

describe('planBundle against a deployed model', () => {
  test('a bundle that matches the model plans nothing', () => {
    const model = deployed();
    expect(model.applications['logging']?.units).toHaveLength(2);
    expect(plan(load(stack), model)).toEqual([]);
  });

  test('changing one option changes only that option', () => {
    expect(plan(load(stack.replace('blog-title: Hello', 'blog-title: Bye')), deployed())).toEqual([{ kind: 'set-config', app: 'wordpress', set: { 'blog-title': 'Bye' }, reset: [] }]);
  });

  test('options the bundle does not mention are left as the user set them', () => {
    const model = deployed();
    model.applications['wordpress']!.config['debug'] = true;
    expect(plan(load(stack), model)).toEqual([]);
  });

  test('an option equal to its default counts as unset, on either side', () => {
    const model = deployed();
    model.applications['mysql']!.config['max-connections'] = 100;
    expect(plan(load(stack), model)).toEqual([]);
    model.applications['mysql']!.config['max-connections'] = 500;
    expect(plan(load(stack), model)).toEqual([{ kind: 'set-config', app: 'mysql', set: {}, reset: ['max-connections'] }]);
  });

  test('bad option values are invalid-config errors located in the bundle', () => {
    const e = sigilError(() => plan(load(stack.replace('port: "8080"', 'port: eighty'))));
    expect(e.code).toBe('invalid-config');
    expect(e.message).toBe('/srv/bundles/bundle.yaml:7: applications.wordpress.options.port: invalid value for option "port" of charm "wordpress": expected int, got "eighty"');
    const u = sigilError(() => plan(load(stack.replace('port: "8080"', 'colour: red'))));
    expect(u.message).toBe('/srv/bundles/bundle.yaml:7: applications.wordpress.options.colour: unknown option "colour" for charm "wordpress"');
    expect(u.hint).toBe('valid options: blog-title, debug, port, tls-cert');
  });

  test('scaling up adds units placed by the placements beyond the existing units, the last repeating', () => {
    const up = plan(load(stack.replace('num_units: 2\n    to: ["0", new]', 'num_units: 5\n    to: ["0", new, new, "0"]')), deployed());
    // Bundle machine 0 exists already: the new units share it by naming a unit on it.
    expect(up).toEqual([{ kind: 'add-unit', app: 'wordpress', n: 3, to: ['new', 'wordpress/0', 'wordpress/0'] }]);
    expect(plan(load(stack.replace('num_units: 1\n    to: ["0"]', 'num_units: 2')), deployed())).toEqual([{ kind: 'add-unit', app: 'mysql', n: 1, to: [] }]);
  });

  test('re-applying never removes units, as Juju: more units than num_units (or none given) are kept', () => {
    const model = deployed();
    model.applications['memcached']!.units = ['memcached/2', 'memcached/10', 'memcached/9'].map((name) => ({ name, machine: '1' }));
    expect(plan(load(stack), model)).toEqual([]);
    // mysql without num_units: its deployed unit stays.
    const noCount = stack.replace('num_units: 1\n    to: ["0"]\n    options: {max-connections: 100}', 'options: {max-connections: 100}');
    expect(noCount).not.toBe(stack);
    expect(plan(load(noCount), model)).toEqual([]);
  });

  test('subordinates ignore num_units but may not be placed', () => {
    expect(plan(load(stack.replace('charm: ./charms/logger', 'charm: ./charms/logger\n    num_units: 3')), deployed())).toEqual([]);
    const e = sigilError(() => plan(load(stack.replace('charm: ./charms/logger', 'charm: ./charms/logger\n    num_units: 1\n    to: [new]'))));
    expect(e.message).toBe('/srv/bundles/bundle.yaml:22: applications.logging.to: application "logging" is subordinate but has placements');
  });

  test('a relation the model has in either order is not added again', () => {
    const model = deployed();
    for (const r of model.relations) r.endpoints.reverse();
    expect(plan(load(stack), model)).toEqual([]);
  });

  test('an ambiguous relation is an error naming the bundle line and the candidates', () => {
    const e = sigilError(() => plan(load(stack.replace('["wordpress:db", "mysql:db"]', '[wordpress, mysql]'))));
    expect(e.code).toBe('ambiguous-relation');
    expect(e.message).toBe('/srv/bundles/bundle.yaml:24: relation ["wordpress","mysql"]: ambiguous relation: "wordpress mysql" could refer to "wordpress:db mysql:db"; "wordpress:db mysql:db-admin"');
    expect(e.hint).toMatch(/name the endpoints/);
    const none = sigilError(() => plan(load(`${stack}- [mysql, memcached]\n`)));
    expect(none.code).toBe('no-relation');
    expect(none.message).toMatch(/^\/srv\/bundles\/bundle\.yaml:27: relation \["mysql","memcached"\]: no relations found between "mysql" and "memcached"/);
    const bad = sigilError(() => plan(load(stack.replace('"mysql:db"]', '"mysql:nope"]'))));
    expect(bad.code).toBe('invalid-endpoint');
  });

  test('a new charm revision is uploaded and refreshed; a different charm is refused', () => {
    const b = load(stack);
    const charms = { ...charmsFor(b), wordpress: charmAt(`${C}/wordpress`, 'h2') };
    expect(planBundle(b, deployed(), charms, {})).toEqual([
      { kind: 'add-charm', app: 'wordpress', path: `${C}/wordpress` },
      { kind: 'refresh', app: 'wordpress', charmPath: `${C}/wordpress` },
    ]);
    const e = sigilError(() => plan(load(stack.replace('./charms/memcached', './charms/mysql')), deployed()));
    expect(e.code).toBe('conflict');
    expect(e.message).toBe('/srv/bundles/bundle.yaml:16: applications.memcached.charm: application "memcached" runs charm "memcached", but the bundle gives it charm "mysql"');
  });

  test('constraints, exposure and annotations change only where they differ', () => {
    const model = deployed();
    model.applications['wordpress']!.annotations['gui-x'] = '1';
    model.applications['wordpress']!.annotations['note'] = 'kept';
    model.applications['mysql']!.exposed = true;
    model.applications['mysql']!.constraints = 'mem=8G';
    const b = load(stack.replace('constraints: mem=2G', 'constraints: cores=2   mem=2G'));
    expect(plan(b, model)).toEqual([
      { kind: 'set-constraints', app: 'wordpress', constraints: 'cores=2   mem=2G' },
      { kind: 'unexpose', app: 'mysql' },
      { kind: 'set-annotations', app: 'wordpress', annotations: { 'gui-x': '450' } },
    ]);
    // Constraints equal up to order and spacing are the same; mysql names none, so its are kept.
    model.applications['wordpress']!.constraints = 'mem=2G cores=2';
    expect(plan(b, model).some((c) => c.kind === 'set-constraints')).toBe(false);
  });

  test('applications in the model but not in the bundle are left alone', () => {
    const model = deployed();
    model.applications['other'] = { ...model.applications['mysql']!, units: [{ name: 'other/0', machine: '9' }] };
    expect(plan(load(stack), model)).toEqual([]);
  });

  test('a bundle machine the model already has is reused through a unit on it', () => {
    const text = stack.replace('machines:', '  haproxy: {charm: ./charms/haproxy, num_units: 1, to: ["0"]}\nmachines:');
    expect(plan(load(text), deployed())).toEqual([
      { kind: 'add-charm', app: 'haproxy', path: `${C}/haproxy` },
      { kind: 'deploy', app: 'haproxy', charmPath: `${C}/haproxy`, numUnits: 1, to: ['wordpress/0'], options: {}, constraints: '' },
    ]);
  });

  test('every kind of change comes in bundlechanges order', () => {
    const model = deployed();
    model.applications['wordpress']!.exposed = false;
    const text = stack
      .replace('blog-title: Hello', 'blog-title: Bye')
      .replace('constraints: mem=2G', 'constraints: mem=3G')
      .replace('num_units: 2\n    to: ["0", new]', 'num_units: 3\n    to: ["0", new]')
      .replace('num_units: 1\n    to: ["0"]\n    options: {max-connections: 100}', 'num_units: 0\n    annotations: {gui-x: "1"}')
      .replace('  "0": {constraints: mem=4G}', '  "0": {constraints: mem=4G}\n  "1": {}')
      .replace('machines:', '  haproxy: {charm: ./charms/haproxy, num_units: 1, to: ["1"], expose: true}\nmachines:')
      .concat('- [haproxy, wordpress]\n');
    const b = load(text);
    const changes = planBundle(b, model, { ...charmsFor(b), wordpress: charmAt(`${C}/wordpress`, 'h2') }, modelCharms(model));
    expect(changes.map((c) => `${c.kind}${'app' in c ? ` ${c.app}` : ''}`)).toEqual([
      'add-charm wordpress',
      'add-charm haproxy',
      'add-machine',
      'deploy haproxy',
      'refresh wordpress',
      'set-config wordpress',
      'set-constraints wordpress',
      'add-unit wordpress',
      'relate',
      'expose wordpress',
      'expose haproxy',
      'set-annotations mysql',
    ]);
    // Applying it converges: planning again finds nothing left to do.
    const after = applyPlan(model, changes, 'h1');
    after.applications['wordpress']!.charmHash = 'wordpress-h2';
    expect(planBundle(b, after, { ...charmsFor(b), wordpress: charmAt(`${C}/wordpress`, 'h2') }, modelCharms(after))).toEqual([]);
  });
});

describe('describeChange', () => {
  test('a plan reads as one line per change', () => {
    const b = load(stack.replace('blog-title: Hello', 'tls-cert: include-file://site.pem'), [], { '/srv/bundles/site.pem': '-----BEGIN CERTIFICATE-----\nMIIB\n' });
    expect(plan(b).map(describeChange)).toEqual([
      `upload charm ${C}/wordpress for application "wordpress"`,
      `upload charm ${C}/mysql for application "mysql"`,
      `upload charm ${C}/memcached for application "memcached"`,
      `upload charm ${C}/logger for application "logging"`,
      'add new machine 0 with constraints "mem=4G"',
      `deploy application "wordpress" from ${C}/wordpress with 2 units on machine 0, a new machine, options tls-cert=<33 characters>, port=8080, constraints "mem=2G"`,
      `deploy application "mysql" from ${C}/mysql with 1 unit on machine 0`,
      `deploy application "memcached" from ${C}/memcached with 1 unit on the machine of wordpress/1`,
      `deploy application "logging" from ${C}/logger`,
      'add relation wordpress:db - mysql:db',
      'add relation wordpress:cache - memcached:cache',
      'add relation logging:host - wordpress:juju-info',
      'expose application "wordpress"',
      'set annotations of application "wordpress": gui-x="450", gui-y="150"',
    ]);
  });

  test.each<[Change, string]>([
    [{ kind: 'add-charm', app: 'wp', path: './charms/wp' }, 'upload charm ./charms/wp for application "wp"'],
    [{ kind: 'add-machine', id: '1', constraints: '' }, 'add new machine 1'],
    [{ kind: 'deploy', app: 'wordpress', charmPath: './charms/wordpress', numUnits: 2, to: [], options: {}, constraints: '' }, 'deploy application "wordpress" from ./charms/wordpress with 2 units'],
    [
      { kind: 'deploy', app: 'wp', charmPath: './c', numUnits: 1, to: ['0', 'mysql/0', 'new'], options: { title: 'x', port: 1, cert: 'a\nb' }, constraints: 'mem=2G' },
      'deploy application "wp" from ./c with 1 unit on machine 0, the machine of mysql/0, a new machine, options title="x", port=1, cert=<3 characters>, constraints "mem=2G"',
    ],
    [{ kind: 'refresh', app: 'wp', charmPath: './c' }, 'refresh application "wp" to charm ./c'],
    [{ kind: 'add-unit', app: 'wp', n: 1, to: ['new'] }, 'add 1 unit to application "wp" on a new machine'],
    [{ kind: 'set-config', app: 'wp', set: { debug: true }, reset: ['port'] }, 'configure application "wp": set debug=true; reset port to default'],
    [{ kind: 'set-constraints', app: 'wp', constraints: 'mem=1G' }, 'set constraints of application "wp" to "mem=1G"'],
    [{ kind: 'relate', a: 'wp:db', b: 'mysql:db' }, 'add relation wp:db - mysql:db'],
    [{ kind: 'expose', app: 'wp' }, 'expose application "wp"'],
    [{ kind: 'unexpose', app: 'wp' }, 'unexpose application "wp"'],
    [{ kind: 'set-annotations', app: 'wp', annotations: { 'gui-x': '1' } }, 'set annotations of application "wp": gui-x="1"'],
  ])('%o', (change, line) => {
    expect(describeChange(change)).toBe(line);
  });
});

describe('--map-machines (bundle machines onto machines the model has, e.g. enlisted hosts)', () => {
  const model = (): ModelState => ({ ...emptyModel(), machines: ['3', '4'] });

  test('a mapped bundle machine is not added: its units go to the model machine', () => {
    const b = load(stack);
    const changes = planBundle(b, model(), charmsFor(b, 'h1'), modelCharms(model()), parseMapMachines('0=3', ['0'], ['3', '4']));
    expect(changes.some((c) => c.kind === 'add-machine')).toBe(false);
    const deploys = changes.filter((c) => c.kind === 'deploy').map((c) => c.kind === 'deploy' && [c.app, c.to]);
    expect(deploys).toContainEqual(['wordpress', [`${EXISTING_MACHINE}3`, 'new']]);
    expect(deploys).toContainEqual(['mysql', [`${EXISTING_MACHINE}3`]]);
  });

});
