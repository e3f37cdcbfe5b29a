import type { Clock } from './clock.ts';
import type { Attributes, ToxicSpec } from './toxics.ts';

/** Bytes read from one side, stamped with when they were read (latency counts from then). */
export interface Chunk {
  data: Buffer;
  at: number;
}

/** A chunk, or `null` for end of stream (the link closes its destination when it gets there). */
export type Item = Chunk | null;

/** What a stage may ask of the link it sits on. */
export interface StageHost {
  readonly clock: Clock;
  random(): number;
  /** Bytes this stage swallowed, so the link's buffer accounting stays right. */
  discard(bytes: number): void;
  /** Resets the connection (TCP RST to both sides). */
  reset(): void;
}

/**
 * One toxic on one direction of one connection. Items go in by `push` and out through the
 * `emit` callback given at construction, always in order. Toxicity is drawn once per stage
 * (per connection and direction) and again on every update, as Toxiproxy does.
 */
export interface Stage {
  push(item: Item): void;
  update(spec: ToxicSpec): void;
  /** Takes the toxic off: cancels its timers and returns what it still holds, to pass on in order. */
  remove(): Item[];
}

export type Emit = (item: Item) => void;

/**
 * A stage that handles items one at a time and may wait before releasing the one at the
 * head of its queue. Subclasses say how long to wait (`waitFor`) and what to release.
 */
abstract class SerialStage implements Stage {
  protected attrs: Attributes;
  protected active: boolean;
  protected queue: Item[] = [];
  protected headDue: number | undefined;
  private timer: unknown;
  protected done = false;

  constructor(
    spec: ToxicSpec,
    protected readonly host: StageHost,
    protected readonly emit: Emit,
  ) {
    this.attrs = spec.attributes;
    this.active = host.random() < spec.toxicity;
  }

  /** Starts the stage; separate from the constructor so subclass fields exist by then. */
  init(): this {
    this.started();
    return this;
  }

  /** Called when the stage starts running (creation and every update). */
  protected started(): void {}

  /** Milliseconds until `item` (the head) may leave; <= 0 releases it now. */
  protected waitFor(_item: Item): number {
    return 0;
  }

  /** Releases the head item; the default passes it on unchanged. */
  protected release(item: Item): void {
    this.out(item);
  }

  /** Turns an incoming item into what the queue holds (the default: itself). */
  protected accept(item: Item): void {
    this.queue.push(item);
    this.pump();
  }

  protected out(item: Item): void {
    if (this.done) {
      if (item) this.host.discard(item.data.length);
      return;
    }
    if (item === null) this.done = true;
    this.emit(item);
  }

  push(item: Item): void {
    if (!this.active) return this.out(item);
    this.accept(item);
  }

  protected pump(): void {
    if (this.timer !== undefined) return;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const wait = this.waitFor(head);
      if (wait > 0) {
        this.timer = this.host.clock.setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      this.queue.shift();
      this.headDue = undefined;
      this.release(head);
    }
  }

  protected stopTimers(): void {
    if (this.timer !== undefined) this.host.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  update(spec: ToxicSpec): void {
    const held = this.takeQueue();
    this.attrs = spec.attributes;
    this.active = this.host.random() < spec.toxicity;
    this.started();
    for (const item of held) this.push(item);
  }

  protected takeQueue(): Item[] {
    this.stopTimers();
    const held = this.queue;
    this.queue = [];
    this.headDue = undefined;
    return held;
  }

  remove(): Item[] {
    return this.takeQueue();
  }
}

class NoopStage extends SerialStage {}

/** Delays every chunk by `latency ± jitter` ms from when it was read; order is kept. */
class LatencyStage extends SerialStage {
  protected override waitFor(item: Item): number {
    if (item === null) return 0;
    if (this.headDue === undefined) {
      const jitter = this.attrs['jitter']!;
      const offset = jitter > 0 ? Math.floor(this.host.random() * 2 * jitter) - jitter : 0;
      this.headDue = item.at + this.attrs['latency']! + offset;
    }
    return this.headDue - this.host.clock.now();
  }

  protected override release(item: Item): void {
    if (item && this.headDue !== undefined) item.at = this.headDue;
    this.out(item);
  }
}

/** Caps throughput at `rate` KB/s (1 KB = 1000 bytes), releasing at most 100 ms worth at a time. */
class BandwidthStage extends SerialStage {
  private free = 0;

  protected override accept(item: Item): void {
    const rate = this.attrs['rate']!;
    if (item && rate > 0) {
      const piece = rate * 100;
      for (let off = 0; off < item.data.length; off += piece) {
        this.queue.push({ data: item.data.subarray(off, off + piece), at: item.at });
      }
    } else {
      this.queue.push(item);
    }
    this.pump();
  }

  protected override waitFor(item: Item): number {
    const rate = this.attrs['rate']!;
    if (item === null || rate <= 0) return 0;
    if (this.headDue === undefined) {
      this.headDue = Math.max(this.free, this.host.clock.now()) + item.data.length / rate;
      this.free = this.headDue;
    }
    return this.headDue - this.host.clock.now();
  }
}

/** Passes data through and holds the close for `delay` ms. */
class SlowCloseStage extends SerialStage {
  private closeDue: number | undefined;

  protected override waitFor(item: Item): number {
    if (item !== null) return 0;
    this.closeDue ??= this.host.clock.now() + this.attrs['delay']!;
    return this.closeDue - this.host.clock.now();
  }
}

/**
 * Swallows all data and closes the connection after `timeout` ms (0: never, until removed).
 * Removing it closes the connection, as Toxiproxy's cleanup does.
 */
class TimeoutStage extends SerialStage {
  private closer: unknown;

  protected override started(): void {
    if (this.closer !== undefined) this.host.clock.clearTimeout(this.closer);
    this.closer = undefined;
    const timeout = this.attrs['timeout']!;
    if (this.active && timeout > 0) {
      this.closer = this.host.clock.setTimeout(() => {
        this.closer = undefined;
        this.out(null);
      }, timeout);
    }
  }

  protected override accept(item: Item): void {
    if (item === null) return this.out(null);
    this.host.discard(item.data.length);
  }

  override remove(): Item[] {
    if (this.closer !== undefined) this.host.clock.clearTimeout(this.closer);
    this.closer = undefined;
    return this.active && !this.done ? [null] : [];
  }
}

/** On the first data (or close), waits `timeout` ms and resets the connection (TCP RST). */
class ResetPeerStage extends SerialStage {
  private armed: unknown;

  protected override accept(item: Item): void {
    if (item) this.host.discard(item.data.length);
    if (this.armed !== undefined || this.done) return;
    this.armed = this.host.clock.setTimeout(() => {
      this.done = true;
      this.host.reset();
    }, this.attrs['timeout']!);
  }

  override remove(): Item[] {
    if (this.armed !== undefined) this.host.clock.clearTimeout(this.armed);
    this.armed = undefined;
    return [];
  }
}

/** Cuts each chunk into slices of about `average_size ± size_variation` bytes, `delay` µs apart. */
class SlicerStage extends SerialStage {
  private nextAt = 0;

  private cut(start: number, end: number, out: number[]): void {
    const average = this.attrs['average_size']!;
    const variation = this.attrs['size_variation']!;
    if (end - start - average <= variation || end - start <= 1) {
      out.push(end);
      return;
    }
    let mid = start + Math.floor((end - start) / 2);
    if (variation > 0) mid += Math.floor(this.host.random() * 2 * variation) - variation;
    mid = Math.min(end - 1, Math.max(start + 1, mid));
    this.cut(start, mid, out);
    this.cut(mid, end, out);
  }

  protected override accept(item: Item): void {
    if (item && this.attrs['average_size']! > 0) {
      const ends: number[] = [];
      this.cut(0, item.data.length, ends);
      let start = 0;
      for (const end of ends) {
        this.queue.push({ data: item.data.subarray(start, end), at: item.at });
        start = end;
      }
    } else {
      this.queue.push(item);
    }
    this.pump();
  }

  protected override waitFor(): number {
    return this.nextAt - this.host.clock.now();
  }

  protected override release(item: Item): void {
    this.out(item);
    this.nextAt = this.host.clock.now() + this.attrs['delay']! / 1000;
  }
}

/** Lets `bytes` bytes through in total (across updates), then closes the connection. */
class LimitDataStage extends SerialStage {
  private sent = 0;

  protected override accept(item: Item): void {
    if (item === null) return this.out(null);
    if (this.done) return this.host.discard(item.data.length);
    const remaining = Math.max(0, this.attrs['bytes']! - this.sent);
    let data = item.data;
    if (remaining < data.length) {
      this.host.discard(data.length - remaining);
      data = data.subarray(0, remaining);
    }
    if (data.length > 0) {
      this.sent += data.length;
      this.out({ data, at: item.at });
    }
    if (this.attrs['bytes']! - this.sent <= 0) this.out(null);
  }
}

export type StageFactory = (spec: ToxicSpec, host: StageHost, emit: Emit) => Stage;

export const TCP_STAGES: Record<string, StageFactory> = {
  noop: (spec, host, emit) => new NoopStage(spec, host, emit).init(),
  latency: (spec, host, emit) => new LatencyStage(spec, host, emit).init(),
  bandwidth: (spec, host, emit) => new BandwidthStage(spec, host, emit).init(),
  slow_close: (spec, host, emit) => new SlowCloseStage(spec, host, emit).init(),
  timeout: (spec, host, emit) => new TimeoutStage(spec, host, emit).init(),
  reset_peer: (spec, host, emit) => new ResetPeerStage(spec, host, emit).init(),
  slicer: (spec, host, emit) => new SlicerStage(spec, host, emit).init(),
  limit_data: (spec, host, emit) => new LimitDataStage(spec, host, emit).init(),
};
