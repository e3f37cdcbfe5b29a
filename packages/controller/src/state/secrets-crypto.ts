/**
 * Encryption at rest for secret content (decision 0012-secrets-at-rest). One random 256-bit
 * key per controller lives in `secrets.key` (mode 0600) in the controller's directory,
 * beside the database and never in it. Each revision is sealed with AES-256-GCM under a
 * fresh 96-bit nonce, with (model, secret id, revision) as additional data, so a sealed
 * value copied onto another row fails to open instead of revealing the wrong secret.
 *
 * Sealed layout: `0x01 | nonce (12) | tag (16) | ciphertext`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, openSync, readFileSync, statSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { SigilError } from '@sigil/core';

const VERSION = 1;
const KEY_FILE = 'secrets.key';

export class SecretCipher {
  private constructor(private readonly key: Buffer) {}

  /**
   * The controller's key from `<dir>/secrets.key`, created (exclusively, 0600) on first use.
   * A key file that is not exactly 32 bytes of hex is refused rather than replaced: replacing
   * it would make every stored secret unreadable.
   */
  static forDirectory(dir: string): SecretCipher {
    const path = join(dir, KEY_FILE);
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, randomBytes(32).toString('hex') + '\n');
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    const text = readFileSync(path, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/.test(text)) {
      throw new SigilError('internal', `the secrets key file ${path} is damaged`, 'restore it from a backup of the controller directory; without it stored secrets cannot be read');
    }
    return new SecretCipher(Buffer.from(text, 'hex'));
  }

  /** A key held only in memory (tests). */
  static ephemeral(): SecretCipher {
    return new SecretCipher(randomBytes(32));
  }

  seal(plaintext: Buffer, aad: string): Buffer {
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, nonce);
    c.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([c.update(plaintext), c.final()]);
    return Buffer.concat([Buffer.from([VERSION]), nonce, c.getAuthTag(), body]);
  }

  open(sealed: Buffer, aad: string): Buffer {
    if (sealed.length < 29 || sealed[0] !== VERSION) throw new SigilError('internal', 'a stored secret revision is not in a format this controller reads');
    const d = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(1, 13));
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(sealed.subarray(13, 29));
    try {
      return Buffer.concat([d.update(sealed.subarray(29)), d.final()]);
    } catch {
      throw new SigilError('internal', 'a stored secret revision failed its integrity check', 'the database or the secrets key file was changed or swapped');
    }
  }
}
