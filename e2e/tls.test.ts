// TLS on every connection, against the shared local-process controller and the shared LXC
// controller (whose API listens on its bridge, for real machines): the controller's
// certificate verifies against its CA with OpenSSL, plain HTTP gets no answer, machines get
// the CA (and no key), and the CLI refuses a controller whose certificate it did not pin.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { certFingerprint } from '@sigil/core/tls';
import { createControllerPki } from '../packages/cli/src/tls/pki.ts';
import { CHARMS, ROOT, controllerEntry, ok, providers, until, workload, type Provider } from './harness.ts';

const scratch = mkdtempSync(join(tmpdir(), 'sigil-tls-e2e-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env, input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

for (const p of providers()) describe.skipIf(!p.available)(`TLS (${p.name})`, () => suite(p));

function suite(p: Provider): void {
  const C = p.controller;
  it('serves a certificate that openssl verifies against the controller CA', async () => {
    const e = controllerEntry(C);
    const ca = join(scratch, `${C}-ca.pem`);
    writeFileSync(ca, e['ca-cert']);
    const { hostname, port } = new URL(e.endpoint);
    const r = await run('openssl', ['s_client', '-connect', `${hostname}:${port}`, '-CAfile', ca, '-verify_return_error', '-verify_ip', hostname, '-brief'], process.env, 'Q\n');
    expect(r.stderr + r.stdout).toMatch(/Verification: OK/);
    expect(r.code, r.stderr).toBe(0);
    // Against another CA, openssl refuses it too.
    const other = join(scratch, 'other.pem');
    writeFileSync(other, (await createControllerPki('other', ['127.0.0.1'])).caCert);
    const bad = await run('openssl', ['s_client', '-connect', `${hostname}:${port}`, '-CAfile', other, '-verify_return_error', '-brief'], process.env, 'Q\n');
    expect(bad.code).not.toBe(0);
  });

  it('answers nothing over plain HTTP', async () => {
    const { hostname, port } = new URL(controllerEntry(C).endpoint);
    const outcome = await new Promise<string>((resolve) => {
      const req = httpRequest({ host: hostname, port, path: '/api/health', timeout: 5_000 }, (res) => resolve(`HTTP ${res.statusCode}`));
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
      req.end();
    });
    expect(outcome).toMatch(/^error /);
  });

  it('keeps the keys private and gives machines the CA only', async () => {
    const e = controllerEntry(C);
    expect(statSync(join(e.dir, 'tls', 'server.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(e.dir, 'tls', 'ca.key')).mode & 0o777).toBe(0o600);
    const m = await p.model('tls');
    await ok(['deploy', join(CHARMS, 'source'), '-m', m, '--config', 'token=tls']);
    await until(m, 'source active over TLS', (s) => workload(s, 'source/0') === 'active token=tls', p.settleMs);
    const agentJson = await p.machineFile(m, '0', '/etc/sigil/agent.json');
    const agent = JSON.parse(agentJson) as { controllerUrl: string; caCert: string };
    expect(agent.controllerUrl).toBe(e.endpoint);
    expect(agent.caCert).toBe(e['ca-cert']);
    expect(agentJson).not.toContain('PRIVATE KEY');
    expect(readFileSync(join(e.dir, 'controller.log'), 'utf8')).not.toContain('PRIVATE KEY');
    const ps = await run('ps', ['-eo', 'args']);
    expect(ps.stdout).not.toContain('PRIVATE KEY');
    expect(ps.stdout).not.toContain('server.key');
  }, p.settleMs + 30_000);

  it('refuses a controller whose certificate it did not pin, naming the controller and the fingerprint it expected', async () => {
    const home = join(scratch, `${C}-home`);
    const src = process.env.SIGIL_HOME!;
    const controllers = YAML.parse(readFileSync(join(src, 'controllers.yaml'), 'utf8')) as { controllers: Record<string, { 'ca-cert': string }> };
    const impostorCa = (await createControllerPki('impostor', ['127.0.0.1'])).caCert;
    controllers.controllers[C]!['ca-cert'] = impostorCa;
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'controllers.yaml'), YAML.stringify(controllers));
    writeFileSync(join(home, 'accounts.yaml'), readFileSync(join(src, 'accounts.yaml')), { mode: 0o600 });
    const env = { ...process.env, SIGIL_HOME: home };
    for (const args of [['status', '-m', `${C}:default`], ['debug-log', '-m', `${C}:default`, '--replay', '--no-tail']]) {
      const r = await run(join(ROOT, 'bin', 'sigil'), args, env);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(`^ERROR controller "${C}" at https://\\S+ presented a certificate that does not verify against its pinned CA \\(expected a certificate issued by the CA with SHA-256 fingerprint ${certFingerprint(impostorCa)};`));
      expect(r.stderr).toMatch(new RegExp(`^hint: something other than controller "${C}" may be answering`, 'm'));
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
    // The real entry still works.
    await ok(['models', '-c', C]);
  });
}
