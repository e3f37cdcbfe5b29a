// The model's proxy keys (Juju's names) against a real store: good values reach the
// machine view agents read, bad ones are refused whole and change nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigilError } from '@sigil/core';
import { openTestDb } from '../store/test-store.ts';
import { Store } from '../store/store.ts';
import { Models } from './models.ts';

let dir: string;
let store: Store;
let models: Models;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sigil-proxy-'));
  store = new Store(openTestDb(dir));
  models = new Models(store);
  models.add('m');
});

afterAll(() => {
  store.db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('proxy model config', () => {
  it('defaults to no proxy, with Juju\'s juju-no-proxy', () => {
    const c = models.mustGet('m').config;
    expect([c['apt-http-proxy'], c['juju-http-proxy'], c['juju-no-proxy']]).toEqual(['', '', '127.0.0.1,localhost,::1']);
  });

  it('takes URLs (a bare host:port means http, as in Juju) and no-proxy lists', () => {
    const c = models.setConfig('m', { 'apt-http-proxy': '10.0.3.1:3142', 'juju-https-proxy': 'https://user:pw@proxy.internal:3128', 'apt-no-proxy': ' mirror.internal, 10.0.0.0/8 ,' });
    expect(c['apt-http-proxy']).toBe('http://10.0.3.1:3142');
    expect(c['juju-https-proxy']).toBe('https://user:pw@proxy.internal:3128');
    expect(c['apt-no-proxy']).toBe('mirror.internal,10.0.0.0/8');
    expect(models.setConfig('m', { 'apt-http-proxy': '' })['apt-http-proxy']).toBe('');
  });

  it.each([
    ['apt-http-proxy', 'socks5://10.0.0.1:1080', /not an http or https proxy address/],
    ['apt-http-proxy', 'http://10.0.0.1:3142";\nAcquire::x "y', /not an http or https proxy address|not a proxy address/],
    ['juju-http-proxy', 'http://', /not a proxy address|not an http or https/],
    ['apt-no-proxy', 'ok.host,"; rm -rf /', /is not a host, domain or address/],
  ])('refuses %s=%j with a hint, changing nothing', (key, value, message) => {
    const before = JSON.stringify(models.mustGet('m').config);
    let err: unknown;
    try {
      models.setConfig('m', { 'juju-ftp-proxy': 'http://fine:21', [key]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SigilError);
    expect((err as SigilError).message).toMatch(message);
    expect((err as SigilError).hint).toMatch(new RegExp(`e\\.g\\. ${key}=`));
    expect(JSON.stringify(models.mustGet('m').config)).toBe(before);
  });
});
