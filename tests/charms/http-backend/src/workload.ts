/** The machine side of http-backend: the Python server as a systemd service. */
import { unlink } from 'node:fs/promises';
import { isActive, sh, systemctl, writeIfChanged } from '@sigil/charm-sdk';
import { SERVER_PY } from './server-py.ts';

export const SERVICE = 'http-backend';
const SCRIPT = '/usr/local/lib/http-backend/server.py';
const UNIT_FILE = `/etc/systemd/system/${SERVICE}.service`;

export interface AppOptions {
  unit: string;
  port: number;
  checkPort: number;
  workers: number;
}

export interface Workload {
  /** Writes the server and its unit, (re)starting the service only when they changed or it is down. */
  configure(o: AppOptions): Promise<'started' | 'restarted' | 'unchanged'>;
  stop(): Promise<void>;
  remove(): Promise<void>;
}

export function unitFile(o: AppOptions): string {
  return `[Unit]
Description=http-backend test application for ${o.unit} (Sigil)
After=network.target

[Service]
ExecStart=/usr/bin/python3 ${SCRIPT} ${o.unit} ${o.port} ${o.checkPort} ${o.workers}
User=nobody
Restart=on-failure

[Install]
WantedBy=multi-user.target
`;
}

export class SystemWorkload implements Workload {
  async configure(o: AppOptions) {
    const changed = [await writeIfChanged(SCRIPT, SERVER_PY), await writeIfChanged(UNIT_FILE, unitFile(o))].some(Boolean);
    if (changed) await sh(['systemctl', 'daemon-reload']);
    const running = await isActive(SERVICE);
    if (running && !changed) return 'unchanged';
    await sh(['systemctl', 'enable', SERVICE]);
    await systemctl(running ? 'restart' : 'start', SERVICE);
    return running ? 'restarted' : 'started';
  }

  async stop() {
    await systemctl('stop', SERVICE).catch(() => {});
  }

  async remove() {
    await this.stop();
    await sh(['systemctl', 'disable', SERVICE]).catch(() => {});
    await unlink(UNIT_FILE).catch(() => {});
    await sh(['systemctl', 'daemon-reload']);
  }
}
