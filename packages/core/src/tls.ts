import { X509Certificate } from 'node:crypto';
import { SigilError } from './errors.ts';

/**
 * The SHA-256 fingerprint of a PEM certificate, as `openssl x509 -fingerprint -sha256`
 * prints it (colon-separated upper-case hex). This is what error messages and
 * `sigil controllers` show for a pinned CA.
 */
export function certFingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/** Verification failures Node's TLS reports (OpenSSL's X509_V_ERR_* names, and the hostname check). */
const CERT_FAILURES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Whether a connection failed because the server's certificate did not verify against the pinned CA. */
export function isCertificateFailure(e: unknown): boolean {
  const code = (e as { code?: unknown; cause?: { code?: unknown } } | undefined)?.code ?? (e as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return typeof code === 'string' && CERT_FAILURES.has(code);
}

/**
 * The error every client raises when a controller's certificate does not verify against the
 * CA pinned for it: it names the controller and the fingerprint it expected, and says what
 * to do. `presented` is the server certificate's fingerprint when the client could read it.
 */
export function untrustedController(name: string, endpoint: string, pinnedCaPem: string, cause: unknown, presented?: string): SigilError {
  const c = cause as { code?: string; message?: string } | undefined;
  const reason = c?.code ? `${c.code}: ${c.message ?? ''}`.replace(/: $/, '') : String(cause);
  return new SigilError(
    'unavailable',
    `controller "${name}" at ${endpoint} presented a certificate that does not verify against its pinned CA ` +
      `(expected a certificate issued by the CA with SHA-256 fingerprint ${certFingerprint(pinnedCaPem)}` +
      `${presented ? `; got one with fingerprint ${presented}` : ''}; ${reason})`,
    `something other than controller "${name}" may be answering at that address: do not send it credentials. ` +
      `If "${name}" was bootstrapped again, its CA changed: remove the stale entry from controllers.yaml and accounts.yaml (or destroy and bootstrap it again)`,
  );
}
