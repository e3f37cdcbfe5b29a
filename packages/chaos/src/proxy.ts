import net from 'node:net';
import { Connection, type LinkEnv } from './link.ts';
import { ErrToxicAlreadyExists, ErrToxicNotFound } from './errors.ts';
import { checkToxicity, mergeAttributes, type ToxicSpec } from './toxics.ts';

/** `host:port` or `[v6]:port`; `localhost` means 127.0.0.1, as Go's resolver picks it. */
export function splitHostPort(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`address ${address}: missing port in address`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === 'localhost' || host === '' ? '127.0.0.1' : host, port };
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Node's listen error in the words of Go's net.Listen (clients and tests match on it). */
function listenError(e: NodeJS.ErrnoException, listen: string): Error {
  const { host, port } = splitHostPort(listen);
  const reason: Record<string, string> = {
    EADDRINUSE: 'bind: address already in use',
    EADDRNOTAVAIL: 'bind: cannot assign requested address',
    EACCES: 'bind: permission denied',
  };
  return new Error(`listen tcp ${joinHostPort(host, port)}: ${reason[e.code ?? ''] ?? e.message}`);
}

/**
 * Bytes a proxied socket buffers for writing before `write` says to wait (Node's default is
 * 16 KiB, less than one 64 KiB read): with room for a few reads, a busy stream pauses and
 * resumes its source far less often.
 */
const SOCKET_BUFFER = 1 << 20;

export interface ProxyJson {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: ToxicSpec[];
}

/**
 * One named proxy: a listener, its upstream, its toxics (upstream chain first, then
 * downstream, each in the order added) and the connections running through it.
 */
export class Proxy {
  enabled = false;
  private server: net.Server | undefined;
  private readonly connections = new Set<Connection>();
  private toxics: ToxicSpec[] = [];

  constructor(
    readonly name: string,
    public listen: string,
    public upstream: string,
    private readonly env: LinkEnv,
  ) {}

  toJSON(): ProxyJson {
    return { name: this.name, listen: this.listen, upstream: this.upstream, enabled: this.enabled, toxics: this.toxicList() };
  }

  toxicList(): ToxicSpec[] {
    return [...this.toxics.filter((t) => t.stream === 'upstream'), ...this.toxics.filter((t) => t.stream === 'downstream')];
  }

  connectionCount(): number {
    return this.connections.size;
  }

  /** Opens the listener; the listen address then shows the real port (for `:0`). */
  async start(): Promise<void> {
    if (this.enabled) return;
    const { host, port } = splitHostPort(this.listen);
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true, highWaterMark: SOCKET_BUFFER }, (client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(listenError(e, this.listen)));
      server.listen({ host, port, exclusive: true }, () => resolve());
    });
    const address = server.address() as net.AddressInfo;
    this.listen = joinHostPort(address.address, address.port);
    this.server = server;
    this.enabled = true;
  }

  /** Closes the listener and every connection through it. */
  async stop(): Promise<void> {
    if (!this.enabled) return;
    this.enabled = false;
    const server = this.server;
    this.server = undefined;
    for (const conn of [...this.connections]) conn.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    let upstream: { host: string; port: number };
    try {
      upstream = splitHostPort(this.upstream);
    } catch {
      client.destroy();
      return;
    }
    // highWaterMark is a stream option net.Socket passes on (@types/node leaves it out here).
    const options: net.NetConnectOpts = { host: upstream.host, port: upstream.port, allowHalfOpen: true, noDelay: true };
    const server = net.connect(Object.assign(options, { highWaterMark: SOCKET_BUFFER }));
    const conn = new Connection(client, server, this.env, this.toxicList(), (c) => this.connections.delete(c));
    this.connections.add(conn);
    client.resume();
  }

  /** True when `listen` or `upstream` would change this proxy (Toxiproxy's `Differs`). */
  differs(listen: string, upstream: string): boolean {
    const wanted = splitHostPort(listen);
    const have = splitHostPort(this.listen);
    return wanted.host !== have.host || wanted.port !== have.port || upstream !== this.upstream;
  }

  getToxic(name: string): ToxicSpec | undefined {
    return this.toxics.find((t) => t.name === name);
  }

  addToxic(toxic: ToxicSpec): ToxicSpec {
    if (this.getToxic(toxic.name)) throw ErrToxicAlreadyExists;
    this.toxics.push(toxic);
    for (const conn of this.connections) conn.link(toxic.stream).add(toxic);
    this.tellConnections();
    return toxic;
  }

  /** Merges new attributes (and toxicity) onto a toxic; running connections pick them up. */
  updateToxic(name: string, body: Record<string, unknown>): ToxicSpec {
    const current = this.getToxic(name);
    if (!current) throw ErrToxicNotFound;
    const attributes = mergeAttributes(current.type, current.attributes, body['attributes']);
    const toxicity = body['toxicity'] === undefined ? current.toxicity : checkToxicity(body['toxicity']);
    const next: ToxicSpec = { attributes, name: current.name, type: current.type, stream: current.stream, toxicity };
    this.toxics[this.toxics.indexOf(current)] = next;
    for (const conn of this.connections) conn.link(next.stream).update(next);
    this.tellConnections();
    return next;
  }

  removeToxic(name: string): void {
    const current = this.getToxic(name);
    if (!current) throw ErrToxicNotFound;
    this.toxics = this.toxics.filter((t) => t !== current);
    for (const conn of [...this.connections]) conn.link(current.stream).remove(name);
    this.tellConnections();
  }

  private tellConnections(): void {
    const list = this.toxicList();
    for (const conn of this.connections) conn.toxicsChanged(list);
  }

  removeAllToxics(): void {
    for (const toxic of [...this.toxics]) this.removeToxic(toxic.name);
  }
}
