import { describe, expect, it } from 'vitest';
import { formatOfferUrl, looksLikeOfferUrl, parseOfferSpec, parseOfferUrl, splitOfferEndpoint } from './offer-url.ts';
import { SigilError } from './errors.ts';

const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return { code: (e as SigilError).code, message: (e as SigilError).message, hint: (e as SigilError).hint };
  }
  throw new Error('expected a refusal');
};

describe('offer URLs, as Juju writes them', () => {
  it.each([
    ['admin/prod.hosted-mysql', { user: 'admin', model: 'prod', name: 'hosted-mysql' }],
    ['prod.hosted-mysql', { user: 'admin', model: 'prod', name: 'hosted-mysql' }],
    ['ctl:admin/prod.db', { source: 'ctl', user: 'admin', model: 'prod', name: 'db' }],
    ['bob/m-2.x', { user: 'bob', model: 'm-2', name: 'x' }],
  ])('parses %s', (text, want) => {
    expect(parseOfferUrl(text)).toEqual(want);
  });

  it.each(['mysql', 'admin/prod', 'a/b/c.d', 'prod.db:ep', 'prod.', '.db', 'Prod.db', 'prod.DB', 'prod.1'])('refuses %s with a hint', (text) => {
    const r = refusal(() => parseOfferUrl(text));
    expect(r.code).toBe('bad-request');
    expect(r.hint).toMatch(/model\.offer/);
  });

  it('prints the URL without the controller unless asked', () => {
    const u = parseOfferUrl('ctl:prod.db');
    expect(formatOfferUrl(u)).toBe('admin/prod.db');
    expect(formatOfferUrl(u, true)).toBe('ctl:admin/prod.db');
  });

  it('tells an offer URL from an application name', () => {
    expect(looksLikeOfferUrl('mysql')).toBe(false);
    expect(looksLikeOfferUrl('mysql:db')).toBe(false);
    expect(looksLikeOfferUrl('prod.mysql')).toBe(true);
    expect(looksLikeOfferUrl('admin/prod.mysql:db')).toBe(true);
  });

  it.each([
    ['admin/prod.db', { url: 'admin/prod.db' }],
    ['admin/prod.db:server', { url: 'admin/prod.db', endpoint: 'server' }],
    ['ctl:admin/prod.db', { url: 'admin/prod.db', source: 'ctl' }],
    ['ctl:prod.db:server', { url: 'prod.db', source: 'ctl', endpoint: 'server' }],
    ['prod.db:server', { url: 'prod.db', endpoint: 'server' }],
  ])('splits integrate\'s argument %s', (text, want) => {
    expect(splitOfferEndpoint(text)).toEqual(want);
  });
});

describe('offer APP:ENDPOINT[,ENDPOINT…] [NAME]', () => {
  it('names the offer after the application by default', () => {
    expect(parseOfferSpec('mysql:db')).toEqual({ app: 'mysql', endpoints: ['db'], name: 'mysql' });
    expect(parseOfferSpec('mysql:db,admin', 'hosted-mysql')).toEqual({ app: 'mysql', endpoints: ['db', 'admin'], name: 'hosted-mysql' });
  });

  it.each([['mysql', undefined], ['mysql:', undefined], [':db', undefined], ['mysql:db,db', undefined], ['mysql:db', 'Bad_Name'], ['My:db', undefined]])('refuses %s %s with a hint', (spec, name) => {
    const r = refusal(() => parseOfferSpec(spec, name));
    expect(r.code).toBe('bad-request');
    expect(r.hint).toBeTruthy();
  });
});
