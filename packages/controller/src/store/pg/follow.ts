import pg from 'pg';
import type { Store } from '../store.ts';
import type { PgConnection } from './bridge.ts';
import { CHANGES_CHANNEL } from './pg-db.ts';

/**
 * Hears the commits of other controller processes sharing the PostgreSQL store: each commit
 * that appends to the change log is announced on a channel (`pg_notify` inside the
 * transaction, so only committed revisions are announced), and this replica's listeners are
 * told about every revision since the last they heard, in order, from the log itself. A
 * notification lost with a dropped connection costs nothing: on reconnect (and every few
 * seconds) the store catches up from the log anyway.
 */
export class ChangeFollower {
  private client: pg.Client | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;
  private readonly sweep: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly connection: PgConnection,
    private readonly log: (msg: string, fields?: Record<string, unknown>) => void,
    sweepMs = 2000,
  ) {
    this.sweep = setInterval(() => this.catchUp(), sweepMs);
    this.sweep.unref();
    void this.connect();
  }

  private catchUp(): void {
    try {
      this.store.catchUp();
    } catch (e) {
      // The store is unreachable: the next notification or sweep tries again.
      this.log('could not read the change log', { error: (e as Error).message });
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const u = new URL(this.connection.url);
    if (this.connection.password !== undefined) u.password = encodeURIComponent(this.connection.password);
    const c = new pg.Client({ connectionString: u.toString(), application_name: 'sigil-controller-follow', keepAlive: true, connectionTimeoutMillis: 5000 });
    const again = () => {
      if (this.client !== c) return;
      this.client = undefined;
      c.end().catch(() => {});
      if (!this.stopped) this.retry = setTimeout(() => void this.connect(), 1000);
    };
    c.on('error', again);
    c.on('end', again);
    c.on('notification', (n) => {
      if (n.channel === CHANGES_CHANNEL) this.catchUp();
    });
    this.client = c;
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANGES_CHANNEL}`);
      this.catchUp();
    } catch (e) {
      this.log('cannot listen for other controllers\' changes yet; retrying', { error: (e as Error).message });
      again();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweep);
    clearTimeout(this.retry);
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => {});
  }
}
