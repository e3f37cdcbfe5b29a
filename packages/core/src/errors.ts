/**
 * The one error type Sigil raises on purpose. `code` is stable (tests, the API and the CLI
 * branch on it); `hint` tells the user what to do next. Codes map to HTTP statuses at the
 * API edge and to exit codes at the CLI edge, nowhere else.
 */
export type ErrorCode =
  | 'bad-request'
  | 'not-found'
  | 'already-exists'
  | 'invalid-charm'
  | 'invalid-config'
  | 'invalid-endpoint'
  | 'ambiguous-relation'
  | 'no-relation'
  | 'invalid-params'
  | 'unauthorized'
  | 'forbidden'
  | 'permission-denied'
  | 'conflict'
  | 'unavailable'
  | 'too-large'
  | 'timeout'
  | 'internal';

export class SigilError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, hint?: string) {
    super(message);
    this.name = 'SigilError';
    this.code = code;
    this.hint = hint;
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string } {
    return this.hint === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, hint: this.hint };
  }
}

export function isSigilError(e: unknown): e is SigilError {
  return e instanceof SigilError;
}

const httpStatus: Record<ErrorCode, number> = {
  'bad-request': 400,
  'invalid-charm': 400,
  'invalid-config': 400,
  'invalid-endpoint': 400,
  'ambiguous-relation': 400,
  'no-relation': 400,
  'invalid-params': 400,
  unauthorized: 401,
  forbidden: 403,
  'permission-denied': 403,
  'not-found': 404,
  'already-exists': 409,
  conflict: 409,
  'too-large': 413,
  timeout: 504,
  unavailable: 503,
  internal: 500,
};

export function errorHttpStatus(code: ErrorCode): number {
  return httpStatus[code];
}
