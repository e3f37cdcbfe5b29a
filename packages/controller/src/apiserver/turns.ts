/**
 * Requests take turns on the event loop: each handler starts on a turn of its own, in the
 * order the requests arrived.
 *
 * Much of a handler's work is synchronous (store reads through the synchronous bridge to
 * PostgreSQL, or SQLite), and Node runs, in one turn of its loop, every request whose bytes
 * arrived together. A burst of 150 agents reading their views then held the loop for a
 * second per turn, and the loop accepts one new connection per turn (libuv since 1.45): a
 * replica taking over a dead one's agents left them in its accept queue until they gave up.
 * One handler per turn keeps each turn short, so new connections, the TLS handshakes of
 * reconnecting agents and the pings of the change feed are served between handlers.
 */
export class Turns {
  private readonly waiting: (() => void)[] = [];
  private scheduled = false;

  /** Resolves on a coming turn of the event loop, after every earlier caller's. */
  next(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  /** Callers waiting for their turn. */
  get depth(): number {
    return this.waiting.length;
  }

  private schedule(): void {
    if (this.scheduled || this.waiting.length === 0) return;
    this.scheduled = true;
    // An immediate queued by an immediate runs on the next turn, after the loop polled I/O.
    setImmediate(() => {
      this.scheduled = false;
      this.waiting.shift()!();
      this.schedule();
    });
  }
}
