/**
 * Juju secret identifiers. A secret's id is an xid: 12 bytes in lowercase base32hex, 20
 * characters (`9m4e2mr0ui3e8a215n4g`). It is written as a URI, `secret:<id>`, or with the
 * model it lives in, `secret://<model-uuid>/<id>`; tools also accept the bare id.
 */

const ALPHABET = '0123456789abcdefghijklmnopqrstuv';
export const SECRET_ID_RE = /^[0-9a-v]{20}$/;

/** A fresh random secret id in xid's shape (all 12 bytes random: ids are not ordered by time). */
export function newSecretId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(12));
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

export interface SecretUri {
  id: string;
  /** The model's uuid when the URI named one. */
  sourceUuid?: string;
}

/** Parses `secret:<id>`, `secret://<uuid>/<id>` or a bare id (Juju's secrets.ParseURI); undefined if it is none of them. */
export function parseSecretUri(text: string): SecretUri | undefined {
  if (SECRET_ID_RE.test(text)) return { id: text };
  const m = /^secret:(?:\/\/([0-9a-f-]{36})\/)?([0-9a-v]{20})$/.exec(text);
  if (!m) return undefined;
  return m[1] === undefined ? { id: m[2]! } : { id: m[2]!, sourceUuid: m[1] };
}

export function secretUri(id: string): string {
  return `secret:${id}`;
}

/** Juju's rotate policies and how long each waits between rotations. */
export const ROTATE_POLICIES = { never: 0, hourly: 3600_000, daily: 86_400_000, weekly: 7 * 86_400_000, monthly: 30 * 86_400_000, quarterly: 90 * 86_400_000, yearly: 365 * 86_400_000 } as const;
export type RotatePolicy = keyof typeof ROTATE_POLICIES;

export function isRotatePolicy(s: string): s is RotatePolicy {
  return Object.hasOwn(ROTATE_POLICIES, s);
}

/** Juju's rule for secret keys (core/secrets): lowercase, starting with a letter, at least 3 characters. */
export const SECRET_KEY_RE = /^([a-z](?:-?[a-z0-9]){2,})$/;
/** The most content one secret revision may hold (base64-encoded values, summed). */
export const MAX_SECRET_CONTENT = 64 * 1024;

/**
 * Secret content from `key=value`, `key#base64=value` and `key#file=path` arguments (and a
 * YAML file's entries, given as the same pairs): values are stored base64-encoded, as
 * Juju's SecretData. `readFile` resolves `#file` values. Throws a message Juju would print.
 */
export function secretDataFromPairs(pairs: readonly (readonly [string, string])[], readFile: (path: string) => Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rawKey, value] of pairs) {
    let key = rawKey;
    let encoded: string;
    if (key.endsWith('#base64')) {
      key = key.slice(0, -7);
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) throw new SecretDataError(`base64 value for key "${key}" not valid`);
      encoded = value;
    } else if (key.endsWith('#file')) {
      key = key.slice(0, -5);
      encoded = readFile(value).toString('base64');
    } else {
      encoded = Buffer.from(value, 'utf8').toString('base64');
    }
    if (!SECRET_KEY_RE.test(key)) throw new SecretDataError(`key "${key}" not valid`, 'keys are lowercase letters, digits and single hyphens, start with a letter and are at least 3 characters long');
    Object.defineProperty(out, key, { value: encoded, enumerable: true, writable: true, configurable: true });
  }
  const size = Object.entries(out).reduce((n, [k, v]) => n + k.length + v.length, 0);
  if (size > MAX_SECRET_CONTENT) throw new SecretDataError(`secret content is ${size} bytes, over the limit of ${MAX_SECRET_CONTENT}`, 'keep large files out of secrets; store a key that unlocks them instead');
  return out;
}

/** `key=value` arguments as pairs; a missing `=` is Juju's error. */
export function secretArgPairs(args: readonly string[]): [string, string][] {
  return args.map((arg) => {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new SecretDataError(`expected "key=value", got "${arg}"`);
    return [arg.slice(0, eq), arg.slice(eq + 1)];
  });
}

export class SecretDataError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

/** Decodes stored content for display or `secret-get`: values as UTF-8 text. */
export function decodeSecretContent(content: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(content)) Object.defineProperty(out, k, { value: Buffer.from(v, 'base64').toString('utf8'), enumerable: true, writable: true, configurable: true });
  return out;
}
