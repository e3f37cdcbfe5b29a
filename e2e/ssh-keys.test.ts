// SSH keys in one place, and agents never trusted beyond their own machine (issue 12.5,
// 12.6), on the shared local-process controller: keys reach every machine's authorized_keys
// (the machine's own directory, never the host's /root/.ssh) within seconds, machines added
// later included; a rotated agent credential is taken by the running agent, which keeps
// working while the old credential gets 401; a unit cannot reach a relation it is not in.
// On the shared LXC controller (one container): a user's key lets them into root and out
// again, and the same relation isolation holds for a real machine's agent.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHARMS, ROOT, apiGet, controllerEntry, freshModel, ok, poll, providers, sigil, status, until, workload, type Provider } from './harness.ts';

const C = 'e2e';
const scratch = mkdtempSync(join(tmpdir(), 'sigil-ssh-keys-e2e-'));
const keys: Record<string, string> = {};
let m: string;
let modelName: string;
const hostKeys = '/root/.ssh/authorized_keys';
const hostBefore = existsSync(hostKeys) ? readFileSync(hostKeys, 'utf8') : undefined;

beforeAll(async () => {
  for (const name of ['one', 'two', 'three']) {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `joe@${name}`, '-f', join(scratch, name)]);
    keys[name] = readFileSync(join(scratch, `${name}.pub`), 'utf8').trim();
  }
  m = await freshModel('sshkeys');
  modelName = m.split(':')[1]!;
  await ok(['deploy', join(CHARMS, 'source'), '-m', m, '--config', 'token=k1']);
  await until(m, 'source active', (s) => workload(s, 'source/0') === 'active token=k1', 90_000);
}, 120_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const machineDir = (id: string) => join(controllerEntry(C).dir, 'machines', modelName, id);
const authorizedKeys = (id: string) => {
  const f = join(machineDir(id), 'root', '.ssh', 'authorized_keys');
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
};
const modelKeysOn = (id: string) => {
  const text = authorizedKeys(id);
  const block = /# BEGIN sigil model keys[^\n]*\n([\s\S]*?)# END sigil model keys\n/.exec(text);
  return block ? block[1]!.trim().split('\n') : [];
};
const fingerprint = (name: string) => execFileSync('ssh-keygen', ['-lf', join(scratch, `${name}.pub`)], { encoding: 'utf8' }).split(' ')[1]!;
/** Waits until machine `id` holds exactly `want` as model keys; returns how long it took. */
async function keysReach(id: string, want: string[], since: number): Promise<number> {
  await poll(`machine ${id} to hold keys ${want.map((k) => k.split(' ')[2]).join(', ') || '(none)'}`, async () => (JSON.stringify(modelKeysOn(id)) === JSON.stringify(want) ? true : undefined), 30_000, 100);
  return Date.now() - since;
}

describe('ssh keys', () => {
  it('reach every machine within seconds, machines added later included, and leave the host alone', async () => {
    let t = Date.now();
    await ok(['add-ssh-key', '-m', m, keys.one!]);
    const took = await keysReach('0', [keys.one!], t);
    console.log(`add-ssh-key reached machine 0 in ${took} ms`);
    expect(statSync(join(machineDir('0'), 'root', '.ssh', 'authorized_keys')).mode & 0o777).toBe(0o600);
    expect(await ok(['ssh-keys', '-m', m])).toBe(`Keys used in model: ${modelName}\n${fingerprint('one')} (joe@one)\n`);
    expect(await ok(['ssh-keys', '-m', m, '--full'])).toBe(`Keys used in model: ${modelName}\n${keys.one}\n`);

    writeFileSync(join(scratch, 'team.keys'), `# the team\n${keys.two}\n\n${keys.three}\n`);
    t = Date.now();
    await ok(['import-ssh-key', '-m', m, join(scratch, 'team.keys')]);
    await keysReach('0', [keys.one!, keys.two!, keys.three!], t);

    await ok(['add-unit', 'source', '-m', m]);
    await until(m, 'source/1 active', (s) => workload(s, 'source/1') === 'active token=k1', 90_000);
    const doc = JSON.parse(await ok(['status', '-m', m, '--format', 'json'])) as { applications: Record<string, { units: Record<string, { machine: string }> }> };
    const second = doc.applications.source!.units['source/1']!.machine;
    await keysReach(second, [keys.one!, keys.two!, keys.three!], Date.now());

    t = Date.now();
    await ok(['remove-ssh-key', '-m', m, 'joe@two', fingerprint('three')]);
    await keysReach('0', [keys.one!], t);
    await keysReach(second, [keys.one!], t);
    if (hostBefore === undefined) expect(existsSync(hostKeys)).toBe(false);
    else expect(readFileSync(hostKeys, 'utf8')).toBe(hostBefore);
  }, 240_000);

  it('refuse what is not a key, or an id they cannot fetch, with a hint, and change nothing', async () => {
    const before = await ok(['ssh-keys', '-m', m]);
    const bad = await sigil(['add-ssh-key', '-m', m, 'ssh-ed25519 not-base64!']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/^ERROR invalid ssh key "ssh-ed25519 not-base64!": /m);
    expect(bad.stderr).toMatch(/^hint: .*ssh-keygen/m);
    const dup = await sigil(['add-ssh-key', '-m', m, keys.two!, keys.one!]);
    expect(dup.stderr).toContain(`ERROR ssh key ${fingerprint('one')} (joe@one) is already in model ${modelName}`);
    const gh = await sigil(['import-ssh-key', '-m', m, 'gh:someone']);
    expect(gh.stderr).toMatch(/does not fetch keys from GitHub or Launchpad[\s\S]*hint: .*import-ssh-key/);
    const missing = await sigil(['remove-ssh-key', '-m', m, 'joe@nobody']);
    expect(missing.stderr).toContain(`ERROR no ssh key "joe@nobody" in model ${modelName}`);
    expect(await ok(['ssh-keys', '-m', m])).toBe(before);
    expect(modelKeysOn('0')).toEqual([keys.one]);
  }, 120_000);
});

/** A POST to controller `c`'s agent API with a machine's credential, trusting only the controller's CA. */
function agentPost(c: string, path: string, token: string, body: unknown): Promise<{ status: number; text: string }> {
  const e = controllerEntry(c);
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = httpsRequest(e.endpoint + path, { method: 'POST', ca: e['ca-cert'], headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': payload.length }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}
const agentToken = (id: string) => (JSON.parse(readFileSync(join(machineDir(id), 'agent.json'), 'utf8')) as { token: string }).token;

describe('rotate-agent-credential', () => {
  it('gives the running agent a new credential: it keeps working, and the old one gets 401', async () => {
    const old = agentToken('0');
    expect((await apiGet(C, '/api/agent/view', { authorization: `Bearer ${old}` })).status).toBe(200);
    const out = await ok(['rotate-agent-credential', '0', '-m', m]);
    expect(out).toBe('machine 0: the agent took a new credential; the old one no longer works\n');
    const fresh = agentToken('0');
    expect(fresh).not.toBe(old);
    expect(statSync(join(machineDir('0'), 'agent.json')).mode & 0o777).toBe(0o600);
    const stale = await apiGet(C, '/api/agent/view', { authorization: `Bearer ${old}` });
    expect(stale.status).toBe(401);
    expect((await apiGet(C, '/api/agent/view', { authorization: `Bearer ${fresh}` })).status).toBe(200);
    // The agent still runs hooks and operations with the new credential.
    await ok(['config', 'source', 'token=rotated', '-m', m]);
    await until(m, 'source/0 ran config-changed after the rotation', (s) => workload(s, 'source/0') === 'active token=rotated', 60_000);
    expect((await ok(['exec', '-m', m, '--unit', 'source/0', '--', 'echo', 'alive'])).trim()).toBe('alive');
    // Neither credential is written to the controller log.
    const log = readFileSync(join(controllerEntry(C).dir, 'controller.log'), 'utf8');
    expect(log).not.toContain(old);
    expect(log).not.toContain(fresh);
    expect(log).toContain('agent credential issued');
    // Bad input: not a machine id, or a machine that does not exist.
    expect((await sigil(['rotate-agent-credential', 'source/0', '-m', m])).stderr).toMatch(/ERROR "source\/0" is not a machine id\nhint: /);
    expect((await sigil(['rotate-agent-credential', '99', '-m', m])).stderr).toMatch(/ERROR machine "99" not found/);
  }, 180_000);
});

/**
 * Issue 12.6 on provider `p`: in model `m`, where source runs, a sink related to it cannot
 * reach the relation of another sink (lone), from a hook or with its machine's own credential.
 * `place` puts the new units where the provider wants them (one LXC machine for all).
 */
async function unitStaysInItsRelations(p: Provider, m: string, place: string[]): Promise<void> {
  await ok(['deploy', join(CHARMS, 'sink'), 'sink', '-m', m, ...place]);
  await ok(['deploy', join(CHARMS, 'sink'), 'lone', '-m', m, ...place]);
  await ok(['integrate', 'source', 'sink', '-m', m]);
  await ok(['integrate', 'source', 'lone', '-m', m]);
  await until(m, 'sink and lone active', (s) => workload(s, 'sink/0').startsWith('active') && workload(s, 'lone/0').startsWith('active'), p.settleMs);
  const loneRel = (await ok(['exec', '-m', m, '--unit', 'lone/0', '--', 'relation-ids', 'input'])).trim();
  expect(loneRel).toMatch(/^input:\d+$/);
  const read = await sigil(['exec', '-m', m, '--unit', 'sink/0', '--', 'relation-get', '-r', loneRel, '-', 'source/0']);
  expect(read.code).not.toBe(0);
  const write = await sigil(['exec', '-m', m, '--unit', 'sink/0', '--', 'relation-set', '-r', loneRel, 'forged=1']);
  expect(write.code).not.toBe(0);
  // The machine's own credential, used directly, is refused too, and nothing is written.
  const s = JSON.parse(await ok(['status', '-m', m, '--format', 'json'])) as { applications: Record<string, { units: Record<string, { machine: string }> }> };
  const sinkMachine = s.applications.sink!.units['sink/0']!.machine;
  const token = (JSON.parse(await p.machineFile(m, sinkMachine, '/etc/sigil/agent.json')) as { token: string }).token;
  const relId = loneRel.split(':')[1]!;
  const forged = await agentPost(p.controller, '/api/agent/commit', token, { unit: 'sink/0', hook: 'update-status', relationUnit: { [relId]: { forged: '1' } }, relationApp: {}, leaderSettings: {}, unitState: {}, openPorts: [], closePorts: [] });
  expect(forged.status).toBe(403);
  expect(JSON.parse(forged.text).error.message).toBe(`sink/0 is not a member of relation ${relId}`);
  // A unit on another machine is out of this credential's reach (on LXC all share one machine).
  if (s.applications.lone!.units['lone/0']!.machine !== sinkMachine) {
    const other = await agentPost(p.controller, '/api/agent/status', token, { unit: 'lone/0', agent: 'idle', message: 'forged' });
    expect(other.status).toBe(403);
  }
  const log = readFileSync(join(controllerEntry(p.controller).dir, 'controller.log'), 'utf8');
  expect(log).toMatch(new RegExp(`agent request refused.*sink/0 is not a member of relation ${relId}|sink/0 is not a member of relation ${relId}.*agent request refused`));
}

describe('a unit', () => {
  it('cannot read or write a relation its application is not in, from a hook or with its machine\'s credential', () => unitStaysInItsRelations(providers()[0]!, m, []), 240_000);
});

/** The CLI as bob, from his own SIGIL_HOME. */
function bob(args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(join(ROOT, 'bin', 'sigil'), args, { env: { ...process.env, SIGIL_HOME: join(scratch, 'bob') }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

describe('who may use ssh keys', () => {
  it('read lists them; only admins change them or rotate credentials; ssh needs write', async () => {
    const added = await ok(['add-user', `bob${process.pid}`, '-c', C]);
    const string = /sigil register (\S+)/.exec(added)![1]!;
    const reg = await bob(['register', string, '--password-file', '-'], 'bob-e2e-Secret-0815\n');
    expect(reg.code, reg.stderr).toBe(0);
    await ok(['grant', `bob${process.pid}`, 'read', modelName, '-c', C]);
    const bm = `e2e:${modelName}`;
    const list = await bob(['ssh-keys', '-m', bm]);
    expect(list.stdout).toBe(`Keys used in model: ${modelName}\n${fingerprint('one')} (joe@one)\n`);
    for (const args of [['add-ssh-key', '-m', bm, keys.two!], ['remove-ssh-key', '-m', bm, 'joe@one'], ['rotate-agent-credential', '0', '-m', bm]]) {
      const r = await bob(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(`^ERROR user "bob${process.pid}" has read access to model "${modelName}"; .* needs admin access`, 'm'));
    }
    const ssh = await bob(['ssh', '-m', bm, '0', 'true']);
    expect(ssh.code).not.toBe(0);
    expect(ssh.stderr).toMatch(/^ERROR ssh to 0 needs write access to model /m);
    expect(ssh.stderr).toMatch(/^hint: ask a model admin to `sigil grant <you> write <model>` and to add your public key with `sigil add-ssh-key`/m);
    // With write, the controller says where to connect (this provider then has no sshd).
    await ok(['grant', `bob${process.pid}`, 'write', modelName, '-c', C]);
    const allowed = await bob(['ssh', '-m', bm, '0', 'true']);
    expect(allowed.stderr).toMatch(/^ERROR ssh needs machines with their own sshd/m);
    expect(await ok(['ssh-keys', '-m', m])).toBe(`Keys used in model: ${modelName}\n${fingerprint('one')} (joe@one)\n`);
  }, 180_000);
});

/** Runs ssh as a user holding only `key` (not the controller's key), without prompts. */
function sshWith(key: string, address: string): Promise<number> {
  return new Promise((resolve) => {
    const args = ['-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', `root@${address}`, 'true'];
    execFile('ssh', args, { timeout: 20_000 }, (err) => resolve(err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0));
  });
}

describe.skipIf(!providers()[1]!.available)('on LXC machines', () => {
  const p = providers()[1]!;
  let lm: string;
  beforeAll(async () => {
    lm = await p.model('sshkeys');
    await ok(['add-machine', '-m', lm]);
    await until(lm, 'machine 0 started', (x) => x.machines['0']?.['juju-status'].current === 'started' && Boolean(x.machines['0']?.['dns-name']), 600_000);
  }, 660_000);
  afterAll(() => sigil(['destroy-model', lm, '--yes', '--timeout', '2m']), 180_000);

  it("ssh keys let a user's own key into root on a real machine within seconds, and out again when removed", async () => {
    const address = (await status(lm)).machines['0']!['dns-name']!;
    const key = join(scratch, 'one');
    expect(await sshWith(key, address)).not.toBe(0);
    let t = Date.now();
    await ok(['add-ssh-key', '-m', lm, keys.one!]);
    await poll('ssh with the added key', async () => ((await sshWith(key, address)) === 0 ? true : undefined), 60_000, 500);
    console.log(`LXC: add-ssh-key let the key in after ${Date.now() - t} ms`);
    t = Date.now();
    await ok(['remove-ssh-key', '-m', lm, 'joe@one']);
    await poll('ssh refused after remove-ssh-key', async () => ((await sshWith(key, address)) !== 0 ? true : undefined), 60_000, 500);
    console.log(`LXC: remove-ssh-key shut the key out after ${Date.now() - t} ms`);
    // The controller's own key, written at provisioning outside the managed block, still works.
    expect((await ok(['ssh', '-m', lm, '0', 'true'])).trim()).toBe('');
  }, 180_000);

  it('a unit cannot read or write a relation its application is not in, from a hook or with its machine\'s credential', async () => {
    await ok(['deploy', join(CHARMS, 'source'), '-m', lm, '--to', '0', '--config', 'token=lxc']);
    await unitStaysInItsRelations(p, lm, p.onMachine('0'));
  }, 480_000);
});
