import { createHash, createPublicKey, type JsonWebKey } from 'node:crypto';
import { SigilError } from '@sigil/core';
import type { Store } from '../store/store.ts';
import { SshKeyRepository, type StoredSshKey } from '../state/ssh-keys.ts';
import { Models } from './models.ts';

/** A public key as OpenSSH writes it (`type base64 comment`), checked and fingerprinted. */
export interface SshPublicKey {
  type: string;
  /** `SHA256:<base64, no padding>`, as `ssh-keygen -lf` prints it. */
  fingerprint: string;
  /** The old colon-separated MD5 form Juju 2 printed; still accepted by `remove-ssh-key`. */
  md5: string;
  comment: string;
  /** The canonical one-line form that goes into authorized_keys. */
  line: string;
}

const MAX_KEY_LINE = 16 * 1024;
const FORMAT_HINT = 'pass the contents of a public key file (~/.ssh/id_ed25519.pub): "ssh-ed25519 AAAA... comment"; `ssh-keygen -t ed25519` makes one';

const CURVES: Record<string, { crv: string; bytes: number }> = {
  nistp256: { crv: 'P-256', bytes: 32 },
  nistp384: { crv: 'P-384', bytes: 48 },
  nistp521: { crv: 'P-521', bytes: 66 },
};

/** Reads the SSH wire format's length-prefixed strings (RFC 4251 §5). */
class Wire {
  private at = 0;
  constructor(private readonly b: Buffer) {}
  string(): Buffer {
    if (this.at + 4 > this.b.length) throw new Error('truncated');
    const n = this.b.readUInt32BE(this.at);
    if (this.at + 4 + n > this.b.length) throw new Error('truncated');
    const s = this.b.subarray(this.at + 4, this.at + 4 + n);
    this.at += 4 + n;
    return s;
  }
  end(): void {
    if (this.at !== this.b.length) throw new Error('trailing bytes');
  }
}

const b64url = (b: Buffer) => b.toString('base64url');
/** An SSH mpint without its sign byte, as JWK wants it. */
const unsigned = (b: Buffer) => (b.length > 1 && b[0] === 0 ? b.subarray(1) : b);

/** The key's public part as a JWK node:crypto can load, or undefined for security-key types (checked by structure only). */
function jwkOf(type: string, w: Wire): JsonWebKey | undefined {
  if (type === 'ssh-ed25519') {
    const x = w.string();
    if (x.length !== 32) throw new Error('an ed25519 key is 32 bytes');
    w.end();
    return { kty: 'OKP', crv: 'Ed25519', x: b64url(x) };
  }
  if (type === 'ssh-rsa') {
    const e = unsigned(w.string());
    const n = unsigned(w.string());
    w.end();
    if (n.length * 8 < 1024) throw new Error('RSA keys shorter than 1024 bits are refused');
    return { kty: 'RSA', n: b64url(n), e: b64url(e) };
  }
  const ec = /^ecdsa-sha2-(nistp256|nistp384|nistp521)$/.exec(type);
  if (ec) {
    const curve = w.string().toString('latin1');
    const c = CURVES[ec[1]!]!;
    if (curve !== ec[1]) throw new Error(`curve ${curve} does not match the key type`);
    const q = w.string();
    w.end();
    if (q.length !== 1 + 2 * c.bytes || q[0] !== 4) throw new Error('the point is not an uncompressed curve point');
    return { kty: 'EC', crv: c.crv, x: b64url(q.subarray(1, 1 + c.bytes)), y: b64url(q.subarray(1 + c.bytes)) };
  }
  if (type === 'sk-ssh-ed25519@openssh.com') {
    if (w.string().length !== 32) throw new Error('an ed25519 key is 32 bytes');
    w.string();
    w.end();
    return undefined;
  }
  if (type === 'sk-ecdsa-sha2-nistp256@openssh.com') {
    if (w.string().toString('latin1') !== 'nistp256') throw new Error('the curve does not match the key type');
    if (w.string().length !== 65) throw new Error('the point is not an uncompressed curve point');
    w.string();
    w.end();
    return undefined;
  }
  throw new Error(`unsupported key type ${type}`);
}

/** Control characters would let a comment forge lines in authorized_keys or on a terminal. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Parses one public key line. Only plain keys are accepted (no authorized_keys options such
 * as `command=`): the managed block carries exactly what `ssh-keys --full` shows. The key's
 * blob is decoded and loaded with node:crypto, so a truncated or corrupted key is refused
 * here rather than silently ignored by sshd later.
 */
export function parseSshKey(text: string): SshPublicKey {
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  const bad = (why: string) => new SigilError('bad-request', `invalid ssh key ${JSON.stringify(shown)}: ${why}`, FORMAT_HINT);
  const trimmed = text.trim();
  if (trimmed.length > MAX_KEY_LINE) throw bad(`longer than ${MAX_KEY_LINE} characters`);
  if (/[\r\n]/.test(trimmed)) throw bad('one key per argument (it spans several lines)');
  if (trimmed.startsWith('-----BEGIN')) throw bad('that is a PEM key (perhaps a private key); give the public key, in OpenSSH format');
  const [type = '', data = '', ...rest] = trimmed.split(/\s+/);
  const comment = rest.join(' ');
  if (CONTROL.test(comment)) throw bad('the comment contains control characters');
  if (data === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(data)) throw bad(type.includes('=') || type.includes('"') ? 'authorized_keys options are not accepted, only the key' : 'expected "<type> <base64 key> [comment]"');
  const blob = Buffer.from(data, 'base64');
  let jwk: JsonWebKey | undefined;
  try {
    const w = new Wire(blob);
    const inner = w.string().toString('latin1');
    if (inner !== type) throw new Error(`the key says it is ${inner}, not ${type}`);
    jwk = jwkOf(type, w);
    if (jwk) createPublicKey({ key: jwk, format: 'jwk' });
  } catch (e) {
    throw bad((e as Error).message);
  }
  const fingerprint = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  const md5 = createHash('md5').update(blob).digest('hex').replace(/(..)(?!$)/g, '$1:');
  return { type, fingerprint, md5, comment, line: comment === '' ? `${type} ${data}` : `${type} ${data} ${comment}` };
}

/** How `ssh-keys` shows a key: Juju's `<fingerprint> (<comment>)`. */
export function describeKey(k: { fingerprint: string; comment: string }): string {
  return `${k.fingerprint} (${k.comment === '' ? 'no comment' : k.comment})`;
}

/**
 * The SSH keys of a model (Juju's per-model key cache): every machine's agent writes them
 * into root's authorized_keys. Changes are announced as a model change, which every agent
 * of the model follows.
 */
export class SshKeys {
  private readonly repo: SshKeyRepository;
  private readonly models: Models;

  constructor(private readonly s: Store) {
    this.repo = new SshKeyRepository(s);
    this.models = new Models(s);
  }

  list(model: string): StoredSshKey[] {
    this.models.mustGet(model);
    return this.repo.list(model);
  }

  /** The lines for authorized_keys, in the order they were added. */
  lines(model: string): string[] {
    return this.repo.list(model).map((k) => k.key);
  }

  /** Adds keys, all or none: a bad or duplicate key leaves the model's keys as they were. */
  add(model: string, texts: readonly string[], addedBy: string): StoredSshKey[] {
    if (texts.length === 0) throw new SigilError('bad-request', 'no ssh key given', FORMAT_HINT);
    const keys = texts.map(parseSshKey);
    return this.s.tx(() => {
      this.models.mustBeAlive(model);
      const seen = new Set(this.repo.list(model).map((k) => k.fingerprint));
      for (const k of keys) {
        if (seen.has(k.fingerprint)) throw new SigilError('already-exists', `ssh key ${describeKey(k)} is already in model ${model}`, 'see `sigil ssh-keys`; nothing was added');
        seen.add(k.fingerprint);
      }
      const added = keys.map((k) => this.repo.insert(model, { fingerprint: k.fingerprint, md5: k.md5, comment: k.comment, key: k.line, addedBy }));
      this.s.changed(model, 'model', model);
      return added;
    });
  }

  /**
   * Removes keys named by fingerprint (SHA256:… or Juju 2's MD5 form) or comment. A comment
   * shared by several keys is refused (name them by fingerprint), as is an unknown name; in
   * either case nothing is removed.
   */
  remove(model: string, names: readonly string[]): StoredSshKey[] {
    if (names.length === 0) throw new SigilError('bad-request', 'no key named', 'name keys by fingerprint or comment, as `sigil ssh-keys` shows them');
    return this.s.tx(() => {
      this.models.mustGet(model);
      const all = this.repo.list(model);
      const chosen = new Map<string, StoredSshKey>();
      for (const name of names) {
        const byPrint = all.filter((k) => k.fingerprint === name || k.fingerprint === `SHA256:${name}` || k.md5 === name);
        const matches = byPrint.length > 0 ? byPrint : all.filter((k) => k.comment === name);
        if (matches.length === 0) throw new SigilError('not-found', `no ssh key ${JSON.stringify(name)} in model ${model}`, 'see `sigil ssh-keys` for fingerprints and comments; nothing was removed');
        if (matches.length > 1) throw new SigilError('conflict', `${matches.length} ssh keys in model ${model} have the comment ${JSON.stringify(name)}`, `name one by fingerprint: ${matches.map((k) => k.fingerprint).join(', ')}; nothing was removed`);
        chosen.set(matches[0]!.fingerprint, matches[0]!);
      }
      for (const k of chosen.values()) this.repo.delete(model, k.fingerprint);
      this.s.changed(model, 'model', model);
      return [...chosen.values()];
    });
  }
}
