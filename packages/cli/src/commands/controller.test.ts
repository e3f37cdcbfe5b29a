import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SigilError } from '@sigil/core';
import { Client } from '../client.ts';
import { createControllerPki } from '../tls/pki.ts';
import { freePort, waitHealthy } from './controller.ts';

const dir = mkdtempSync(join(tmpdir(), 'sigil-wait-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('waiting for a controller that is starting', () => {
  it('gives up at once, with its log, when the controller process has exited', async () => {
    const log = join(dir, 'controller.log');
    writeFileSync(log, 'Error: Cannot find module \'/opt/sigil/dist/controller.mjs\'\n');
    // Nothing listens there, and the "controller" exits as soon as it starts.
    const port = await freePort();
    const pki = await createControllerPki('test', ['127.0.0.1']);
    const client = new Client('test', { endpoint: `https://127.0.0.1:${port}`, dir, provider: 'local-process', 'current-model': 'default', 'ca-cert': pki.caCert }, 'token', 'default', { retryForMs: 0 });
    const child = spawn(process.execPath, ['-e', 'process.exit(3)']);
    await new Promise((resolve) => child.on('exit', resolve));
    const started = Date.now();
    const failure = await waitHealthy(client, 60_000, log, child.pid).then(() => undefined, (e: unknown) => e);
    expect(failure).toBeInstanceOf(SigilError);
    expect((failure as SigilError).message).toBe('the controller process exited before it answered');
    expect((failure as SigilError).hint).toContain('Cannot find module');
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
