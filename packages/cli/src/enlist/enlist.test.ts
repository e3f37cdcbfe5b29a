import { describe, expect, it } from 'vitest';
import { aptRoute } from './enlist.ts';
import { parseFacts } from './host-files.ts';

describe('aptRoute: how an enlisted host gets packages', () => {
  const caches = [
    { host: '10.1.0.1', port: 3142, url: 'http://10.1.0.1:3142' },
    { host: '192.168.5.1', port: 3142, url: 'http://192.168.5.1:3142' },
  ];
  const facts = (lines: string) => parseFacts(lines);

  it.each([
    ['its own proxy, left alone', 'mirror=proxy\naptcache=10.1.0.1:3142', undefined, /own proxy/],
    ['no sources, left alone', 'aptcache=10.1.0.1:3142', undefined, /no sources/],
    ['a reachable mirror, used directly', 'mirror=deb.debian.org:80\nmirror-ok=yes\naptcache=10.1.0.1:3142', undefined, /deb.debian.org:80 reachable/],
    ['an unreachable mirror: the cache on the controller address it reaches', 'mirror=deb.debian.org:80\naptcache=10.1.0.1:3142\naptcache=192.168.5.1:3142', 'http://192.168.5.1:3142', /unreachable; packages come through the controller's apt cache at http:\/\/192.168.5.1:3142/],
    ['an unreachable mirror: another cache it reaches', 'mirror=deb.debian.org:80\naptcache=10.1.0.1:3142', 'http://10.1.0.1:3142', /http:\/\/10.1.0.1:3142/],
    ['an unreachable mirror and no cache: a warning with a hint', 'mirror=deb.debian.org:80', undefined, /WARNING mirror deb.debian.org:80 unreachable.*hint: set `sigil model-config apt-http-proxy=URL`/],
  ])('%s', (_name, out, cache, line) => {
    const r = aptRoute(facts(out), caches, '192.168.5.1');
    expect(r.cache).toBe(cache);
    expect(r.line).toMatch(line);
  });

  it('offers no cache the host did not reach, nor one the controller did not offer', () => {
    expect(aptRoute(facts('mirror=deb.debian.org:80\naptcache=10.9.9.9:3142'), caches, '10.1.0.1').cache).toBeUndefined();
    expect(aptRoute(facts('mirror=deb.debian.org:80\naptcache=10.1.0.1:3142'), [], '10.1.0.1').cache).toBeUndefined();
  });
});
