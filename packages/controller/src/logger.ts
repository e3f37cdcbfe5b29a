import pino from 'pino';

/** Structured logger with constant messages; secrets are redacted at the logger. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * Writes to standard output (the controller's log file) synchronously: a line is on disk before
 * the response it explains is sent, and none is lost when the process exits at once.
 */
export function createLogger(level = 'info'): Logger {
  const p = pino({ level, redact: ['token', 'password', '*.token', '*.password', 'headers.authorization'], base: null }, pino.destination({ dest: 1, sync: true }));
  return {
    debug: (m, f) => p.debug(f ?? {}, m),
    info: (m, f) => p.info(f ?? {}, m),
    warn: (m, f) => p.warn(f ?? {}, m),
    error: (m, f) => p.error(f ?? {}, m),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
