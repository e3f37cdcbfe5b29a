import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import { SigilError, isSigilError } from '@sigil/core';
import { EXIT, exitCodeOf } from '@sigil/api';
import { Ctx } from './context.ts';
import { buildProgram } from './program.ts';

/**
 * Every failure as the user sees it: `ERROR <one line>` and `hint: <what to do next>`. Node's
 * system errors (a symlink loop, a missing file, a refused connection) name the path or address
 * involved; anything else is a bug, reported as such. The stack is shown only when debugging.
 */
export function renderError(e: unknown, debug: boolean): string {
  const err = asSigilError(e);
  const stack = debug && e instanceof Error && e.stack ? `${e.stack}\n` : '';
  return `ERROR ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}${stack}`;
}

interface SystemError extends Error {
  code: string;
  syscall?: string;
  path?: string;
  dest?: string;
  address?: string;
  port?: number;
  hostname?: string;
}

function isSystemError(e: unknown): e is SystemError {
  const code = (e as { code?: unknown } | undefined)?.code;
  return e instanceof Error && typeof code === 'string' && /^E[A-Z0-9_]+$/.test(code);
}

/** Control characters in paths and addresses must not reach the terminal as-is. */
function shown(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function asSigilError(e: unknown): SigilError {
  if (isSigilError(e)) return e;
  // fetch() wraps the real failure (a refused connection, an unknown host) in its cause.
  if (e instanceof TypeError && e.message === 'fetch failed' && e.cause !== undefined) {
    const cause = firstOf(e.cause);
    if (isSystemError(cause)) return fromSystemError(cause);
    return new SigilError('unavailable', `request failed: ${oneLine(cause instanceof Error ? cause.message : String(cause))}`, 'check the address and that the controller is running (`sigil controllers`)');
  }
  if (isSystemError(e)) return fromSystemError(e);
  const message = e instanceof Error ? e.message : String(e);
  return new SigilError('internal', oneLine(message) || 'unexpected error', 'this is a bug in sigil: run again with SIGIL_DEBUG=1 to see where it happened, and report it');
}

function firstOf(cause: unknown): unknown {
  const errors = (cause as { errors?: unknown }).errors;
  return Array.isArray(errors) && errors.length > 0 ? errors[0] : cause;
}

function oneLine(text: string): string {
  return shown(text.split('\n')[0]!.trim());
}

function fromSystemError(e: SystemError): SigilError {
  const path = e.path !== undefined ? `"${shown(e.path)}"` : undefined;
  const address = e.address !== undefined ? `${shown(e.address)}${e.port !== undefined ? `:${e.port}` : ''}` : undefined;
  const where = path ?? address ?? '(unknown)';
  switch (e.code) {
    case 'ELOOP':
      return new SigilError('bad-request', `too many levels of symbolic links at ${where}`, 'a symlink there points back into itself (a loop); fix or remove it, e.g. check it with `ls -l`');
    case 'ENOENT':
      return new SigilError('not-found', `no such file or directory: ${where}`, 'check the path (a symlink may point at something that no longer exists)');
    case 'ENOTDIR':
      return new SigilError('bad-request', `not a directory: ${where}`, 'check the path: one of its parts is a file');
    case 'EISDIR':
      return new SigilError('bad-request', `${where} is a directory, not a file`, 'give the path of a file');
    case 'EACCES':
    case 'EPERM':
      return new SigilError('permission-denied', `permission denied: ${where}${e.syscall ? ` (${e.syscall})` : ''}`, 'check the permissions of the path and its parent directories, or run as a user who may access it');
    case 'ENOSPC':
      return new SigilError('unavailable', `no space left on the device holding ${where}`, 'free some disk space and try again');
    case 'EMFILE':
    case 'ENFILE':
      return new SigilError('unavailable', 'too many open files', 'raise the limit (`ulimit -n`) or close other programs, then try again');
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new SigilError('unavailable', `cannot connect to ${where} (${e.code})`, 'is the controller running? see `sigil controllers`, and start it with `sigil start-controller <name>`');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new SigilError('unavailable', `cannot resolve host ${e.hostname !== undefined ? `"${shown(e.hostname)}"` : where} (${e.code})`, 'check the address and your DNS settings');
    default:
      return new SigilError('internal', `${e.syscall ? `${e.syscall} ` : ''}${where} failed: ${e.code}`, `${oneLine(e.message)}; run again with SIGIL_DEBUG=1 for details`);
  }
}

/** True when this module is the program node was started with (not imported by a test). */
function isEntry(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntry()) {
  const debug = process.env.SIGIL_DEBUG !== undefined && process.env.SIGIL_DEBUG !== '' && process.env.SIGIL_DEBUG !== '0';
  const fail = (e: unknown) => {
    process.stderr.write(renderError(e, debug));
    process.exit(exitCodeOf(asSigilError(e).code));
  };
  // Errors raised outside a handler's promise (a socket's late error event) end the same way.
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  // A reader that goes away (`sigil status | head -1`) is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' ? process.exit(0) : fail(e)));
  try {
    await (await buildProgram(new Ctx(), process.argv.slice(2))).parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    } else {
      process.stderr.write(renderError(e, debug));
      process.exitCode = exitCodeOf(asSigilError(e).code);
    }
  }
  // Commands are done when their handler returns (following commands such as debug-log
  // return only when their stream ends); nothing may keep the process alive after that.
  process.stdout.write('', () => process.exit());
}
