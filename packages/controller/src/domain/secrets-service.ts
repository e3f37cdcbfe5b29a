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
 * user side, and the scrubber that replaces any secret value found in text arriving from
 * agents (log lines, action output, status messages) with `***` before it is stored.
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

  /** Every secret value of the model (each revision, and each line of a multi-line value), longest first. */
  private modelValues(model: string): string[] {
    const cached = this.values.get(model);
    if (cached?.version === this.version) return cached.values;
    const found = new Set<string>();
    this.s.db.transaction(() => {
      for (const row of this.repo.list(model)) {
        for (const rev of this.repo.revisions(model, row.id)) {
          for (const v of Object.values(decodeSecretContent(this.repo.content(model, row.id, rev.revision) ?? {}))) {
            for (const piece of [v, ...v.split(/\r?\n/)].map((x) => x.trim())) if (piece.length >= MIN_SCRUB_LENGTH) found.add(piece);
          }
        }
      }
    })();
    const values = [...found].sort((a, b) => b.length - a.length);
    this.values.set(model, { version: this.version, values });
    return values;
  }

  /** `text` with every secret value of the model replaced by `***`. */
  scrub(model: string, text: string): string {
    const values = this.modelValues(model);
    if (values.length === 0 || text === '') return text;
    let out = text;
    for (const v of values) if (out.includes(v)) out = out.split(v).join('***');
    return out;
  }

  /** Scrubs every string inside a JSON-like value (action results, status data). */
  scrubDeep<T>(model: string, value: T): T {
    if (this.modelValues(model).length === 0) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.scrub(model, v);
      if (Array.isArray(v)) return v.map(walk);
      if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
      return v;
    };
    return walk(value) as T;
  }
}
