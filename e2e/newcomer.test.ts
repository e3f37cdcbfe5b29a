// What a newcomer trips over in the first ten minutes (issue 23), through the real CLI
// against the shared local-process controller: a dry run that deploys, flags accepted and
// ignored, progress that drowns a log, and a `sigil gui` whose first link is a login page.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHARMS, freshModel, ok, sigil, status } from './harness.ts';
import { suiteDir } from '../tests/temp.ts';

const dir = suiteDir('sigil-newcomer-');
const bundle = join(dir, 'stack.yaml');
writeFileSync(bundle, `applications:
  source:
    charm: ${CHARMS}/source
    num_units: 1
    options: {token: hello}
  sink:
    charm: ${CHARMS}/sink
    num_units: 2
relations:
  - [sink, source]
`);

/** The per-unit progress lines of a bundle deploy's stderr. */
const progress = (stderr: string) => stderr.split('\n').filter((l) => /^(source|sink)\/\d+: /.test(l));

describe('deploy does what it says, or refuses', () => {
  it('deploy CHARM --dry-run prints the plan and changes nothing', async () => {
    const m = await freshModel('newcomer-dry');
    const out = await ok(['deploy', join(CHARMS, 'source'), 'src', '-n', '2', '--config', 'token=abc', '--to', 'new', '--dry-run', '-m', m]);
    expect(out).toMatch(/^Dry run: deploying would add application "src"; nothing was changed\./);
    expect(out).toMatch(/^ {2}application: src$/m);
    expect(out).toMatch(/^ {2}charm: +source \(local, from .*tests\/charms\/source\)$/m);
    expect(out).toMatch(/^ {2}units: +2$/m);
    expect(out).toMatch(/^ {2}placement: +a new machine each$/m);
    expect(out).toMatch(/^ {2}config: +token="abc"; other options default$/m);
    const s = await status(m);
    expect(s.applications).toEqual({});
    expect(s.machines).toEqual({});
    // What the real deploy would refuse, the dry run refuses too.
    const bad = await sigil(['deploy', join(CHARMS, 'source'), '--config', 'replicas=many', '--dry-run', '-m', m]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^ERROR invalid value for option "replicas" of charm "source": expected int/);
  });

  it('refuses flags that do not apply, with a hint, before anything happens', async () => {
    const m = await freshModel('newcomer-flags');
    const charm = await sigil(['deploy', join(CHARMS, 'source'), '--no-wait', '--overlay', bundle, '-m', m]);
    expect(charm.code).toBe(1);
    expect(charm.stderr).toBe('ERROR --overlay, --no-wait do not apply when deploying a charm\nhint: they are for bundles (.yaml); deploying a charm returns once the application is added: follow it with `sigil wait` or `sigil status --watch`\n');
    // Refused before anything is applied, so there is nothing to wait for.
    const stack = await sigil(['deploy', bundle, '-n', '3', '--to', '0', '-m', m], { timeoutMs: 60_000 });
    expect(stack.code).toBe(1);
    expect(stack.stderr).toMatch(/^ERROR -n\/--num-units, --to do not apply when deploying a bundle\nhint: .*--overlay FILE\n$/);
    const sub = await sigil(['deploy', join(CHARMS, 'logger'), '-n', '2', '-m', m]);
    expect(sub.stderr).toMatch(/^ERROR -n\/--num-units does not apply to subordinate application "logger"\nhint: /);
    expect((await status(m)).applications).toEqual({});
  });
});

describe('bundle progress without a terminal', () => {
  it('is a line per workload status change, not per hook, and keeps the summary', async () => {
    const m = await freshModel('newcomer-progress');
    const r = await sigil(['deploy', bundle, '-m', m, '--timeout', '2m']);
    expect(r.code, r.stderr).toBe(0);
    const lines = progress(r.stderr);
    expect(lines.length, r.stderr).toBeGreaterThan(0);
    expect(lines.filter((l) => / \((running .*|executing)\)$/.test(l)), r.stderr).toEqual([]);
    // Each line is news: a unit never repeats the line it printed last.
    const last = new Map<string, string>();
    for (const l of lines) {
      const unit = l.split(':')[0]!;
      expect(last.get(unit), r.stderr).not.toBe(l);
      last.set(unit, l);
    }
    // Three units through a handful of statuses each; a line per hook start and end would be dozens.
    expect(lines.length, r.stderr).toBeLessThanOrEqual(3 * 6);
    expect(r.stderr).toMatch(/^Deployed: \d+ changes applied; 2 applications settled in [\d.]+s$/m);
  }, 180_000);

  it('shows every hook with --verbose', async () => {
    const m = await freshModel('newcomer-verbose');
    const r = await sigil(['deploy', bundle, '-m', m, '--verbose', '--timeout', '2m']);
    expect(r.code, r.stderr).toBe(0);
    expect(progress(r.stderr).filter((l) => / \(running .* hook\)$/.test(l)).length, r.stderr).toBeGreaterThan(3);
  }, 180_000);
});

describe('sigil gui', () => {
  it('prints the link to open first, and labels the one that asks for a login', async () => {
    const m = await freshModel('newcomer-gui');
    const out = await ok(['gui', '--no-browser', '-m', m]);
    const lines = out.trimEnd().split('\n');
    const urls = lines.filter((l) => /^https?:\/\//.test(l));
    expect(urls).toHaveLength(2);
    // A one-time code (2 minutes, single use), never a token.
    expect(urls[0]).toMatch(/\/gui\/login\?model=\S+&code=[A-Za-z0-9_-]+$/);
    expect(urls[1]).not.toMatch(/token|code=/);
    expect(lines[lines.indexOf(urls[0]!) - 1]).toMatch(/^Open the GUI .* with this link/);
    expect(lines[lines.indexOf(urls[1]!) - 1]).toMatch(/without the login/);
  });
});
