/**
 * haproxy.cfg from a plan and the settings. Pure and deterministic. Busy servers are not
 * in the file: draining is runtime state (set over the admin socket, carried across
 * reloads by the server-state file), so marking a unit busy never needs a reload.
 */
import type { Plan, Server, Service } from './services.ts';
import type { Settings } from './settings.ts';

export const ADMIN_SOCKET = '/run/haproxy/admin.sock';
export const STATE_FILE = '/var/lib/haproxy/server-state';

/** service_options that belong to the frontend (as Juju's haproxy charm splits them). */
const FRONTEND_ONLY = [
  'acl',
  'backlog',
  'bind',
  'capture cookie',
  'capture request header',
  'capture response header',
  'default_backend',
  'http-request',
  'maxconn',
  'monitor fail',
  'monitor-uri',
  'option accept-invalid-http-request',
  'option clitcpka',
  'option contstats',
  'option dontlog-normal',
  'option dontlognull',
  'option http-use-proxy-header',
  'option log-separate-errors',
  'option logasap',
  'option socket-stats',
  'option tcp-smart-accept',
  'rate-limit sessions',
  'redirect',
  'tcp-request content accept',
  'tcp-request content reject',
  'tcp-request inspect-delay',
  'timeout client',
  'use_backend',
];
/** service_options that both sides need. */
const BOTH = ['mode tcp', 'mode http', 'option tcplog', 'option httplog'];

export function render(plan: Plan, s: Settings, unitName: string): string {
  const out = [
    '# Written by the haproxy charm from its config and the reverseproxy relation; local edits are overwritten.',
    'global',
    '    log /dev/log local0',
    '    log /dev/log local1 notice',
    '    chroot /var/lib/haproxy',
    // expose-fd listeners: a reload hands the listening sockets to the new worker, so no
    // connection is refused while the old one finishes what it has.
    `    stats socket ${ADMIN_SOCKET} mode 660 level admin expose-fd listeners`,
    '    stats timeout 30s',
    '    user haproxy',
    '    group haproxy',
    '    master-worker',
    `    server-state-file ${STATE_FILE}`,
    '',
    'defaults',
    '    log global',
    '    mode http',
    '    option httplog',
    '    option dontlognull',
    // A connection refused by a server that is going away is retried on another server.
    '    retries 3',
    '    option redispatch 1',
    '    timeout connect 5s',
    '    timeout client 50s',
    '    timeout server 50s',
    '    timeout http-request 10s',
    // Health, drain and weight survive reloads.
    '    load-server-state-from-file global',
  ];
  for (const svc of plan.services) out.push('', ...frontend(svc, unitName), '', ...backend(svc, s));
  if (s.statsPort > 0) {
    out.push(
      '',
      'listen stats',
      `    bind 0.0.0.0:${s.statsPort}`,
      '    mode http',
      '    stats enable',
      '    stats uri /',
      '    stats refresh 5s',
      '    stats show-legends',
      `    stats auth ${s.statsUser}:${s.statsPassword}`,
    );
  }
  return out.join('\n') + '\n';
}

function frontend(svc: Service, unitName: string): string[] {
  const fe = svc.options.filter((o) => FRONTEND_ONLY.some((p) => startsWithWord(o, p)) || BOTH.includes(o));
  return [`frontend ${unitName.replace('/', '-')}-${svc.port}`, `    bind ${svc.host}:${svc.port}`, `    default_backend ${svc.name}`, ...fe.map((o) => `    ${o}`)];
}

function backend(svc: Service, s: Settings): string[] {
  const be = svc.options.filter((o) => !FRONTEND_ONLY.some((p) => startsWithWord(o, p)));
  const lines = [`backend ${svc.name}`];
  if (svc.isDefault) {
    lines.push(
      `    balance ${s.balance}`,
      `    option httpchk GET ${s.checkPath}`,
      // Once connected, a check may wait this long for the answer; connecting stays bounded by inter.
      ...(s.checkTimeout ? [`    timeout check ${s.checkTimeout}`] : []),
      // A request whose server vanished before answering is retried elsewhere; only GET
      // and HEAD are safe to send twice.
      '    retry-on conn-failure empty-response',
      '    http-request disable-l7-retry unless METH_GET || METH_HEAD',
    );
  }
  lines.push(...be.map((o) => `    ${o}`));
  // init-addr: a server whose name does not resolve yet must not stop HAProxy starting.
  lines.push(`    default-server inter ${s.checkInter} rise ${s.checkRise} fall ${s.checkFall} init-addr last,libc,none`);
  svc.servers.forEach((srv, i) => lines.push(serverLine(srv, i)));
  return lines;
}

function serverLine(srv: Server, i: number): string {
  const options = srv.options.join(' ').replaceAll('{i}', String(i));
  return `    server ${srv.name} ${srv.address}:${srv.port}${options ? ' ' + options : ''}`;
}

function startsWithWord(option: string, prefix: string): boolean {
  return option === prefix || option.startsWith(prefix + ' ');
}

/** The runtime admin state each server should have: drained while its unit is busy. */
export function serverStates(plan: Plan): { backend: string; server: string; state: 'drain' | 'ready' }[] {
  return plan.services.flatMap((svc) => svc.servers.map((srv) => ({ backend: svc.name, server: srv.name, state: srv.busy ? ('drain' as const) : ('ready' as const) })));
}

/** The ports to open: every frontend's, and the statistics page's. */
export function portsOf(plan: Plan, s: Settings): number[] {
  const ports = plan.services.map((svc) => svc.port);
  if (s.statsPort > 0) ports.push(s.statsPort);
  return [...new Set(ports)].sort((a, b) => a - b);
}
