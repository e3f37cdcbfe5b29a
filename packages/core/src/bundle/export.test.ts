import { describe, expect, test } from 'vitest';
import { exportBundle } from './export.ts';
import { loadBundle } from './load.ts';
import { planBundle } from './plan.ts';
import { applyPlan, charmsFor, emptyModel, files, load, modelCharms } from './test-kit.ts';
import type { ModelState } from './types.ts';

const stack = `applications:
  wordpress:
    charm: ./charms/wordpress
    num_units: 2
    to: ["0", new]
    expose: true
    options: {blog-title: "on", port: "8080", debug: false}
    constraints: mem=2G
    annotations: {gui-y: "150", gui-x: "450"}
  mysql:
    charm: ./charms/mysql
    num_units: 1
    to: ["0"]
  memcached:
    charm: ./charms/memcached
    num_units: 1
    to: [wordpress/1]
  haproxy:
    charm: ./charms/haproxy
    num_units: 2
  logging:
    charm: ./charms/logger
machines:
  "0": {}
relations:
- ["wordpress:db", "mysql:db"]
- [wordpress, memcached]
- [logging, wordpress]
- [haproxy, wordpress]
`;

const charmPaths = (m: ModelState) =>
  Object.fromEntries(Object.entries(m.applications).map(([name, a]) => [name, `/srv/bundles/charms/${a.charmName}`]));
const exported = (m: ModelState) => exportBundle({ ...m, charmPaths: charmPaths(m) }, modelCharms(m));
const deploy = (text: string, model = emptyModel()): ModelState => {
  const b = loadBundle({ path: '/srv/exported/bundle.yaml', text }, [], files({}));
  return applyPlan(model, planBundle(b, model, charmsFor(b), modelCharms(model)));
};

describe('exportBundle', () => {
  test("writes Juju's export shape with sorted keys, shared machines and non-default options", () => {
    const model = deploy(stack.replaceAll('./charms', '/srv/bundles/charms'));
    expect(exported(model)).toBe(`applications:
  haproxy:
    charm: /srv/bundles/charms/haproxy
    num_units: 2
  logging:
    charm: /srv/bundles/charms/logger
  memcached:
    charm: /srv/bundles/charms/memcached
    num_units: 1
    to: ["0"]
  mysql:
    charm: /srv/bundles/charms/mysql
    num_units: 1
    to: ["1"]
  wordpress:
    charm: /srv/bundles/charms/wordpress
    num_units: 2
    to: ["1", "0"]
    options:
      blog-title: "on"
      port: 8080
    expose: true
    constraints: mem=2G
    annotations:
      gui-x: "450"
      gui-y: "150"
machines:
  "0": {}
  "1": {}
relations:
  - ["haproxy:backend", "wordpress:website"]
  - ["logging:host", "wordpress:juju-info"]
  - ["memcached:cache", "wordpress:cache"]
  - ["mysql:db", "wordpress:db"]
`);
  });

  test('options the user set to their default, peer relations and unexposed applications are left out', () => {
    const model = deploy('applications:\n  wordpress: {charm: /srv/bundles/charms/wordpress, num_units: 1}\n');
    model.applications['wordpress']!.config = { port: 80, debug: true };
    expect(model.relations).toEqual([{ endpoints: [{ app: 'wordpress', name: 'cluster' }] }]);
    expect(exported(model)).toBe('applications:\n  wordpress:\n    charm: /srv/bundles/charms/wordpress\n    num_units: 1\n    options:\n      debug: true\n');
  });

  test('an exported bundle planned against the model it came from changes nothing', () => {
    const model = applyPlan(emptyModel(), planBundle(load(stack), emptyModel(), charmsFor(load(stack)), {}));
    const b = loadBundle({ path: '/srv/exported/bundle.yaml', text: exported(model) }, [], files({}));
    expect(planBundle(b, model, charmsFor(b), modelCharms(model))).toEqual([]);
  });

  test('export → deploy into an empty model → export gives the same text', () => {
    const first = exported(applyPlan(emptyModel(), planBundle(load(stack), emptyModel(), charmsFor(load(stack)), {})));
    const again = exported(deploy(first));
    expect(again).toBe(first);
    expect(exported(deploy(again))).toBe(first);
  });

  test("machines keep their constraints and annotations through deploy and export, as Juju's export-bundle writes them", () => {
    const withSpecs = stack.replace('  "0": {}', '  "0": {constraints: mem=4G, annotations: {rack: r1}}\n  "1": {constraints: cores=2}').replace('    num_units: 2\n\n', '').replace('  haproxy:\n    charm: ./charms/haproxy\n    num_units: 2', '  haproxy:\n    charm: ./charms/haproxy\n    num_units: 2\n    to: ["1"]');
    const model = applyPlan(emptyModel(), planBundle(load(withSpecs), emptyModel(), charmsFor(load(withSpecs)), {}));
    const text = exported(model);
    // Machines are numbered by first use (haproxy sorts first); the shared one without specs is named too.
    expect(text).toContain('machines:\n  "0":\n    constraints: cores=2\n  "1": {}\n  "2":\n    constraints: mem=4G\n    annotations:\n      rack: r1\n');
    expect(exported(deploy(text))).toBe(text);
  });

  test('an empty model exports an empty applications map', () => {
    expect(exportBundle({ ...emptyModel(), charmPaths: {} }, {})).toBe('applications: {}\n');
  });
});
