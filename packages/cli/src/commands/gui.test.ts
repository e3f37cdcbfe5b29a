import { describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { createControllerPki } from '../tls/pki.ts';
import { caNote, renderGuiLinks } from './gui.ts';

describe('sigil gui', () => {
  const links = {
    controller: 'demo',
    model: 'default',
    user: 'alice',
    address: 'https://10.0.3.1:17070/gui/?model=default',
    login: 'https://10.0.3.1:17070/gui/login?model=default&code=Q2hhbmdlTWU',
  };

  it('prints the one-time login link first, and labels the address that asks for a login', () => {
    const lines = renderGuiLinks(links).split('\n');
    const urls = lines.filter((l) => l.startsWith('http'));
    expect(urls).toEqual([links.login, links.address]);
    // Each address is announced by the line before it, saying who the link logs in and for how long.
    expect(lines[lines.indexOf(links.login) - 1]).toMatch(/^Open the GUI for model "default" on controller "demo" with this link \(it logs you in as alice, once, within 2 minutes\)/);
    expect(lines[lines.indexOf(links.address) - 1]).toMatch(/without the login.*asks for a user name and password/);
  });

  it("names the CA file to trust and the CA's fingerprint to compare", async () => {
    const pki = await createControllerPki('demo', ['10.0.3.1'], new Date());
    const note = caNote('/root/.local/share/sigil/controllers/demo', pki.caCert);
    expect(note).toContain('/root/.local/share/sigil/controllers/demo/tls/ca.crt');
    // The fingerprint a browser's certificate viewer shows: SHA-256 of the CA, colon-separated hex.
    expect(note).toContain(`SHA-256 fingerprint ${new X509Certificate(pki.caCert).fingerprint256}`);
    expect(note).toMatch(/fingerprint ([0-9A-F]{2}:){31}[0-9A-F]{2}\)$/);
  });
});
