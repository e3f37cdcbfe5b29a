import { createHash } from 'node:crypto';
import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { lstat, readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHARMS, controllerEntry, hookLines, lxcPath, ok, poll, providers, sigil, status, until, workload, type Provider } from './harness.ts';
import { testDir } from '../tests/temp.ts';

/**
 * Juju secrets end to end, on the local-process provider and on LXC (one container, both
 * charms on it): a charm's leader makes a password
 * and shares it as a secret over a relation, the other side reads it with secret-get, a new
 * revision fires secret-changed, an admin sees the value with `show-secret --reveal`, and
 * nowhere else (logs, status, the database, any file under SIGIL_HOME, and on LXC any file
 * or journal entry inside the machine) holds it in clear.
 */
for (const p of providers()) describe.skipIf(!p.available)(`Juju secrets (${p.name})`, () => suite(p));

function suite(p: Provider): void {
  let m: string;
  let id = '';
  const digest = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);
  const reveal = async (ref: string, revision?: number) =>
    (Object.values(JSON.parse(await ok(['show-secret', ref, '-m', m, '--reveal', '--format', 'json', ...(revision ? ['--revision', String(revision)] : [])]))) as { content: Record<string, string>; revision: number }[])[0]!;
  const seen: string[] = [];

  beforeAll(async () => {
    m = await p.model('secrets');
    await ok(['deploy', join(CHARMS, 'secret-owner'), '-m', m]);
    await ok(['deploy', join(CHARMS, 'secret-reader'), '-m', m, ...p.onMachine('0')]);
    await ok(['integrate', 'secret-owner', 'secret-reader', '-m', m]);
  });

  it('shares a generated password over a relation: the reader gets it with secret-get', async () => {
    await until(m, 'the reader read the password', (s) => workload(s, 'secret-reader/0').startsWith('active password sha '), p.settleMs);
    const list = JSON.parse(await ok(['secrets', '-m', m, '--format', 'json'])) as Record<string, { owner: string; label?: string; revision: number; content?: unknown }>;
    const entries = Object.entries(list).filter(([, s]) => s.owner === 'secret-owner');
    expect(entries).toHaveLength(1);
    id = entries[0]![0];
    expect(entries[0]![1]).toMatchObject({ label: 'creds' });
    expect(entries[0]![1].content).toBeUndefined();
    const shown = await reveal(id);
    const pw = shown.content.password!;
    expect(pw).toMatch(/^[A-Za-z0-9]{24}$/);
    seen.push(pw);
    expect(workload(await status(m), 'secret-reader/0')).toBe(`active password sha ${digest(pw)}`);
    // Metadata is for every reader of the model; the value only with --reveal.
    const plain = await ok(['show-secret', id, '-m', m]);
    expect(plain).toContain('owner: secret-owner');
    expect(plain).not.toContain(pw);
  }, p.settleMs + 60_000);

  it('fires secret-changed on the consumer when the owner makes a new revision, and the owner may then remove the old one', async () => {
    const before = seen[0]!;
    await ok(['config', 'secret-owner', 'generation=2', '-m', m]);
    const now = await poll('revision 2', async () => {
      const s = await reveal(id);
      return s.revision === 2 ? s : undefined;
    }, 60_000);
    const pw = now.content.password!;
    expect(pw).not.toBe(before);
    seen.push(pw);
    await until(m, 'the reader refreshed to revision 2', (s) => workload(s, 'secret-reader/0') === `active password sha ${digest(pw)}`, 60_000);
    const lines = await hookLines(m, 'secret-reader/0');
    expect(lines).toContainEqual(`secret-changed secret=secret:${id} label=shared-creds`);
    // The reader moved to revision 2, so revision 1 is obsolete: the owner gets secret-remove for it.
    await poll('the owner removed revision 1', async () => ((await hookLines(m, 'secret-owner/0')).includes(`secret-remove secret=secret:${id} label=creds revision=1`) ? true : undefined), 60_000);
    const revisions = JSON.parse(await ok(['show-secret', id, '-m', m, '--revisions', '--format', 'json'])) as Record<string, { revisions: { revision: number }[] }>;
    await poll('revision 1 gone', async () => {
      const r = JSON.parse(await ok(['show-secret', id, '-m', m, '--revisions', '--format', 'json'])) as Record<string, { revisions: { revision: number }[] }>;
      return r[id]!.revisions.map((x) => x.revision).join(',') === '2' ? true : undefined;
    }, 30_000);
    expect(revisions[id]).toBeDefined();
  }, 180_000);

  it('passes a user secret to a charm through a config option of type secret, once granted', async () => {
    const value = `user-secret-${Date.now().toString(36)}-Qx7`;
    seen.push(value);
    const dir = testDir('sigil-secret-');
    writeFileSync(join(dir, 'values.yaml'), `password: ${value}\n`, { mode: 0o600 });
    const uri = (await ok(['add-secret', 'extra', '--file', join(dir, 'values.yaml'), '--info', 'for the reader', '-m', m])).trim();
    expect(uri).toMatch(/^secret:[0-9a-v]{20}$/);
    // Not granted yet: the reader's hook fails to read it, with Juju's "not found".
    await ok(['config', 'secret-reader', `extra-secret=${uri}`, '-m', m]);
    await until(m, 'config-changed failing on an ungranted secret', (s) => workload(s, 'secret-reader/0') === 'error hook failed: "config-changed"', 60_000);
    await ok(['grant-secret', 'extra', 'secret-reader', '-m', m]);
    // The automatic retry may get there first; resolving a unit not in error is then refused.
    await sigil(['resolve', 'secret-reader/0', '-m', m]);
    const sha = await poll('the reader read the user secret', async () => {
      const r = await sigil(['exec', '-m', m, '--unit', 'secret-reader/0', '--', 'cat', '../extra.sha']);
      return r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : undefined;
    }, 60_000);
    expect(sha).toBe(digest(value));
    const list = await ok(['secrets', '-m', m]);
    expect(list).toMatch(/^ID\s+Name\s+Owner\s+Rotation\s+Revision\s+Last updated$/m);
    expect(list).toMatch(new RegExp(`^${uri.slice(7)}\\s+extra\\s+<model>\\s+never\\s+1\\s+`, 'm'));
    expect((await reveal('extra')).content).toEqual({ password: value });
  }, 180_000);

  it('keeps every value out of the debug-log, status and show-unit, where hooks printed them as ***', async () => {
    const log = await ok(['debug-log', '-m', m, '--replay', '--no-tail', '-l', 'DEBUG']);
    expect(log).toMatch(/generated password \*\*\* for generation 1/);
    expect(log).toMatch(/read password \*\*\*/);
    expect(log).toMatch(/new password \*\*\*/);
    expect(log).toMatch(/extra password \*\*\*/);
    const st = await ok(['status', '-m', m, '--format', 'json']);
    const su = await ok(['show-unit', 'secret-reader/0', '-m', m, '--format', 'json']);
    for (const v of seen) for (const text of [log, st, su]) expect(text).not.toContain(v);
  }, 120_000);

  /**
   * Every regular file under SIGIL_HOME that holds one of `needles`, but the other controllers'
   * directories (other files run their machines there at the same time); on LXC that includes
   * the upper layer of each of this model's machines' overlays: every file they wrote. The
   * other models' machines on the shared LXC controller and its apt cache (packages fetched
   * from the archive) are left out: gigabytes no secret of this model reaches, whose reading
   * outlasted the test on a busy runner. Files that vanish while we read are gone, not leaks;
   * a filesystem mounted below SIGIL_HOME (a /proc left in an image by its build) holds no
   * files of ours.
   */
  const filesHolding = async (needles: string[]): Promise<string[]> => {
    const dir = controllerEntry(p.controller).dir;
    // The shared base image lives outside SIGIL_HOME (SIGIL_IMAGES, e2e/global-setup.ts).
    const machinesDir = join(dir, 'lxc-provider', 'lxc');
    const mine = `sigil-${m.slice(m.indexOf(':') + 1)}-`;
    const skipped = (path: string) => path === join(dir, 'lxc-provider', 'apt-cache') || (dirname(path) === machinesDir && !basename(path).startsWith(mine));
    const found: string[] = [];
    const device = (await lstat(process.env.SIGIL_HOME!)).dev;
    // Asynchronous, so a scan of a large home never holds the test worker's event loop.
    const scan = async (path: string): Promise<void> => {
      try {
        const st = await lstat(path);
        if (st.isDirectory()) {
          if (st.dev !== device || skipped(path)) return;
          for (const name of await readdir(path)) {
            if (path === dirname(dir) && join(path, name) !== dir) continue;
            await scan(join(path, name));
          }
        } else if (st.isFile()) {
          const data = await readFile(path);
          if (needles.some((n) => data.includes(n))) found.push(path);
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    };
    await scan(process.env.SIGIL_HOME!);
    return found;
  };
  const needles = () => seen.flatMap((v) => [v, Buffer.from(v).toString('base64')]);

  it('leaves only ciphertext under SIGIL_HOME: no file, the database and the machines\' files included, holds a value or its base64', async () => {
    const dir = controllerEntry(p.controller).dir;
    // The scan reads state.db and its write-ahead log alike. (No checkpoint first: this is the
    // run's shared controller, and a checkpoint of its log from another process holds the
    // database longer than the controller waits for a lock: its other users' calls failed.)
    expect(await filesHolding(needles())).toEqual([]);
    // The check can fail: the encrypted database holds the sealed revisions, not the values,
    // and the same scan finds what the reader wrote on its machine (the user secret's digest).
    expect(execFileSync('sqlite3', [join(dir, 'state.db'), 'SELECT COUNT(*) FROM secret_revisions;'], { encoding: 'utf8' }).trim()).not.toBe('0');
    expect((await filesHolding([digest(seen[2]!)])).some((f) => f.endsWith('/extra.sha'))).toBe(true);
  }, 120_000);

  it.runIf(p.name === 'lxc')('leaves no value inside the machine either: not in any file (tmpfs included) nor the journal', async () => {
    const s = await status(m);
    const lxcpath = lxcPath(p.controller);
    // The needles go in on stdin, never on a command line or in a file on the machine (where
    // the check itself would leave them); bash hands them to grep through a pipe. Never
    // synchronously: a grep over a machine can outlast vitest's 60 s RPC deadline on a busy
    // runner, which fails the whole run.
    const attach = (instance: string, script: string, input: string) => new Promise<string>((resolve, reject) => {
      const child = execFile('lxc-attach', ['-P', lxcpath, '-n', instance, '--clear-env', '--', '/bin/bash', '-c', script], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        // grep exits 1 when it finds nothing: the outcome we want; anything else is an error.
        if (!err || err.code === 1) resolve(stdout);
        else reject(new Error(`lxc-attach ${instance}: ${err.message}: ${stderr}`));
      });
      child.stdin?.end(input);
    });
    const files = 'mapfile -t n; grep -rlsF -D skip -f <(printf "%s\\n" "${n[@]}") /etc /var /root /srv /opt /home /run /tmp /dev/shm';
    const journal = 'mapfile -t n; journalctl --no-pager -o cat | grep -F -f <(printf "%s\\n" "${n[@]}")';
    const instances = Object.values(s.machines).map((x) => x['instance-id']);
    expect(instances.length).toBeGreaterThan(0);
    for (const instance of instances) {
      expect({ instance, files: await attach(instance, files, needles().join('\n') + '\n') }).toEqual({ instance, files: '' });
      expect({ instance, journal: await attach(instance, journal, needles().join('\n') + '\n') }).toEqual({ instance, journal: '' });
    }
    // Both greps can fail: they find the digest the reader keeps, and the agent's own lines.
    expect(await attach(instances[0]!, files, `${digest(seen[2]!)}\n`)).toMatch(/\/extra\.sha$/m);
    expect(await attach(instances[0]!, journal, 'sigil-agent\n')).toMatch(/Started sigil-agent/);
  }, 120_000);
}
