import type { StatusName } from './backend.ts';

/** A workload status a charm may set (Juju reserves `error` and `unknown` for itself). */
export interface Status {
  readonly name: StatusName;
  readonly message: string;
}

/**
 * What a status message may interpolate: text and numbers. A value that may be missing
 * (`string | undefined`, a relation key not yet published) is a type error, so the operator
 * never reads `ready on undefined:undefined`; say what is missing instead.
 */
export type StatusValue = string | number;

/**
 * Makes a status of one kind, from plain text — `blocked('needs a database')` — or, for text
 * built from values, as a template tag — active`ready on ${host}:${port}` — whose values are
 * checked to be present, by the compiler and again when the charm runs.
 */
export interface StatusMaker {
  (strings: TemplateStringsArray, ...values: StatusValue[]): Status;
  (message: string): Status;
}

/** Text a missing value turns into when it is interpolated into a string. */
const MISSING = /\bundefined\b|\bNaN\b|\[object Object\]/;

/** Thrown when a status message would show a missing value. */
export class StatusTextError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'StatusTextError';
  }
}

function shown(strings: TemplateStringsArray): string {
  return strings.reduce((acc, s, i) => (i === 0 ? s : `${acc}\${…}${s}`), '');
}

/** The message of a tagged template; refuses a value that is absent, NaN or not text. */
function interpolate(strings: TemplateStringsArray, values: readonly unknown[]): string {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    const ok = typeof v === 'string' || (typeof v === 'number' && !Number.isNaN(v));
    if (!ok) throw new StatusTextError(`status message \`${shown(strings)}\`: value ${i + 1} is ${v === null ? 'null' : Number.isNaN(v) ? 'NaN' : typeof v}; set a status that says what is missing instead`);
    out += String(v) + (strings[i + 1] ?? '');
  });
  return out;
}

/** Plain text is checked for what a missing value looks like once it has been made into a string. */
function plain(message: string): string {
  const m = MISSING.exec(message);
  if (m) throw new StatusTextError(`status message "${message}" shows a missing value as "${m[0]}"; build it with the status template tag (e.g. active\`ready on \${host}\`), whose values cannot be missing`);
  return message;
}

function maker(name: StatusName): StatusMaker {
  return ((first: string | TemplateStringsArray = '', ...values: unknown[]): Status => ({
    name,
    message: typeof first === 'string' ? plain(first) : interpolate(first, values),
  })) as StatusMaker;
}

/** `active()` with no message, `active('text')`, or active`text with ${values}`. */
export const active = maker('active') as StatusMaker & (() => Status);
export const blocked: StatusMaker = maker('blocked');
export const waiting: StatusMaker = maker('waiting');
export const maintenance: StatusMaker = maker('maintenance');

/**
 * Thrown from a handler to end it with a status instead of a hook failure: a bad config
 * value is the operator's to fix (`blocked`), not a crash to retry.
 */
export class StatusError extends Error {
  constructor(readonly status: Status) {
    super(`${status.name}: ${status.message}`);
    this.name = 'StatusError';
  }
}
