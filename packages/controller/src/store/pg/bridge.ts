import { createRequire } from 'node:module';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

/** Where and as whom to connect; the password never comes from the URL's text on a command line. */
export interface PgConnection {
  url: string;
  password?: string;
}

export interface PgResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}

type Op =
  | { op: 'query'; name: string; text: string; values: unknown[] }
  | { op: 'exec'; text: string }
  | { op: 'begin' | 'commit' | 'rollback' };

/** A call to the worker: its deferred statements first, in order, then the one waited for. */
type Request = Op & { id: number; pre?: Op[] };

/** An error PostgreSQL or the connection to it raised; `code` is the SQLSTATE where there is one. */
export class PgError extends Error {
  override readonly name = 'PgError';
  constructor(
    message: string,
    readonly code: string,
    /** The connection is gone (or never came): nothing of the call was done. */
    readonly lost: boolean,
  ) {
    super(message);
  }
}

/**
 * The repositories call the store synchronously (as better-sqlite3 is called), so queries to
 * PostgreSQL run on a worker thread with its own `pg` client while the calling thread waits
 * on a shared word (Atomics.wait) and then takes the reply from its port. One query costs a
 * thread hop and a loopback round trip; the event loop waits as it does for SQLite's disk.
 *
 * The worker owns one connection, opened on first use and again after it is lost. A
 * connection lost inside a transaction fails every statement until the caller rolls back, so
 * the rest of a transaction never runs outside it.
 */
export class SyncPg {
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private readonly signal = new Int32Array(new SharedArrayBuffer(4));
  private next = 0;
  /** Statements whose results nobody reads, sent ahead of the next call (see `defer`). */
  private deferred: Op[] = [];

  constructor(
    private readonly connection: PgConnection,
    /** How long one call may take before the connection is dropped and the call fails. */
    private readonly timeoutMs = 30_000,
  ) {}

  query(name: string, text: string, values: unknown[]): PgResult {
    const r = this.call({ id: 0, op: 'query', name, text, values }) as PgResult;
    // Byte arrays cross the thread as plain Uint8Arrays: give callers Buffers, as SQLite does.
    for (const row of r.rows) {
      for (const k in row) {
        const v = row[k];
        if (v instanceof Uint8Array && !Buffer.isBuffer(v)) row[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      }
    }
    return r;
  }

  exec(text: string): void {
    this.call({ id: 0, op: 'exec', text });
  }

  /**
   * Queues a statement whose result nobody reads (BEGIN, a savepoint, a lock held to the end
   * of the transaction, a notification sent at commit): it goes with the next call, in order,
   * on the same thread hop. If it fails, that call fails with its error and does not run.
   */
  defer(text: string, values: unknown[] = []): void {
    this.deferred.push({ op: 'query', name: '', text, values });
  }

  /** BEGIN, deferred: an empty transaction costs no round trip at all. */
  begin(): void {
    this.deferred.push({ op: 'begin' });
  }

  /** How many deferred statements wait to be sent. */
  get pending(): number {
    return this.deferred.length;
  }

  /** How many calls have been made (each sends everything deferred before it). */
  get calls(): number {
    return this.next;
  }

  /** Forgets the deferred statements from the `from`th on: they were never sent. */
  drop(from: number): void {
    this.deferred.length = Math.min(this.deferred.length, from);
  }

  commit(): void {
    this.call({ id: 0, op: 'commit' });
  }

  rollback(): void {
    // Whatever waited to be sent belongs to the transaction being undone.
    this.deferred = [];
    this.call({ id: 0, op: 'rollback' });
  }

  close(): void {
    this.deferred = [];
    void this.worker?.terminate();
    this.worker = undefined;
    this.port?.close();
    this.port = undefined;
  }

  private call(req: Request): unknown {
    const port = this.start();
    req.id = ++this.next;
    if (this.deferred.length > 0) {
      req.pre = this.deferred;
      this.deferred = [];
    }
    Atomics.store(this.signal, 0, 0);
    port.postMessage(req);
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0 || Atomics.wait(this.signal, 0, 0, left) === 'timed-out') {
        // The worker is stuck (a server that stopped answering): drop it and its connection;
        // PostgreSQL rolls back whatever that connection had open.
        this.close();
        throw new PgError(`PostgreSQL did not answer within ${this.timeoutMs / 1000} s`, 'SIGIL_TIMEOUT', true);
      }
      const got = receiveMessageOnPort(port);
      if (!got) continue;
      const reply = got.message as { id: number; ok: boolean; result?: unknown; error?: { message: string; code: string; lost: boolean } };
      if (reply.id !== req.id) continue;
      if (!reply.ok) throw new PgError(reply.error!.message, reply.error!.code, reply.error!.lost);
      return reply.result;
    }
  }

  private start(): MessagePort {
    if (this.port) return this.port;
    const { port1, port2 } = new MessageChannel();
    const pgPath = createRequire(import.meta.url).resolve('pg');
    this.worker = new Worker(WORKER, { eval: true, workerData: { port: port2, signal: this.signal, pgPath, connection: this.connection }, transferList: [port2] });
    this.worker.unref();
    this.port = port1;
    return port1;
  }
}

/**
 * The worker's code (CommonJS, evaluated): it loads `pg` from the path the main thread
 * resolved, so it runs the same from the bundle and from the sources.
 */
const WORKER = String.raw`
const { workerData } = require('node:worker_threads');
const pg = require(workerData.pgPath);
const { port, signal, connection } = workerData;
// 64-bit integers and numerics as JavaScript numbers, as better-sqlite3 returns them.
pg.types.setTypeParser(20, Number);
pg.types.setTypeParser(1700, Number);
let client;
let inTx = false;
let broken = false;
async function conn() {
  if (client) return client;
  // The password joins the URL only here, in the worker's memory (pg lets a URL's fields
  // override separate ones).
  const u = new URL(connection.url);
  if (connection.password !== undefined) u.password = encodeURIComponent(connection.password);
  const c = new pg.Client({ connectionString: u.toString(), application_name: 'sigil-controller', connectionTimeoutMillis: 5000, keepAlive: true, statement_timeout: 20000 });
  c.on('error', () => { if (client === c) lose(); });
  try {
    await c.connect();
  } catch (e) {
    c.end().catch(() => {});
    throw e;
  }
  client = c;
  return c;
}
function lose() {
  const c = client;
  client = undefined;
  if (c) c.end().catch(() => {});
  if (inTx) broken = true;
}
async function handle(req) {
  if (req.op === 'rollback' && broken) { broken = false; inTx = false; return null; }
  if (broken) throw Object.assign(new Error('the connection to PostgreSQL was lost inside this transaction; it was rolled back'), { lost: true, code: 'SIGIL_LOST' });
  const c = await conn();
  switch (req.op) {
    case 'begin': await c.query('BEGIN'); inTx = true; return null;
    case 'commit': inTx = false; await c.query('COMMIT'); return null;
    case 'rollback': inTx = false; await c.query('ROLLBACK'); return null;
    case 'exec': await c.query(req.text); return null;
    default: {
      const r = await c.query({ name: req.name, text: req.text, values: req.values });
      return { rows: r.rows, rowCount: r.rowCount ?? 0 };
    }
  }
}
port.on('message', async (req) => {
  let reply;
  try {
    for (const p of req.pre || []) await handle(p);
    reply = { id: req.id, ok: true, result: await handle(req) };
  } catch (e) {
    // A server error carries a five-character SQLSTATE; anything else is the connection.
    const sqlstate = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && !e.code.startsWith('08') && e.code !== '57P01';
    if (!sqlstate && !e.lost) lose();
    reply = { id: req.id, ok: false, error: { message: String(e.message || e), code: String(e.code || 'SIGIL_CONNECTION'), lost: !sqlstate } };
  }
  port.postMessage(reply);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
});
`;
