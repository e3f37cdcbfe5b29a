/** How long handlers may hold one turn of the event loop before the rest wait for the next. */
const SLICE_MS = 5;

/**
 * Whose request: people's (the CLI, the GUI, an operator's script) start before machine
 * agents' that arrived earlier. An agent's call is background work that a 1,000-unit
 * relation change multiplies by a thousand; an operator's is someone waiting, and there
 * are few of them.
 */
export type TurnClass = 'user' | 'agent';

/**
 * Requests take turns on the event loop: handlers start in the order the requests arrived
 * (people's before agents'), and once those started in one turn have held it for 5 ms, the
 * rest start on the next turn.
 *
 * Much of a handler's work is synchronous (store reads through the synchronous bridge to
 * PostgreSQL, or SQLite), and Node runs, in one turn of its loop, every request whose bytes
 * arrived together. A burst of 150 agents reading their views then held the loop for a
 * second per turn, and the loop accepts one new connection per turn (libuv since 1.45): a
 * replica taking over a dead one's agents left them in its accept queue until they gave up.
 * Bounded turns let the loop accept connections, finish the TLS handshakes of reconnecting
 * agents and answer the change feed's pings between handlers, while cheap handlers (most,
 * on SQLite) still run many to a turn.
 */
export class Turns {
  private readonly queues: Record<TurnClass, (() => void)[]> = { user: [], agent: [] };
  /** When the open slice of this turn ends; undefined when none is open. */
  private sliceEnd: number | undefined;

  /** Resolves when the caller may start: after every earlier caller of its class, and after no agent's while it waits as a user. */
  next(cls: TurnClass = 'agent'): Promise<void> {
    return new Promise((resolve) => {
      this.queues[cls].push(resolve);
      setImmediate(() => this.step());
    });
  }

  /** Callers waiting for their turn. */
  get depth(): number {
    return this.queues.user.length + this.queues.agent.length;
  }

  // One step per caller. Immediates run in the order they were queued, each after the
  // microtasks of the one before (so a handler's synchronous work is done when the next one
  // is looked at); an immediate queued while they run waits for the next turn, after the
  // loop polled I/O. A step starts whoever is first in line when it runs, users first.
  private step(): void {
    const now = performance.now();
    if (this.sliceEnd === undefined) {
      this.sliceEnd = now + SLICE_MS;
      // Queued before any step deferred below, so it runs first on the next turn.
      setImmediate(() => (this.sliceEnd = undefined));
    } else if (now >= this.sliceEnd) {
      setImmediate(() => this.step());
      return;
    }
    (this.queues.user.shift() ?? this.queues.agent.shift())?.();
  }
}
