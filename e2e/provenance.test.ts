import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { CHARMS, freshModel, ok, sigil } from './harness.ts';

/**
 * Issue 16's provenance and library, on the local-process provider: a charm collected from a
 * git+file:// source carries its collect-info to the controller, which checks it against the
 * uploaded files; status, show-application and `sigil charms` show it; `--revision` and a
 * bundle's `charm: NAME` deploy from the library. Apps are deployed without waiting: only
 * what the controller records is checked.
 */

const tmp = mkdtempSync(join(tmpdir(), 'sigil-e2e-prov-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'e2e', GIT_AUTHOR_EMAIL: 'e2e@example.com', GIT_COMMITTER_NAME: 'e2e', GIT_COMMITTER_EMAIL: 'e2e@example.com' };
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: gitEnv }).toString().trim();

const repo = join(tmp, 'sink.git');
cpSync(join(CHARMS, 'sink'), repo, { recursive: true, verbatimSymlinks: true });
// A name no other test uploads: the library lists the newest upload of a name from every
// model of the shared controller, and other files deploy the sink charm meanwhile.
const NAME = 'prov-sink';
writeFileSync(join(repo, 'metadata.yaml'), readFileSync(join(repo, 'metadata.yaml'), 'utf8').replace(/^name: sink$/m, `name: ${NAME}`));
git(repo, 'init', '-q', '-b', 'main');
git(repo, 'add', '-A');
git(repo, 'commit', '-qm', 'sink');
const commit = git(repo, 'rev-parse', 'HEAD');

type AppYaml = Record<string, unknown> & { 'charm-rev': number; 'charm-provenance'?: { source: string; commit?: string; 'collected-at': string; matches: boolean; modified: string[]; missing: string[]; files: number } };
const apps = async (m: string) => (YAML.parse(await ok(['status', '-m', m, '--format', 'yaml'])) as { applications: Record<string, AppYaml> }).applications;

describe('charm provenance and the charm library', () => {
  it('status shows where a collected charm came from, and a tampered file; --revision and bundles deploy from the library', async () => {
    const m = await freshModel('prov');
    writeFileSync(join(tmp, 'collect'), `charms/sink git+file://${repo}\n`);
    const out = join(tmp, 'out');
    await ok(['collect', join(tmp, 'collect'), '--dir', out]);
    const collected = join(out, 'charms', 'sink');

    // Untouched: every file matches the hashes recorded at collection.
    await ok(['deploy', collected, 'clean', '-n', '0', '-m', m]);
    let a = await apps(m);
    expect(a['clean']!['charm-provenance']).toMatchObject({ source: `git+file://${repo}`, commit, matches: true, modified: [], missing: [] });
    expect(a['clean']!['charm-provenance']!['collected-at']).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    expect(a['clean']!['charm-provenance']!.files).toBeGreaterThan(5);
    // Juju's keys stay as they were.
    expect(a['clean']).toMatchObject({ charm: NAME, 'charm-origin': 'local', 'charm-name': NAME, 'charm-rev': 0 });

    // One file changed in the collected tree: a new revision, shown as modified.
    appendFileSync(join(collected, 'config.yaml'), '# tampered\n');
    await ok(['deploy', collected, 'tampered', '-n', '0', '-m', m]);
    a = await apps(m);
    expect(a['tampered']!['charm-rev']).toBe(1);
    expect(a['tampered']!['charm-provenance']).toMatchObject({ commit, matches: false, modified: ['config.yaml'], missing: [] });
    const shown = YAML.parse(await ok(['show-application', 'tampered', '-m', m])) as Record<string, Record<string, unknown>>;
    expect(shown['tampered']).toMatchObject({ charm: NAME, principal: true, exposed: false, 'charm-provenance': { matches: false, modified: ['config.yaml'] } });

    // A charm deployed without collect-info shows nothing extra.
    await ok(['deploy', join(CHARMS, 'source'), 'plain', '-n', '0', '-m', m]);
    expect((await apps(m))['plain']!['charm-provenance']).toBeUndefined();

    // The library lists both revisions; --revision picks the older (untampered) one.
    const lib = JSON.parse(await ok(['charms', NAME, '-m', m, '--format', 'json'])) as { name: string; revision?: number; revisions?: { revision: number }[] }[];
    const sink = lib.find((x) => x.name === NAME)!;
    expect(sink.revision).toBe(1);
    expect(sink.revisions!.map((r) => r.revision).sort()).toEqual([0, 1]);
    await ok(['deploy', NAME, 'older', '--revision', '0', '-n', '0', '-m', m]);
    a = await apps(m);
    expect(a['older']).toMatchObject({ 'charm-rev': 0, 'charm-provenance': { matches: true } });
    const missing = await sigil(['deploy', NAME, 'nope', '--revision', '9', '-m', m]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain(`charm "${NAME}" has no revision 9`);
    expect(missing.stderr).toMatch(/hint:.*revisions there are: 0, 1/);
    expect((await apps(m))['nope']).toBeUndefined();

    // A bundle naming the library charm: plan, then deploy; an unknown name names the application.
    const bundle = join(tmp, 'bundle.yaml');
    writeFileSync(bundle, `applications:\n  fromlib:\n    charm: ${NAME}\n    revision: 0\n    num_units: 1\n`);
    const diff = await sigil(['diff', bundle, '-m', m]);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toContain(`deploy application "fromlib" from library:${NAME}@0`);
    await ok(['deploy', bundle, '--no-wait', '-m', m]);
    a = await apps(m);
    expect(a['fromlib']).toMatchObject({ 'charm-name': NAME, 'charm-rev': 0, 'charm-provenance': { matches: true } });
    expect((await sigil(['diff', bundle, '-m', m])).stdout).toContain('No changes');
    expect(await ok(['export-bundle', '-m', m])).toMatch(new RegExp(`fromlib:\\n\\s+charm: ${NAME}\\n`));
    writeFileSync(bundle, 'applications:\n  web:\n    charm: nosuch\n');
    const unknown = await sigil(['deploy', bundle, '--dry-run', '-m', m]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('application "web": no charm "nosuch"');
    expect(unknown.stderr).toContain('sigil charms');
  });
});
