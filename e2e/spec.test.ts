import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { CHARMS, freshModel, ok, sigil, status, workload } from './harness.ts';

/**
 * `sigil spec run` end to end on the local-process provider: a spec in a git repository
 * (git+file://) collects one charm from another git repository and one from a file:// path,
 * copies the stage's secrets, deploys a bundle with the stage's overlay and the secrets as an
 * overlay, and verifies with a script that calls `sigil`. Then the provenance of the running
 * charms, a re-run that changes nothing, a tampered file, a failing verify, and bad input.
 */

const tmp = mkdtempSync(join(tmpdir(), 'sigil-e2e-spec-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'e2e', GIT_AUTHOR_EMAIL: 'e2e@example.com', GIT_COMMITTER_NAME: 'e2e', GIT_COMMITTER_EMAIL: 'e2e@example.com' };
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: gitEnv }).toString().trim();
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function write(root: string, files: Record<string, string>): void {
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, f)), { recursive: true });
    writeFileSync(join(root, f), text, { mode: text.startsWith('#!') ? 0o755 : 0o644 });
  }
}

function commitAll(dir: string): string {
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'e2e');
  return git(dir, 'rev-parse', 'HEAD');
}

/** The source charm as its own git repository. */
const sourceRepo = join(tmp, 'source.git');
cpSync(join(CHARMS, 'source'), sourceRepo, { recursive: true });
const sourceCommit = commitAll(sourceRepo);

const COLLECT = 'charms/source  git+file://${SPEC_SOURCE_GIT}\ncharms/sink    file://${SPEC_SINK_DIR}\n';

/** The spec, in a git repository of its own. */
const specRepo = join(tmp, 'spec.git');
write(specRepo, {
  manifest: [
    '# Collect the charms, deploy them with the stage overlay and the secrets, check the sink got the token',
    'collect config=collect',
    'secrets',
    'bundle config=bundle.yaml overlay=overlay.yaml local=deploy-secrets timeout=${SPEC_TIMEOUT:-3m}',
    "verify config=check.sh retry=5 sleep=2 APP='sink'",
    '',
  ].join('\n'),
  'manifest-broken': 'verify config=fail.sh\nscript config=check.sh\n',
  'manifest-bad': 'collect config=collect\ndeploy-everything now\n',
  collect: COLLECT,
  'bundle.yaml': 'applications:\n  source:\n    charm: charms/source\n    num_units: 1\n  sink:\n    charm: charms/sink\n    num_units: 2\nrelations:\n  - [sink, source]\n',
  'devel/overlay.yaml': 'applications:\n  sink:\n    num_units: 1\n',
  'check.sh': [
    '#!/bin/sh',
    'token=$(sed -n "s/^ *token: *//p" "$SIGIL_LOCAL_DIR/deploy-secrets")',
    'if sigil status -m "$SIGIL_MODEL" --format json | grep -q "token=$token app-token=$token"; then echo "$APP got the token from the secrets"; exit 0; fi',
    'echo "$APP has not got the token yet"; exit 1',
    '',
  ].join('\n'),
  'fail.sh': '#!/bin/sh\necho "fetched the site: HTTP 502 from haproxy"\nexit 1\n',
});
const specCommit = commitAll(specRepo);
const SPEC = `git+file://${specRepo}@main`;
process.env.SPEC_SOURCE_GIT = sourceRepo;
process.env.SPEC_SINK_DIR = join(CHARMS, 'sink');

const PROJECT = 'e2espec';
const SECRET = 'e2e-s3cret-token';
const RUN_MS = 300_000;

/** Hooks run so far in a model, from the agents' "ran" log lines. */
async function hookRuns(m: string): Promise<number> {
  const log = await ok(['debug-log', '-m', m, '--replay', '--no-tail', '-l', 'INFO']);
  return log.split('\n').filter((l) => / ran "/.test(l)).length;
}

describe('sigil collect', () => {
  it('collects git+file:// and file:// sources with collect-info hashes, and pins them', async () => {
    const cfg = join(tmp, 'collect');
    writeFileSync(cfg, COLLECT);
    const out = join(tmp, 'collected');
    const r = await sigil(['collect', cfg, '--dir', out, '--pin', join(tmp, 'pinned')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`collected charms/source from git+file://${sourceRepo} at ${sourceCommit.slice(0, 12)}`);
    const pinned = readFileSync(join(tmp, 'pinned'), 'utf8');
    expect(pinned).toMatch(new RegExp(`^charms/source +git\\+file://${sourceRepo};revno=${sourceCommit}$`, 'm'));
    expect(pinned).toMatch(new RegExp(`charms/sink\\s+file://${join(CHARMS, 'sink')};sha256=[0-9a-f]{64}`));
    const info = YAML.parse(readFileSync(join(out, 'charms/sink/codetree-collect-info.yaml'), 'utf8'));
    expect(info.collect_url).toMatch(/;sha256=[0-9a-f]{64}$/);
    expect(info.hashes['metadata.yaml']).toBe(sha256(readFileSync(join(CHARMS, 'sink', 'metadata.yaml'))));
    expect(info.hashes['hooks/install']).toBe(sha256(readFileSync(join(CHARMS, 'sink', 'hooks', 'install'))));
    // The pinned config collects the same again.
    expect((await sigil(['collect', join(tmp, 'pinned'), '--dir', out])).code).toBe(0);
  });
});

describe('sigil spec run', () => {
  it('runs a git spec through collect, secrets, bundle and verify; shows provenance; re-runs as a no-op; sees a tampered file', async () => {
    const m = await freshModel('spec');
    const secrets = join(process.env.SIGIL_HOME!, 'secrets', PROJECT, 'devel');
    mkdirSync(secrets, { recursive: true });
    writeFileSync(join(secrets, 'deploy-secrets'), `applications:\n  source:\n    options:\n      token: ${SECRET}\n`);

    const run = await sigil(['spec', 'run', SPEC, '--stage', 'devel', '-m', m, '--project', PROJECT], { timeoutMs: RUN_MS });
    const all = run.stderr + run.stdout;
    expect(run.code, all).toBe(0);
    expect(all).toContain(`Fetched spec git+file://${specRepo} at ${specCommit.slice(0, 12)}`);
    expect(all).toMatch(/== Phase 3\/4: bundle bundle.yaml {2}\[manifest:4\]/);
    expect(all).toContain('deploy application "source"');
    expect(all).toContain('| sink got the token from the secrets');
    expect(all).toMatch(/Spec run succeeded/);
    expect(all).not.toContain(SECRET);
    const s = await status(m);
    expect(Object.keys(s.applications.sink!.units ?? {})).toEqual(['sink/0']);
    expect(workload(s, 'sink/0')).toBe(`active token=${SECRET} app-token=${SECRET}`);
    const record = JSON.parse(readFileSync(join(process.env.SIGIL_HOME!, 'specs', PROJECT, 'devel', 'spec-run.json'), 'utf8'));
    expect(record.phases.map((p: { phase: string; result: string }) => `${p.phase}:${p.result}`)).toEqual(['collect:ok', 'secrets:ok', 'bundle:ok', 'verify:ok']);

    // Which revision of which charm is running here?
    const prov = YAML.parse(await ok(['collect-info', 'source', 'sink', '-m', m, '--format', 'yaml']));
    expect(prov['source/0']).toMatchObject({ collected: true, source: `git+file://${sourceRepo}`, commit: sourceCommit, matches: true, modified: [], missing: [] });
    expect(prov['sink/0']).toMatchObject({ collected: true, source: `file://${join(CHARMS, 'sink')}`, matches: true });
    expect(prov['sink/0'].digest).toMatch(/^[0-9a-f]{64}$/);

    // The same spec again: the plan is empty and no hook runs.
    const before = await hookRuns(m);
    const again = await sigil(['spec', 'run', SPEC, '--stage', 'devel', '-m', m, '--project', PROJECT], { timeoutMs: RUN_MS });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout + again.stderr).toContain('No changes: the model already matches the bundle.');
    expect(await hookRuns(m)).toBe(before);

    // A file edited on the unit shows as modified.
    await ok(['exec', '-m', m, '--unit', 'sink/0', '--', 'echo "# edited by hand" >> metadata.yaml']);
    const tampered = await sigil(['collect-info', 'sink/0', '-m', m]);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain('1 modified, 0 missing');
    expect(tampered.stdout).toContain('modified: metadata.yaml');
  }, RUN_MS * 2 + 60_000);

  it('a failing verify fails the run with its output; bad input stops before anything runs', async () => {
    const m = await freshModel('spec-fail');
    const failed = await sigil(['spec', 'run', SPEC, '--stage', 'devel', '-m', m, '--project', 'e2especfail', '--manifest', 'manifest-broken']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('| fetched the site: HTTP 502 from haproxy');
    expect(failed.stderr).toContain('ERROR manifest-broken:1: verify: fail.sh exited with 1; its last output:');
    expect(failed.stderr).toMatch(/hint: .*--phase 1/);
    expect(failed.stderr).toMatch(/2\s+script\s+manifest-broken:2\s+-\s+not run/);

    const bad = await sigil(['spec', 'run', SPEC, '--stage', 'devel', '-m', m, '--project', 'e2especfail', '--manifest', 'manifest-bad']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('ERROR manifest-bad:2: unknown phase "deploy-everything"');
    expect(bad.stderr).toContain('hint: phases are collect');
    expect(bad.stderr).not.toContain('== Phase');

    const noStage = await sigil(['spec', 'run', SPEC, '--stage', 'staging', '-m', m]);
    expect(noStage.stderr).toContain('ERROR the spec has no stage "staging"');
    expect(noStage.stderr).toContain('hint: stages are directories of the spec: devel');
    expect(Object.keys((await status(m)).applications)).toEqual([]);
  }, 120_000);
});

describe('the charm library', () => {
  it('publishes a charm directory and deploys it by name', async () => {
    const m = await freshModel('library');
    // The sink as `sigil collect` gathered it above (with its collect-info), or as shipped when run alone.
    const collected = existsSync(join(tmp, 'collected', 'charms', 'sink')) ? join(tmp, 'collected', 'charms', 'sink') : join(CHARMS, 'sink');
    const pub = await ok(['charm', 'publish', collected, '-m', m]);
    expect(pub).toContain('Published "sink"');
    const list = await ok(['charms', 'sink', '-m', m]);
    expect(list).toMatch(/^sink\s+controller\s+\d+\s+[\d,]+\s+controller\/[0-9a-f]+/m);
    const shipped = await ok(['charms', '-m', m, '--format', 'json']);
    expect((JSON.parse(shipped) as { name: string; source: string }[]).find((c) => c.name === 'postgresql')?.source).toBe('library');
    const dry = await ok(['deploy', 'sink', 'named-sink', '-m', m, '--dry-run']);
    expect(dry).toContain('charm:       sink (a charm published to the controller');
    expect(Object.keys((await status(m)).applications)).toEqual([]);
    const out = await ok(['deploy', 'sink', 'named-sink', '-m', m, '--config', 'fail-hook=none']);
    expect(out).toContain('Deployed "named-sink" from a charm published to the controller');
    expect(Object.keys((await status(m)).applications)).toEqual(['named-sink']);
    const missing = await sigil(['deploy', 'no-such-charm', '-m', m]);
    expect(missing.stderr).toContain('ERROR no charm "no-such-charm" in the controller\'s charm library, and no such path');
    const placed = await sigil(['deploy', 'sink', 'x', '--to', '0', '-m', m]);
    expect(placed.stderr).toContain('--to does not apply when deploying from the charm library');
  }, 120_000);
});
