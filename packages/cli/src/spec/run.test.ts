import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SigilError } from '@sigil/core';
import { Ctx } from '../context.ts';
import { planSpec } from './plan.ts';
import { workspaceAt, type RunContext } from './phases.ts';
import { RUN_FILE, runSpec, type RunRecord } from './run.ts';
import { fetchSpec, splitRef } from './source.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sigil-spec-run-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

class Captured extends Ctx {
  lines: string[] = [];
  override out(text: string): void {
    this.lines.push(text);
  }
  override info(text: string): void {
    this.lines.push(text);
  }
}

let n = 0;
function files(root: string, map: Record<string, string>): string {
  for (const [f, text] of Object.entries(map)) {
    mkdirSync(dirname(join(root, f)), { recursive: true });
    writeFileSync(join(root, f), text, { mode: text.startsWith('#!') ? 0o755 : 0o644 });
  }
  return root;
}

function context(root: string, stage: string, extra: Partial<RunContext> = {}): RunContext & { ctx: Captured } {
  const id = ++n;
  const ctx = new Captured();
  return {
    ctx,
    plan: planSpec({ root, stage, env: { GREETING: 'hi' } }),
    ws: workspaceAt(join(tmp, `ws${id}`)),
    project: 'demo',
    model: 'admin/demo',
    secretsDir: join(tmp, `secrets${id}`),
    client: () => {
      throw new Error('no controller in this test');
    },
    env: { PATH: process.env.PATH, HOME: process.env.HOME, GREETING: 'hi' },
    dryRun: false,
    sigilCommand: ['/bin/echo', 'sigil-shim'],
    sleep: () => Promise.resolve(),
    ...extra,
  } as RunContext & { ctx: Captured };
}

const SCRIPT = `#!/bin/sh
echo "spec=$SIGIL_SPEC_DIR stage=$SIGIL_STAGE mojo=$MOJO_STAGE model=$SIGIL_MODEL machines=$MACHINES"
test "$MOJO_LOCAL_DIR" = "$SIGIL_LOCAL_DIR" || exit 3
test -f "$SIGIL_WORKSPACE/build/app/app.txt" || exit 4
test "$(stat -c %a "$SIGIL_LOCAL_DIR/deploy-secrets")" = 600 || exit 5
sigil status
`;

async function failure(p: Promise<unknown>): Promise<SigilError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SigilError);
    return e as SigilError;
  }
  throw new Error('the run succeeded');
}

describe('spec run (no controller)', () => {
  it('collects, copies secrets, runs scripts with the spec environment, and records the run', async () => {
    const app = files(join(tmp, 'app-src'), { 'app.txt': 'v1\n' });
    const root = files(join(tmp, 'spec-ok'), {
      manifest: "# demo\ncollect config=collect\nsecrets\nscript config=show.sh MACHINES='a b'\nverify config=show.sh retry=2\nrepo\n",
      collect: `app ${app}\n`,
      'devel/show.sh': SCRIPT,
    });
    const r = context(root, 'devel');
    files(r.secretsDir, { 'deploy-secrets': 'applications: {}\n' });
    const rec = await runSpec(r);
    expect(rec.ok).toBe(true);
    expect(rec.phases.map((p) => [p.phase, p.result])).toEqual([['collect', 'ok'], ['secrets', 'ok'], ['script', 'ok'], ['verify', 'ok'], ['repo', 'nothing to do']]);
    const text = r.ctx.lines.join('\n');
    expect(text).toContain(`  | spec=${r.plan.root} stage=devel mojo=devel model=admin/demo machines=a b`);
    expect(text).toContain('  | sigil-shim status');
    expect(text).toContain('== Phase 3/5: script devel/show.sh  [manifest:4]');
    expect(text).toMatch(/#\s+PHASE\s+WHERE\s+TIME\s+RESULT/);
    expect(text).not.toContain('applications: {}');
    expect(statSync(r.ws.local).mode & 0o777).toBe(0o700);
    const saved = JSON.parse(readFileSync(join(r.ws.dir, RUN_FILE), 'utf8')) as RunRecord;
    expect(saved).toMatchObject({ ok: true, stage: 'devel', project: 'demo', phases: [{ n: 1, phase: 'collect', at: 'manifest:2', result: 'ok' }, {}, {}, {}, {}] });
  });

  it('a failing verify fails the run with its output after its retries; later phases do not run, collected files stay', async () => {
    const app = files(join(tmp, 'app-src2'), { 'app.txt': 'v1\n' });
    const root = files(join(tmp, 'spec-fail'), {
      manifest: 'collect config=collect\nverify config=check.sh retry=3 sleep=1\nscript config=after.sh\n',
      collect: `app ${app}\n`,
      'check.sh': '#!/bin/sh\necho "site answered 502"\necho "expected 200" >&2\nexit 2\n',
      'after.sh': '#!/bin/sh\ntouch "$SIGIL_WORKSPACE/after-ran"\n',
      'devel/.keep': '',
    });
    const sleeps: number[] = [];
    const r = context(root, 'devel', { sleep: (ms) => Promise.resolve(void sleeps.push(ms)) });
    const e = await failure(runSpec(r));
    expect(e.message).toMatch(/^manifest:2: verify: check.sh exited with 2 after 3 attempts; its last output:\n {4}site answered 502\n {4}expected 200/);
    expect(e.hint).toContain('--phase 2');
    expect(sleeps).toEqual([1000, 1000]);
    expect(existsSync(join(r.ws.dir, 'after-ran'))).toBe(false);
    expect(existsSync(join(r.ws.build, 'app', 'app.txt'))).toBe(true);
    const saved = JSON.parse(readFileSync(join(r.ws.dir, RUN_FILE), 'utf8')) as RunRecord;
    expect(saved.ok).toBe(false);
    expect(saved.phases.map((p) => p.result)).toEqual(['ok', 'failed', 'not run']);
    expect(r.ctx.lines.join('\n')).toContain('Spec run FAILED');
  });

  it('an unreachable source stops the run at the collect phase with the directive\'s line', async () => {
    const root = files(join(tmp, 'spec-unreachable'), { manifest: 'collect config=collect\nscript config=s.sh\n', collect: '# sources\nok @\nbad git+file:///nonexistent/repo.git\n', 's.sh': '#!/bin/sh\n', 'devel/.keep': '' });
    const r = context(root, 'devel');
    const e = await failure(runSpec(r));
    expect(e.message).toMatch(/^manifest:1: collect: 1 of 2 directives failed:\n {2}collect:3: cannot clone git\+file:\/\/\/nonexistent\/repo.git/);
    expect(existsSync(join(r.ws.build, 'ok'))).toBe(true);
  });

  it('secrets: refuses a missing directory with a hint and never a directory inside the spec', async () => {
    const root = files(join(tmp, 'spec-secrets'), { manifest: 'secrets\n', 'devel/.keep': '' });
    const r = context(root, 'devel');
    const e = await failure(runSpec(r));
    expect(e.message).toContain('manifest:1: secrets: no secrets for this stage at');
    expect(e.hint).toContain('mkdir -p');
    const inside = context(root, 'devel', { secretsDir: join(root, 'devel') });
    expect((await failure(runSpec(inside))).message).toContain('is inside the spec');
  });

  it('runs one phase with --phase, and a dry run runs no script', async () => {
    const root = files(join(tmp, 'spec-one'), { manifest: 'script config=a.sh\nscript config=b.sh\n', 'a.sh': '#!/bin/sh\necho A\n', 'b.sh': '#!/bin/sh\necho B\n', 'devel/.keep': '' });
    const r = context(root, 'devel');
    const rec = await runSpec(r, 2);
    expect(rec.phases).toMatchObject([{ n: 2, result: 'ok' }]);
    expect(r.ctx.lines).toContain('  | B');
    expect(r.ctx.lines).not.toContain('  | A');
    const dry = context(root, 'devel', { dryRun: true });
    expect((await runSpec(dry)).phases.map((p) => p.result)).toEqual(['dry run', 'dry run']);
    expect(dry.ctx.lines.some((l) => l.startsWith('  | '))).toBe(false);
  });
});

describe('spec sources', () => {
  it('splits @ref off git URLs, not the user of git+ssh', () => {
    expect(splitRef('git+file:///srv/spec.git@v2')).toEqual({ url: 'git+file:///srv/spec.git', ref: 'v2' });
    expect(splitRef('git+ssh://git@host/spec.git')).toEqual({ url: 'git+ssh://git@host/spec.git' });
    expect(splitRef('git+ssh://git@host/spec.git@main')).toEqual({ url: 'git+ssh://git@host/spec.git', ref: 'main' });
  });

  it('fetches a git spec at a ref into the workspace, with collect-info', async () => {
    const repo = files(join(tmp, 'spec-repo'), { manifest: 'script config=s.sh\n', 's.sh': '#!/bin/sh\n', 'devel/.keep': '' });
    const g = (...a: string[]) => execFileSync('git', a, { cwd: repo, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' } }).toString().trim();
    g('init', '-q', '-b', 'main');
    g('add', '-A');
    g('commit', '-qm', 'spec');
    g('tag', 'v1');
    const ws = join(tmp, 'ws-fetch');
    const lines: string[] = [];
    const s = await fetchSpec(`git+file://${repo}@v1`, ws, (l) => lines.push(l));
    expect(s.dir).toBe(join(ws, 'spec'));
    expect(s.pinned).toBe(`git+file://${repo};overwrite=true,revno=${g('rev-parse', 'HEAD')}`);
    expect(readFileSync(join(s.dir, 'manifest'), 'utf8')).toBe('script config=s.sh\n');
    expect(existsSync(join(s.dir, 'codetree-collect-info.yaml'))).toBe(true);
    // Fetching again replaces the copy.
    await fetchSpec(`git+file://${repo}`, ws, () => {});
    const e = await fetchSpec(`git+file://${repo}@nope`, ws, () => {}).catch((x: unknown) => x as SigilError);
    expect((e as SigilError).message).toContain('cannot fetch the spec: git+file://');
  });
});

describe('secret values in output', () => {
  it('are masked wherever a plan would print them', async () => {
    const { redacting, secretValues } = await import('./phases.ts');
    const f = join(tmp, 'deploy-secrets');
    writeFileSync(f, 'applications:\n  source:\n    options:\n      token: s3cret-token\n      quoted: "a \\"b\\" c"\n      n: 42\n');
    const ctx = new Captured();
    const c = redacting(ctx, secretValues(f));
    c.out('deploy application "source" from /x, options token="s3cret-token", quoted="a \\"b\\" c", n=42');
    c.info('set token=s3cret-token');
    expect(ctx.lines).toEqual(['deploy application "source" from /x, options token="***", quoted="***", n=42', 'set token=***']);
  });
});
