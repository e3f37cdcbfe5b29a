import { STATUS_CODES } from 'node:http';
import { FrameParser, type Segment } from './http-frame.ts';
import type { ToxicSpec } from './toxics.ts';

/** What the session needs from its connection. */
export interface SessionIo {
  /** Writes bytes to the client now (in order with what the downstream link delivers). */
  toClient(data: Buffer): void;
  /** Ends the connection after a cut response: the client gets what was written, then EOF. */
  cut(): void;
  random(): number;
}

type Slot = { kind: 'forwarded' } | { kind: 'injected'; bytes: Buffer };

/**
 * Sigil's HTTP-aware toxics on one connection. Requests are framed as they enter the
 * upstream link: one picked by `http_error` is taken out of the stream and its answer
 * (the chosen status) queued in its place. Responses are framed as the downstream link
 * delivers them: an injected answer is written as soon as every response before it is
 * complete, so pipelined and keep-alive exchanges stay in order; one picked by
 * `http_abort` is cut after `bytes` bytes of its body and the connection closed. Bytes
 * that are not HTTP/1.x (or an upgraded connection) pass through untouched.
 */
export class HttpSession {
  private readonly requests: FrameParser;
  private readonly responses: FrameParser;
  private readonly methods: string[] = [];
  private readonly slots: Slot[] = [];
  private dropping = -1;
  private error: { status: number; rate: number } | undefined;
  private abort: { bytes: number; rate: number } | undefined;
  private aborting: { msg: number; left: number } | undefined;
  private cutDone = false;
  /** Answers injected so far, and responses cut (for tests and the drill report). */
  injected = 0;
  aborted = 0;

  constructor(private readonly io: SessionIo) {
    this.requests = new FrameParser('request');
    this.responses = new FrameParser('response', (msg) => this.methods[msg] ?? 'GET');
  }

  /** Applies the proxy's current toxics; toxicity is drawn here, once per toxic and connection. */
  configure(toxics: ToxicSpec[]): void {
    const error = toxics.find((t) => t.type === 'http_error');
    const abort = toxics.find((t) => t.type === 'http_abort');
    this.error = error && this.io.random() < error.toxicity ? { status: error.attributes['status']!, rate: error.attributes['rate']! } : undefined;
    this.abort = abort && this.io.random() < abort.toxicity ? { bytes: abort.attributes['bytes']!, rate: abort.attributes['rate']! } : undefined;
  }

  get active(): boolean {
    return this.error !== undefined || this.abort !== undefined || this.slots.length > 0;
  }

  /** Client → server bytes before the upstream toxics: returns what goes on. */
  fromClient(data: Buffer): Buffer {
    const keep: Buffer[] = [];
    for (const seg of this.requests.feed(data)) {
      if (seg.msg < 0) {
        keep.push(seg.data);
        continue;
      }
      if (seg.head) {
        this.methods[seg.msg] = seg.head.method;
        const fail = this.error !== undefined && this.io.random() < this.error.rate;
        this.dropping = fail ? seg.msg : -1;
        this.slots.push(fail ? { kind: 'injected', bytes: answer(this.error!.status) } : { kind: 'forwarded' });
      }
      if (seg.msg !== this.dropping) keep.push(seg.data);
    }
    this.flushInjected();
    return keep.length === 1 ? keep[0]! : Buffer.concat(keep);
  }

  /** Server → client bytes as the downstream link delivers them: returns what to write. */
  toClient(data: Buffer): Buffer[] {
    if (this.cutDone) return [];
    const out: Buffer[] = [];
    for (const seg of this.responses.feed(data)) {
      if (seg.msg < 0) {
        out.push(seg.data);
        continue;
      }
      if (this.cutSegment(seg, out)) return out;
      out.push(seg.data);
      if (seg.ends) {
        // The response for the oldest forwarded request is complete; answers queued behind it may go.
        const at = this.slots.findIndex((s) => s.kind === 'forwarded');
        if (at >= 0) this.slots.splice(at, 1);
        for (const bytes of this.takeInjected()) out.push(bytes);
      }
    }
    return out;
  }

  /** Cuts a response picked by http_abort once `bytes` of its body went through; true when cut. */
  private cutSegment(seg: Segment, out: Buffer[]): boolean {
    if (seg.head) {
      if (FrameParser.interim(seg.head) || !this.abort || this.io.random() >= this.abort.rate) return false;
      this.aborting = { msg: seg.msg, left: this.abort.bytes };
      if (!seg.ends) return false;
      // A response without a body is cut in its head.
      out.push(seg.data.subarray(0, seg.data.length - 1));
      return this.doCut();
    }
    if (!this.aborting || this.aborting.msg !== seg.msg) return false;
    if (seg.data.length < this.aborting.left && !seg.ends) {
      this.aborting.left -= seg.data.length;
      return false;
    }
    // Never let the response complete: a body shorter than `bytes` loses its last byte.
    const take = Math.min(this.aborting.left, seg.ends ? seg.data.length - 1 : seg.data.length);
    out.push(seg.data.subarray(0, Math.max(0, take)));
    return this.doCut();
  }

  private doCut(): true {
    this.cutDone = true;
    this.aborted += 1;
    const io = this.io;
    queueMicrotask(() => io.cut());
    return true;
  }

  private takeInjected(): Buffer[] {
    const out: Buffer[] = [];
    while (this.slots[0]?.kind === 'injected') {
      out.push((this.slots.shift() as { bytes: Buffer }).bytes);
      this.injected += 1;
    }
    return out;
  }

  /** Answers with nothing in front of them go out at once. */
  private flushInjected(): void {
    for (const bytes of this.takeInjected()) this.io.toClient(bytes);
  }
}

function answer(status: number): Buffer {
  const body = `sigil chaos: injected ${status}\n`;
  return Buffer.from(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nX-Sigil-Chaos: http_error\r\n\r\n${body}`);
}
