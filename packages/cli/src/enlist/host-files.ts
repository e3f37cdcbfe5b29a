import { shq } from './ssh-session.ts';

/**
 * What an enlisted host gets, and the scripts that check and change it. Everything Sigil
 * puts on a host is in four places, all removed by the uninstall script: /opt/sigil (Node,
 * the agent bundle, the hook-tool client, these scripts), /etc/sigil (the agent's config
 * and credential, 0600), /var/lib/sigil (the agent's and its units' state) and, on a
 * systemd host, /etc/systemd/system/sigil-agent.service (+ its enablement link).
 */
export const OPT = '/opt/sigil';
export const CONFIG = '/etc/sigil/agent.json';
export const DATA = '/var/lib/sigil';
export const UNIT = '/etc/systemd/system/sigil-agent.service';
export const LOG = '/var/log/sigil-agent.log';

/**
 * Key=value facts about the host, read as the login user (no change is made): the
 * controller's addresses and apt caches it reaches, and whether apt reaches its mirror.
 */
export function checkScript(controllerAddrs: { host: string; port: number }[], aptCaches: { host: string; port: number }[] = []): string {
  const probe = (key: string) => (a: { host: string; port: number }) => `if timeout 3 bash -c 'exec 3<>/dev/tcp/${a.host}/${a.port}' 2>/dev/null; then echo ${key}=${a.host}:${a.port}; fi`;
  const probes = [...controllerAddrs.map(probe('reach')), ...aptCaches.map(probe('aptcache'))].join('\n');
  return `
echo os=$(uname -s)
echo arch=$(uname -m)
if [ -d /run/systemd/system ]; then echo init=systemd; else echo init=supervised; fi
echo uid=$(id -u)
if [ "$(id -u)" != 0 ]; then if sudo -n true 2>/dev/null; then echo sudo=yes; else echo sudo=no; fi; fi
echo cores=$(nproc 2>/dev/null || echo 0)
echo mem=$(awk '/^MemTotal:/{print int($2/1024)}' /proc/meminfo 2>/dev/null)
echo memfree=$(awk '/^MemAvailable:/{print int($2/1024)}' /proc/meminfo 2>/dev/null)
mkdir -p /tmp 2>/dev/null; d=/opt; [ -d /opt ] || d=/
echo disk=$(df -Pk $d 2>/dev/null | awk 'NR==2{print int($4/1024)}')
echo hostname=$(hostname 2>/dev/null)
if [ -e ${CONFIG} ] || [ -e ${OPT} ] || [ -e ${UNIT} ]; then echo installed=yes; fi
if [ -r /etc/os-release ]; then . /etc/os-release; echo distro="$ID $VERSION_ID"; echo base="$ID@$VERSION_ID"; echo codename="$VERSION_CODENAME"; fi
${probes}
${mirrorProbe()}
`;
}

/**
 * Whether apt reaches its mirror: \`mirror=proxy\` when apt already has an http proxy (the
 * host's own business), else the first source's host and port, and \`mirror-ok=yes\` when a
 * TCP connection to it opens within 3 s (a host without DNS or a route fails at once).
 */
export function mirrorProbe(aptDir = '/etc/apt'): string {
  return `if apt-config dump 2>/dev/null | grep -qi '^Acquire::http::Proxy "[^"]'; then echo mirror=proxy; else
m=$(cat ${aptDir}/sources.list ${aptDir}/sources.list.d/*.list ${aptDir}/sources.list.d/*.sources 2>/dev/null | grep -v '^[[:space:]]*#' | grep -oE 'https?://[^/[:space:]]+' | head -n1)
if [ -n "$m" ]; then
  h=\${m#*://}; p=80; case "$m" in https*) p=443;; esac
  case "$h" in *:*) p=\${h##*:}; h=\${h%:*};; esac
  echo mirror=$h:$p
  if timeout 3 bash -c "exec 3<>/dev/tcp/$h/$p" 2>/dev/null; then echo mirror-ok=yes; fi
fi
fi`;
}

export interface HostFacts {
  os: string;
  arch: string;
  init: 'systemd' | 'supervised';
  uid: number;
  sudo: boolean;
  cores: number;
  mem: number;
  memFree: number;
  disk: number;
  hostname: string;
  installed: boolean;
  distro: string;
  /** Juju's base: os-release ID@VERSION_ID (debian@12); '' when unknown. */
  base: string;
  /** os-release VERSION_CODENAME (bookworm), Juju's older "series". */
  codename: string;
  reachable: string[];
  /** The controller's apt caches the host reaches (host:port). */
  aptCaches: string[];
  /** apt's mirror (host:port), or 'proxy' when apt already has one; '' without sources. */
  mirror: string;
  mirrorOk: boolean;
}

export function parseFacts(out: string): HostFacts {
  const kv = new Map<string, string[]>();
  for (const line of out.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const k = line.slice(0, eq);
    kv.set(k, [...(kv.get(k) ?? []), line.slice(eq + 1).trim()]);
  }
  const one = (k: string) => kv.get(k)?.[0] ?? '';
  const num = (k: string) => (Number.isFinite(Number(one(k))) && one(k) !== '' ? Number(one(k)) : -1);
  return {
    os: one('os'),
    arch: one('arch'),
    init: one('init') === 'systemd' ? 'systemd' : 'supervised',
    uid: num('uid'),
    sudo: one('sudo') === 'yes',
    cores: Math.max(num('cores'), 0),
    mem: num('mem'),
    memFree: num('memfree'),
    disk: num('disk'),
    hostname: one('hostname').replace(/[^A-Za-z0-9._-]/g, '').slice(0, 253),
    installed: one('installed') === 'yes',
    distro: one('distro'),
    base: /^[a-z0-9._-]+@[A-Za-z0-9._-]*$/.test(one('base')) ? one('base') : '',
    codename: one('codename').replace(/[^A-Za-z0-9._-]/g, ''),
    reachable: kv.get('reach') ?? [],
    aptCaches: kv.get('aptcache') ?? [],
    mirror: one('mirror'),
    mirrorOk: one('mirror-ok') === 'yes',
  };
}

/** Node's name for this machine's architecture, as `uname -m` prints it. */
export function unameArch(nodeArch: string): string {
  return ({ x64: 'x86_64', arm64: 'aarch64', arm: 'armv7l', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[nodeArch] ?? nodeArch;
}

/** Minimums an agent needs: Node and the bundle take ~110 MiB on disk, the agent ~60 MiB of memory. */
export const MIN_DISK_MIB = 300;
export const MIN_MEM_MIB = 128;

export const SYSTEMD_UNIT = `[Unit]
Description=Sigil machine agent
After=network-online.target
Wants=network-online.target
# Never give up: the agent must come back however often the controller is away.
StartLimitIntervalSec=0

[Service]
ExecStart=${OPT}/node ${OPT}/agent.mjs ${CONFIG}
Restart=always
RestartSec=1
Environment=HOME=/root LANG=C.UTF-8

[Install]
WantedBy=multi-user.target
`;

/**
 * A host without systemd as PID 1 (a container whose init is something else): the agent
 * runs under this loop instead, restarted a second after any exit, for as long as its
 * config exists. It does not come back after a host reboot (documented; systemd hosts do).
 */
export const SUPERVISOR = `#!/bin/sh
# Sigil machine agent supervisor, for hosts without systemd. Removed by ${OPT}/uninstall.sh.
echo $$ > ${DATA}/supervisor.pid
child=
trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait; exit 0' TERM INT
while [ -f ${CONFIG} ]; do
  ${OPT}/node ${OPT}/agent.mjs ${CONFIG} >>${LOG} 2>&1 &
  child=$!
  wait "$child"
  child=
  sleep 1
done
`;

/**
 * Removes the agent and all Sigil put on the host; nothing else. Idempotent; run by the
 * agent (detached) when its machine is removed, and by add-machine to undo a failed step.
 */
export const UNINSTALL = `#!/bin/sh
# Removes the Sigil machine agent from this host: its service, its files, its units' files.
if [ -d /run/systemd/system ] && [ -e ${UNIT} ]; then
  systemctl disable --now sigil-agent.service >/dev/null 2>&1
  rm -f ${UNIT}
  systemctl daemon-reload
  systemctl reset-failed sigil-agent.service >/dev/null 2>&1
fi
if [ -f ${DATA}/supervisor.pid ]; then
  pid=$(cat ${DATA}/supervisor.pid)
  rm -f ${CONFIG}
  kill -TERM "$pid" 2>/dev/null
  for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
fi
# Containers the agent made on this host (lxc:N) go too, with their bridge.
if [ -d ${DATA}/containers ] && command -v lxc-stop >/dev/null 2>&1; then
  for d in ${DATA}/containers/sigil-*; do [ -d "$d" ] && lxc-stop -P ${DATA}/containers -n "\${d##*/}" -k >/dev/null 2>&1; done
fi
ip link del sigilbr0 >/dev/null 2>&1
rm -rf /etc/sigil ${DATA} ${OPT} ${OPT}.new ${LOG} /etc/apt/apt.conf.d/95-sigil-proxy-settings
exit 0
`;

/**
 * Unpacks the bundle streamed on stdin (a tar) into /opt/sigil.new, a staging directory the
 * uninstall script also removes. It runs while the host is being checked; COMMIT moves it in
 * place once the checks have passed. `hostNode` is a Node the host already has (the same
 * version as the controller's, root's own): linked rather than copied.
 */
export function stageScript(hostNode?: string): string {
  return `set -e
rm -rf ${OPT}.new
mkdir -p ${OPT}.new
tar -x -o -C ${OPT}.new
${hostNode ? `ln -s ${shq(hostNode)} ${OPT}.new/node` : `chmod 755 ${OPT}.new/node`}
chmod 755 ${OPT}.new ${OPT}.new/sigil-hook-tool ${OPT}.new/uninstall.sh ${OPT}.new/supervise.sh
`;
}

/** Puts the staged bundle in place (the checks passed: nothing is at /opt/sigil yet). */
export const COMMIT = `set -e
mv ${OPT}.new ${OPT}
${OPT}/node --version
`;

/** Removes a staged bundle that was never committed (once an interrupted unpacking has stopped). */
export const UNSTAGE = `for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do pgrep -f '[t]ar -x -o -C ${OPT}.new' >/dev/null 2>&1 || break; sleep 0.1; done
rm -rf ${OPT}.new`;

/**
 * A Node the host already has that the agent may use instead of a copy: \`node\` on PATH,
 * /usr/local/bin/node or /usr/bin/node, resolved, owned by root and writable by root only
 * (file and directory: the agent runs as root), printed as \`node=PATH VERSION\`. Read only;
 * runs with the connect step.
 */
export const HOST_NODE = `for n in "$(command -v node 2>/dev/null)" /usr/local/bin/node /usr/bin/node; do
  [ -n "$n" ] && [ -x "$n" ] || continue
  r=$(readlink -f "$n") || continue
  [ -n "$(find "$r" "\${r%/*}" -maxdepth 0 -user 0 ! -perm /022 2>/dev/null | sed -n 2p)" ] || continue
  v=$("$r" --version 2>/dev/null) && echo "node=$r $v" && break
done
true`;

/** The host's Node from the connect step's output, if its version is \`version\` exactly. */
export function usableHostNode(out: string, version: string): string | undefined {
  const m = /^node=(\/\S+) (v\S+)$/m.exec(out);
  return m && m[2] === version ? m[1] : undefined;
}

/** Writes the agent's config (with its credential) from stdin, readable by root only. */
export const WRITE_CONFIG = `set -e
umask 077
mkdir -p /etc/sigil ${DATA}
cat > ${CONFIG}.tmp
mv ${CONFIG}.tmp ${CONFIG}
`;

export function startScript(init: 'systemd' | 'supervised'): string {
  return init === 'systemd'
    // A unit never loaded before is read from disk on demand: a full daemon-reload (seconds
    // on a busy host) is needed only when systemd still remembers an older one.
    ? `set -e\ncp ${OPT}/sigil-agent.service ${UNIT}\nsystemctl enable --no-reload --quiet sigil-agent.service\nsystemctl start sigil-agent.service 2>/dev/null || { systemctl daemon-reload && systemctl start sigil-agent.service; }\n`
    : `set -e\nsetsid -f /bin/sh ${OPT}/supervise.sh </dev/null >/dev/null 2>&1\n`;
}

/** What the agent runs to remove itself: outside its own service, which the script stops. */
export function uninstallCommand(init: 'systemd' | 'supervised'): string[] {
  return init === 'systemd'
    ? ['systemd-run', '--collect', '--quiet', '--unit=sigil-agent-uninstall', '/bin/sh', `${OPT}/uninstall.sh`]
    : ['/bin/sh', `${OPT}/uninstall.sh`];
}
