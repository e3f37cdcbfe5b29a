import type { Socket } from 'node:net';
import type { Clock } from './clock.ts';
import type { Item, Stage, StageFactory, StageHost } from './stages.ts';
import type { Stream, ToxicSpec } from './toxics.ts';
import { HttpSession } from './http-session.ts';

/** Past this many bytes held inside toxics, the link stops reading its source (TCP backpressure). */
const HIGH_WATER = 1 << 20;

export interface LinkEnv {
  clock: Clock;
  random(): number;
  stageFor(type: string): StageFactory;
}

interface Placed {
  name: string;
  stage: Stage;
}

/**
 * One direction of a proxied connection: bytes read from `source` run through the chain of
 * toxics for this direction and are written to `dest`. With no toxics a chunk is written as
 * soon as it is read. Toxics can be added, updated and removed while data flows; what a
 * removed toxic still held goes on in order.
 */
export class Link {
  private chain: Placed[] = [];
  private inFlight = 0;
  private waitingDrain = false;
  private paused = false;
  private ended = false;
  private readonly host: StageHost;
  /** Rewrites bytes as they are read (the HTTP toxics take failed requests out here). */
  inputFilter: ((data: Buffer) => Buffer) | undefined;
  /** Rewrites bytes as they are written (the HTTP toxics add answers and cut responses here). */
  outputFilter: ((data: Buffer) => Buffer[]) | undefined;

  constructor(
    readonly direction: Stream,
    private readonly source: Socket,
    private readonly dest: Socket,
    private readonly env: LinkEnv,
    onReset: () => void,
    toxics: ToxicSpec[],
  ) {
    this.host = {
      clock: env.clock,
      random: env.random,
      discard: (bytes) => {
        this.inFlight -= bytes;
        this.flow();
      },
      reset: onReset,
    };
    for (const toxic of toxics) this.add(toxic);
  }

  /**
   * Data read from the source, or `null` when it ended. With no toxic and no HTTP framing on
   * this direction a chunk goes straight to the destination, as `pipe` would: no copy, no
   * allocation, no clock read; backpressure is the destination's drain alone.
   */
  input(raw: Buffer | null): void {
    if (raw !== null && this.chain.length === 0 && this.inputFilter === undefined && this.outputFilter === undefined) {
      if (this.ended || this.dest.destroyed) return;
      if (!this.dest.write(raw)) this.awaitDrain();
      return;
    }
    const data = raw && this.inputFilter ? this.inputFilter(raw) : raw;
    if (data && data.length === 0) return;
    const item: Item = data === null ? null : { data, at: this.env.clock.now() };
    if (item) this.inFlight += item.data.length;
    const first = this.chain[0];
    if (first) first.stage.push(item);
    else this.deliver(item);
    if (item) this.flow();
  }

  private deliver(item: Item): void {
    if (this.ended) {
      if (item) this.inFlight -= item.data.length;
      return;
    }
    if (item === null) {
      this.ended = true;
      if (!this.dest.destroyed) this.dest.end();
      return;
    }
    this.inFlight -= item.data.length;
    if (this.dest.destroyed) return;
    let ok = true;
    if (this.outputFilter) for (const part of this.outputFilter(item.data)) ok = this.dest.write(part) && ok;
    else ok = this.dest.write(item.data);
    if (!ok) this.awaitDrain();
    else this.flow();
  }

  /** The destination's buffer is full: stop reading the source until it drains. */
  private awaitDrain(): void {
    if (!this.waitingDrain) {
      this.waitingDrain = true;
      this.dest.once('drain', () => {
        this.waitingDrain = false;
        this.flow();
      });
    }
    this.flow();
  }

  /** Pauses or resumes reading the source from the buffer level and the destination's drain. */
  private flow(): void {
    const stop = this.waitingDrain || this.inFlight > HIGH_WATER;
    if (stop && !this.paused) {
      this.paused = true;
      this.source.pause();
    } else if (!stop && this.paused) {
      this.paused = false;
      this.source.resume();
    }
  }

  private emitAfter(placed: Placed): (item: Item) => void {
    return (item) => {
      const at = this.chain.indexOf(placed);
      const next = at >= 0 ? this.chain[at + 1] : undefined;
      if (next) next.stage.push(item);
      else this.deliver(item);
    };
  }

  add(toxic: ToxicSpec): void {
    const placed: Placed = { name: toxic.name, stage: undefined as unknown as Stage };
    placed.stage = this.env.stageFor(toxic.type)(toxic, this.host, this.emitAfter(placed));
    this.chain.push(placed);
  }

  update(toxic: ToxicSpec): void {
    this.chain.find((p) => p.name === toxic.name)?.stage.update(toxic);
  }

  remove(name: string): void {
    const at = this.chain.findIndex((p) => p.name === name);
    if (at < 0) return;
    const [placed] = this.chain.splice(at, 1);
    const held = placed!.stage.remove();
    const next = this.chain[at];
    for (const item of held) {
      if (next) next.stage.push(item);
      else this.deliver(item);
    }
  }

  removeAll(): void {
    while (this.chain.length > 0) this.remove(this.chain[this.chain.length - 1]!.name);
  }
}

/**
 * A client connection and its upstream connection, with a link each way. Either socket
 * failing (or a reset_peer toxic) ends both; a clean end on one side half-closes the other
 * once the toxics let the end through.
 */
export class Connection {
  readonly upstreamLink: Link;
  readonly downstreamLink: Link;
  private finished = false;
  private socketsClosed = 0;
  private readonly http: HttpSession | undefined;

  constructor(
    private readonly client: Socket,
    private readonly server: Socket,
    env: LinkEnv,
    toxics: ToxicSpec[],
    private readonly onClose: (conn: Connection) => void,
  ) {
    const reset = () => this.reset();
    this.upstreamLink = new Link('upstream', client, server, env, reset, toxics.filter((t) => t.stream === 'upstream'));
    this.downstreamLink = new Link('downstream', server, client, env, reset, toxics.filter((t) => t.stream === 'downstream'));
    client.setNoDelay(true);
    server.setNoDelay(true);
    // HTTP toxics frame a connection from its first byte, so only connections opened while
    // the proxy has one are framed; the others pass unparsed (and at full speed).
    if (toxics.some((t) => t.type === 'http_error' || t.type === 'http_abort')) {
      const http = new HttpSession({
        toClient: (data) => void client.write(data),
        cut: () => {
          client.end();
          server.destroy();
        },
        random: env.random,
      });
      http.configure(toxics);
      this.upstreamLink.inputFilter = (data) => http.fromClient(data);
      this.downstreamLink.outputFilter = (data) => http.toClient(data);
      this.http = http;
    }
    this.wire(client, this.upstreamLink);
    this.wire(server, this.downstreamLink);
  }

  /** A socket's data and its end go into the link reading it; an error ends everything. */
  private wire(socket: Socket, link: Link): void {
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      link.input(null);
    };
    socket.on('data', (data: Buffer) => link.input(data));
    socket.on('end', end);
    socket.on('error', () => this.destroy());
    socket.on('close', () => {
      end();
      if (++this.socketsClosed === 2) this.finish();
    });
  }

  link(stream: Stream): Link {
    return stream === 'upstream' ? this.upstreamLink : this.downstreamLink;
  }

  /** The proxy's toxics changed: the HTTP session (if framed) takes the new settings. */
  toxicsChanged(toxics: ToxicSpec[]): void {
    this.http?.configure(toxics);
  }

  httpCounts(): { injected: number; aborted: number } {
    return { injected: this.http?.injected ?? 0, aborted: this.http?.aborted ?? 0 };
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.upstreamLink.removeAll();
    this.downstreamLink.removeAll();
    this.onClose(this);
  }

  /** Closes both sockets at once (a disabled or deleted proxy, a failed socket). */
  destroy(): void {
    this.client.destroy();
    this.server.destroy();
    this.finish();
  }

  /** TCP RST to both sides: the socket is closed with SO_LINGER 0, discarding unsent data. */
  reset(): void {
    for (const socket of [this.client, this.server]) {
      if (!socket.destroyed) socket.resetAndDestroy();
    }
    this.finish();
  }
}
