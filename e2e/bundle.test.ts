import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHARMS, ROOT, freshModel, ok, sigil, status, unit, workload } from './harness.ts';
import { suiteDir } from '../tests/temp.ts';

const dir = suiteDir('sigil-bundles-');
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

/** Hooks run so far in a model, from the agents' "ran" log lines. */
async function hookRuns(m: string): Promise<number> {
  const log = await ok(['debug-log', '-m', m, '--replay', '--no-tail', '-l', 'INFO']);
  return log.split('\n').filter((l) => / ran "/.test(l)).length;
}

// A bundle deploy follows the model until it settles: it gets its own deadline (the harness
// outwaits it by a little), and a test with such deploys gets room for them.
const SETTLE = '2m';
const SETTLE_TEST_MS = 180_000;

const base = `
description: test stack
applications:
  source:
    charm: ${CHARMS}/source
    num_units: 1
    options: {token: one}
  sink:
    charm: ${CHARMS}/sink
    num_units: 2
    annotations: {gui-x: "10", gui-y: "20"}
relations:
  - [sink, source]
`;

describe('bundles', () => {
  it('deploys, re-applies with zero hook runs, and changes only what changed', async () => {
    const m = await freshModel('bundle');
    const b = file('base.yaml', base);
    const dry = await ok(['deploy', b, '-m', m, '--dry-run']);
    expect(dry).toMatch(/deploy application "source"/);
    expect(dry).toMatch(/add relation sink:input - source:output/);
    expect(Object.keys((await status(m)).applications)).toEqual([]);
    const d = await sigil(['diff', b, '-m', m]);
    expect(d.code).toBe(1);

    const r = await sigil(['deploy', b, '-m', m, '--no-progress', '--timeout', SETTLE]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/settled in/);
    const s = await status(m);
    expect(workload(s, 'sink/1')).toBe('active token=one app-token=one');

    const runs = await hookRuns(m);
    const again = await ok(['deploy', b, '-m', m, '--timeout', SETTLE]);
    expect(again).toMatch(/No changes/);
    expect((await sigil(['diff', b, '-m', m])).code).toBe(0);
    // Not a synchronisation: an observation window in which a stray hook would show up.
    await new Promise((r) => setTimeout(r, 500));
    expect(await hookRuns(m)).toBe(runs);

    const changed = file('changed.yaml', base.replace('token: one', 'token: two'));
    const plan = await ok(['diff', changed, '-m', m]).catch((e: Error) => e.message);
    expect(plan).toMatch(/Plan \(1 change\)/);
    expect(plan).toMatch(/configure application "source": set token="two"/);
    await ok(['deploy', changed, '-m', m, '--no-progress', '--timeout', SETTLE]);
    expect(workload(await status(m), 'sink/0')).toBe('active token=two app-token=two');
  }, 2 * SETTLE_TEST_MS);

  it('applies overlays (files and extra documents), placement and machines', async () => {
    const m = await freshModel('overlay');
    const b = file('placed.yaml', `
applications:
  source:
    charm: ${CHARMS}/source
    num_units: 1
    to: ["0"]
  sink:
    charm: ${CHARMS}/sink
    num_units: 2
    to: ["0", "source/0"]
  logger:
    charm: ${CHARMS}/logger
machines:
  "0": {}
relations:
  - [sink, source]
---
applications:
  source:
    options: {token: from-doc2}
`);
    const over = file('over.yaml', `
applications:
  logger:
  sink:
    options: {fail-hook: ""}
    expose: true
`);
    const r = await sigil(['deploy', b, '--overlay', over, '-m', m, '--no-progress', '--timeout', SETTLE]);
    expect(r.code, r.stderr).toBe(0);
    const s = await status(m);
    expect(s.applications.logger).toBeUndefined();
    expect(Object.keys(s.machines)).toHaveLength(1);
    expect(unit(s, 'sink/0')?.machine).toBe(unit(s, 'source/0')?.machine);
    expect(unit(s, 'sink/1')?.machine).toBe(unit(s, 'source/0')?.machine);
    expect(s.applications.sink?.exposed).toBe(true);
    expect(workload(s, 'sink/0')).toBe('active token=from-doc2 app-token=from-doc2');
  }, SETTLE_TEST_MS);

  it('exports a bundle that deploys to the same model, and export → deploy → export is identical', async () => {
    const m1 = await freshModel('export');
    await ok(['deploy', join(ROOT, 'bundles', 'demo.yaml'), '-m', m1, '--no-progress', '--timeout', SETTLE]);
    await ok(['config', 'source', 'replicas=3', '-m', m1]);
    const out = join(dir, 'exported.yaml');
    await ok(['export-bundle', '-m', m1, '--filename', out]);
    const m2 = await freshModel('import');
    const r = await sigil(['deploy', out, '-m', m2, '--no-progress', '--timeout', SETTLE]);
    expect(r.code, r.stderr).toBe(0);
    const a = await ok(['export-bundle', '-m', m1]);
    const b = await ok(['export-bundle', '-m', m2]);
    expect(b).toBe(a);
    expect(a).toMatch(/replicas: 3/);
    expect(a).not.toMatch(/verbose/);
    expect((await sigil(['diff', out, '-m', m2])).code).toBe(0);
  }, 2 * SETTLE_TEST_MS);

  it('rejects bad bundles naming file, line and key, and changes nothing', async () => {
    const m = await freshModel('badbundle');
    const cases: [string, RegExp][] = [
      [`applications:\n  source:\n    charm: ${CHARMS}/source\n    num_unit: 1\n`, /bad1\.yaml:4: .*num_unit.*\n.*hint: .*num_units/],
      [`applications:\n  source:\n    charm: ${CHARMS}/source\n    num_units: many\n`, /bad2\.yaml:4: .*num_units/],
      [`applications:\n  source:\n    charm: ${CHARMS}/source\nrelations:\n  - [source, ghost]\n`, /bad3\.yaml:5: .*ghost/],
      [`applications:\n  source:\n    charm: ${CHARMS}/source\n    options: {nope: 1}\n`, /nope/],
      [`applications:\n  source:\n    charm: mysql\n`, /bad5\.yaml:3: application "source": no charm "mysql" in the controller's charm library[^]*hint: .*sigil charms/],
      [`applications:\n  source:\n    charm: ${CHARMS}/source\n    num_units: 1\n    to: ["7"]\n`, /bad6\.yaml:5: .*"7"/],
    ];
    let i = 1;
    for (const [text, re] of cases) {
      const r = await sigil(['deploy', file(`bad${i++}.yaml`, text), '-m', m, '--timeout', SETTLE]);
      expect(r.code, text).not.toBe(0);
      expect(r.stderr, text).toMatch(re);
      expect(r.stderr, text).toMatch(/hint: /);
    }
    expect(Object.keys((await status(m)).applications)).toEqual([]);
  });
});
