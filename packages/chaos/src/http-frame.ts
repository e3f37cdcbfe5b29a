/**
 * Incremental HTTP/1.1 message framing, just enough to find where each request and
 * response starts and ends on a keep-alive connection (Content-Length, chunked, HEAD, 1xx,
 * 204, 304, read-until-close). Anything that is not HTTP/1.x, or a connection upgraded
 * (CONNECT, 101), turns the parser to `raw`: bytes then pass through untouched and unframed.
 */

export interface Head {
  /** Request method, or '' for a response. */
  method: string;
  /** Response status, or 0 for a request. */
  status: number;
}

export interface Segment {
  data: Buffer;
  /** Index of the message (0, 1, 2 … in order on this connection), or -1 in raw mode. */
  msg: number;
  /** Set on the segment that is a message's complete head. */
  head?: Head;
  /** True when this segment completes its message. */
  ends: boolean;
}

const MAX_HEAD = 64 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');

type State =
  | { kind: 'head' }
  | { kind: 'length'; left: number }
  | { kind: 'chunk-size' }
  | { kind: 'chunk-data'; left: number }
  | { kind: 'trailer' }
  | { kind: 'close' }
  | { kind: 'raw' };

export class FrameParser {
  private state: State = { kind: 'head' };
  private pending: Buffer = Buffer.alloc(0);
  private msg = 0;

  /**
   * @param kind what the bytes are
   * @param requestMethod for responses: the method of request number `msg` (HEAD has no body)
   */
  constructor(
    private readonly kind: 'request' | 'response',
    private readonly requestMethod: (msg: number) => string = () => 'GET',
  ) {}

  get raw(): boolean {
    return this.state.kind === 'raw';
  }

  feed(input: Buffer): Segment[] {
    const out: Segment[] = [];
    let data: Buffer = this.pending.length > 0 ? Buffer.concat([this.pending, input]) : input;
    this.pending = Buffer.alloc(0);
    while (data.length > 0) {
      const s = this.state;
      if (s.kind === 'raw') {
        out.push({ data, msg: -1, ends: false });
        break;
      }
      if (s.kind === 'close') {
        out.push({ data, msg: this.msg, ends: false });
        break;
      }
      if (s.kind === 'head') {
        const at = data.indexOf(CRLFCRLF);
        if (at < 0) {
          if (data.length > MAX_HEAD) this.toRaw(out, data);
          else this.pending = data;
          break;
        }
        const headBytes = data.subarray(0, at + 4);
        data = data.subarray(at + 4);
        const parsed = this.parseHead(headBytes.toString('latin1'));
        if (!parsed) {
          this.toRaw(out, Buffer.concat([headBytes, data]));
          break;
        }
        const seg: Segment = { data: headBytes, msg: this.msg, head: parsed.head, ends: false };
        out.push(seg);
        this.state = parsed.next;
        if (parsed.next.kind === 'head' && !FrameParser.interim(parsed.head)) this.finish(seg);
        continue;
      }
      if (s.kind === 'length') {
        const take = Math.min(s.left, data.length);
        const seg: Segment = { data: data.subarray(0, take), msg: this.msg, ends: false };
        out.push(seg);
        data = data.subarray(take);
        s.left -= take;
        if (s.left === 0) this.finish(seg);
        continue;
      }
      if (s.kind === 'chunk-size' || s.kind === 'trailer') {
        const at = data.indexOf('\r\n');
        if (at < 0) {
          if (data.length > MAX_HEAD) this.toRaw(out, data);
          else this.pending = data;
          break;
        }
        const line = data.subarray(0, at + 2);
        data = data.subarray(at + 2);
        const seg: Segment = { data: line, msg: this.msg, ends: false };
        out.push(seg);
        if (s.kind === 'trailer') {
          if (at === 0) this.finish(seg);
        } else {
          const size = parseInt(line.toString('latin1').split(';')[0]!.trim(), 16);
          if (!Number.isFinite(size) || size < 0) {
            this.state = { kind: 'raw' };
            continue;
          }
          this.state = size === 0 ? { kind: 'trailer' } : { kind: 'chunk-data', left: size + 2 };
        }
        continue;
      }
      // chunk-data (with its trailing CRLF)
      const take = Math.min(s.left, data.length);
      out.push({ data: data.subarray(0, take), msg: this.msg, ends: false });
      data = data.subarray(take);
      s.left -= take;
      if (s.left === 0) this.state = { kind: 'chunk-size' };
    }
    return out;
  }

  private finish(seg: Segment): void {
    seg.ends = true;
    this.msg += 1;
    this.state = { kind: 'head' };
  }

  private toRaw(out: Segment[], data: Buffer): void {
    this.state = { kind: 'raw' };
    out.push({ data, msg: -1, ends: false });
  }

  private parseHead(text: string): { head: Head; next: State } | undefined {
    const lines = text.split('\r\n');
    const first = lines[0] ?? '';
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const chunked = /(^|,)\s*chunked\s*$/i.test(headers.get('transfer-encoding') ?? '');
    const lengthText = headers.get('content-length');
    const length = lengthText !== undefined && /^\d+$/.test(lengthText) ? Number(lengthText) : undefined;
    if (lengthText !== undefined && length === undefined) return undefined;
    const none: State = { kind: 'head' };
    const body = (fallback: State): State => (chunked ? { kind: 'chunk-size' } : length !== undefined ? (length > 0 ? { kind: 'length', left: length } : none) : fallback);
    if (this.kind === 'request') {
      const m = /^([A-Z]+) \S+ HTTP\/1\.[01]$/.exec(first);
      if (!m) return undefined;
      const method = m[1]!;
      if (method === 'CONNECT' || headers.has('upgrade')) return { head: { method, status: 0 }, next: { kind: 'raw' } };
      return { head: { method, status: 0 }, next: body(none) };
    }
    const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(first);
    if (!m) return undefined;
    const status = Number(m[1]);
    if (status === 101) return { head: { method: '', status }, next: { kind: 'raw' } };
    if (status >= 100 && status < 200) {
      // An interim response: the real one for the same request follows.
      return { head: { method: '', status }, next: { kind: 'head' } };
    }
    if (this.requestMethod(this.msg) === 'HEAD' || status === 204 || status === 304) return { head: { method: '', status }, next: none };
    return { head: { method: '', status }, next: body({ kind: 'close' }) };
  }

  /** For responses: an interim (1xx) head does not complete the exchange. */
  static interim(head: Head): boolean {
    return head.status >= 100 && head.status < 200 && head.status !== 101;
  }
}
