// A real browser for the GUI suites: Debian's chromium, driven by playwright-core, trusting
// exactly one controller's TLS key (Chromium's SPKI pin list) and nothing else.
import { X509Certificate, createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { controllerEntry } from './harness.ts';
import { canRun } from '../tests/ci.ts';

export const CHROMIUM = '/usr/bin/chromium';

/** Whether the browser suites can run (under CI=true a missing chromium fails instead). */
export function canRunBrowser(): boolean {
  return canRun(existsSync(CHROMIUM), `chromium (${CHROMIUM})`);
}

/** A headless chromium that accepts the named controller's certificate, and only that one. */
export function launchTrusting(controller: string): Promise<Browser> {
  const serverCert = new X509Certificate(readFileSync(join(controllerEntry(controller).dir, 'tls', 'server.crt')));
  const spki = createHash('sha256').update(serverCert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', `--ignore-certificate-errors-spki-list=${spki}`] });
}
