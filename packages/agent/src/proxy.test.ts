import { readFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProxySettings } from '@sigil/api';
import { APT_PROXY_FILE, applyAptProxy, aptProxyConf, charmProxyEnv, machineAptProxy } from './proxy.ts';
import { testDir } from '../../../tests/temp.ts';

const none: ProxySettings = {
  'juju-http-proxy': '',
  'juju-https-proxy': '',
  'juju-ftp-proxy': '',
  'juju-no-proxy': '',
  'apt-http-proxy': '',
  'apt-https-proxy': '',
  'apt-ftp-proxy': '',
  'apt-no-proxy': '',
};

describe('apt proxy settings', () => {
  it('writes one Acquire line per scheme set, and DIRECT for each no-proxy host', () => {
    const conf = aptProxyConf({ ...none, 'apt-http-proxy': 'http://10.0.3.1:3142', 'apt-https-proxy': 'http://10.0.3.1:3142', 'apt-no-proxy': 'mirror.internal,10.9.9.9' });
    expect(conf!.split('\n').filter((l) => l.startsWith('Acquire'))).toEqual([
      'Acquire::http::Proxy "http://10.0.3.1:3142";',
      'Acquire::https::Proxy "http://10.0.3.1:3142";',
      'Acquire::http::Proxy::mirror.internal "DIRECT";',
      'Acquire::http::Proxy::10.9.9.9 "DIRECT";',
      'Acquire::https::Proxy::mirror.internal "DIRECT";',
      'Acquire::https::Proxy::10.9.9.9 "DIRECT";',
    ]);
  });

  it('has nothing to write when no apt proxy is set (juju-* keys are not apt\'s)', () => {
    expect(aptProxyConf({ ...none, 'juju-http-proxy': 'http://p:3128', 'apt-no-proxy': 'x' })).toBeUndefined();
  });

  it('creates, rewrites and removes the file as the settings change, touching it only on a change', async () => {
    const dir = join(testDir('sigil-apt-'), 'etc', 'apt', 'apt.conf.d');
    const file = join(dir, APT_PROXY_FILE);
    expect(await applyAptProxy(dir, none)).toBe(false);
    expect(existsSync(file)).toBe(false);
    const one = { ...none, 'apt-http-proxy': 'http://10.0.3.1:3142' };
    expect(await applyAptProxy(dir, one)).toBe(true);
    expect(readFileSync(file, 'utf8')).toContain('Acquire::http::Proxy "http://10.0.3.1:3142";');
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(await applyAptProxy(dir, one)).toBe(false);
    expect(await applyAptProxy(dir, { ...one, 'apt-http-proxy': 'http://10.0.3.9:3142' })).toBe(true);
    expect(readFileSync(file, 'utf8')).toContain('10.0.3.9');
    expect(await applyAptProxy(dir, none)).toBe(true);
    expect(existsSync(file)).toBe(false);
  });
});

describe('hook proxy environment', () => {
  it('exports JUJU_CHARM_*_PROXY from the juju-* keys, empty when unset, as Juju does', () => {
    expect(charmProxyEnv({ ...none, 'juju-http-proxy': 'http://p:3128', 'juju-no-proxy': '127.0.0.1,localhost', 'apt-http-proxy': 'http://a:1' })).toEqual({
      JUJU_CHARM_HTTP_PROXY: 'http://p:3128',
      JUJU_CHARM_HTTPS_PROXY: '',
      JUJU_CHARM_FTP_PROXY: '',
      JUJU_CHARM_NO_PROXY: '127.0.0.1,localhost',
    });
    expect(charmProxyEnv(undefined).JUJU_CHARM_HTTP_PROXY).toBe('');
  });
});

describe('an enlisted host without a mirror', () => {
  it('goes through the controller\'s apt cache while the model names no http proxy, and through the model\'s when it does', () => {
    const cache = 'http://10.1.0.1:3142';
    expect(aptProxyConf(machineAptProxy(none, cache))).toContain(`Acquire::http::Proxy "${cache}";`);
    expect(aptProxyConf(machineAptProxy({ ...none, 'apt-http-proxy': 'http://squid:3128' }, cache))).toContain('Acquire::http::Proxy "http://squid:3128";');
    expect(aptProxyConf(machineAptProxy(none, undefined))).toBeUndefined();
  });
});
