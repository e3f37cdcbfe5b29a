// node probe.mjs HOST PORT: prints the milliseconds of one TCP echo round trip (connect included).
import net from 'node:net';

const [host, port] = process.argv.slice(2);
const start = performance.now();
const socket = net.connect({ host, port: Number(port) });
const timer = setTimeout(() => {
  process.stderr.write('no echo within 30s\n');
  process.exit(1);
}, 30_000);
socket.on('connect', () => socket.write('ping\n'));
socket.on('data', () => {
  clearTimeout(timer);
  process.stdout.write(`${Math.round(performance.now() - start)}\n`);
  socket.destroy();
});
socket.on('error', (e) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
