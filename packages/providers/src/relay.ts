import { connect, createServer, type Server } from 'node:net';

/**
 * A TCP server that relays each connection to `target`, bytes untouched (TLS passes
 * through). Half-open on both legs: a client that sends its request and shuts its write
 * side still gets the whole answer. Either leg failing ends the other.
 */
export function relayServer(target: { host: string; port: number }): Server {
  return createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true });
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    // Ends travel through the pipes (each flushes what it holds first); a failure on
    // either leg tears both down.
    client.on('error', close);
    upstream.on('error', close);
  });
}
