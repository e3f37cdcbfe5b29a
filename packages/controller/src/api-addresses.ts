import { connect, createServer, type Server } from 'node:net';
import type { Logger } from './logger.ts';

/**
 * `bootstrap --api-address`: the API also answers on these addresses of this host (same
 * port), for machines on other hosts. Each is a TCP relay to the API's own listener: TLS
 * passes through untouched (the certificate names every address), so the server keeps one
 * listener and one set of routes. An address that is not up yet (a bridge created after the
 * controller started) is retried until it is, every few seconds, until the signal aborts.
 */
export function listenOnApiAddresses(config: { host: string; port: number; apiAddresses?: string[] }, log: Logger, signal: AbortSignal): void {
  for (const address of config.apiAddresses ?? []) {
    if (address === config.host) continue;
    let retry: NodeJS.Timeout | undefined;
    let server: Server | undefined;
    const start = () => {
      server = createServer({ allowHalfOpen: true }, (client) => {
        const upstream = connect({ host: config.host, port: config.port, allowHalfOpen: true });
        client.pipe(upstream).pipe(client);
        const close = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', close);
        upstream.on('error', close);
        client.on('close', close);
        upstream.on('close', close);
      });
      server.once('error', (e) => {
        log.warn('cannot listen on api address; retrying', { address, port: config.port, err: String(e) });
        server = undefined;
        if (!signal.aborted) retry = setTimeout(start, 3000);
      });
      server.listen(config.port, address, () => log.info('api address listening', { address, port: config.port }));
    };
    start();
    signal.addEventListener('abort', () => {
      clearTimeout(retry);
      server?.close();
    });
  }
}
