import { describe, expect, it } from 'vitest';
import { renderGuiLinks } from './gui.ts';

describe('sigil gui', () => {
  const links = { controller: 'demo', model: 'default', address: 'http://10.0.3.1:17070/gui/?model=default', login: 'http://10.0.3.1:17070/gui/?model=default#token=abc' };

  it('prints the link to open first, and labels the address that asks for a login', () => {
    const lines = renderGuiLinks(links).split('\n');
    const urls = lines.filter((l) => l.startsWith('http'));
    expect(urls).toEqual([links.login, links.address]);
    // Each address is announced by the line before it.
    expect(lines[lines.indexOf(links.login) - 1]).toMatch(/^Open the GUI for model "default" on controller "demo" with this link .*logs you in/);
    expect(lines[lines.indexOf(links.address) - 1]).toMatch(/without the login.*asks for the admin token/);
  });
});
