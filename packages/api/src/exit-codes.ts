import type { ErrorCode } from '@sigil/core';

/**
 * How the CLI ends. Juju's habits hold: 0 when the command did what was asked, 1 when it
 * failed, 2 when the command line itself was wrong (unknown flag, missing argument), and a
 * command that runs something remote (`exec` on one unit, `ssh`, `debug-hooks`) passes its
 * exit code through. Beyond Juju, the failures a script may act on differently get codes
 * of their own; every other failure stays 1, so `if ! sigil …` reads as it does for Juju.
 */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  /** What was named does not exist (a unit, an application, a model, a file). */
  notFound: 3,
  /** The caller may not do this: no or an expired credential, or too little access. */
  refused: 4,
  /** The controller (or a resource it needs) cannot answer now: trying again later may succeed. */
  unavailable: 5,
} as const;

/** The exit code for each error code a failure carries (`SigilError.code`, or the API's `error.code`). */
export const ERROR_EXIT_CODES: Record<ErrorCode, number> = {
  'bad-request': EXIT.failed,
  'invalid-charm': EXIT.failed,
  'invalid-config': EXIT.failed,
  'invalid-endpoint': EXIT.failed,
  'ambiguous-relation': EXIT.failed,
  'no-relation': EXIT.failed,
  'invalid-params': EXIT.failed,
  'already-exists': EXIT.failed,
  conflict: EXIT.failed,
  'too-large': EXIT.failed,
  internal: EXIT.failed,
  'not-found': EXIT.notFound,
  unauthorized: EXIT.refused,
  forbidden: EXIT.refused,
  'permission-denied': EXIT.refused,
  unavailable: EXIT.unavailable,
  timeout: EXIT.unavailable,
};

export function exitCodeOf(code: ErrorCode): number {
  return ERROR_EXIT_CODES[code] ?? EXIT.failed;
}
