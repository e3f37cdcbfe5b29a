import { SigilError } from '@sigil/core';

/** `ssh:[USER@]HOST[:PORT]`, as Juju's manual provider takes it (`[v6]:port` for IPv6). */
export interface SshTarget {
  user: string | undefined;
  host: string;
  port: number;
}

const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
const USER = /^[a-z_][a-z0-9_.-]{0,31}$/i;

export function parseTarget(spec: string): SshTarget {
  const bad = (why: string) => new SigilError('bad-request', `"${spec}" is not an ssh placement: ${why}`, 'use ssh:[USER@]HOST[:PORT], e.g. `sigil add-machine ssh:ubuntu@10.0.0.5`');
  if (!spec.startsWith('ssh:')) throw bad('it does not start with ssh:');
  let rest = spec.slice(4);
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!USER.test(user)) throw bad(`user "${user}" is not a valid user name`);
  }
  let host = rest;
  let port = 22;
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(rest);
  if (v6) {
    host = v6[1]!;
    if (v6[2] !== undefined) port = Number(v6[2]);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon >= 0) {
      host = rest.slice(0, colon);
      const p = rest.slice(colon + 1);
      if (!/^\d{1,5}$/.test(p)) throw bad(`port "${p}" is not a number`);
      port = Number(p);
    }
    if (!HOST.test(host)) throw bad(`host "${host}" is not a host name or address`);
  }
  if (port < 1 || port > 65535) throw bad(`port ${port} is out of range`);
  return { user, host, port };
}

/** user@host:port, the form the controller records (one machine per target). */
export function targetName(t: SshTarget): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `${t.user ?? ''}${t.user ? '@' : ''}${host}:${t.port}`;
}
