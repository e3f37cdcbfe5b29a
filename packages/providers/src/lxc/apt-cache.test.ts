import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testDir } from '../../../../tests/temp.ts';
import { canRun } from '../../../../tests/ci.ts';
import { AptCache } from './apt-cache.ts';

const REL = 'pool/main/m/memcached/memcached_1.6.18-1_amd64.deb';

/** A free port below 32768: apt-cacher-ng refuses to bind above it ("Error resolving address for binding"). */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

describe.runIf(canRun(existsSync('/usr/sbin/apt-cacher-ng'), "Debian's apt-cacher-ng"))('an apt cache with the host pool', () => {
  it('serves packages other caches fetched (at start, and synced while running) without the archive, and gives the pool what it fetched when stopped', async () => {
    const work = testDir('sigil-apt-cache-');
    const pool = join(work, 'pool');
    mkdirSync(dirname(join(pool, 'debrep', REL)), { recursive: true });
    writeFileSync(join(pool, 'debrep', REL), 'the package');
    writeFileSync(join(pool, 'debrep', `${REL}.head`), `HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-Original-Source: http://deb.debian.org/debian/${REL}\r\n\r\n`);
    const port = await freePort();
    // An archive nobody serves: what the cache answers comes from the pool.
    const cache = new AptCache({ dir: join(work, 'cache'), bindAddress: '127.0.0.1', port, backend: 'http://127.0.0.1:9/debian/', pool });
    await cache.start();
    try {
      const r = await fetch(`http://127.0.0.1:${port}/debian/${REL}`);
      expect([r.status, await r.text()]).toEqual([200, 'the package']);
      const missing = await fetch(`http://127.0.0.1:${port}/debian/pool/main/m/memcached/memcached_9.9_amd64.deb`);
      expect(missing.status).toBeGreaterThanOrEqual(400);
      await missing.body?.cancel();
      // Another controller's cache gives the pool a package while this one runs: a sync hands it over.
      const later = 'pool/main/h/haproxy/haproxy_2.6.12-1_amd64.deb';
      mkdirSync(dirname(join(pool, 'debrep', later)), { recursive: true });
      writeFileSync(join(pool, 'debrep', later), 'haproxy');
      writeFileSync(join(pool, 'debrep', `${later}.head`), 'HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n');
      await cache.sync();
      const r2 = await fetch(`http://127.0.0.1:${port}/debian/${later}`);
      expect([r2.status, await r2.text()]).toEqual([200, 'haproxy']);
    } finally {
      await cache.stop();
    }
    // What a cache fetched (here: placed as the daemon leaves it) reaches the pool when it stops.
    const own = 'debrep/pool/main/r/redis/redis-server_7.0.15-1_amd64.deb';
    mkdirSync(dirname(join(work, 'cache', 'cache', own)), { recursive: true });
    writeFileSync(join(work, 'cache', 'cache', own), 'redis');
    writeFileSync(join(work, 'cache', 'cache', `${own}.head`), 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n');
    await cache.stop();
    expect(readFileSync(join(pool, own), 'utf8')).toBe('redis');
  });
});
