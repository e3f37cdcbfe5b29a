// Users and roles end to end, on the shared local-process controller and on the shared LXC
// controller (real machines, one container): the admin adds a user,
// the user registers from its own SIGIL_HOME (a new password, only a token kept), and what it
// may do follows its role on the model, at once: read sees status and debug-log but every
// write is refused with a hint and changes nothing; write deploys; revoke and disable-user
// take effect on the next call; every refusal is in the audit trail.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { CHARMS, ROOT, ok, providers, status, until, workload, type Provider } from './harness.ts';

const PASSWORD = 'alice-e2e-Secret-4711';

function suite(p: Provider): void {
const C = p.controller;
const home = mkdtempSync(join(tmpdir(), 'sigil-users-e2e-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));


/** The CLI as alice: her own SIGIL_HOME, nothing shared with the admin's. */
function alice(args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(join(ROOT, 'bin', 'sigil'), args, { env: { ...process.env, SIGIL_HOME: home }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

async function aliceOk(args: string[], input = ''): Promise<string> {
  const r = await alice(args, input);
  if (r.code !== 0) throw new Error(`alice: sigil ${args.join(' ')} exited ${r.code}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** A refusal as the user sees it: a non-zero exit, `ERROR …` and a `hint:` line, no stack trace. */
async function refused(args: string[], message: RegExp, hint: RegExp): Promise<void> {
  const r = await alice(args);
  expect({ args, code: r.code === 0 ? 0 : 'failed' }).toEqual({ args, code: 'failed' });
  expect(r.stderr).toMatch(/^ERROR /);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).toMatch(new RegExp(`^hint: .*${hint.source}`, 'm'));
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

let m: string;
let name: string;

beforeAll(async () => {
  m = await p.model('users');
  name = m.split(':')[1]!;
  await ok(['deploy', join(CHARMS, 'source'), '-m', m, '--config', 'token=users']);
  await until(m, 'source active', (s) => workload(s, 'source/0') === 'active token=users', p.settleMs);
}, p.settleMs + 60_000);

describe('users and roles', () => {
  it('add-user prints a one-time registration string; register sets a password and keeps only a token', async () => {
    const out = await ok(['add-user', 'alice', '--display-name', 'Alice Liddell', '-c', C]);
    expect(out).toMatch(/^User "Alice Liddell" added\nPlease send this command to alice:\n {4}sigil register \S+\n/);
    const string = /sigil register (\S+)/.exec(out)![1]!;
    const reg = await aliceOk(['register', string, '--password-file', '-'], `${PASSWORD}\n`);
    expect(reg.startsWith(`Welcome, alice. You are now logged into "${C}".`), reg).toBe(true);
    // Used once: the same string is refused.
    const again = await alice(['register', string, '--password-file', '-', '--replace'], `${PASSWORD}\n`);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/^ERROR this registration string is not valid/);
    const accounts = YAML.parse(readFileSync(join(home, 'accounts.yaml'), 'utf8')) as { controllers: Record<string, { user: string; token: string; expires: string }> };
    expect(accounts.controllers[C]).toMatchObject({ user: 'alice', token: expect.any(String), expires: expect.any(String) });
    expect(statSync(join(home, 'accounts.yaml')).mode & 0o777).toBe(0o600);
    // The password is nowhere in her SIGIL_HOME.
    for (const f of readdirSync(home, { recursive: true }) as string[]) {
      if (statSync(join(home, f)).isFile()) expect({ f, has: readFileSync(join(home, f), 'utf8').includes(PASSWORD) }).toEqual({ f, has: false });
    }
    expect(await aliceOk(['whoami'])).toMatch(/User:\s+alice/);
  });

  it('a user with no grant sees no model and is refused status with a hint to ask for one', async () => {
    expect(await aliceOk(['models'])).not.toContain(name);
    await refused(['status', '-m', m], new RegExp(`user "alice" has no access to model "${name}"`), /sigil grant alice read/);
    await refused(['debug-log', '-m', m, '--no-tail'], new RegExp(`user "alice" has no access to model "${name}"`), /sigil grant alice read/);
  });

  it('read sees status and debug-log; deploy, config and relate are refused with a hint, and nothing changes', async () => {
    await ok(['grant', 'alice', 'read', name, '-c', C]);
    const s = JSON.parse(await aliceOk(['status', '-m', m, '--format', 'json'])) as { applications: Record<string, unknown> };
    expect(Object.keys(s.applications)).toEqual(['source']);
    expect(await aliceOk(['debug-log', '-m', m, '--replay', '--no-tail'])).toMatch(/unit-source-0/);
    const before = await status(m);
    await refused(['deploy', join(CHARMS, 'sink'), '-m', m], /user "alice" has read access to model .*needs write access/, /sigil grant alice write/);
    await refused(['config', 'source', 'token=changed', '-m', m], /has read access .*needs write access/, /sigil grant alice write/);
    await refused(['relate', 'source', 'sink', '-m', m], /has read access .*needs write access/, /sigil grant alice write/);
    const after = await status(m);
    expect(Object.keys(after.applications)).toEqual(Object.keys(before.applications));
    expect(workload(after, 'source/0')).toBe('active token=users');
    const trail = JSON.parse(await ok(['audit-log', '--user', 'alice', '--model', name, '--format', 'json', '-c', C])) as { method: string; route: string; status: number; address: string }[];
    expect(trail.filter((r) => r.status === 403).map((r) => `${r.method} ${r.route}`)).toEqual(expect.arrayContaining(['POST /api/models/:model/charms', 'POST /api/models/:model/applications/:app/config', 'POST /api/models/:model/relations']));
    expect(trail.every((r) => r.address !== '')).toBe(true);
  });

  it('write deploys; revoking write leaves read at once, revoking read removes access', async () => {
    await ok(['grant', 'alice', 'write', name, '-c', C]);
    await aliceOk(['deploy', join(CHARMS, 'sink'), '-m', m, ...p.onMachine('0')]);
    await aliceOk(['relate', 'source', 'sink', '-m', m]);
    await until(m, 'sink deployed by alice', (s) => s.applications.sink?.units?.['sink/0'] !== undefined, 60_000);
    await until(m, 'sink/0 reads the relation alice made', (s) => workload(s, 'sink/0').startsWith('active token=users'), p.settleMs);
    await ok(['revoke', 'alice', 'write', name, '-c', C]);
    await refused(['config', 'source', 'token=revoked', '-m', m], /has read access/, /sigil grant alice write/);
    await aliceOk(['status', '-m', m]);
    await ok(['revoke', 'alice', 'read', name, '-c', C]);
    await refused(['status', '-m', m], /has no access to model/, /sigil grant alice read/);
    expect(workload(await status(m), 'source/0')).toBe('active token=users');
  }, p.settleMs + 120_000);

  it('a disabled user is refused everything until enabled; a wrong password is refused; logout forgets the token', async () => {
    await ok(['grant', 'alice', 'read', name, '-c', C]);
    await ok(['disable-user', 'alice', '-c', C]);
    await refused(['status', '-m', m], /user "alice" is disabled/, /sigil enable-user alice/);
    const users = JSON.parse(await ok(['users', '-c', C, '--format', 'json'])) as { name: string; disabled: boolean; access: string }[];
    expect(users.find((u) => u.name === 'alice')).toMatchObject({ disabled: true, access: 'login' });
    expect(users.find((u) => u.name === 'admin')).toMatchObject({ access: 'superuser' });
    await ok(['enable-user', 'alice', '-c', C]);
    await aliceOk(['status', '-m', m]);
    const wrong = await alice(['login', '-u', 'alice', '--password-file', '-'], 'not-the-password\n');
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/^ERROR invalid user name or password for user "alice"\nhint: /);
    await aliceOk(['logout']);
    await refused(['status', '-m', m], new RegExp(`not logged in to controller "${C}"`), new RegExp(`sigil login -c ${C} -u alice`));
    await aliceOk(['login', '-u', 'alice', '--password-file', '-'], `${PASSWORD}\n`);
    await aliceOk(['status', '-m', m]);
    // A token near its expiry is exchanged for a fresh one by the next command, transparently.
    const file = join(home, 'accounts.yaml');
    const acc = YAML.parse(readFileSync(file, 'utf8')) as { controllers: Record<string, { token: string; expires: string }> };
    const oldToken = acc.controllers[C]!.token;
    acc.controllers[C]!.expires = new Date(Date.now() + 3600_000).toISOString();
    writeFileSync(file, YAML.stringify(acc), { mode: 0o600 });
    await aliceOk(['status', '-m', m]);
    const renewed = (YAML.parse(readFileSync(file, 'utf8')) as typeof acc).controllers[C]!;
    expect(renewed.token).not.toBe(oldToken);
    expect(Date.parse(renewed.expires) - Date.now()).toBeGreaterThan(23 * 3600_000);
    const trail = JSON.parse(await ok(['audit-log', '--user', 'alice', '--since', '10m', '--format', 'json', '-c', C])) as { method: string; route: string; status: number; summary: string }[];
    expect(trail.some((r) => r.method === 'POST' && r.route === '/api/login' && r.status === 401)).toBe(true);
    expect(trail.some((r) => r.status === 401 && /disabled/.test(r.summary))).toBe(true);
    expect(JSON.stringify(trail)).not.toContain(PASSWORD);
    // Only a superuser reads the trail.
    await refused(['audit-log'], /needs a controller superuser/, /admin/);
  }, 120_000);

  it('the bootstrap admin sets a password and logs in with it where its token is gone', async () => {
    await ok(['change-user-password', '--password-file', '-', '-c', C], { input: 'admin-e2e-Password-1\n' });
    // A copy of the harness's home without the token: logging out there would revoke the token every test file shares.
    const copy = mkdtempSync(join(tmpdir(), 'sigil-admin-e2e-'));
    try {
      writeFileSync(join(copy, 'controllers.yaml'), readFileSync(join(process.env.SIGIL_HOME!, 'controllers.yaml')));
      writeFileSync(join(copy, 'accounts.yaml'), YAML.stringify({ controllers: { [C]: { user: 'admin' } } }), { mode: 0o600 });
      const env = { ...process.env, SIGIL_HOME: copy };
      const run = (args: string[], input = '') =>
        new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
          const child = execFile(join(ROOT, 'bin', 'sigil'), args, { env, timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }));
          child.stdin?.end(input);
        });
      const before = await run(['models', '-c', C]);
      expect(before.stderr.startsWith(`ERROR not logged in to controller "${C}"\nhint: log in with \`sigil login -c ${C} -u admin\``), before.stderr).toBe(true);
      expect((await run(['login', '-u', 'admin', '-c', C, '--password-file', '-'], 'admin-e2e-Password-1\n')).stdout).toMatch(/^Welcome, admin\./);
      expect((await run(['models', '-c', C])).stdout).toContain(name);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
    // The harness's own session is untouched.
    expect(await ok(['models', '-c', C])).toContain(name);
  });
});
}

for (const p of providers()) describe.skipIf(!p.available)(p.name, () => suite(p));
