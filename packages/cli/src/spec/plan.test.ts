import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SigilError } from '@sigil/core';
import { planSpec, renderPlan, stageMatches } from './plan.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sigil-spec-plan-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** A spec directory from a map of files (a value starting with `#!` is made executable). */
function spec(files: Record<string, string>): string {
  const root = join(tmp, `spec${++n}`);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, f)), { recursive: true });
    writeFileSync(join(root, f), text, { mode: text.startsWith('#!') ? 0o755 : 0o644 });
  }
  return root;
}

const BASE = {
  manifest: 'collect config=collect\nsecrets\nbundle config=bundle.yaml local=deploy-secrets\nverify config=check.sh retry=3 sleep=2 URL=http://x/\n',
  collect: 'django ../django\n',
  'bundle.yaml': 'applications: {}\n',
  'check.sh': '#!/bin/sh\nexit 0\n',
  'devel/.keep': '',
  'web/production/bundle.yaml': 'applications: {}\n',
  'web/production/manifest': 'include config=common\nbundle config=bundle.yaml overlay=overlay.yaml wait=false timeout=300\nstop-on web/*\nverify config=check.sh\n',
  'web/production/overlay.yaml': 'applications: {}\n',
  common: 'collect config=collect\n',
};

function refused(f: () => unknown): SigilError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SigilError);
    return e as SigilError;
  }
  throw new Error('accepted');
}

describe('spec planning', () => {
  it('uses the root manifest and finds files in the stage directory first, then the root', () => {
    const root = spec(BASE);
    const p = planSpec({ root, stage: 'devel', env: {} });
    expect(p.manifest).toBe('manifest');
    expect(p.phases.map((ph) => [ph.n, ph.phase, ph.at, ph.file?.slice(p.root.length + 1)])).toEqual([
      [1, 'collect', 'manifest:1', 'collect'],
      [2, 'secrets', 'manifest:2', undefined],
      [3, 'bundle', 'manifest:3', 'bundle.yaml'],
      [4, 'verify', 'manifest:4', 'check.sh'],
    ]);
    expect(p.phases[2]).toMatchObject({ wait: true, seconds: 600, options: { local: 'deploy-secrets' } });
    expect(p.phases[3]).toMatchObject({ retry: 3, seconds: 2, env: { URL: 'http://x/' } });
    expect(renderPlan(p)).toContain('  4. verify check.sh (retry=3 sleep=2 URL=…)   [manifest:4]');
  });

  it('prefers the stage manifest, flattens includes, and stops where stop-on matches the stage', () => {
    const root = spec(BASE);
    const p = planSpec({ root, stage: 'web/production', env: {} });
    expect(p.manifest).toBe('web/production/manifest');
    expect(p.phases.map((ph) => [ph.phase, ph.at])).toEqual([
      ['collect', 'web/production/manifest:1 > common:1'],
      ['bundle', 'web/production/manifest:2'],
    ]);
    expect(p.phases[1]!.file).toBe(join(p.root, 'web/production/bundle.yaml'));
    expect(p.phases[1]!.overlays).toEqual([join(p.root, 'web/production/overlay.yaml')]);
    expect(p.phases[1]).toMatchObject({ wait: false, seconds: 300 });
    expect(p.stoppedAt).toBe('web/production/manifest:3');
    expect(renderPlan(p)).toContain('stop-on at web/production/manifest:3');
  });

  it('picks another manifest by name', () => {
    const root = spec({ ...BASE, 'manifest-upgrade': 'juju-check-wait timeout=90\n' });
    expect(planSpec({ root, stage: 'devel', manifest: 'manifest-upgrade', env: {} }).phases).toMatchObject([{ phase: 'juju-check-wait', seconds: 90 }]);
  });

  it.each([
    ['manifest', 'bundle config=missing.yaml\n', 'manifest:1: bundle: config file "missing.yaml" not found', 'looked in devel/missing.yaml and missing.yaml'],
    ['manifest', 'secrets\nverify config=check.sh\nverify config=noexec.sh\n', 'manifest:3: verify: "noexec.sh" is not executable', 'chmod +x'],
    ['manifest', 'bundle config=../outside.yaml\n', 'manifest:1: bundle: "../outside.yaml" is not a path inside the spec', 'without ".."'],
    ['manifest', 'bundle config=bundle.yaml wait=maybe\n', 'wait=maybe is not True or False', 'wait=True'],
    ['manifest', 'bundle config=bundle.yaml timeout=soon\n', 'timeout=soon is not a duration', 'timeout=5m'],
    ['manifest', 'bundle config=bundle.yaml local=../../etc/shadow\n', 'is not a file name in the stage\'s secrets', 'deploy-secrets'],
    ['manifest', 'verify config=check.sh retry=0\n', 'retry=0 is not a positive whole number', 'retry=N'],
    ['manifest', 'sleep\n', 'config= (seconds) is required', 'sleep config=30'],
    ['manifest', 'script config=check.sh lxc=True\n', 'lxc=True is not supported', 'lxc=False'],
    ['manifest', 'include config=manifest\n', 'manifest includes itself', 'loop'],
    ['manifest', 'collect config=collect\nfrobnicate\n', 'manifest:2: unknown phase "frobnicate"', 'phases are'],
    ['collect', '# charms\ncharms/pg git+https://host/repo;revno\n', 'manifest:1: collect: collect:2: option "revno" is not key=value', 'DEST SOURCE'],
    ['collect', 'charms/pg ${NOPE}/pg\n', 'manifest:1: collect: collect:1: variable NOPE is not set', '${NOPE:-value}'],
  ])('refuses %s containing %j', (file, text, message, hint) => {
    const root = spec({ ...BASE, 'noexec.sh': 'echo\n', [file]: text });
    const e = refused(() => planSpec({ root, stage: 'devel', env: {} }));
    expect(e.message).toContain(message);
    expect(e.hint).toContain(hint);
  });

  it('refuses a stage that is not there, naming the stages, and stage paths that climb out', () => {
    const root = spec(BASE);
    const e = refused(() => planSpec({ root, stage: 'staging', env: {} }));
    expect(e.message).toBe('the spec has no stage "staging"');
    expect(e.hint).toContain('devel, web, web/production');
    expect(refused(() => planSpec({ root, stage: '../x', env: {} })).message).toContain('is not a stage path');
  });

  it('refuses files that link out of the spec', () => {
    const root = spec(BASE);
    writeFileSync(join(tmp, 'secret.yaml'), 'applications: {}\n');
    symlinkSync(join(tmp, 'secret.yaml'), join(root, 'devel', 'bundle.yaml'));
    const e = refused(() => planSpec({ root, stage: 'devel', env: {} }));
    expect(e.message).toContain('leads outside the spec');
  });

  it.each([
    ['devel', 'devel', true],
    ['*/production', 'web/production', true],
    ['*/production', 'production', false],
    ['**', 'a/b/c', true],
    ['web/*', 'web/production', true],
    ['dev', 'devel', false],
  ])('stop-on %s matches stage %s: %s', (pattern, stage, want) => {
    expect(stageMatches(pattern, stage)).toBe(want);
  });
});
