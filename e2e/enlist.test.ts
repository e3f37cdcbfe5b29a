import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canRun } from '../tests/ci.ts';
import { CHARMS, ROOT, canRunContainers, ok, poll, sigil, status, until } from './harness.ts';
import { StandInHosts, sh, type StandInHost } from './ssh-hosts.ts';

/**
 * Enlisting existing hosts over ssh (issue 13). The hosts are stand-ins this file makes
 * itself: LXC system containers with systemd and Debian's sshd, on a bridge of their own.
 * The controller is bootstrapped here (local-process) because it must also listen on that
 * bridge (`bootstrap --api-address`).
 */
const CONTROLLER = `e2e-enlist-${process.pid}`;
const MODEL = `${CONTROLLER}:default`;

/** What Sigil may leave on an enlisted host after remove-machine: nothing. */
const LEFTOVERS = 'ls -d /opt/sigil /opt/sigil.new /etc/sigil /var/lib/sigil /etc/systemd/system/sigil-agent.service /etc/systemd/system/multi-user.target.wants/sigil-agent.service /etc/apt/apt.conf.d/95-sigil-proxy-settings 2>/dev/null; pgrep -f "[a]gent[.]mjs"; true';

describe.runIf(canRun(canRunContainers(), 'root with LXC (stand-in ssh hosts)'))('add-machine ssh: (enlisted hosts)', () => {
  let hosts: StandInHosts;
  let a: StandInHost;
  let b: StandInHost;
  let known: string;
  const enlistArgs = (h: StandInHost, user = 'root', extra: string[] = []) => ['add-machine', `ssh:${user}@${h.address}`, '-m', MODEL, '--private-key', hosts.key, '--known-hosts', known, ...extra];

  beforeAll(async () => {
    hosts = await StandInHosts.create(process.env.SIGIL_IMAGES!);
    [a, b] = await Promise.all([hosts.add(`enl-a-${process.pid}`), hosts.add(`enl-b-${process.pid}`)]);
    known = join(hosts.dir, 'known_hosts');
    await writeFile(known, (await hosts.knownHostsLine(a)) + (await hosts.knownHostsLine(b)));
    await ok(['bootstrap', '--provider', 'local-process', '--api-address', hosts.gateway, CONTROLLER]);
  }, 240_000);

  afterAll(async () => {
    await sigil(['destroy-controller', CONTROLLER, '--yes']).catch(() => undefined);
    await hosts?.destroy();
  }, 120_000);

  it('refuses an unknown host key, a changed one, a wrong key, a user without sudo, and an unreachable host, leaving nothing behind', async () => {
    const unknown = join(hosts.dir, 'empty_known_hosts');
    await writeFile(unknown, '');
    const r1 = await sigil(['add-machine', `ssh:root@${a.address}`, '-m', MODEL, '--private-key', hosts.key, '--known-hosts', unknown]);
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toContain('step "connect" failed');
    expect(r1.stderr).toContain('is not in known_hosts');
    expect(r1.stderr).toContain('--accept-host-key');

    // b's key recorded under a's address: a man in the middle, as far as ssh can tell.
    const wrong = join(hosts.dir, 'wrong_known_hosts');
    await writeFile(wrong, (await hosts.knownHostsLine(b)).replace(b.address, a.address));
    const r2 = await sigil(['add-machine', `ssh:root@${a.address}`, '-m', MODEL, '--private-key', hosts.key, '--known-hosts', wrong, '--accept-host-key']);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toContain('does not match the one in known_hosts');
    expect(r2.stderr).toContain('ssh-keygen -R');

    const r3 = await sigil(['add-machine', `ssh:root@${a.address}`, '-m', MODEL, '--private-key', hosts.wrongKey, '--known-hosts', known]);
    expect(r3.code).not.toBe(0);
    expect(r3.stderr).toContain('refused our key');
    expect(r3.stderr).toContain('--private-key');

    const r4 = await sigil(enlistArgs(a, 'nosudo'));
    expect(r4.code).not.toBe(0);
    expect(r4.stderr).toContain('step "check host" failed: nosudo is not root and has no passwordless sudo');
    expect(r4.stderr).toContain('hint:');

    const r5 = await sigil(['add-machine', `ssh:root@${hosts.prefix}.250`, '-m', MODEL, '--private-key', hosts.key, '--known-hosts', known]);
    expect(r5.code).not.toBe(0);
    expect(r5.stderr).toMatch(/unreachable|nothing accepts ssh/);

    expect(Object.keys((await status(MODEL)).machines)).toEqual([]);
    expect((await hosts.exec(a, LEFTOVERS)).stdout.trim()).toBe('');
  });

  it('refuses an unsupported OS at the host check, before anything is installed', async () => {
    // A host whose uname says FreeBSD: the check must stop there.
    await hosts.putExecutable(b, '/usr/local/bin/uname', '#!/bin/sh\nif [ "$1" = -s ]; then echo FreeBSD; else exec /bin/uname "$@"; fi\n');
    try {
      const r = await sigil(enlistArgs(b));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('unsupported OS "FreeBSD"');
      expect((await hosts.exec(b, LEFTOVERS)).stdout.trim()).toBe('');
      expect(Object.keys((await status(MODEL)).machines)).toEqual([]);
    } finally {
      await hosts.exec(b, 'rm -f /usr/local/bin/uname');
    }
    // A series or base the host does not run: refused at the same step, naming what it runs.
    const r2 = await sigil(enlistArgs(b, 'root', ['--series', 'jammy']));
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toContain('step "check host" failed: the host runs debian 12 (bookworm), not the series "jammy" asked for');
    const r3 = await sigil(enlistArgs(b, 'root', ['--base', 'ubuntu@22.04']));
    expect(r3.stderr).toContain('not the base "ubuntu@22.04" asked for');
    expect((await hosts.exec(b, LEFTOVERS)).stdout.trim()).toBe('');
    expect(Object.keys((await status(MODEL)).machines)).toEqual([]);
  });

  it('refuses a full disk at the host check, and undoes a step that fails after the install (nothing left, machine gone)', async () => {
    await hosts.putExecutable(b, '/usr/local/bin/df', '#!/bin/sh\necho "Filesystem 1024-blocks Used Available Capacity Mounted on"\necho "/dev/x 1000000 990000 10000 99% /"\n');
    try {
      const r = await sigil(enlistArgs(b));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('step "check host" failed: only 9 MiB free under /opt');
    } finally {
      await hosts.exec(b, 'rm -f /usr/local/bin/df');
    }
    // systemctl fails on this host: the agent is installed, then its start fails.
    await hosts.putExecutable(b, '/usr/local/bin/systemctl', '#!/bin/sh\necho systemctl is broken here >&2\nexit 1\n');
    try {
      const r = await sigil(enlistArgs(b));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('install agent:');
      expect(r.stderr).toContain('step "start agent" failed: systemctl is broken here');
      expect(r.stderr).toContain(`undo: removed the agent from ${b.address}`);
      expect(r.stderr).toMatch(/undo: machine \d+ removed from the model/);
      expect((await hosts.exec(b, LEFTOVERS)).stdout.trim()).toBe('');
      await until(MODEL, 'the failed machine forgotten', (s) => Object.keys(s.machines).length === 0, 30_000);
    } finally {
      await hosts.exec(b, 'rm -f /usr/local/bin/systemctl');
    }
  });

  it('enlists two hosts (root, and a sudo user), deploys across them with --to, and the workload answers', async () => {
    const [ra, rb] = await Promise.all([sigil(enlistArgs(a, 'root', ['--series', 'bookworm'])), sigil(enlistArgs(b, 'deploy', ['--base', 'debian@12']))]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    for (const step of ['connect:', 'check host:', 'register:', 'install agent:', 'write credential:', 'start agent: systemd unit sigil-agent.service', 'agent connected:']) {
      expect(ra.stderr).toContain(step);
    }
    expect(rb.stderr).toContain('passwordless sudo');
    // The stand-in hosts have no route out: apt goes through the controller's cache, at the
    // address they reach the controller on, written by the agent into apt's configuration.
    const cache = `http://${hosts.gateway}:3142`;
    expect(ra.stderr).toContain(`apt: mirror deb.debian.org:80 unreachable; packages come through the controller's apt cache at ${cache}`);
    const aptConf = await poll('the agent\'s apt proxy file on a', async () => {
      const r = await hosts.exec(a, 'cat /etc/apt/apt.conf.d/95-sigil-proxy-settings 2>/dev/null');
      return r.stdout.includes('Acquire::http::Proxy') ? r.stdout : undefined;
    }, 30_000);
    expect(aptConf).toContain(`Acquire::http::Proxy "${cache}";`);
    // The credential never reached a command line on the host, and is root's only.
    expect((await hosts.exec(a, 'stat -c %a /etc/sigil/agent.json')).stdout.trim()).toBe('600');
    const st = await status(MODEL);
    const ids = Object.keys(st.machines).sort();
    expect(ids).toHaveLength(2);
    const byAddr = new Map(ids.map((id) => [st.machines[id]!['dns-name'], id]));
    const ma = byAddr.get(a.address)!;
    const mb = byAddr.get(b.address)!;
    expect(st.machines[ma]!['instance-id']).toBe(`manual:${a.address}`);
    expect(st.machines[ma]!.hardware).toMatch(/^arch=\S+ cores=\d+ mem=\d+M root-disk=\d+M$/);
    expect(st.machines[ma]!.base).toEqual({ name: 'debian', channel: '12' });
    expect((await hosts.exec(a, 'systemctl is-enabled sigil-agent.service; systemctl is-active sigil-agent.service')).stdout.split('\n').slice(0, 2)).toEqual(['enabled', 'active']);

    await ok(['deploy', join(CHARMS, 'http-backend'), 'web', '-m', MODEL, '-n', '2', '--to', `${ma},${mb}`]);
    await ok(['expose', 'web', '-m', MODEL]);
    await until(MODEL, 'both web units active', (s) => Object.values(s.applications.web?.units ?? {}).filter((u) => u['workload-status'].current === 'active').length === 2, 120_000);
    const s2 = await status(MODEL);
    const placed = Object.entries(s2.applications.web!.units!).map(([n, u]) => [n, u.machine]).sort();
    expect(placed).toEqual([['web/0', ma], ['web/1', mb]]);
    // Each unit answers on its own host's address: no host port was published for it.
    for (const [unit, h] of [['web/0', a], ['web/1', b]] as const) {
      const body = await poll(`${unit} answering on ${h.address}:8080`, async () => {
        const r = await sh('curl', ['-sf', '--max-time', '3', `http://${h.address}:8080/`]);
        return r.code === 0 ? r.stdout : undefined;
      }, 30_000);
      expect(body).toContain(unit);
      expect(s2.applications.web!.units![unit]!['open-ports']).toEqual(['8080/tcp']);
    }
  });

  it('a bundle names the enlisted machines (--map-machines existing), and its units answer there', async () => {
    const st = await status(MODEL);
    const ids = Object.keys(st.machines).sort();
    const bundle = join(hosts.dir, 'bundle.yaml');
    await writeFile(bundle, [
      'applications:',
      '  api:',
      `    charm: ${join(CHARMS, 'http-backend')}`,
      '    num_units: 2',
      `    to: ["${ids[0]}", "${ids[1]}"]`,
      '    options: {port: 8090, check-port: 8091}',
      'machines:',
      `  "${ids[0]}": {}`,
      `  "${ids[1]}": {}`,
      '',
    ].join('\n'));
    const plan = await ok(['deploy', bundle, '-m', MODEL, '--map-machines', 'existing', '--dry-run']);
    expect(plan).not.toContain('add machine');
    await ok(['deploy', bundle, '-m', MODEL, '--map-machines', 'existing', '--timeout', '3m']);
    const after = await status(MODEL);
    expect(Object.keys(after.machines).sort()).toEqual(ids);
    for (const [unit, u] of Object.entries(after.applications.api!.units!)) {
      const addr = after.machines[u.machine!]!['dns-name']!;
      const r = await sh('curl', ['-sf', '--max-time', '3', `http://${addr}:8090/`]);
      expect(r.stdout).toContain(unit);
    }
    await ok(['remove-application', 'api', '-m', MODEL, '--no-prompt']);
  });

  it('deploys bundles/wordpress.yaml across the two hosts with placements, packages from the controller\'s apt cache, and the site answers through HAProxy', async () => {
    const st = await status(MODEL);
    const byAddr = new Map(Object.keys(st.machines).map((id) => [st.machines[id]!['dns-name'], id]));
    const [ma, mb] = [byAddr.get(a.address)!, byAddr.get(b.address)!];
    // HAProxy shares a with a WordPress unit (Apache on 80), so it listens on 8000.
    const overlay = join(hosts.dir, 'wordpress-placement.yaml');
    await writeFile(overlay, [
      'applications:',
      `  haproxy: {to: ["${ma}"], options: {listen-port: 8000}}`,
      `  wordpress: {to: ["${ma}", "${mb}"]}`,
      `  mariadb: {to: ["${mb}"]}`,
      `  memcached: {to: ["${ma}"]}`,
      'machines:',
      `  "${ma}": {}`,
      `  "${mb}": {}`,
      '',
    ].join('\n'));
    const bundle = join(ROOT, 'bundles', 'wordpress.yaml');
    const plan = await ok(['deploy', bundle, '--overlay', overlay, '-m', MODEL, '--map-machines', 'existing', '--dry-run']);
    expect(plan).not.toContain('add machine');
    await ok(['deploy', bundle, '--overlay', overlay, '-m', MODEL, '--map-machines', 'existing', '--timeout', '12m']);
    const s = await status(MODEL);
    expect(Object.keys(s.machines).sort()).toEqual([ma, mb].sort());
    const placed = Object.fromEntries(Object.values(s.applications).flatMap((app) => Object.entries(app.units ?? {}).map(([n, u]) => [n, u.machine])));
    expect(placed).toMatchObject({ 'haproxy/0': ma, 'wordpress/0': ma, 'wordpress/1': mb, 'mariadb/0': mb, 'memcached/0': ma });
    // Packages came through the controller's cache: the host has no other way to them.
    expect((await hosts.exec(b, 'dpkg-query -W -f \'${Status}\' mariadb-server')).stdout).toBe('install ok installed');
    // The site answers through HAProxy on a's own address (no host port published), from both WordPress units.
    const served = new Set<string>();
    await poll('both WordPress units serving through HAProxy', async () => {
      const r = await sh('curl', ['-s', '-o', '/dev/null', '-D', '-', '--max-time', '10', `http://${a.address}:8000/`]);
      const m = /^x-sigil-unit: (\S+)/im.exec(r.stdout);
      if (/^HTTP\/1\.[01] 200/.test(r.stdout) && m) served.add(m[1]!);
      return served.size === 2 ? true : undefined;
    }, 120_000, 500);
    expect([...served].sort()).toEqual(['wordpress/0', 'wordpress/1']);
    for (const app of ['haproxy', 'wordpress', 'mariadb', 'memcached']) await ok(['remove-application', app, '-m', MODEL, '--no-prompt']);
    await until(MODEL, 'the WordPress stack gone', (x) => ['haproxy', 'wordpress', 'mariadb', 'memcached'].every((app) => x.applications[app] === undefined), 180_000);
  }, 900_000);

  it('keeps working when sshd is gone, shows the host lost when it stops, and recovers when it is back', async () => {
    const st = await status(MODEL);
    const ma = Object.keys(st.machines).find((id) => st.machines[id]!['dns-name'] === a.address)!;
    await hosts.exec(a, 'systemctl stop ssh.service ssh.socket 2>/dev/null; pkill -x sshd; true');
    // The agent does not need ssh: a config change still reaches the unit on a.
    await ok(['config', 'web', '-m', MODEL, 'workers=3']);
    await until(MODEL, 'web settled after the config change', (s) => Object.values(s.applications.web?.units ?? {}).every((u) => u['juju-status'].current === 'idle' && u['workload-status'].current === 'active'), 60_000);
    expect((await status(MODEL)).machines[ma]!['juju-status'].current).toBe('started');

    await hosts.stop(a);
    const lost = await until(MODEL, 'the unit on the stopped host lost', (s) => Object.values(s.applications.web?.units ?? {}).some((u) => u.machine === ma && u['juju-status'].current === 'lost'), 60_000);
    expect(lost.machines[ma]!['juju-status'].current).toBe('down');
    await hosts.start(a);
    await until(MODEL, 'machine back after the host started', (s) => s.machines[ma]?.['juju-status'].current === 'started', 60_000);
    await until(MODEL, 'unit back', (s) => Object.values(s.applications.web?.units ?? {}).every((u) => u['juju-status'].current !== 'lost'), 60_000);
  });

  it('refuses placement on a machine that does not exist', async () => {
    const r = await sigil(['add-unit', 'web', '-m', MODEL, '--to', '7']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/machine.*7/);
    expect(Object.keys((await status(MODEL)).applications.web!.units!).length).toBe(2);
  });

  it('remove-machine takes the agent, its units\' files and its service off the host, and leaves the host', async () => {
    const st = await status(MODEL);
    const ids = Object.keys(st.machines);
    await ok(['remove-application', 'web', '-m', MODEL, '--no-prompt']);
    await until(MODEL, 'web gone', (s) => s.applications.web === undefined, 90_000);
    await ok(['remove-machine', ...ids, '-m', MODEL, '--no-prompt']);
    await until(MODEL, 'machines gone', (s) => Object.keys(s.machines).length === 0, 60_000);
    for (const h of [a, b]) {
      const left = await poll(`${h.name} clean`, async () => {
        const r = await hosts.exec(h, LEFTOVERS);
        return r.stdout.trim() === '' ? 'clean' : undefined;
      }, 30_000);
      expect(left).toBe('clean');
      // The host itself is untouched: still running, its users still there.
      expect((await hosts.exec(h, 'id -u deploy && systemctl is-system-running || true')).stdout).toMatch(/^\d+\n(running|degraded)/);
    }
  });
});
