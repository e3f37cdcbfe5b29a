/**
 * What a charm can ask of its agent, as one interface with two implementations: the hook
 * tools over the agent socket (a real dispatch) and the in-memory state of the test kit.
 */
import { AgentSocket } from './agent-socket.ts';

export type StatusName = 'active' | 'blocked' | 'waiting' | 'maintenance';
export type LogLevel = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
export type Port = { port: number; protocol: 'tcp' | 'udp' };

export interface Backend {
  config(): Promise<Record<string, string | number | boolean>>;
  isLeader(): Promise<boolean>;
  /** Relation ids on an endpoint. */
  relationIds(endpoint: string): Promise<number[]>;
  relationUnits(relationId: number): Promise<string[]>;
  relationApp(relationId: number): Promise<string>;
  /** `owner` is a unit name, or an application name with `app`. */
  relationGet(relationId: number, owner: string, app: boolean): Promise<Record<string, string>>;
  /** A value of '' (or null) deletes the key, as in Juju. */
  relationSet(relationId: number, data: Record<string, string>, app: boolean): Promise<void>;
  statusSet(name: StatusName, message: string, app: boolean): Promise<void>;
  openPort(port: Port): Promise<void>;
  closePort(port: Port): Promise<void>;
  openedPorts(): Promise<Port[]>;
  applicationVersionSet(version: string): Promise<void>;
  leaderGet(): Promise<Record<string, string>>;
  leaderSet(data: Record<string, string>): Promise<void>;
  stateGet(): Promise<Record<string, string>>;
  stateSet(data: Record<string, string>): Promise<void>;
  address(): Promise<string>;
  log(level: LogLevel, message: string): Promise<void>;
  actionParams(): Promise<Record<string, unknown>>;
  actionSet(results: Record<string, string>): Promise<void>;
  actionFail(message: string): Promise<void>;
  actionLog(message: string): Promise<void>;
  /** The latest content of this application's secret with `label` (Juju secrets); undefined if there is none. */
  appSecretGet(label: string): Promise<Record<string, string> | undefined>;
  /** Creates the application's secret with `label`, or gives it a new revision (leader only). */
  appSecretSet(label: string, content: Record<string, string>): Promise<void>;
  /** The id of the application's secret with `label` (what `sigil show-secret` takes); undefined if there is none. */
  appSecretId(label: string): Promise<string | undefined>;
}

const json = (s: string): unknown => (s.trim() === '' ? null : JSON.parse(s));
const relRef = (id: number) => String(id);
/** `key=value` arguments cannot carry newlines safely; the hook tools read YAML from stdin instead. */
const asYaml = (data: Record<string, string>) =>
  Object.entries(data)
    .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
    .join('\n') + '\n';

/** A secret-get or secret-info-get by label that found nothing (Juju: `secret "<label>" not found`). */
const notFound = (e: unknown) => e instanceof Error && / not found\b/.test(e.message);

/** The real backend: Juju's hook tools, called in process over the agent socket. */
export class SocketBackend implements Backend {
  constructor(private readonly s: AgentSocket = AgentSocket.fromEnv()) {}

  close(): void {
    this.s.close();
  }

  private async get<T>(tool: string, args: string[]): Promise<T> {
    return json(await this.s.call(tool, [...args, '--format=json'])) as T;
  }

  async config() {
    return (await this.get<Record<string, string | number | boolean> | null>('config-get', [])) ?? {};
  }
  async isLeader() {
    return (await this.get<boolean>('is-leader', [])) === true;
  }
  async relationIds(endpoint: string) {
    const ids = (await this.get<string[] | null>('relation-ids', [endpoint])) ?? [];
    return ids.map((r) => Number(r.slice(r.lastIndexOf(':') + 1))).sort((a, b) => a - b);
  }
  async relationUnits(id: number) {
    return (await this.get<string[] | null>('relation-list', ['-r', relRef(id)])) ?? [];
  }
  async relationApp(id: number) {
    return (await this.get<string | null>('relation-list', ['-r', relRef(id), '--app'])) ?? '';
  }
  async relationGet(id: number, owner: string, app: boolean) {
    return (await this.get<Record<string, string> | null>('relation-get', ['-r', relRef(id), ...(app ? ['--app'] : []), '-', owner])) ?? {};
  }
  async relationSet(id: number, data: Record<string, string>, app: boolean) {
    if (Object.keys(data).length === 0) return;
    await this.s.call('relation-set', ['-r', relRef(id), ...(app ? ['--app'] : []), '--file', '-'], asYaml(data));
  }
  async statusSet(name: StatusName, message: string, app: boolean) {
    await this.s.call('status-set', [...(app ? ['--application'] : []), name, message]);
  }
  async openPort(p: Port) {
    await this.s.call('open-port', [`${p.port}/${p.protocol}`]);
  }
  async closePort(p: Port) {
    await this.s.call('close-port', [`${p.port}/${p.protocol}`]);
  }
  async openedPorts() {
    const list = (await this.get<string[] | null>('opened-ports', [])) ?? [];
    return list.map((p) => {
      const [port, protocol] = p.split('/');
      return { port: Number(port), protocol: protocol === 'udp' ? 'udp' : 'tcp' } as Port;
    });
  }
  async applicationVersionSet(version: string) {
    await this.s.call('application-version-set', [version]);
  }
  async leaderGet() {
    return (await this.get<Record<string, string> | null>('leader-get', [])) ?? {};
  }
  async leaderSet(data: Record<string, string>) {
    const pairs = Object.entries(data).map(([k, v]) => `${k}=${v}`);
    if (pairs.length) await this.s.call('leader-set', pairs);
  }
  async stateGet() {
    return (await this.get<Record<string, string> | null>('state-get', [])) ?? {};
  }
  async stateSet(data: Record<string, string>) {
    if (Object.keys(data).length) await this.s.call('state-set', ['--file', '-'], asYaml(data));
  }
  async address() {
    return (await this.get<string>('unit-get', ['private-address'])) ?? '';
  }
  async log(level: LogLevel, message: string) {
    await this.s.call('juju-log', ['-l', level, message]);
  }
  async actionParams() {
    return (await this.get<Record<string, unknown> | null>('action-get', [])) ?? {};
  }
  async actionSet(results: Record<string, string>) {
    const pairs = Object.entries(results).map(([k, v]) => `${k}=${v}`);
    if (pairs.length) await this.s.call('action-set', pairs);
  }
  async actionFail(message: string) {
    await this.s.call('action-fail', [message]);
  }
  async actionLog(message: string) {
    await this.s.call('action-log', [message]);
  }
  async appSecretGet(label: string) {
    try {
      return (await this.get<Record<string, string> | null>('secret-get', ['--label', label])) ?? {};
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
  }
  async appSecretId(label: string) {
    let info: Record<string, unknown> | null = null;
    try {
      info = await this.get<Record<string, unknown> | null>('secret-info-get', ['--label', label]);
    } catch (e) {
      if (!notFound(e)) throw e;
    }
    return info === null ? undefined : Object.keys(info)[0];
  }
  async appSecretSet(label: string, content: Record<string, string>) {
    // Values go over the agent socket, never on a command line.
    const pairs = Object.entries(content).map(([k, v]) => `${k}=${v}`);
    const id = await this.appSecretId(label);
    if (id === undefined) await this.s.call('secret-add', ['--label', label, ...pairs]);
    else await this.s.call('secret-set', [id, ...pairs]);
  }
}
