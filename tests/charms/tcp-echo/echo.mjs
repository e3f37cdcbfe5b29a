// A TCP echo server: node echo.mjs HOST PORT CHARM_DIR. It exits when CHARM_DIR is gone
// (the machine was destroyed) or after a day, so a test run never leaves it behind.
import { existsSync } from 'node:fs';
import net from 'node:net';

const [host, port, charmDir] = process.argv.slice(2);
const server = net.createServer((socket) => {
  socket.on('error', () => socket.destroy());
  socket.pipe(socket);
});
server.listen(Number(port), host);
const started = Date.now();
setInterval(() => {
  if (!existsSync(charmDir) || Date.now() - started > 86_400_000) process.exit(0);
}, 1000);
