import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { publishToPool, seedFromPool } from './apt-pool.ts';

/** A file as apt-cacher-ng leaves it: the body, and a `.head` whose Content-Length says how much of it there should be. */
function fetched(root: string, rel: string, body: string, length = body.length): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), body);
  writeFileSync(join(root, `${rel}.head`), `HTTP/1.1 200 OK\r\nContent-Length: ${length}\r\nX-Original-Source: http://deb.debian.org/debian/${rel}\r\n\r\n`);
}

const MEMCACHED = 'debrep/pool/main/m/memcached/memcached_1.6.18-1_amd64.deb';
const LIBEVENT = 'secdeb/pool/updates/main/libe/libevent/libevent-2.1-7_2.1.12-stable-8+deb12u1_amd64.deb';

describe('the host pool of apt packages', () => {
  let work = '';
  let cacheA = '';
  let cacheB = '';
  let pool = '';
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'sigil-apt-pool-'));
    cacheA = join(work, 'a');
    cacheB = join(work, 'b');
    pool = join(work, 'pool');
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('takes the complete packages of one cache, linked, and leaves index files, partial downloads and the rest', async () => {
    fetched(cacheA, MEMCACHED, 'memcached package');
    fetched(cacheA, LIBEVENT, 'libevent package');
    fetched(cacheA, 'debrep/pool/main/w/wordpress/wordpress_6.1.9_all.deb', 'half of it', 1000);
    fetched(cacheA, 'debrep/dists/bookworm/InRelease', 'an index that changes');
    fetched(cacheA, '_xstore/something.deb', 'not a package of the archive');
    expect(await publishToPool(cacheA, pool)).toEqual({ files: 2, bytes: 'memcached package'.length + 'libevent package'.length });
    expect(statSync(join(pool, MEMCACHED)).ino).toBe(statSync(join(cacheA, MEMCACHED)).ino);
    expect(readFileSync(join(pool, `${LIBEVENT}.head`), 'utf8')).toContain('Content-Length: 16');
    for (const left of ['debrep/pool/main/w/wordpress/wordpress_6.1.9_all.deb', 'debrep/dists/bookworm/InRelease', '_xstore/something.deb']) expect(existsSync(join(pool, left)), left).toBe(false);
    // Nothing new the second time.
    expect(await publishToPool(cacheA, pool)).toEqual({ files: 0, bytes: 0 });
  });

  it('gives a new cache what the pool has, keeping what the cache already has', async () => {
    fetched(cacheA, MEMCACHED, 'memcached package');
    fetched(cacheA, LIBEVENT, 'libevent package');
    await publishToPool(cacheA, pool);
    fetched(cacheB, LIBEVENT, 'the cache\'s own copy');
    expect(await seedFromPool(pool, cacheB)).toEqual({ files: 1, bytes: 'memcached package'.length });
    expect(readFileSync(join(cacheB, MEMCACHED), 'utf8')).toBe('memcached package');
    expect(readFileSync(join(cacheB, `${MEMCACHED}.head`), 'utf8')).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(readFileSync(join(cacheB, LIBEVENT), 'utf8')).toBe('the cache\'s own copy');
    // The .head is a copy: the daemon rewriting the cache's leaves the pool's alone.
    expect(statSync(join(cacheB, `${MEMCACHED}.head`)).ino).not.toBe(statSync(join(pool, `${MEMCACHED}.head`)).ino);
  });

  it('keeps one version of a package: a newer one replaces the older, other packages of the same source stay', async () => {
    fetched(cacheA, MEMCACHED, 'old');
    fetched(cacheA, 'debrep/pool/main/m/memcached/memcached-tools_1.6.18-1_amd64.deb', 'tools');
    await publishToPool(cacheA, pool);
    const newer = 'debrep/pool/main/m/memcached/memcached_1.6.18-1+deb12u1_amd64.deb';
    fetched(cacheB, newer, 'new');
    expect(await publishToPool(cacheB, pool)).toEqual({ files: 1, bytes: 3 });
    expect(existsSync(join(pool, MEMCACHED))).toBe(false);
    expect(existsSync(join(pool, `${MEMCACHED}.head`))).toBe(false);
    expect(readFileSync(join(pool, newer), 'utf8')).toBe('new');
    expect(readFileSync(join(pool, 'debrep/pool/main/m/memcached/memcached-tools_1.6.18-1_amd64.deb'), 'utf8')).toBe('tools');
  });

  it('a pool that does not exist yet seeds nothing', async () => {
    expect(await seedFromPool(pool, cacheB)).toEqual({ files: 0, bytes: 0 });
  });
});
