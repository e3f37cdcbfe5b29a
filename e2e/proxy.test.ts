// The model's proxy keys, as Juju's (issue 13.5, 20.3), on the shared local-process
// controller: apt-*-proxy reaches every machine's apt configuration within seconds (the
// machine's own directory here, /etc/apt/apt.conf.d on a container or an enlisted host) and
// leaves it when unset; juju-*-proxy reaches hooks as JUJU_CHARM_*_PROXY; a bad value is
// refused and changes nothing.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHARMS, controllerEntry, freshModel, ok, poll, sigil, until, workload } from './harness.ts';

let m: string;
const aptFile = (id: string) => join(controllerEntry('e2e').dir, 'machines', m.split(':')[1]!, id, 'etc', 'apt', 'apt.conf.d', '95-sigil-proxy-settings');
const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : undefined);

beforeAll(async () => {
  m = await freshModel('proxy');
  await ok(['deploy', join(CHARMS, 'source'), '-m', m, '--config', 'token=p']);
  await until(m, 'source active', (s) => workload(s, 'source/0') === 'active token=p', 90_000);
}, 120_000);

describe('proxy model config', () => {
  it('writes apt-*-proxy into the machine\'s apt configuration, and removes it when unset', async () => {
    expect(read(aptFile('0'))).toBeUndefined();
    await ok(['model-config', '-m', m, 'apt-http-proxy=10.0.3.1:3142', 'apt-no-proxy=mirror.internal']);
    const conf = await poll('apt proxy file', async () => read(aptFile('0')), 15_000);
    expect(conf).toContain('Acquire::http::Proxy "http://10.0.3.1:3142";');
    expect(conf).toContain('Acquire::http::Proxy::mirror.internal "DIRECT";');
    // A machine added later gets it too.
    await ok(['add-unit', 'source', '-m', m]);
    await poll('apt proxy file on machine 1', async () => read(aptFile('1')), 60_000);
    await ok(['model-config', '-m', m, 'apt-http-proxy=']);
    await poll('apt proxy files gone', async () => (read(aptFile('0')) === undefined && read(aptFile('1')) === undefined ? true : undefined), 15_000);
  }, 120_000);

  it('gives hooks JUJU_CHARM_*_PROXY from the juju-*-proxy keys', async () => {
    const env = async () => (await ok(['exec', '--unit', 'source/0', '-m', m, '--', 'echo "$JUJU_CHARM_HTTP_PROXY|$JUJU_CHARM_NO_PROXY"'])).trim();
    expect(await env()).toBe('|127.0.0.1,localhost,::1');
    await ok(['model-config', '-m', m, 'juju-http-proxy=http://proxy.internal:3128', 'juju-no-proxy=10.0.0.0/8']);
    await poll('proxy in the hook environment', async () => ((await env()) === 'http://proxy.internal:3128|10.0.0.0/8' ? true : undefined), 15_000);
  }, 60_000);

  it('refuses a value that is not a proxy address, naming the key, and changes nothing', async () => {
    const before = await ok(['model-config', '-m', m, '--format', 'json']);
    const r = await sigil(['model-config', '-m', m, 'juju-https-proxy=http://fine:1', 'apt-https-proxy=socks5://10.0.0.1:1080']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/apt-https-proxy "socks5:\/\/10\.0\.0\.1:1080" is not an http or https proxy address/);
    expect(r.stderr).toMatch(/hint: e\.g\. apt-https-proxy=http:\/\//);
    expect(await ok(['model-config', '-m', m, '--format', 'json'])).toBe(before);
  });
});
