// Day-2 operations (issue 18) with an enlisted host: a stand-in ssh host (an LXC system
// container with sshd on a bridge of its own, e2e/ssh-hosts.ts) holds a restic repository
// reached over sftp, and its machine agent is re-pointed over ssh by `sigil migrate-agents`.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canRun } from '../tests/ci.ts';
import { CHARMS, canRunContainers, ok, poll, sigil, status } from './harness.ts';
import { StandInHosts, type StandInHost } from './ssh-hosts.ts';
import { EXIT } from '@sigil/api';

const C = `e2e-d2-${process.pid}`;
const M = `${C}:default`;
const hasRestic = (() => {
  try {
    execFileSync('restic', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.runIf(canRun(canRunContainers() && hasRestic, 'root with LXC (stand-in ssh hosts) and restic'))('day-2 operations with an enlisted host', () => {
  let hosts: StandInHosts;
  let h: StandInHost;
  let known: string;
  let machine = '';
  const pw = () => join(hosts.dir, 'restic.pw');

  beforeAll(async () => {
    hosts = await StandInHosts.create(process.env.SIGIL_IMAGES!);
    h = await hosts.add(`d2-${process.pid}`);
    known = join(hosts.dir, 'known_hosts');
    writeFileSync(known, await hosts.knownHostsLine(h));
    writeFileSync(pw(), 'sftp repo password\n', { mode: 0o600 });
    await ok(['bootstrap', '--provider', 'local-process', '--api-address', hosts.gateway, C]);
    await ok(['add-machine', `ssh:root@${h.address}`, '-m', M, '--private-key', hosts.key, '--known-hosts', known]);
    machine = Object.keys((await status(M)).machines)[0]!;
  }, 300_000);

  afterAll(async () => {
    await sigil(['destroy-controller', C, '--yes']).catch(() => undefined);
    await hosts?.destroy();
  }, 120_000);

  it('migrate-agents re-points an enlisted agent over ssh and waits until it reconnects', async () => {
    const cfg = async () => JSON.parse((await hosts.exec(h, 'cat /etc/sigil/agent.json')).stdout) as { controllerUrl: string; token: string; caCert: string };
    const before = await cfg();
    // The agent is sent to a wrong address (as after the controller moved) and goes away.
    const wrong = before.controllerUrl.replace(/:(\d+)$/, (_, p: string) => `:${Number(p) + 1}`);
    const moved = await hosts.exec(h, `sed -i 's#"controllerUrl": "[^"]*"#"controllerUrl": "${wrong}"#' /etc/sigil/agent.json && systemctl restart sigil-agent.service`);
    expect(moved.code, moved.stderr).toBe(0);
    await poll('the enlisted agent is away', async () => ((await status(M)).machines[machine]?.['juju-status'].current === 'down' ? true : undefined), 120_000, 1000);

    // A host key the operator does not trust: refused over ssh, reported for that machine.
    const empty = join(hosts.dir, 'empty_known_hosts');
    writeFileSync(empty, '');
    const refused = await sigil(['migrate-agents', '-c', C, '--to', before.controllerUrl.replace('https://', ''), '--private-key', hosts.key, '--known-hosts', empty, '--timeout', '5s']);
    expect(refused.code).toBe(EXIT.unavailable);
    expect(refused.stdout).toContain(`  default/${machine}  (enlisted root@${h.address}:22, over ssh)  FAILED: `);
    expect(refused.stderr).toContain('hint:');
    expect((await cfg()).controllerUrl).toBe(wrong);

    const out = await ok(['migrate-agents', '-c', C, '--to', before.controllerUrl.replace('https://', ''), '--private-key', hosts.key, '--known-hosts', known], { timeoutMs: 180_000 });
    expect(out).toMatch(new RegExp(`^Agents re-pointed to ${before.controllerUrl.replace(/\./g, '\\.')}:\\n  default/${machine}  \\(enlisted root@${h.address.replace(/\./g, '\\.')}:22, over ssh\\)  reconnected after \\S+\\n$`));
    const after = await cfg();
    expect(after.controllerUrl).toBe(before.controllerUrl);
    // Only the address and the CA were written: the credential is the one it had.
    expect(after.token).toBe(before.token);
    expect(after.caCert).toBe(before.caCert);
    expect((await status(M)).machines[machine]?.['juju-status'].current).toBe('started');
  }, 300_000);

  it('a restic repository over sftp on the enlisted host: refused until the controller key is authorised, then a scheduled backup lands there', async () => {
    const repo = `sftp:root@${h.address}:/srv/restic-repo`;
    const refused = await sigil(['backup-store', '-c', C, '--restic', repo, '--password-file', pw()]);
    expect(refused.code).toBe(EXIT.unavailable);
    expect(refused.stderr).toMatch(/ERROR restic cannot reach sftp:root@.* over ssh: .*\nhint: the controller logs in with its own key: add .*id_ed25519\.pub to that user's authorized_keys on the host; nothing was changed/);
    expect(await ok(['backup-store', '-c', C])).toContain('No backup store');

    const pub = readFileSync(join(process.env.SIGIL_HOME!, 'controllers', C, 'ssh', 'id_ed25519.pub'), 'utf8').trim();
    expect((await hosts.exec(h, `echo '${pub}' >> /root/.ssh/authorized_keys`)).code).toBe(0);
    await ok(['backup-store', '-c', C, '--restic', repo, '--password-file', pw()]);
    expect((await ok(['backup-store', '-c', C])).trim()).toBe(`restic ${repo}`);
    // The wrong password for the repository now there: refused, the store unchanged.
    const wrongPw = join(hosts.dir, 'wrong.pw');
    writeFileSync(wrongPw, 'not it\n', { mode: 0o600 });
    const wrong = await sigil(['backup-store', '-c', C, '--restic', repo, '--password-file', wrongPw]);
    expect(wrong.code).toBe(EXIT.refused);
    expect(wrong.stderr).toContain(`ERROR restic repository ${repo} does not open with this password\nhint: give the password the repository was created with`);

    // A unit on a machine of the provider: its backup is copied off it and kept on the host.
    await ok(['deploy', join(CHARMS, 'datastore'), '-m', M, '--to', 'new']);
    await ok(['wait', '-m', M, '--timeout', '3m']);
    await ok(['run', '-m', M, 'datastore/0', 'put', 'value=over-sftp']);
    await ok(['schedule', 'add', 'nightly', '-m', M, '--unit', 'datastore/leader', '--action', 'backup', '--every', '1d']);
    const run = JSON.parse(await ok(['schedule', 'run', 'nightly', '-m', M, '--format', 'json'])) as { 'last-status': string; 'last-message': string; 'last-snapshot': string };
    expect(run['last-status'], run['last-message']).toBe('completed');
    expect(run['last-message']).toMatch(/\(\d+ bytes, \d+ added to the restic store\)$/);
    // On the host, in the repository, as restic there would list it.
    const files = await hosts.exec(h, 'ls /srv/restic-repo; ls /srv/restic-repo/snapshots | wc -l');
    expect(files.stdout).toMatch(/config[\s\S]*data[\s\S]*snapshots[\s\S]*\n1\n$/);
    const listed = JSON.parse(await ok(['backups', '--snapshots', '-m', M, '--format', 'json'])) as { snapshots: { id: string }[] };
    expect(listed.snapshots.map((s) => s.id)).toContain(run['last-snapshot']);
  }, 300_000);
});
