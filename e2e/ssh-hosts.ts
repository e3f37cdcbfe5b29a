import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { LxcCli } from '../packages/providers/src/lxc/lxc-cli.ts';
import { ensureImage, imageRootfs } from '../packages/providers/src/lxc/image.ts';

/**
 * Stand-in hosts for enlistment tests: LXC system containers (systemd as PID 1, Debian's
 * openssh-server from Sigil's base image) on a private bridge of their own, with their own
 * addresses. The test harness makes and destroys them; Sigil's providers never see them
 * (their own lxcpath, bridge and names), so they are "machines Sigil did not create".
 */
export interface StandInHost {
  name: string;
  address: string;
  /** The overlay's upper layer: everything written on the host that is not the image. */
  upper: string;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function sh(cmd: string, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const c = execFile(cmd, args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
    if (input !== undefined) c.stdin!.end(input);
  });
}

async function must(cmd: string, args: string[], input?: string): Promise<string> {
  const r = await sh(cmd, args, input);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

export class StandInHosts {
  readonly dir: string;
  readonly bridge: string;
  readonly prefix: string;
  readonly lxc: LxcCli;
  /** The key root (and the test users) accept; another key nobody accepts. */
  readonly key: string;
  readonly wrongKey: string;
  private next = 10;
  private readonly hosts = new Map<string, StandInHost>();
  private lower = '';

  private constructor(dir: string, prefix: string) {
    this.dir = dir;
    this.prefix = prefix;
    this.bridge = `sgh${randomBytes(3).toString('hex')}`;
    this.lxc = new LxcCli(join(dir, 'lxc'));
    this.key = join(dir, 'id_ed25519');
    this.wrongKey = join(dir, 'wrong_ed25519');
  }

  get gateway(): string {
    return `${this.prefix}.1`;
  }

  /** A bridge with a free private /24 (10.23x.y.0/24), the base image (built by global setup already), two keys. */
  static async create(imagesDir: string): Promise<StandInHosts> {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-standin-'));
    const used = await must('ip', ['-4', '-o', 'addr', 'show']);
    let prefix = '';
    for (let i = 0; i < 50 && !prefix; i++) {
      const p = `10.${230 + Math.floor(Math.random() * 20)}.${Math.floor(Math.random() * 250) + 1}`;
      if (!used.includes(` ${p}.`)) prefix = p;
    }
    const h = new StandInHosts(dir, prefix);
    await mkdir(join(dir, 'lxc'), { recursive: true });
    h.lower = imageRootfs(imagesDir);
    await ensureImage(imagesDir);
    await must('ip', ['link', 'add', 'name', h.bridge, 'type', 'bridge']);
    await must('ip', ['addr', 'add', `${h.gateway}/24`, 'dev', h.bridge]);
    await must('ip', ['link', 'set', 'dev', h.bridge, 'up']);
    for (const k of [h.key, h.wrongKey]) await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'sigil-e2e', '-f', k]);
    return h;
  }

  /**
   * A new host: fresh ssh host key, root's authorized_keys, `deploy` (passwordless sudo)
   * and `nosudo` (no sudo) users with the same key. Resolves once sshd answers.
   */
  async add(name: string, o: { containers?: boolean } = {}): Promise<StandInHost> {
    const index = this.next++;
    const address = `${this.prefix}.${index}`;
    const cdir = join(this.lxc.lxcpath, name);
    const upper = join(cdir, 'upper');
    await mkdir(upper, { recursive: true });
    const put = async (rel: string, content: string, mode = 0o644) => {
      await mkdir(join(upper, rel, '..'), { recursive: true });
      await writeFile(join(upper, rel), content, { mode });
    };
    for (const [d, mode] of [['etc', 0o755], ['etc/ssh', 0o755], ['root', 0o700], ['root/.ssh', 0o700], ['etc/sudoers.d', 0o750]] as const) {
      await mkdir(join(upper, d), { recursive: true });
      await chmod(join(upper, d), mode);
    }
    await put('etc/hostname', `${name}\n`);
    await put('etc/hosts', `127.0.0.1 localhost\n127.0.1.1 ${name}\n`);
    await put('etc/resolv.conf', 'options timeout:1 attempts:1\n');
    await put('etc/machine-id', randomBytes(16).toString('hex') + '\n', 0o444);
    await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${name}`, '-f', join(upper, 'etc/ssh/ssh_host_ed25519_key')]);
    const pub = await readFile(`${this.key}.pub`, 'utf8');
    await put('root/.ssh/authorized_keys', pub, 0o600);
    await put('etc/sudoers.d/deploy', 'deploy ALL=(ALL) NOPASSWD:ALL\n', 0o440);
    await writeFile(join(cdir, 'config'), [
      'lxc.include = /usr/share/lxc/config/common.conf',
      'lxc.arch = linux64',
      `lxc.uts.name = ${name}`,
      `lxc.rootfs.path = overlay:${this.lower}:${upper}`,
      'lxc.apparmor.profile = unconfined',
      'lxc.signal.halt = SIGRTMIN+3',
      'lxc.mount.auto =',
      'lxc.mount.auto = proc:mixed sys:ro cgroup:mixed:force',
      'lxc.net.0.type = veth',
      `lxc.net.0.link = ${this.bridge}`,
      'lxc.net.0.flags = up',
      'lxc.net.0.name = eth0',
      `lxc.net.0.veth.pair = ${this.bridge}v${index}`,
      `lxc.net.0.ipv4.address = ${address}/24`,
      // A host for containers (lxc:N) keeps them on a real filesystem, as a machine's disk
      // would be: its own root is an overlay, which cannot hold a container's upper layer.
      ...(o.containers ? ['lxc.mount.entry = tmpfs var/lib/sigil tmpfs size=3g,mode=0755,create=dir 0 0'] : []),
      `lxc.log.file = ${cdir}/lxc.log`,
      'lxc.log.level = ERROR',
    ].join('\n') + '\n');
    const host = { name, address, upper };
    this.hosts.set(name, host);
    await this.lxc.start(name);
    await this.waitSsh(host);
    const users = 'for u in deploy nosudo; do id $u >/dev/null 2>&1 || useradd -m -s /bin/bash $u; install -d -m 700 -o $u -g $u /home/$u/.ssh; install -m 600 -o $u -g $u /root/.ssh/authorized_keys /home/$u/.ssh/authorized_keys; done';
    await this.exec(host, users);
    if (o.containers) await this.prepareForContainers(host);
    return host;
  }

  /**
   * What an operator does before placing containers on a host: installs LXC (Debian's
   * packages, from the host's apt cache or downloaded there) and copies the controller's
   * base image to /var/lib/sigil/images, as the hint of a refused container says.
   */
  private async prepareForContainers(h: StandInHost): Promise<void> {
    const debs = join(this.dir, 'lxc-debs');
    await mkdir(debs, { recursive: true });
    const cached = (await readdir('/var/cache/apt/archives').catch(() => [] as string[])).filter((f) => /^(liblxc1|liblxc-common|lxc)_.*\.deb$/.test(f));
    if (cached.length >= 3) {
      for (const f of cached) await must('cp', [join('/var/cache/apt/archives', f), debs]);
    } else {
      await must('sh', ['-c', `cd ${debs} && apt-get download liblxc1 liblxc-common lxc`]);
    }
    const pid = (await must('lxc-info', ['-P', this.lxc.lxcpath, '-n', h.name, '-p', '-H'])).trim();
    const root = `/proc/${pid}/root`;
    await must('sh', ['-c', `mkdir -p ${root}/root/debs && cp ${debs}/*.deb ${root}/root/debs/`]);
    const r = await this.exec(h, 'dpkg -i --force-depends /root/debs/*.deb >/dev/null 2>&1; rm -rf /root/debs; command -v lxc-start');
    if (r.stdout.trim() === '') throw new Error(`installing LXC on ${h.name} failed: ${r.stderr}`);
    await must('sh', ['-c', `mkdir -p ${root}/var/lib/sigil/images && cp -a ${join(this.lower, '..')} ${root}/var/lib/sigil/images/`]);
  }

  /** Runs a shell command as root on the host, through LXC (not ssh). */
  async exec(h: StandInHost, script: string): Promise<Run> {
    return this.lxc.attach(h.name, ['/bin/sh', '-c', script]);
  }

  /** Writes an executable file on the host (a stand-in tool that misbehaves, for bad-input tests). */
  async putExecutable(h: StandInHost, path: string, content: string): Promise<void> {
    const r = await this.lxc.attach(h.name, ['/bin/sh', '-c', `cat > ${path} && chmod 755 ${path}`], content);
    if (r.code !== 0) throw new Error(`cannot write ${path} on ${h.name}: ${r.stderr}`);
  }

  async waitSsh(h: StandInHost, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const up = await new Promise<boolean>((resolve) => {
        // The banner comes once sshd has forked for the connection: seconds on a loaded host.
        const s = connect({ host: h.address, port: 22, timeout: 5000 });
        s.once('data', () => { s.destroy(); resolve(true); });
        s.once('error', () => resolve(false));
        s.once('timeout', () => { s.destroy(); resolve(false); });
      });
      if (up) return;
      if (Date.now() > deadline) throw new Error(`sshd on ${h.name} (${h.address}) did not answer within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** known_hosts lines for the hosts' real keys (as an operator would have them). */
  async knownHostsLine(h: StandInHost): Promise<string> {
    const pub = (await readFile(join(h.upper, 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8')).trim().split(' ');
    return `${h.address} ${pub[0]} ${pub[1]}\n`;
  }

  async stop(h: StandInHost): Promise<void> {
    await this.lxc.stop(h.name, { kill: true });
  }

  async start(h: StandInHost): Promise<void> {
    await this.lxc.start(h.name);
    await this.waitSsh(h);
  }

  /** Stops every host, deletes the bridge and all files. Safe to call twice. */
  async destroy(): Promise<void> {
    for (const h of this.hosts.values()) await this.lxc.stop(h.name, { kill: true }).catch(() => {});
    this.hosts.clear();
    await sh('ip', ['link', 'del', 'dev', this.bridge]);
    await rm(this.dir, { recursive: true, force: true });
  }
}
