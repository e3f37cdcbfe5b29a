// Day-2 operations (issue 18) against real parts: a local-process controller of its own (the
// file restores a controller, so it bootstraps one), Debian's restic with a local repository,
// Debian's prosody on loopback with a chat room, and an HTTP receiver for webhooks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client as xmppClient, xml } from '@xmpp/client';
import { CHARMS, ok, poll, sigil, status } from './harness.ts';
import { canRun } from '../tests/ci.ts';
import { hasProsody, startProsody, type Prosody } from '../tests/prosody.ts';
import { alive } from '../tests/procs.ts';
import { EXIT } from '@sigil/api';

const hasRestic = (() => {
  try {
    execFileSync('restic', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const C = 'ops';
const M = `${C}:default`;

describe.skipIf(!canRun(hasRestic && hasProsody(), 'restic and prosody (scripts/setup.sh installs them)'))('day-2 operations: backups, schedules, notifications', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'sigil-ops-'));
  const repo = join(scratch, 'restic-repo');
  const passwordFile = join(scratch, 'restic.pw');
  const secretFile = join(scratch, 'hook.secret');
  const xmppPasswordFile = join(scratch, 'xmpp.pw');
  const homeA = process.env.SIGIL_HOME!;
  const homeB = mkdtempSync(join(tmpdir(), 'sigil-ops-home-'));
  let prosody: Prosody | undefined;
  let receiver: Server | undefined;
  let hookUrl = '';
  const hooks: { event: string; body: Record<string, string>; signed: boolean }[] = [];
  const room: string[] = [];
  let watcher: ReturnType<typeof xmppClient> | undefined;

  const rounds = async (args: string[]) => (await ok(args)).trim();

  beforeAll(async () => {
    writeFileSync(passwordFile, 'correct horse battery staple\n', { mode: 0o600 });
    writeFileSync(secretFile, 'hook-secret-1\n', { mode: 0o600 });
    writeFileSync(xmppPasswordFile, 'bot-pw\n', { mode: 0o600 });
    prosody = await startProsody({ sigil: 'bot-pw', watcher: 'watch-pw' });
    // The webhook receiver checks each body's HMAC-SHA256 signature under the shared secret.
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const expected = `sha256=${createHmac('sha256', 'hook-secret-1').update(raw).digest('hex')}`;
        hooks.push({ event: String(req.headers['x-sigil-event']), body: JSON.parse(raw.toString('utf8')) as Record<string, string>, signed: req.headers['x-sigil-signature-256'] === expected });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
    // Someone in the room, to see what arrives there.
    watcher = xmppClient({ service: `xmpp://${prosody.server}`, domain: 'localhost', username: 'watcher', password: 'watch-pw', resource: 'w' });
    watcher.on('stanza', (s) => {
      const st = s as { is(n: string): boolean; attrs: Record<string, string>; getChildText(n: string): string | null };
      if (st.is('message') && st.attrs.type === 'groupchat' && st.getChildText('body')) room.push(st.getChildText('body')!);
    });
    await watcher.start();
    await watcher.send(xml('presence', { to: 'ops@conference.localhost/watcher' }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));

    await ok(['bootstrap', '--provider', 'local-process', C]);
    await ok(['deploy', join(CHARMS, 'datastore'), '-m', M]);
    await ok(['deploy', join(CHARMS, 'datastore'), 'fresh', '-m', M]);
    await ok(['wait', '-m', M, '--timeout', '2m']);
  }, 240_000);

  afterAll(async () => {
    process.env.SIGIL_HOME = homeB;
    await sigil(['destroy-controller', C, '--yes']);
    process.env.SIGIL_HOME = homeA;
    // The first controller's agents outlived it (they moved to the restored one): destroying
    // it here stops them from their pid files.
    await sigil(['destroy-controller', C, '--yes']);
    await watcher?.stop().catch(() => {});
    await prosody?.stop();
    await new Promise((r) => (receiver ? receiver.close(r) : r(undefined)));
    rmSync(scratch, { recursive: true, force: true });
    rmSync(homeB, { recursive: true, force: true });
  }, 120_000);

  it('refuses bad input with a hint and changes nothing', async () => {
    await ok(['run', '-m', M, 'datastore/0', 'put', 'value=kept-1']);
    const bad = async (args: string[], message: string, hint: RegExp, exit: number = EXIT.failed) => {
      const r = await sigil(args);
      expect(r.code, r.stdout).toBe(exit);
      expect(r.stderr).toContain(`ERROR ${message}`);
      expect(r.stderr).toMatch(hint);
    };
    await bad(['schedule', 'add', 'x', '-m', M, '--unit', 'datastore/leader', '--action', 'backup', '--every', '6 hours'], '"6 hours" is not an interval', /hint: give --every as a duration such as 30m, 6h or 1d/);
    await bad(['schedule', 'add', 'x', '-m', M, '--unit', 'datastore/leader', '--action', 'backup', '--every', '5s'], '--every 5s is outside 1m..366d', /hint: give an interval of at least 1m/);
    await bad(['schedule', 'add', 'x', '-m', M, '--unit', 'datastore/leader', '--action', 'dump', '--every', '6h'], 'charm datastore (application datastore) has no action "dump"', /hint: its actions: backup, get, put, restore/, EXIT.notFound);
    expect(await rounds(['schedule', 'list', '-m', M])).toContain('No schedules');

    // A restic repository made with one password does not open with another.
    execFileSync('restic', ['init'], { env: { ...process.env, RESTIC_REPOSITORY: repo, RESTIC_PASSWORD_FILE: passwordFile }, stdio: 'ignore' });
    const wrong = join(scratch, 'wrong.pw');
    writeFileSync(wrong, 'not it\n');
    await bad(['backup-store', '-c', C, '--restic', repo, '--password-file', wrong], `restic repository ${repo} does not open with this password`, /hint: give the password the repository was created with/, EXIT.refused);
    expect(await rounds(['backup-store', '-c', C])).toContain('No backup store');
    // The password is never taken from the command line.
    const argv = await sigil(['backup-store', '-c', C, '--restic', repo, '--password', 'x']);
    expect(argv.code).not.toBe(0);

    await bad(['notify', 'add', 'dead', '-c', C, '--webhook', 'http://127.0.0.1:9/hook'], 'the test POST to http://127.0.0.1:9/hook failed: ECONNREFUSED', /hint: check the URL and that the receiver answers 2xx; nothing was added/, EXIT.unavailable);
    await bad(['notify', 'add', 'badpw', '-c', C, '--xmpp', 'sigil@localhost', '--room', 'ops@conference.localhost', '--xmpp-server', prosody!.server, '--password-file', wrong], 'the test message to ops@conference.localhost as sigil@localhost failed: not-authorized', /hint: check the account, its password/, EXIT.unavailable);
    expect(await rounds(['notify', 'list', '-c', C])).toContain('No notifications');
  }, 120_000);

  it('a scheduled backup runs on its own, lands in restic, shows in status, and is announced', async () => {
    await ok(['notify', 'add', 'hook', '-c', C, '--webhook', hookUrl, '--secret-file', secretFile]);
    await ok(['notify', 'add', 'chat', '-c', C, '--xmpp', 'sigil@localhost', '--room', 'ops@conference.localhost', '--xmpp-server', prosody!.server, '--password-file', xmppPasswordFile, '--events', 'backup-done,backup-failed']);
    expect(hooks.map((h) => [h.event, h.signed])).toEqual([['notify-test', true]]);
    await poll('the room hears the test message', async () => (room.some((m) => m.includes('notifications "chat" added by admin')) ? true : undefined), 30_000);
    await ok(['backup-store', '-c', C, '--restic', repo, '--password-file', passwordFile]);
    // A deploy is announced with the charm's revision and who did it.
    await ok(['deploy', join(CHARMS, 'datastore'), 'announced', '-m', M]);
    const deploy = await poll('the webhook gets deploy', async () => hooks.find((h) => h.event === 'deploy'), 30_000);
    expect(deploy.body).toMatchObject({ event: 'deploy', model: 'default', subject: 'announced', outcome: 'ok', detail: 'charm datastore revision 0, 1 unit(s)', by: 'admin' });

    // Added with the shortest interval; the scheduler starts it by itself a minute later.
    await ok(['schedule', 'add', 'minutely', '-m', M, '--unit', 'datastore/leader', '--action', 'backup', '--every', '1m', '--keep', '2']);
    const s = await poll('the schedule runs by itself', async () => {
      const doc = JSON.parse(await ok(['schedule', 'list', '-m', M, '--format', 'json'])) as { schedules: Record<string, { 'last-status': string; 'last-snapshot': string; 'last-message': string }> };
      const m = doc.schedules.minutely!;
      return m['last-status'] !== '' ? m : undefined;
    }, 120_000, 1000);
    expect(s['last-status'], s['last-message']).toBe('completed');
    expect(s['last-message']).toMatch(/^snapshot [0-9a-f]{8} of \/.*\/backups\/data-\d{8}T\d+ from datastore\/0 \(\d+ bytes, \d+ added to the restic store\)$/);

    // In the repository itself, as restic sees it (with the password from the file).
    const snaps = JSON.parse(execFileSync('restic', ['snapshots', '--json'], { env: { ...process.env, RESTIC_REPOSITORY: repo, RESTIC_PASSWORD_FILE: passwordFile }, encoding: 'utf8' })) as { short_id: string; tags: string[] }[];
    expect(snaps.map((x) => x.short_id)).toContain(s['last-snapshot']);
    expect(snaps.find((x) => x.short_id === s['last-snapshot'])!.tags).toEqual(expect.arrayContaining(['sigil', 'model=default', 'app=datastore', 'schedule=minutely']));

    const st = await status(M);
    expect(st.applications.datastore!['last-backup']).toMatchObject({ schedule: 'minutely', action: 'backup', status: 'completed', snapshot: s['last-snapshot'] });

    const done = await poll('the webhook gets backup-done', async () => hooks.find((h) => h.event === 'backup-done'), 30_000);
    expect(done.signed).toBe(true);
    expect(done.body).toMatchObject({ event: 'backup-done', controller: C, model: 'default', outcome: 'ok', subject: 'datastore/0 (schedule minutely, action backup)', by: 'schedule minutely (added by admin)' });
    const line = await poll('the room hears backup-done', async () => room.find((m) => m.includes('backup-done')), 30_000);
    expect(line).toMatch(new RegExp(`^\\[sigil ${C}\\] backup-done datastore/0 \\(schedule minutely, action backup\\) in model default by schedule minutely \\(added by admin\\): ok \\(snapshot ${s['last-snapshot']} of `));
    const listed = JSON.parse(await ok(['notify', 'list', '-c', C, '--format', 'json'])) as { notifications: Record<string, { delivered: number; failed: number; 'last-error': string }> };
    expect(listed.notifications.hook).toMatchObject({ failed: 0, 'last-error': '' });
    expect(listed.notifications.hook!.delivered).toBeGreaterThanOrEqual(1);
    await ok(['schedule', 'remove', 'minutely', '-m', M]);
  }, 240_000);

  it('restores a snapshot into a fresh unit through its restore action, and keeps only --keep', async () => {
    await ok(['schedule', 'add', 'nightly', '-m', M, '--unit', 'datastore/0', '--action', 'backup', '--every', '1d', '--keep', '2']);
    const first = JSON.parse(await ok(['schedule', 'run', 'nightly', '-m', M, '--format', 'json'])) as { 'last-snapshot': string };
    await ok(['run', '-m', M, 'datastore/0', 'put', 'value=kept-2']);
    const second = JSON.parse(await ok(['schedule', 'run', 'nightly', '-m', M, '--format', 'json'])) as { 'last-snapshot': string };
    await ok(['schedule', 'run', 'nightly', '-m', M]);
    const snaps = JSON.parse(await ok(['backups', '--snapshots', '-m', M, '--format', 'json'])) as { snapshots: { id: string; schedule: string }[] };
    const nightly = snaps.snapshots.filter((x) => x.schedule === 'nightly').map((x) => x.id);
    expect(nightly).toHaveLength(2); // --keep 2: the first is gone, from the list and from restic
    expect(nightly).not.toContain(first['last-snapshot']);

    expect(await rounds(['restore-unit', 'fresh/0', '--from', second['last-snapshot'], '-m', M])).toMatch(new RegExp(`^restored snapshot ${second['last-snapshot']} into fresh/0 \\(.*/var/backups/sigil-restore/${second['last-snapshot']}/data-\\d{8}T\\d+\\): restore completed$`));
    expect(JSON.parse(await ok(['run', '-m', M, 'fresh/0', 'get', '--format', 'json'])) as { value: string }).toMatchObject({ value: 'kept-2' });

    // Into a rebuilt model, as a failover drill does: the snapshot stays the source model's.
    await ok(['add-model', 'rebuilt', '-c', C]);
    await ok(['deploy', join(CHARMS, 'datastore'), 'copy', '-m', `${C}:rebuilt`]);
    await ok(['wait', '-m', `${C}:rebuilt`, '--timeout', '2m']);
    expect(await rounds(['restore-unit', 'copy/0', '--from', second['last-snapshot'], '--from-model', M, '-m', `${C}:rebuilt`])).toMatch(new RegExp(`^restored snapshot ${second['last-snapshot']} into copy/0 .*: restore completed$`));
    expect(JSON.parse(await ok(['run', '-m', `${C}:rebuilt`, 'copy/0', 'get', '--format', 'json'])) as { value: string }).toMatchObject({ value: 'kept-2' });
    const elsewhere = await sigil(['restore-unit', 'copy/0', '--from', second['last-snapshot'], '-m', `${C}:rebuilt`]);
    expect(elsewhere.stderr).toContain(`snapshot "${second['last-snapshot']}" not found in model rebuilt`);
    await ok(['destroy-model', `${C}:rebuilt`, '--yes']);

    const missing = await sigil(['restore-unit', 'fresh/0', '--from', 'deadbeef', '-m', M]);
    expect(missing.code).toBe(EXIT.notFound);
    expect(missing.stderr).toContain('ERROR snapshot "deadbeef" not found in model default\nhint: see `sigil backups --snapshots -m MODEL`');
  }, 180_000);

  it('create-backup while running, restore-backup on a fresh SIGIL_HOME at the old address: agents reconnect', async () => {
    await ok(['run', '-m', M, 'datastore/0', 'put', 'value=before-restore']);
    const file = join(scratch, 'ctl.tar.gz');
    const out = await rounds(['create-backup', '-c', C, '--filename', file]);
    expect(out).toMatch(/^created backup sigil-backup-ops-\d{8}T\d{6}Z\.tar\.gz \(.+, sha256 [0-9a-f]{64}\)\ndownloaded to /);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(out).not.toContain('BEGIN');
    expect(await rounds(['backups', '-c', C])).toMatch(/sigil-backup-ops-\d{8}T\d{6}Z\.tar\.gz/);
    const listed = execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }).trim().split('\n');
    expect(listed).toEqual(expect.arrayContaining(['manifest.json', 'state.db', 'controller.json', 'secrets.key', 'tls/ca.key', 'backup-store.password']));

    // A damaged copy is refused before anything is written.
    const damaged = join(scratch, 'damaged.tar.gz');
    const bytes = readFileSync(file);
    bytes[bytes.length - 30] = bytes[bytes.length - 30]! ^ 0xff;
    writeFileSync(damaged, bytes);
    process.env.SIGIL_HOME = homeB;
    try {
      const r = await sigil(['restore-backup', damaged]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^ERROR not a valid Sigil controller backup: /);
      expect(existsSync(join(homeB, 'controllers', C))).toBe(false);
    } finally {
      process.env.SIGIL_HOME = homeA;
    }

    // The old controller goes away (its host is lost); its machines' agents keep running.
    const dirA = join(homeA, 'controllers', C);
    const sup = Number(readFileSync(join(dirA, 'supervisor.pid'), 'utf8'));
    const ctl = Number(readFileSync(join(dirA, 'controller.pid'), 'utf8'));
    process.kill(sup, 'SIGTERM');
    await poll('the old controller stops', async () => (alive(sup) || alive(ctl) ? undefined : true), 20_000);

    process.env.SIGIL_HOME = homeB;
    try {
      expect(await rounds(['restore-backup', file])).toMatch(new RegExp(`^Controller "${C}" restored and listening on https://127\\.0\\.0\\.1:\\d+\\nMachines' agents reconnect to it at that address\\.$`));
      // Same model, same units, and the agents act on new work from the restored controller.
      await poll('agents reconnect', async () => {
        const st = await status(M);
        return st.machines['0']?.['juju-status'].current === 'started' && st.machines['1']?.['juju-status'].current === 'started' ? st : undefined;
      }, 60_000, 500);
      expect(JSON.parse(await ok(['run', '-m', M, 'datastore/0', 'get', '--format', 'json'])) as { value: string }).toMatchObject({ value: 'before-restore' });
      // The backup store came along (its password file with it).
      expect(await rounds(['backup-store', '-c', C])).toBe(`restic ${repo}`);
      const again = await sigil(['restore-backup', file]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`ERROR controller "${C}" already exists here`);
    } finally {
      process.env.SIGIL_HOME = homeA;
    }
  }, 180_000);
});
