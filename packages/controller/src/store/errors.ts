import { SigilError } from '@sigil/core';
import { PgError } from './pg/bridge.ts';

/**
 * How long a write waits for another process's lock before failing. Calls run on the event
 * loop, so the wait stalls the whole controller: it is kept short, and a call that still
 * finds the database locked fails with `unavailable` (changing nothing) rather than hanging.
 * The controller itself is the only writer; a lock comes from another process (a backup, a
 * sqlite3 shell) and is retried by the caller or the next worker run.
 */
export const BUSY_TIMEOUT_MS = 250;

/** better-sqlite3's error: `code` is SQLite's extended result code name (SQLITE_BUSY_SNAPSHOT, …). */
interface SqliteError extends Error {
  code: string;
}

function isSqliteError(e: unknown): e is SqliteError {
  return e instanceof Error && e.name === 'SqliteError' && typeof (e as SqliteError).code === 'string';
}

/**
 * The clear error for a database that cannot take a write at the moment: locked by another
 * process, or out of space. Either way the transaction was rolled back, nothing of the call
 * was written, and the same call succeeds once the condition clears. Any other error is
 * returned unchanged (it is a bug, and is reported as one).
 */
export function storeError(e: unknown, where: string): unknown {
  if (e instanceof PgError) return pgError(e, where);
  if (!isSqliteError(e)) return e;
  const code = e.code;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new SigilError('unavailable', `the controller's database is locked by another process (${e.message}); nothing was changed`, `retry in a moment; if it stays locked, find the process holding ${where} open (e.g. \`fuser ${where}\`) and end it`);
  }
  if (code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_WRITE' || code === 'SQLITE_IOERR_FSYNC' || code === 'SQLITE_IOERR_SHMSIZE' || code === 'SQLITE_IOERR') {
    return new SigilError('unavailable', `the controller's database cannot be written: ${code === 'SQLITE_FULL' ? 'the disk (or the database) is full' : 'a disk write failed'} (${e.message}); nothing was changed`, `free space on the filesystem holding ${where}; the controller recovers by itself once writes succeed again`);
  }
  return e;
}

/**
 * PostgreSQL's counterparts: the server cannot be reached (stopped, restarting, the network),
 * or it refuses writes for now (read-only, out of space, too many connections). The
 * transaction was rolled back by the server; the controller reconnects by itself.
 */
function pgError(e: PgError, where: string): unknown {
  const unavailableCodes = ['53100', '53200', '53300', '25006', '57P03', '40001', '40P01', '55P03'];
  if (e.lost) {
    return new SigilError('unavailable', `the controller's database (PostgreSQL at ${where}) cannot be reached: ${e.message}; nothing was changed`, 'check that PostgreSQL is running and reachable from the controller; the controller reconnects by itself, so retry once it is back');
  }
  if (unavailableCodes.includes(e.code)) {
    return new SigilError('unavailable', `the controller's database (PostgreSQL at ${where}) cannot take this write now: ${e.message} (SQLSTATE ${e.code}); nothing was changed`, 'retry in a moment; if it persists, look at the PostgreSQL server (disk space, connections, read-only mode)');
  }
  return e;
}
