import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * A controller's PKI, made once by `sigil bootstrap`: its own CA (ECDSA P-256, ten years)
 * and a server certificate issued by it for every address the API listens on. Clients pin
 * the CA, never the system roots. PEM strings; the two keys are PKCS#8.
 */
export interface ControllerPki {
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const YEAR_MS = 365.25 * 24 * 3600 * 1000;
export const VALIDITY_YEARS = 10;

/** Addresses every controller's certificate covers, besides the one it listens on. */
export const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

/** A random positive 128-bit serial (RFC 5280 allows up to 20 octets). */
function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

async function keyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
}

/** The SAN entries for `names`: IP addresses as iPAddress, anything else as dNSName. */
export function sanEntries(names: readonly string[]): { type: 'ip' | 'dns'; value: string }[] {
  return [...new Set(names)].map((n) => ({ type: isIP(n) ? 'ip' : 'dns', value: n }));
}

/**
 * Makes a CA and a server certificate for controller `name`, valid from now (less a minute
 * of clock skew) for ten years, whose SANs are `addresses` plus the loopback names.
 */
export async function createControllerPki(name: string, addresses: readonly string[], now = new Date()): Promise<ControllerPki> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + VALIDITY_YEARS * YEAR_MS);
  const caKeys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=Sigil controller CA for ${name.replace(/[,+="<>#;\\]/g, '')}, O=Sigil`,
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=sigil-controller, O=Sigil`,
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(sanEntries([...addresses, ...LOOPBACK_NAMES])),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  });
  return { caCert: ca.toString('pem') + '\n', caKey: await keyPem(caKeys.privateKey), cert: cert.toString('pem') + '\n', key: await keyPem(keys.privateKey) };
}

/**
 * A new server certificate from an existing CA (`restore-backup --address`: the controller
 * answers at another address with the same CA, so agents and clients that pin it go on
 * trusting it). SANs: `addresses` plus the loopback names; valid as long as the CA.
 */
export async function issueServerCert(caCertPem: string, caKeyPem: string, addresses: readonly string[], now = new Date()): Promise<{ cert: string; key: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);
  const ca = new x509.X509Certificate(caCertPem);
  const der = Buffer.from(caKeyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const caKey = await webcrypto.subtle.importKey('pkcs8', der, ALG, false, ['sign']);
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=sigil-controller, O=Sigil`,
    issuer: ca.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: ca.notAfter,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(sanEntries([...addresses, ...LOOPBACK_NAMES])),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  });
  return { cert: cert.toString('pem') + '\n', key: await keyPem(keys.privateKey) };
}

/** Where a local controller keeps its PKI, inside its directory (mode 0700). */
export const TLS_FILES = { caCert: 'tls/ca.crt', caKey: 'tls/ca.key', cert: 'tls/server.crt', key: 'tls/server.key' } as const;

/** Writes the PKI into the controller's directory: keys 0600, certificates 0644, the directory 0700. */
export function writePki(dir: string, pki: ControllerPki): void {
  mkdirSync(join(dir, 'tls'), { recursive: true, mode: 0o700 });
  for (const k of ['caCert', 'caKey', 'cert', 'key'] as const) {
    const secret = k === 'caKey' || k === 'key';
    writeFileSync(join(dir, TLS_FILES[k]), pki[k], { mode: secret ? 0o600 : 0o644, flag: 'wx' });
  }
}
