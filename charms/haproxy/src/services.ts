/**
 * What HAProxy should serve, from everything the related units publish on `reverseproxy`
 * (Juju's `http` interface). Pure: the same unit bags always give the same plan, in the
 * same order, so an unchanged model never rewrites haproxy.cfg.
 *
 * Keys read from each remote unit's bag, as Juju's haproxy charm reads them:
 *   hostname (else private-address), port   one server in the default service
 *   service_name                            put that server in this named service instead
 *   services                                YAML list of services this unit defines; its
 *                                           hostname/port are then not used (as in Juju)
 * and two Sigil extensions, ignored by Juju's charm:
 *   busy: "true"                            drain the unit's servers (no new connections)
 *   check-port                              health-check this port instead of `port`
 */
import YAML from 'yaml';
import type { Settings } from './settings.ts';

export const DEFAULT_SERVICE = 'haproxy_service';

export interface UnitBag {
  unit: string;
  data: Readonly<Record<string, string>>;
}

export interface Server {
  name: string;
  address: string;
  port: number;
  options: string[];
  /** The unit that published it; its `busy` flag drains it. */
  unit: string;
  busy: boolean;
}

export interface Service {
  name: string;
  host: string;
  port: number;
  /** service_options: split between frontend and backend when rendered. */
  options: string[];
  /** Appended to the servers that plain (hostname/port) units add to this service. */
  serverOptions: string[];
  servers: Server[];
  /** The configured service on listen-port, with the charm's health checks. */
  isDefault: boolean;
}

export interface Plan {
  services: Service[];
  /** Relation data that was ignored, and why (logged and counted in the status). */
  warnings: string[];
}

const NAME = /^[A-Za-z0-9_.:-]+$/;
const HOST = /^[A-Za-z0-9_.:*-]+$/;

class BadData extends Error {}

export function plan(settings: Settings, units: readonly UnitBag[]): Plan {
  const warnings: string[] = [];
  const byName = new Map<string, Service>();
  byName.set(DEFAULT_SERVICE, { name: DEFAULT_SERVICE, host: '0.0.0.0', port: settings.listenPort, options: [], serverOptions: [], servers: [], isDefault: true });
  const sorted = [...units].sort((a, b) => compareUnits(a.unit, b.unit));

  // Services a unit defines come first, so plain units can name them in service_name.
  for (const { unit, data } of sorted) {
    if (data.services === undefined || data.services.trim() === '') continue;
    let defined: Service[];
    try {
      defined = parseServices(data.services, unit, data.busy === 'true');
    } catch (e) {
      warnings.push(`${unit}: services ignored: ${(e as Error).message}`);
      continue;
    }
    for (const s of defined) {
      const known = byName.get(s.name);
      if (known) {
        for (const srv of s.servers) if (!known.servers.some((x) => x.name === srv.name)) known.servers.push(srv);
        continue;
      }
      const clash = [...byName.values()].find((x) => x.port === s.port);
      if (clash) warnings.push(`${unit}: service ${s.name} ignored: port ${s.port} is already used by ${clash.name}`);
      else if (s.port === settings.statsPort) warnings.push(`${unit}: service ${s.name} ignored: port ${s.port} is the statistics page's (stats-port)`);
      else byName.set(s.name, s);
    }
  }

  for (const { unit, data } of sorted) {
    if (data.services !== undefined && data.services.trim() !== '') continue;
    const address = data.hostname || data['private-address'];
    if (!address || data.port === undefined || data.port === '') continue; // not published yet
    try {
      const port = portOf(data.port, 'port');
      if (!HOST.test(address)) throw new BadData(`hostname ${JSON.stringify(address)} is not a host name or address`);
      const checkPort = data['check-port'] ? portOf(data['check-port'], 'check-port') : undefined;
      const wanted = data.service_name ? byName.get(data.service_name) : undefined;
      if (data.service_name && !wanted) warnings.push(`${unit}: service_name ${data.service_name} is not a known service; using ${DEFAULT_SERVICE}`);
      const service = wanted ?? byName.get(DEFAULT_SERVICE)!;
      const extra = service.serverOptions.flatMap((o) => o.split(/\s+/)).filter((word) => word !== 'check');
      const options = ['check', ...(checkPort !== undefined ? ['port', String(checkPort)] : []), ...extra];
      service.servers.push({ name: `${unit.replace('/', '-')}-${port}`, address, port, options, unit, busy: data.busy === 'true' });
    } catch (e) {
      if (!(e instanceof BadData)) throw e;
      warnings.push(`${unit}: ignored: ${e.message}`);
    }
  }

  const services = [...byName.values()].sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || a.port - b.port);
  for (const s of services) s.servers.sort((a, b) => compareUnits(a.name, b.name));
  return { services, warnings };
}

/** Parses one unit's `services` YAML (Juju haproxy's format); throws BadData with the reason. */
export function parseServices(text: string, unit: string, busy: boolean): Service[] {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new BadData(`not YAML (${(e as Error).message.split('\n')[0]})`);
  }
  if (!Array.isArray(doc)) throw new BadData('not a YAML list of services');
  return doc.map((entry: unknown, n) => {
    if (typeof entry !== 'object' || entry === null) throw new BadData(`entry ${n} is not a mapping`);
    const e = entry as Record<string, unknown>;
    const name = e.service_name;
    if (typeof name !== 'string' || !NAME.test(name)) throw new BadData(`entry ${n}: service_name ${JSON.stringify(name)} is not a name (letters, digits, _ . : -)`);
    const host = e.service_host === undefined ? '0.0.0.0' : String(e.service_host);
    if (!HOST.test(host)) throw new BadData(`${name}: service_host ${JSON.stringify(host)} is not an address`);
    if (e.service_port === undefined) throw new BadData(`${name}: service_port is missing`);
    const servers = e.servers === undefined ? [] : e.servers;
    if (!Array.isArray(servers)) throw new BadData(`${name}: servers is not a list`);
    return {
      name,
      host,
      port: portOf(e.service_port, `${name}: service_port`),
      options: optionList(e.service_options, `${name}: service_options`),
      serverOptions: optionList(e.server_options, `${name}: server_options`),
      servers: servers.map((s: unknown) => serverOf(s, name, unit, busy)),
      isDefault: false,
    };
  });
}

function serverOf(s: unknown, service: string, unit: string, busy: boolean): Server {
  if (!Array.isArray(s) || s.length < 3 || s.length > 4) throw new BadData(`${service}: a server is not [name, address, port, options]`);
  const [name, address, port, options] = s as unknown[];
  if (typeof name !== 'string' || !NAME.test(name)) throw new BadData(`${service}: server name ${JSON.stringify(name)} is not a name`);
  if (typeof address !== 'string' || !HOST.test(address)) throw new BadData(`${service}: server ${name} address ${JSON.stringify(address)} is not an address`);
  return { name, address, port: portOf(port, `${service}: server ${name} port`), options: optionList(options ?? [], `${service}: server ${name} options`), unit, busy };
}

function portOf(v: unknown, what: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new BadData(`${what} ${JSON.stringify(v)} is not a TCP port`);
  return n;
}

/** A list of options, or one string: comma-separated for service options as in Juju's charm. */
function optionList(v: unknown, what: string): string[] {
  if (v === undefined || v === null) return [];
  const items = typeof v === 'string' ? v.split(',') : Array.isArray(v) ? v : undefined;
  if (!items || items.some((x) => typeof x !== 'string')) throw new BadData(`${what} is not a list of strings`);
  const out = (items as string[]).map((x) => x.trim()).filter((x) => x !== '');
  // One line each in haproxy.cfg: a line break would let relation data add sections.
  if (out.some((x) => /[\r\n]/.test(x))) throw new BadData(`${what} contains a line break`);
  return out;
}

/** Orders app/2 before app/10. */
function compareUnits(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
