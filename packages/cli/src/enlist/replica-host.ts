import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, sep } from 'node:path';
import { isIP } from 'node:net';
import { SigilError } from '@sigil/core';
import { replicaFile, type AwayReplica, type ControllerFile } from '@sigil/api';
import { DIST } from '../dist.ts';
import { issueServerCert, TLS_FILES } from '../tls/pki.ts';
import { entryModules, fingerprint, knownKey } from './enlist.ts';
import { checkScript, HOST_NODE, parseFacts, unameArch, usableHostNode, type HostFacts } from './host-files.ts';
import { SshSession, shq, stepError, type RunResult, type SshOptions } from './ssh-session.ts';
import { parseTarget, targetName, type SshTarget } from './target.ts';

/**
 * A controller replica on another host (`sigil enable-ha --to ssh:[USER@]HOST[:PORT]`): the
 * controller's bundle and Node in /opt/sigil-controller, its directory (configuration, a
 * server certificate for that host from the controller's CA, the store's password, the
 * secrets key) in /var/lib/sigil-controller (root only), run by systemd (or a supervisor
 * where systemd is not PID 1). It shares the PostgreSQL store with the others and stands by
 * for the provider's work while a replica on this host lives (docs/decisions/0041).
 */
export const ROPT = '/opt/sigil-controller';
export const RDIR = '/var/lib/sigil-controller';
export const RUNIT = '/etc/systemd/system/sigil-controller.service';

export interface ReplicaHostOptions {
  /** The controller's own directory on this host. */
  dir: string;
  replica: number;
  /** The controller's configuration (controller.json), which the replica's is made from. */
  config: ControllerFile;
  ssh: { privateKey?: string; acceptHostKey: boolean; knownHosts?: string };
  progress: (line: string) => void;
  /** Resolves once the controller lists the replica alive (the caller polls its API). */
  joined: (url: string) => Promise<void>;
  nodeBinary?: string;
  distDir?: string;
}

/** A replica needs more than an agent: the controller process, its store connection, the GUI. */
const MIN_MEM_MIB = 256;
const MIN_DISK_MIB = 400;

/** Where the store is, as host and port; refused when only this host can reach it. */
export function storeAddress(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 5432) };
}

const LOOPBACK = /^(127\.|::1$|localhost$)/;

/** The bundle, staged while the host is checked; moved in place once the checks pass. */
function stageScript(hostNode?: string): string {
  return `set -e
rm -rf ${ROPT}.new
mkdir -p ${ROPT}.new
tar -x -o -C ${ROPT}.new
${hostNode ? `ln -s ${shq(hostNode)} ${ROPT}.new/node` : `chmod 755 ${ROPT}.new/node`}
chmod 755 ${ROPT}.new ${ROPT}.new/uninstall.sh
`;
}

/** Removes the replica and everything Sigil put on the host for it; nothing else. Idempotent. */
export function uninstallScript(replica: number): string {
  return `#!/bin/sh
# Removes Sigil's controller replica from this host: its service, its files.
if [ -d /run/systemd/system ] && [ -e ${RUNIT} ]; then
  systemctl disable --now sigil-controller.service >/dev/null 2>&1
  rm -f ${RUNIT}
  systemctl daemon-reload
  systemctl reset-failed sigil-controller.service >/dev/null 2>&1
fi
pidfile=${RDIR}/${replicaFile('supervisor.pid', replica)}
if [ -f "$pidfile" ]; then
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null
  for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$pid" 2>/dev/null
fi
rm -rf ${RDIR} ${ROPT} ${ROPT}.new
exit 0
`;
}

function systemdUnit(replica: number): string {
  return `[Unit]
Description=Sigil controller replica ${replica}
After=network-online.target
Wants=network-online.target
StartLimitIntervalSec=0

[Service]
ExecStart=${ROPT}/node ${ROPT}/dist/controller.mjs --dir ${RDIR} --replica ${replica}
Restart=always
RestartSec=1
Environment=HOME=/root LANG=C.UTF-8
StandardOutput=append:${RDIR}/${replicaFile('controller.log', replica)}
StandardError=inherit

[Install]
WantedBy=multi-user.target
`;
}

function startScript(init: 'systemd' | 'supervised', replica: number): string {
  return init === 'systemd'
    ? `set -e\ncp ${ROPT}/sigil-controller.service ${RUNIT}\nsystemctl daemon-reload\nsystemctl enable --quiet sigil-controller.service\nsystemctl restart sigil-controller.service\n`
    // The controller's own supervisor restarts its server; without systemd it does not come back after a reboot.
    : `set -e\nsetsid -f ${ROPT}/node ${ROPT}/dist/controller.mjs --dir ${RDIR} --replica ${replica} </dev/null >>${RDIR}/${replicaFile('controller.log', replica)} 2>&1\n`;
}

/** Writes the replica's directory from the tar on stdin, readable by root only. */
const WRITE_DIR = `set -e
umask 077
rm -rf ${RDIR}
mkdir -p ${RDIR}
tar -x -o -C ${RDIR}
`;

/** Facts beyond an agent host's: a replica already there, and whether the API port is taken. */
function replicaChecks(port: number): string {
  return `if [ -e ${ROPT} ] || [ -e ${RDIR} ] || [ -e ${RUNIT} ]; then echo replica-installed=yes; fi
if timeout 1 bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}' 2>/dev/null; then echo port-busy=yes; fi`;
}

/**
 * Installs and starts replica `replica` on the host `spec` names, and waits until it has
 * joined. A step that fails undoes what was done on the host and names itself.
 */
export async function installAwayReplica(spec: string, o: ReplicaHostOptions): Promise<AwayReplica> {
  const started = Date.now();
  const target = parseTarget(spec);
  const store = o.config.store;
  const verb = 'enable-ha';
  const fail = (step: string, why: string, hint: string) => new SigilError('bad-request', `${verb} ${target.host}: step "${step}" failed: ${why}`, hint);
  if (!store) throw fail('check controller', 'the controller keeps its model in SQLite', 'replicas share a PostgreSQL store');
  const db = storeAddress(store.url);
  if (LOOPBACK.test(db.host)) {
    throw fail('check controller', `the store at ${db.host}:${db.port} is on this host's loopback, which ${target.host} cannot reach`, 'bootstrap with `--store postgresql://USER@ADDRESS/DB` at an address the other hosts reach (PostgreSQL\'s listen_addresses and pg_hba.conf must admit them)');
  }
  const controlDir = await mkdtemp(join(tmpdir(), 'sigil-replica-'));
  const sshOpts: SshOptions = { acceptHostKey: o.ssh.acceptHostKey, controlDir, verb, ...(o.ssh.privateKey ? { privateKey: o.ssh.privateKey } : {}), ...(o.ssh.knownHosts ? { knownHosts: o.ssh.knownHosts } : {}) };
  const ssh = new SshSession(target, sshOpts);
  const step = (name: string, detail: string) => o.progress(`${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s ${name}: ${detail}`);
  const port = o.config.port;
  let touched = false;
  let staging: Promise<RunResult> | undefined;
  const abortStaging = new AbortController();
  try {
    const known = o.ssh.acceptHostKey ? await knownKey(target, o.ssh.knownHosts) : true;
    const hello = await ssh.run(`echo sigil-ok\n${HOST_NODE}`);
    if (hello.code !== 0 || !hello.stdout.includes('sigil-ok')) throw stepError('connect', target, hello, verb);
    const fp = await fingerprint(target, o.ssh.knownHosts);
    step('connect', `${targetName(target)} (host key ${fp || 'checked'}${!known ? ', accepted on first use and added to known_hosts' : ''})`);

    const hostNode = o.nodeBinary === undefined ? usableHostNode(hello.stdout, process.version) : undefined;
    staging = ssh.run(stageScript(hostNode), { root: 'auto', input: await bundle(controlDir, hostNode === undefined, o), signal: abortStaging.signal })
      .catch((e: Error) => ({ code: 255, stdout: '', stderr: e.message }));

    const out = await ssh.must('check host', `${checkScript([db])}\n${replicaChecks(port)}`);
    const facts = parseFacts(out);
    checkReplicaHost(target, facts, out, db, port, fail);
    const root = facts.uid === 0 ? 'direct' as const : 'sudo' as const;
    step('check host', `${facts.distro} ${facts.arch}, ${facts.init === 'systemd' ? 'systemd' : 'no systemd as PID 1 (replica runs supervised)'}, ${facts.cores} cores, ${facts.mem} MiB memory; store reachable at ${db.host}:${db.port}; port ${port} free`);

    // The replica's own directory: its configuration, a certificate for this host's address
    // from the controller's CA, and the secrets it shares with the others (store password,
    // secrets key), as a tar on stdin.
    const url = `https://${target.host.includes(':') ? `[${target.host}]` : target.host}:${port}`;
    const files = join(controlDir, 'dir');
    await writeReplicaDir(files, o, target.host, facts.hostname, port);
    const staged = await staging;
    if (staged.code !== 0) throw stepError('install controller', target, staged, verb);
    touched = true;
    const node = await ssh.must('install controller', `set -e\nmv ${ROPT}.new ${ROPT}\n${ROPT}/node --version\n`, { root });
    await ssh.must('install controller', WRITE_DIR, { root, input: tarOf(files) });
    step('install controller', `Node ${node.trim()} ${hostNode ? `(the host's own, linked)` : '(copied)'}, the controller in ${ROPT}, its directory ${RDIR} (root only)`);

    await ssh.must('start replica', startScript(facts.init, o.replica), { root });
    step('start replica', facts.init === 'systemd' ? 'systemd unit sigil-controller.service, enabled' : 'supervised (setsid), no systemd on this host');

    await o.joined(url);
    step('joined', `replica r${o.replica} at ${url}`);
    return { target: targetName(target), address: target.host, port, init: facts.init, ...(o.ssh.privateKey ? { privateKey: o.ssh.privateKey } : {}), ...(o.ssh.knownHosts ? { knownHosts: o.ssh.knownHosts } : {}) };
  } catch (e) {
    if (staging && !touched) {
      abortStaging.abort();
      await staging;
    }
    const r = await ssh.run(uninstallScript(o.replica), { root: 'auto' }).catch(() => undefined);
    if (staging) o.progress(r?.code === 0 ? `undo: removed the replica from ${target.host}` : `undo: could not clean ${target.host}; remove ${ROPT}, ${RDIR} and ${RUNIT} there by hand`);
    throw e;
  } finally {
    await ssh.close();
    await rm(controlDir, { recursive: true, force: true });
  }
}

function checkReplicaHost(t: SshTarget, f: HostFacts, out: string, db: { host: string; port: number }, port: number, fail: (step: string, why: string, hint: string) => SigilError): void {
  const step = 'check host';
  if (f.os !== 'Linux') throw fail(step, `unsupported OS "${f.os || 'unknown'}"`, 'place replicas on Linux hosts');
  const mine = unameArch(process.arch);
  if (f.arch !== mine) throw fail(step, `unsupported architecture ${f.arch} (this controller's Node and its SQLite module are ${mine})`, `place replicas on ${mine} hosts`);
  if (f.uid !== 0 && !f.sudo) throw fail(step, `${t.user ?? 'the login user'} is not root and has no passwordless sudo`, 'use ssh:root@HOST, or give the user NOPASSWD sudo');
  if (/^replica-installed=yes$/m.test(out)) throw fail(step, `a Sigil controller replica is already installed there (${ROPT} or ${RDIR} exists)`, `if it belongs to no controller any more, remove it on the host with \`sudo sh ${ROPT}/uninstall.sh\`, then run enable-ha again`);
  if (/^port-busy=yes$/m.test(out)) throw fail(step, `port ${port} is already in use there`, 'free the port on that host (the replica listens on the controller\'s port)');
  if (f.disk >= 0 && f.disk < MIN_DISK_MIB) throw fail(step, `only ${f.disk} MiB free under /opt (a replica needs ${MIN_DISK_MIB} MiB)`, 'free some disk space on the host');
  if (f.memFree >= 0 && f.memFree < MIN_MEM_MIB) throw fail(step, `only ${f.memFree} MiB of memory available (a replica needs ${MIN_MEM_MIB} MiB)`, 'free some memory on the host');
  if (!f.reachable.includes(`${db.host}:${db.port}`)) throw fail(step, `the host cannot reach the store at ${db.host}:${db.port}`, 'check routes and firewalls between them, and that PostgreSQL listens on that address');
}

/** The replica's directory, as it will be on the host: nothing here is ever on a command line. */
async function writeReplicaDir(files: string, o: ReplicaHostOptions, address: string, hostname: string, port: number): Promise<void> {
  await mkdir(join(files, 'tls'), { recursive: true, mode: 0o700 });
  const read = (rel: string) => readFileSync(join(o.dir, rel), 'utf8');
  const { cert, key } = await issueServerCert(read(TLS_FILES.caCert), read(TLS_FILES.caKey), [address, ...(hostname && isIP(hostname) === 0 ? [hostname] : [])]);
  await writeFile(join(files, TLS_FILES.caCert), read(TLS_FILES.caCert), { mode: 0o644 });
  await writeFile(join(files, TLS_FILES.cert), cert, { mode: 0o644 });
  await writeFile(join(files, TLS_FILES.key), key, { mode: 0o600 });
  for (const secret of ['store-password', 'secrets.key']) {
    if (existsSync(join(o.dir, secret))) await writeFile(join(files, secret), readFileSync(join(o.dir, secret)), { mode: 0o600 });
  }
  // This host's own parts of the configuration stay here: the bridge, the extra API
  // addresses, the machines' directories, where agents are told to dial.
  const { bridge: _b, apiAddresses: _a, agentUrl: _u, machinesRoot: _m, providerRoot: _p, imagesDir: _i, aptPool: _ap, awayReplicas: _r, ...shared } = o.config;
  const ports = [...(o.config.replicaPorts ?? [])];
  while (ports.length < o.replica) ports.push(port);
  ports[o.replica - 1] = port;
  const config = { ...shared, host: address, replicaPorts: ports, away: { home: o.config.host } };
  await writeFile(join(files, 'controller.json'), JSON.stringify(config, null, 2), { mode: 0o600 });
}

function tarOf(dir: string) {
  return spawn('tar', ['-c', '--owner=0', '--group=0', '-C', dir, '.'], { stdio: ['ignore', 'pipe', 'inherit'] }).stdout;
}

/**
 * The controller's bundle: Node, dist/controller.mjs and every chunk it loads, the GUI, and
 * the modules it loads at run time (better-sqlite3's compiled module, pg for the store's
 * worker), plus the unit, the uninstall script.
 */
async function bundle(dir: string, withNode: boolean, o: ReplicaHostOptions) {
  const dist = o.distDir ?? DIST;
  const node = o.nodeBinary ?? process.execPath;
  const extra = join(dir, 'files');
  await mkdir(extra, { recursive: true, mode: 0o700 });
  await writeFile(join(extra, 'uninstall.sh'), uninstallScript(o.replica), { mode: 0o755 });
  await writeFile(join(extra, 'sigil-controller.service'), systemdUnit(o.replica), { mode: 0o644 });
  // Modules keep their place under node_modules, beside dist/ (where controller.mjs resolves them).
  const modules = runtimeModules(dirname(dist)).flatMap((m) => {
    const at = m.indexOf(`${sep}node_modules${sep}`);
    return ['-C', m.slice(0, at), m.slice(at + 1)];
  });
  const tar = spawn('tar', [
    '-c', '-h', '--owner=0', '--group=0',
    '-C', dirname(dist), ...(await entryModules(dist, 'controller.mjs')).map((f) => join(basename(dist), f)), join(basename(dist), 'gui'),
    '-C', extra, 'uninstall.sh', 'sigil-controller.service',
    ...modules,
    ...(withNode ? ['--transform', `s|^${basename(node).replace(/[^A-Za-z0-9_]/g, '.')}$|node|`, '-C', dirname(node), basename(node)] : []),
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  return tar.stdout;
}

/**
 * The files of the packages the controller loads at run time (outside its bundle):
 * better-sqlite3's JavaScript and compiled module (not its build tree), and pg with its
 * dependencies.
 */
export function runtimeModules(from: string): string[] {
  const find = (name: string, start: string): string | undefined => {
    for (let p = start; ; p = dirname(p)) {
      const c = join(p, 'node_modules', name);
      if (existsSync(join(c, 'package.json'))) return c;
      if (dirname(p) === p) return undefined;
    }
  };
  const out: string[] = [];
  const seen = new Set<string>();
  const queue: [string, string][] = [['pg', from], ['bindings', from], ['file-uri-to-path', from]];
  while (queue.length > 0) {
    const [name, start] = queue.pop()!;
    const dir = find(name, start);
    if (!dir || seen.has(dir)) continue;
    seen.add(dir);
    out.push(dir);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const d of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) queue.push([d, dir]);
  }
  const sqlite = find('better-sqlite3', from);
  if (!sqlite) throw new SigilError('internal', 'better-sqlite3 is not installed beside the controller bundle', 'run `npm ci` in the Sigil checkout');
  out.push(join(sqlite, 'package.json'), join(sqlite, 'lib'), join(sqlite, 'build', 'Release', 'better_sqlite3.node'));
  return out;
}

/** Stops and removes a replica on another host (enable-ha with fewer, destroy-controller). */
export async function removeAwayReplica(r: AwayReplica, replica: number): Promise<{ ok: boolean; message: string }> {
  const controlDir = await mkdtemp(join(tmpdir(), 'sigil-replica-'));
  const ssh = new SshSession(parseTarget(`ssh:${r.target}`), { acceptHostKey: false, controlDir, verb: 'enable-ha', ...(r.privateKey ? { privateKey: r.privateKey } : {}), ...(r.knownHosts ? { knownHosts: r.knownHosts } : {}) });
  try {
    const res = await ssh.run(uninstallScript(replica), { root: 'auto' });
    return res.code === 0
      ? { ok: true, message: `replica r${replica} removed from ${r.address}` }
      : { ok: false, message: `could not remove replica r${replica} from ${r.address} (${res.stderr.trim().split('\n').slice(-1)[0] || `exit ${res.code}`}); on that host run \`sudo sh ${ROPT}/uninstall.sh\`` };
  } finally {
    await ssh.close();
    await rm(controlDir, { recursive: true, force: true });
  }
}
