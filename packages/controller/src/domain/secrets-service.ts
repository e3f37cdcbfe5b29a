import { decodeSecretContent } from '@sigil/core';
import type { Store } from '../store/store.ts';
import { SecretCipher } from '../state/secrets-crypto.ts';
import { SecretRepository } from '../state/secrets.ts';
import { CharmSecrets } from './secrets.ts';
import { UserSecrets } from './secrets-user.ts';

/** Values shorter than this are not scrubbed: masking every "on" or "1" would wreck logs and hide nothing. */
export const MIN_SCRUB_LENGTH = 4;

/**
 * Juju secrets in the controller: the repository (ciphertext only), the charm side, the
 * user side, and the scrubber that replaces, in text arriving from an agent (log lines,
 * action output, status messages), any value of a secret its units can read with `***`
 * before it is stored, as the agent did before sending it.
 */
export class Secrets {
  readonly repo: SecretRepository;
  readonly charm: CharmSecrets;
  readonly user: UserSecrets;
  private version = 0;
  private readonly values = new Map<string, { version: number; values: string[] }>();

  constructor(private readonly s: Store, cipher: SecretCipher) {
    this.repo = new SecretRepository(s, cipher);
    const bump = () => {
      this.version++;
    };
    this.charm = new CharmSecrets(s, this.repo, bump);
    this.user = new UserSecrets(s, this.repo, this.charm, bump);
  }

  /** The controller's secrets with the key kept in `dir` (created there, 0600, on first use). */
  static forDirectory(s: Store, dir: string): Secrets {
    return new Secrets(s, SecretCipher.forDirectory(dir));
  }

  /**
   * The values of every secret the units can read (each revision, and each line of a
   * multi-line value), longest first: what the agent scrubs for them, so the controller
   * checks the same again. Cached per unit until a secret changes.
   */
  private unitValues(model: string, units: readonly string[]): string[] {
    const found = new Set<string>();
    for (const unit of units) {
      const key = `${model}\0${unit}`;
      let cached = this.values.get(key);
      if (cached?.version !== this.version) {
        cached = { version: this.version, values: this.readableValues(model, unit) };
        this.values.set(key, cached);
      }
      for (const v of cached.values) found.add(v);
    }
    return [...found].sort((a, b) => b.length - a.length);
  }

  private readableValues(model: string, unit: string): string[] {
    const found = new Set<string>();
    this.s.db.transaction(() => {
      const ref = this.repo.unitRef(model, unit);
      if (!ref) return;
      const rows = [...this.repo.ownedBy(model, ref.app, ref.name), ...this.repo.grantedTo(model, ref.app, ref.name)];
      for (const row of rows) {
        if (this.charm.access(model, ref, row) === undefined) continue;
        for (const rev of this.repo.revisions(model, row.id)) {
          for (const v of Object.values(decodeSecretContent(this.repo.content(model, row.id, rev.revision) ?? {}))) {
            for (const piece of [v, ...v.split(/\r?\n/)].map((x) => x.trim())) if (piece.length >= MIN_SCRUB_LENGTH) found.add(piece);
          }
        }
      }
    })();
    return [...found];
  }

  /** `text` with every value of a secret the units can read replaced by `***`. */
  scrub(model: string, units: readonly string[], text: string): string {
    if (text === '') return text;
    const values = this.unitValues(model, units);
    let out = text;
    for (const v of values) if (out.includes(v)) out = out.split(v).join('***');
    return out;
  }

  /** Scrubs every string inside a JSON-like value (action results, status data). */
  scrubDeep<T>(model: string, units: readonly string[], value: T): T {
    if (this.unitValues(model, units).length === 0) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.scrub(model, units, v);
      if (Array.isArray(v)) return v.map(walk);
      if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
      return v;
    };
    return walk(value) as T;
  }
}
