import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { certFingerprint } from '@sigil/core/tls';
import { TLS_FILES, createControllerPki, issueServerCert, writePki } from './pki.ts';

const now = new Date('2026-01-01T00:00:00Z');
const pki = await createControllerPki('demo', ['10.201.7.1', 'sigil-controller'], now);
const ca = new X509Certificate(pki.caCert);
const cert = new X509Certificate(pki.cert);

describe('createControllerPki', () => {
  it('makes an ECDSA P-256 CA, valid for ten years, that signed the server certificate', () => {
    expect(ca.ca).toBe(true);
    expect(ca.publicKey.asymmetricKeyType).toBe('ec');
    expect(ca.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(createPrivateKey(pki.caKey).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(ca.subject).toContain('Sigil controller CA for demo');
    const years = (Date.parse(ca.validTo) - now.getTime()) / (365.25 * 24 * 3600 * 1000);
    expect(years).toBeCloseTo(10, 1);
    expect(Date.parse(ca.validFrom)).toBeLessThanOrEqual(now.getTime());
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(cert.checkPrivateKey(createPrivateKey(pki.key))).toBe(true);
  });

  it('covers every address the API listens on, and loopback', () => {
    expect(cert.subjectAltName?.split(', ').sort()).toEqual(['DNS:localhost', 'DNS:sigil-controller', 'IP Address:0:0:0:0:0:0:0:1', 'IP Address:10.201.7.1', 'IP Address:127.0.0.1'].sort());
    expect(cert.checkIP('10.201.7.1')).toBe('10.201.7.1');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIP('10.201.7.2')).toBeUndefined();
    expect(cert.keyUsage).toContain('1.3.6.1.5.5.7.3.1');
  });

  it('gives each controller its own CA, told apart by fingerprint', async () => {
    const again = await createControllerPki('demo', ['10.201.7.1'], now);
    expect(certFingerprint(again.caCert)).not.toBe(certFingerprint(pki.caCert));
    expect(certFingerprint(pki.caCert)).toBe(ca.fingerprint256);
    expect(certFingerprint(pki.caCert)).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(ca.serialNumber).not.toBe(cert.serialNumber);
  });

  it('writes the keys readable by their owner only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigil-pki-'));
    try {
      writePki(dir, pki);
      expect(statSync(join(dir, TLS_FILES.key)).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, TLS_FILES.caKey)).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, 'tls')).mode & 0o777).toBe(0o700);
      // A second bootstrap into the same directory never overwrites a controller's keys.
      expect(() => writePki(dir, pki)).toThrow(/EEXIST/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('issueServerCert (restore-backup --address)', () => {
  it('issues a certificate for the new address from the same CA, with a new key, valid as long as the CA', async () => {
    const fresh = await issueServerCert(pki.caCert, pki.caKey, ['10.9.9.9', 'sigil-controller'], now);
    const c = new X509Certificate(fresh.cert);
    expect(c.verify(ca.publicKey)).toBe(true);
    expect(c.checkIssued(ca)).toBe(true);
    expect(c.ca).toBe(false);
    expect(c.checkIP('10.9.9.9')).toBe('10.9.9.9');
    expect(c.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(c.checkIP('10.201.7.1')).toBeUndefined();
    expect(c.checkPrivateKey(createPrivateKey(fresh.key))).toBe(true);
    expect(c.checkPrivateKey(createPrivateKey(pki.key))).toBe(false);
    expect(c.validTo).toBe(ca.validTo);
  });
});
