import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { SigilError } from '@sigil/core';
import type { Client } from '../client.ts';
import { DIST } from '../dist.ts';
import { SshSession, stepError, type RunResult, type SshOptions } from './ssh-session.ts';
import { parseTarget, targetName, type SshTarget } from './target.ts';
import {
  COMMIT, CONFIG, DATA, HOST_NODE, MIN_DISK_MIB, MIN_MEM_MIB, OPT, SUPERVISOR, SYSTEMD_UNIT, UNINSTALL, UNSTAGE, WRITE_CONFIG,
  checkScript, parseFacts, stageScript, startScript, uninstallCommand, unameArch, usableHostNode, type HostFacts,
} from './host-files.ts';

export interface EnlistOptions {
  privateKey?: string;
  acceptHostKey: boolean;
  knownHosts?: string;
  /** How long to wait for the agent to connect once started. */
  timeoutMs: number;
  /** The Node binary and agent bundle copied to the host: this installation's own by default. */
  nodeBinary?: string;
  distDir?: string;
  /** One line per step. */
  progress: (line: string) => void;
  /** The OS the host must run: a series (os-release codename, e.g. bookworm) or a base (debian@12). */
  series?: string;
  base?: string;
}


const controllerAddrs = (urls: string[]) => urls.map((u) => new URL(u)).map((u) => ({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 443), url: u.href.replace(/\/$/, '') }));

/**
 * `add-machine ssh:[USER@]HOST[:PORT]`, Juju's manual provisioning: connect with the system
 * ssh (host key checked), check the host, register the machine, copy Node and the agent,
 * write its credential (over ssh's stdin, never a command line), start it under systemd (or
 * a supervisor where systemd is not PID 1), and wait until the agent is connected. A step
 * that fails undoes everything done before it and names itself.
 */
export async function enlist(client: Client, spec: string, o: EnlistOptions): Promise<{ machine: string; facts: HostFacts; ms: number }> {
  const started = Date.now();
  const target = parseTarget(spec);
  const info = await client.call('GET /api/controller');
  const urls = info.apiUrls;
  if (urls.length === 0) {
    throw new SigilError('bad-request', `controller "${client.controller}" listens only where its own machines are: ${target.host} could not reach it`, 'bootstrap a controller with `--api-address ADDRESS` (an address of this host that the hosts you enlist can reach)');
  }
  const controlDir = await mkdtemp(join(tmpdir(), 'sigil-enlist-'));
  const sshOpts: SshOptions = { acceptHostKey: o.acceptHostKey, controlDir, ...(o.privateKey ? { privateKey: o.privateKey } : {}), ...(o.knownHosts ? { knownHosts: o.knownHosts } : {}) };
  const ssh = new SshSession(target, sshOpts);
  const step = (name: string, detail: string) => o.progress(`${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s ${name}: ${detail}`);
  let machine: string | undefined;
  let touched = false;
  let facts: HostFacts | undefined;
  let staging: Promise<RunResult> | undefined;
  const abortStaging = new AbortController();
  try {
    // 1. connect: the host key is checked here, before anything else is sent. The same
    // command looks for a Node the host already has (read only).
    const known = o.acceptHostKey ? await knownKey(target, o.knownHosts) : true;
    const hello = await ssh.run(`echo sigil-ok\n${HOST_NODE}`);
    if (hello.code !== 0 || !hello.stdout.includes('sigil-ok')) throw stepError('connect', target, hello);
    const fp = await fingerprint(target, o.knownHosts);
    step('connect', `${targetName(target)} (host key ${fp || 'checked'}${!known ? ', accepted on first use and added to known_hosts' : ''})`);

    // The bundle streams into a staging directory while the host is checked and the machine
    // registered: the copy is most of an enlistment. The host's own Node is linked instead of
    // copying ours when it is the same version (and root's own).
    const hostNode = o.nodeBinary === undefined ? usableHostNode(hello.stdout, process.version) : undefined;
    const tStage = Date.now();
    staging = ssh.run(stageScript(hostNode), { root: 'auto', input: await bundle(controlDir, hostNode === undefined, o), signal: abortStaging.signal })
      .catch((e: Error) => ({ code: 255, stdout: '', stderr: e.message }));
    let stagedMs = 0;
    void staging.then(() => (stagedMs = Date.now() - tStage));

    // 2. check the host (read only).
    const addrs = controllerAddrs(urls);
    const caches = info.aptCacheUrls.map((url) => new URL(url)).map((u) => ({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80), url: u.href.replace(/\/$/, '') }));
    facts = parseFacts(await ssh.must('check host', checkScript(addrs, caches)));
    checkFacts(target, facts, o);
    const reach = addrs.find((a) => facts!.reachable.includes(`${a.host}:${a.port}`));
    if (!reach) {
      throw new SigilError('unavailable', `add-machine ${target.host}: step "check host" failed: the host cannot reach the controller at ${addrs.map((a) => `${a.host}:${a.port}`).join(' or ')}`, 'bootstrap the controller with an --api-address the host can reach, and check routes and firewalls between them');
    }
    const root = facts.uid === 0 ? 'direct' as const : 'sudo' as const;
    step('check host', `${facts.os} ${facts.arch} ${facts.distro}, ${facts.init === 'systemd' ? 'systemd' : 'no systemd as PID 1 (agent runs supervised)'}, ${facts.cores} cores, ${facts.mem} MiB memory, ${facts.disk} MiB free disk, ${root === 'direct' ? 'root' : 'passwordless sudo'}; controller reachable at ${reach.host}:${reach.port}`);
    const apt = aptRoute(facts, caches, reach.host);
    step('check host', apt.line);

    // 3. register: the controller issues the machine's credential.
    const reg = await client.call('POST /api/models/:model/machines/enlist', {
      body: {
        target: targetName(target), address: target.host, hostname: facts.hostname,
        hardware: { arch: facts.arch, cores: facts.cores, mem: Math.max(facts.mem, 0), disk: Math.max(facts.disk, 0), ...baseOf(facts) }, init: facts.init,
      },
    });
    machine = reg.machine;
    step('register', `machine ${machine}`);

    // 4. install: the staged bundle (Node, the agent, the hook-tool client, the scripts) put
    // in place; 5. the credential and the controller's CA and address, piped on stdin (never
    // a command line), in the same round trip.
    const t0 = Date.now();
    const staged = await staging;
    if (staged.code !== 0) throw stepError('install agent', target, staged);
    touched = true;
    const config = { controllerUrl: reach.url, caCert: reg.caCert, token: reg.token, model: client.model, id: machine, address: target.host, dataDir: DATA, aptConfigDir: '/etc/apt/apt.conf.d', ...(apt.cache ? { aptCache: apt.cache } : {}), uninstall: uninstallCommand(facts.init) };
    const out = await ssh.must('install agent', `${COMMIT}${WRITE_CONFIG}`, { root, input: JSON.stringify(config, null, 2) + '\n' });
    step('install agent', `Node ${out.trim()} ${hostNode ? `(the host's own ${hostNode}, linked)` : '(copied)'} and the agent in ${OPT} (streamed in ${stagedMs} ms while checking, ${Date.now() - t0} ms waited)`);
    step('write credential', `${CONFIG} (root only), controller ${reach.url}`);

    // 6. start.
    await ssh.must('start agent', startScript(facts.init), { root });
    step('start agent', facts.init === 'systemd' ? 'systemd unit sigil-agent.service, enabled' : 'supervised (setsid), no systemd on this host');

    // 7. connected.
    await waitConnected(client, machine, o.timeoutMs, target);
    step('agent connected', `machine ${machine} is started`);
    return { machine, facts, ms: Date.now() - started };
  } catch (e) {
    if (staging && !touched) {
      abortStaging.abort();
      await staging;
      await ssh.run(UNSTAGE, { root: 'auto' }).catch(() => undefined);
    }
    await undo(ssh, client, target, machine, touched, facts, o.progress);
    throw e;
  } finally {
    await ssh.close();
    await rm(controlDir, { recursive: true, force: true });
  }
}

function checkFacts(t: SshTarget, f: HostFacts, want: { series?: string; base?: string } = {}): void {
  const fail = (why: string, hint: string) => new SigilError('bad-request', `add-machine ${t.host}: step "check host" failed: ${why}`, hint);
  if (f.os !== 'Linux') throw fail(`unsupported OS "${f.os || 'unknown'}" (Sigil agents run on Linux)`, 'enlist a Linux host');
  const mine = unameArch(process.arch);
  if (f.arch !== mine) throw fail(`unsupported architecture ${f.arch} (this controller's Node and hook tools are ${mine})`, `enlist ${mine} hosts from this controller`);
  if (f.uid !== 0 && !f.sudo) throw fail(`${t.user ?? 'the login user'} is not root and has no passwordless sudo`, 'enlist as root (ssh:root@HOST), or give the user NOPASSWD sudo in /etc/sudoers.d');
  if (f.installed) throw fail(`a Sigil agent is already installed there (${OPT} or ${CONFIG} exists)`, `if it belongs to no machine any more, remove it on the host with \`sudo sh ${OPT}/uninstall.sh\`, then enlist again`);
  if (f.disk >= 0 && f.disk < MIN_DISK_MIB) throw fail(`only ${f.disk} MiB free under /opt (the agent needs ${MIN_DISK_MIB} MiB)`, 'free some disk space on the host');
  if (f.memFree >= 0 && f.memFree < MIN_MEM_MIB) throw fail(`only ${f.memFree} MiB of memory available (the agent needs ${MIN_MEM_MIB} MiB)`, 'free some memory on the host');
  const runs = `${f.distro || 'an unknown OS'}${f.codename ? ` (${f.codename})` : ''}`;
  const hint = 'drop the option to take the host as it is (its base is recorded and shown in status), or enlist a host that runs it';
  if (want.series !== undefined && want.series !== f.codename) throw fail(`the host runs ${runs}, not the series "${want.series}" asked for`, hint);
  if (want.base !== undefined && want.base !== f.base) throw fail(`the host runs ${runs}, not the base "${want.base}" asked for`, hint);
}

/** The host's base for the controller's record, when os-release gave one. */
function baseOf(f: HostFacts): { base?: { name: string; channel: string } } {
  const at = f.base.indexOf('@');
  return at > 0 ? { base: { name: f.base.slice(0, at), channel: f.base.slice(at + 1) } } : {};
}

/**
 * How the host's apt gets packages: its own mirror or proxy when it reaches them; else the
 * controller's apt cache at the address it reaches the controller on (the agent writes it
 * into apt's configuration while the model sets no apt-http-proxy). A host with neither is
 * enlisted all the same (its charms may need no package) with a warning saying what to do.
 */
export function aptRoute(f: HostFacts, caches: { host: string; port: number; url: string }[], controllerHost: string): { cache?: string; line: string } {
  if (f.mirror === 'proxy') return { line: 'apt: the host\'s own proxy (left as it is)' };
  if (f.mirror === '') return { line: 'apt: no sources configured on the host (left as it is)' };
  if (f.mirrorOk) return { line: `apt: mirror ${f.mirror} reachable (used directly)` };
  const reached = caches.filter((c) => f.aptCaches.includes(`${c.host}:${c.port}`));
  const cache = reached.find((c) => c.host === controllerHost) ?? reached[0];
  if (cache) return { cache: cache.url, line: `apt: mirror ${f.mirror} unreachable; packages come through the controller's apt cache at ${cache.url} (a model's apt-http-proxy overrides it)` };
  return { line: `apt: WARNING mirror ${f.mirror} unreachable and the controller offers no apt cache there: package installs will fail (hint: set \`sigil model-config apt-http-proxy=URL\`, or install apt-cacher-ng on the controller's host and restart it)` };
}

/** Whether the host's key is already in known_hosts (so a first-use acceptance can be reported). */
export async function knownKey(t: SshTarget, knownHosts: string | undefined): Promise<boolean> {
  const r = await run('ssh-keygen', ['-F', t.port === 22 ? t.host : `[${t.host}]:${t.port}`, ...(knownHosts ? ['-f', knownHosts] : [])]);
  return r.code === 0 && r.stdout.trim() !== '';
}

/** The fingerprints known_hosts holds for the host (after a connection that checked them). */
export async function fingerprint(t: SshTarget, knownHosts: string | undefined): Promise<string> {
  const r = await run('ssh-keygen', ['-l', '-F', t.port === 22 ? t.host : `[${t.host}]:${t.port}`, ...(knownHosts ? ['-f', knownHosts] : [])]);
  return r.stdout.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/\s+/).slice(-2).reverse().join(' ')).join(', ');
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.on('error', () => resolve({ code: 127, stdout }));
    c.on('close', (code) => resolve({ code: code ?? 1, stdout }));
  });
}

/** A tar stream of what goes to /opt/sigil: Node, agent.mjs and its chunks, the hook-tool client, the scripts. */
async function bundle(dir: string, withNode: boolean, o: EnlistOptions) {
  const dist = o.distDir ?? DIST;
  const node = o.nodeBinary ?? process.execPath;
  const files = join(dir, 'files');
  await rm(files, { recursive: true, force: true });
  const { mkdir } = await import('node:fs/promises');
  await mkdir(files, { mode: 0o700 });
  await writeFile(join(files, 'uninstall.sh'), UNINSTALL, { mode: 0o755 });
  await writeFile(join(files, 'supervise.sh'), SUPERVISOR, { mode: 0o755 });
  await writeFile(join(files, 'sigil-agent.service'), SYSTEMD_UNIT, { mode: 0o644 });
  const tar = spawn('tar', [
    '-c', '-h', '--owner=0', '--group=0',
    '-C', dist, 'sigil-hook-tool', ...(await entryModules(dist, 'agent.mjs')),
    '-C', files, '.',
    ...(withNode ? ['--transform', `s|^${basename(node).replace(/[^A-Za-z0-9_]/g, '.')}$|node|`, '-C', dirname(node), basename(node)] : []),
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  return tar.stdout;
}

/** An entry of dist (agent.mjs, controller.mjs) and every chunk it imports, statically or lazily, relative to dist. */
export async function entryModules(dist: string, entry: string): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const rel = queue.pop()!;
    if (seen.has(rel)) continue;
    seen.add(rel);
    const text = await readFile(join(dist, rel), 'utf8');
    for (const m of text.matchAll(/["'](\.\.?\/[^"'\s]+\.mjs)["']/g)) {
      const next = join(dirname(rel), m[1]!);
      if (!next.startsWith('..')) queue.push(next);
    }
  }
  return [...seen].sort();
}

async function waitConnected(client: Client, machine: string, timeoutMs: number, t: SshTarget): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const st = await client.call('GET /api/models/:model/status');
    if (st.machines[machine]?.['juju-status'].current === 'started') return;
    if (Date.now() > deadline) {
      throw new SigilError('timeout', `add-machine ${t.host}: step "agent connected" failed: the agent did not connect within ${Math.round(timeoutMs / 1000)} s`, `on the host, see \`journalctl -u sigil-agent\` (or ${'/var/log/sigil-agent.log'} without systemd); the host must reach the controller's --api-address`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Undoes a failed enlistment: the host loses what was installed (the uninstall script,
 * or the directories if it never arrived) and the controller forgets the machine.
 */
async function undo(ssh: SshSession, client: Client, t: SshTarget, machine: string | undefined, touched: boolean, facts: HostFacts | undefined, progress: (l: string) => void): Promise<void> {
  if (touched && facts) {
    const root = facts.uid === 0 ? 'direct' as const : 'sudo' as const;
    const r = await ssh.run(`if [ -f ${OPT}/uninstall.sh ]; then sh ${OPT}/uninstall.sh; else ${UNINSTALL.split('\n').filter((l) => l.startsWith('rm -rf')).join('; ')}; fi`, { root }).catch(() => undefined);
    progress(r?.code === 0 ? `undo: removed the agent from ${t.host}` : `undo: could not clean ${t.host} (${r?.stderr.trim() ?? 'ssh failed'}); remove ${OPT}, /etc/sigil and ${DATA} there by hand`);
  }
  if (machine !== undefined) {
    try {
      await client.call('POST /api/models/:model/machines/remove', { body: { names: [machine], force: true } });
      progress(`undo: machine ${machine} removed from the model`);
    } catch (e) {
      progress(`undo: could not remove machine ${machine}: ${(e as Error).message}`);
    }
  }
}

