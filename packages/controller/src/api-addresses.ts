import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { controllerAptCache, relayServer } from '@sigil/providers';
import type { Logger } from './logger.ts';

/** The port machines on other hosts find the controller's apt cache on, at each --api-address (apt-cacher-ng's own). */
export const APT_CACHE_PORT = 3142;

/**
 * `bootstrap --api-address`: the API also answers on these addresses of this host (same
 * port), for machines on other hosts. Each is a TCP relay to the API's own listener: TLS
 * passes through untouched (the certificate names every address), so the server keeps one
 * listener and one set of routes.
 */
export function listenOnApiAddresses(config: { host: string; port: number; apiAddresses?: string[] }, log: Logger, signal: AbortSignal): void {
  for (const address of config.apiAddresses ?? []) {
    if (address !== config.host) relay('api', address, config.port, { host: config.host, port: config.port }, log, signal);
  }
}

/**
 * The controller's apt cache, offered to enlisted hosts that cannot reach a mirror: at each
 * --api-address, port 3142, a relay to the provider's cache (LXC: the one its machines use,
 * on the bridge) or, where the provider has none (local-process), to an apt-cacher-ng of the
 * controller's own listening on loopback only. Returns the URLs, one per api address (empty
 * when there is no api address, or no apt-cacher-ng on this host: the controller says so).
 */
export async function offerAptCache(
  config: { apiAddresses?: string[] },
  providerCache: string | undefined,
  dir: string,
  log: Logger,
  signal: AbortSignal,
): Promise<string[]> {
  const addresses = config.apiAddresses ?? [];
  if (addresses.length === 0) return [];
  let target: { host: string; port: number };
  if (providerCache !== undefined) {
    const u = new URL(providerCache);
    target = { host: u.hostname, port: Number(u.port || 80) };
  } else {
    if (!['/usr/sbin/apt-cacher-ng', '/usr/bin/apt-cacher-ng'].some((p) => existsSync(p))) {
      log.warn('no apt cache for enlisted hosts: apt-cacher-ng is not installed here; hosts that cannot reach a mirror need the model\'s apt-http-proxy', {});
      return [];
    }
    try {
      const cache = controllerAptCache(dir, await cachePort(dir));
      await cache.start();
      target = { host: '127.0.0.1', port: cache.port };
    } catch (e) {
      log.warn('no apt cache for enlisted hosts: it did not start', { err: (e as Error).message });
      return [];
    }
  }
  for (const address of addresses) relay('apt cache', address, APT_CACHE_PORT, target, log, signal);
  const urls = addresses.map((a) => `http://${a.includes(':') ? `[${a}]` : a}:${APT_CACHE_PORT}`);
  log.info('apt cache offered to enlisted hosts', { urls, cache: `${target.host}:${target.port}` });
  return urls;
}

/**
 * A loopback port for the controller's own cache, chosen once and kept, so a restart finds
 * the cache it left running. Below 32768: apt-cacher-ng 3.7 cannot bind a higher one ("Error
 * resolving address for binding"), so the kernel's ephemeral range is out.
 */
async function cachePort(dir: string): Promise<number> {
  const file = join(dir, 'apt-cache', 'port');
  const kept = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  if (Number.isInteger(kept) && kept > 0 && kept < 32768) return kept;
  let port = 0;
  for (let i = 0; i < 50 && port === 0; i++) {
    const candidate = 20000 + Math.floor(Math.random() * 12000);
    port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(0));
      s.listen(candidate, '127.0.0.1', () => s.close(() => resolve(candidate)));
    });
  }
  if (port === 0) throw new Error('no free loopback port below 32768 for the apt cache');
  await mkdir(join(dir, 'apt-cache'), { recursive: true });
  await writeFile(file, `${port}\n`);
  return port;
}

/**
 * A TCP relay from `address:port` to `target`. An address that is not up yet (a bridge
 * created after the controller started) is retried every few seconds until the signal aborts.
 */
function relay(what: string, address: string, port: number, target: { host: string; port: number }, log: Logger, signal: AbortSignal): void {
  let retry: NodeJS.Timeout | undefined;
  let server: Server | undefined;
  const start = () => {
    server = relayServer(target);
    server.once('error', (e) => {
      log.warn(`cannot listen on api address for the ${what}; retrying`, { address, port, err: String(e) });
      server = undefined;
      if (!signal.aborted) retry = setTimeout(start, 3000);
    });
    server.listen(port, address, () => log.info(`${what} listening on api address`, { address, port }));
  };
  start();
  signal.addEventListener('abort', () => {
    clearTimeout(retry);
    server?.close();
  });
}
