import { createServer } from 'node:net';

/** Whether a process of ours (by pid) still runs. */
export { isAlive as alive } from '@sigil/providers';

/** A TCP port free at this moment on `host` (an address of this machine). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
