import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTlsServer } from 'node:tls';
import { createControllerPki } from '../packages/cli/src/tls/pki.ts';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { CHARMS, ROOT, apiGet, ok, sigil, until, workload, type Run } from './harness.ts';
import { alive } from '../tests/procs.ts';
import { EXIT } from '@sigil/api';

// Its own controller: these tests kill its processes, and the other files share theirs.
const C = 'e2e-resilience';
const M = `${C}:default`;
const controllerDir = () => join(process.env.SIGIL_HOME!, 'controllers', C);
const scratch = mkdtempSync(join(tmpdir(), 'sigil-resilience-'));

function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(join(controllerDir(), file), 'utf8').trim());
    return n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}


async function healthy(): Promise<boolean> {
  try {
    return (await apiGet(C, '/api/health')).status === 200;
  } catch {
    return false;
  }
}

async function poll(what: string, pred: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  const log = readFileSync(join(controllerDir(), 'controller.log'), 'utf8').split('\n').slice(-15).join('\n');
  throw new Error(`timed out waiting for ${what}\ncontroller.log:\n${log}`);
}

/** Waits until a serve process other than `old` has written its pid and answers; returns its pid. */
async function backAfter(old: number): Promise<number> {
  let pid: number | undefined;
  await poll(`a new serve process to replace ${old}`, async () => {
    pid = readPid('controller.pid');
    return pid !== undefined && pid !== old && alive(pid) && (await healthy());
  });
  return pid!;
}

type Output = Pick<Run, 'code' | 'stdout' | 'stderr'>;

/** The CLI with a different environment (another SIGIL_HOME, SIGIL_DEBUG). */
function sigilWith(env: Record<string, string>, args: string[]): Promise<Output> {
  return new Promise((resolve) => {
    execFile(join(ROOT, 'bin', 'sigil'), args, { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A failure as the CLI must show it: `ERROR …`, then `hint: …`, and no stack frames. */
function expectCleanError(r: Output, message: RegExp): void {
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines[0], r.stderr).toMatch(/^ERROR /);
  expect(lines[0], r.stderr).toMatch(message);
  expect(lines.some((l) => /^hint: \S/.test(l)), r.stderr).toBe(true);
}

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('CLI resilience', () => {
  beforeAll(async () => {
    await ok(['bootstrap', '--provider', 'local-process', C]);
    await ok(['deploy', join(CHARMS, 'source'), '-m', M, '--config', 'token=one']);
    await until(M, 'source active', (s) => workload(s, 'source/0') === 'active token=one');
  });
  afterAll(async () => {
    await sigil(['destroy-controller', C, '--yes']);
    rmSync(scratch, { recursive: true, force: true });
  });

  describe('errors are one ERROR line and a hint, never a stack trace', () => {
    it('for a symlink loop given as a charm path', async () => {
      symlinkSync('loop', join(scratch, 'loop'));
      // Deploying the loop itself, creating a charm under it, and a loop inside a charm.
      expectCleanError(await sigil(['deploy', join(scratch, 'loop'), '-m', M]), /loop/);
      expectCleanError(await sigil(['charm', 'init', 'demo', '--path', join(scratch, 'loop', 'demo')]), new RegExp(`symbolic links at "${join(scratch, 'loop')}`));
      const charm = join(scratch, 'charm');
      mkdirSync(charm);
      symlinkSync('metadata.yaml', join(charm, 'metadata.yaml'));
      expectCleanError(await sigil(['deploy', charm, '-m', M]), /metadata\.yaml/);
    });

    it('exits with a code that tells a missing name, a refused call and a wrong command line apart', async () => {
      const missing = await sigil(['config', 'no-such-app', '-m', M]);
      expectCleanError(missing, /application "no-such-app" not found/);
      expect(missing.code).toBe(EXIT.notFound);
      // The same controller with a credential it never issued.
      const home = join(scratch, 'wrong-token');
      mkdirSync(home);
      writeFileSync(join(home, 'controllers.yaml'), readFileSync(join(process.env.SIGIL_HOME!, 'controllers.yaml')));
      writeFileSync(join(home, 'accounts.yaml'), YAML.stringify({ controllers: { [C]: { user: 'admin', token: 'not-a-token-it-issued' } } }));
      const refused = await sigilWith({ SIGIL_HOME: home }, ['status', '-m', M]);
      expectCleanError(refused, /./);
      expect(refused.code, refused.stderr).toBe(EXIT.refused);
      expect((await sigil(['status', '--no-such-flag', '-m', M])).code).toBe(EXIT.usage);
    });

    it('shows the stack only with SIGIL_DEBUG=1', async () => {
      const r = await sigilWith({ SIGIL_DEBUG: '1' }, ['charm', 'init', 'demo', '--path', join(scratch, 'loop', 'demo')]);
      expect(r.stderr).toMatch(/^ERROR .*symbolic links/);
      expect(r.stderr).toMatch(/^\s+at /m);
    });

    it('for a controller endpoint that refuses, drops the connection, or is not a Sigil controller', async () => {
      // A proxy answering HTML in place of the controller, and a peer that hangs up mid-answer.
      // They hold a certificate from the CA pinned for them: these are failures past TLS.
      const pki = await createControllerPki('fake', ['127.0.0.1']);
      const proxy = createHttpsServer({ key: pki.key, cert: pki.cert }, (_req, res) => {
        res.statusCode = 502;
        res.setHeader('content-type', 'text/html');
        res.end('<html><body>502 Bad Gateway</body></html>');
      });
      const dropper = createTlsServer({ key: pki.key, cert: pki.cert }, (sock) => sock.once('data', () => {
        sock.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"part');
        sock.destroy();
      }));
      const listen = (s: Server) => new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
      // The servers listen first: a port closed before they listen may be handed to one of them.
      const proxyPort = await listen(proxy);
      const dropperPort = await listen(dropper);
      let gone = await closedPort();
      while (gone === proxyPort || gone === dropperPort) gone = await closedPort();
      const ports = { gone, proxy: proxyPort, dropper: dropperPort };
      try {
        const home = join(scratch, 'home');
        const controllers: Record<string, unknown> = {};
        const accounts: Record<string, unknown> = {};
        for (const [name, port] of Object.entries(ports)) {
          mkdirSync(join(home, 'controllers', name), { recursive: true });
          controllers[name] = { endpoint: `https://127.0.0.1:${port}`, dir: join(home, 'controllers', name), provider: 'local-process', 'current-model': 'default', 'ca-cert': pki.caCert };
          accounts[name] = { user: 'admin', token: 'x' };
        }
        writeFileSync(join(home, 'controllers.yaml'), YAML.stringify({ 'current-controller': 'gone', controllers }));
        writeFileSync(join(home, 'accounts.yaml'), YAML.stringify({ controllers: accounts }));
        const run = (args: string[]) => sigilWith({ SIGIL_HOME: home }, args);

        // Not known to be stopped: the CLI waits for it briefly, then gives up.
        let r = await run(['status']);
        expectCleanError(r, new RegExp(`cannot connect to controller "gone" at https://127\\.0\\.0\\.1:${ports.gone} \\(ECONNREFUSED\\)`));
        expect(r.code).toBe(EXIT.unavailable);
        expect(r.stderr).toMatch(/^hint: .*sigil start-controller gone/m);
        // Its supervisor has exited: nothing will bring it back, so the CLI does not wait.
        writeFileSync(join(home, 'controllers', 'gone', 'supervisor.pid'), String(spawnSync(process.execPath, ['-e', '0']).pid));
        // Compared with a command that connects nowhere, so a slow machine's start-up does
        // not count: waiting would add the whole 10 s retry window.
        let started = Date.now();
        await run(['controllers']);
        const startup = Date.now() - started;
        started = Date.now();
        expectCleanError(await run(['models']), /cannot connect to controller "gone"/);
        expect(Date.now() - started).toBeLessThan(startup + 8_000);

        r = await run(['status', '-m', 'proxy:default']);
        expectCleanError(r, new RegExp(`controller "proxy" at https://127\\.0\\.0\\.1:${ports.proxy} answered HTTP 502 with something other than JSON`));
        expectCleanError(await run(['status', '-m', 'dropper:default']), new RegExp(`controller "dropper" at https://127\\.0\\.0\\.1:${ports.dropper}`));
      } finally {
        proxy.close();
        dropper.close();
      }
    }, 90_000);
  });

  describe('arguments after the target belong to the remote command', () => {
    it('exec runs the command with its options, with or without --', async () => {
      for (const args of [['--', 'ls', '-la'], ['ls', '-la']]) {
        const out = await ok(['exec', '-m', M, '--unit', 'source/0', ...args]);
        // -l: a long listing with its total; -a: the parent directory is listed.
        expect(out).toMatch(/^total \d+$/m);
        expect(out).toMatch(/ \.\.$/m);
      }
      const r = await sigil(['exec', '-m', M, '--unit', 'source/0', 'test', '-d', join(scratch, 'no-such-dir')]);
      expect(r.code).toBe(1);
      // sigil's own options after the command's first word are the command's; the error says so.
      const late = await sigil(['exec', '-m', M, 'hostname', '--unit', 'source/0']);
      expectCleanError(late, /no target/);
      expect(late.stderr).toContain('"--unit" came after the command');
    });

    it('ssh and scp accept options after the target (this provider then says it has no sshd)', async () => {
      for (const args of [['ssh', '-m', M, 'source/0', 'test', '-s', '/etc/hostname'], ['ssh', '-m', M, '0', 'ls', '-la'], ['scp', '-m', M, '--', '-r', scratch, 'source/0:/tmp/x'], ['scp', '-m', M, '-p', 'source/0:/etc/hostname', scratch]]) {
        const r = await sigil(args);
        expect(r.stderr).not.toMatch(/unknown option/);
        expectCleanError(r, /ssh needs machines with their own sshd/);
      }
    });
  });

  describe('controller restarts', () => {
    it('restarts a serve process stopped with SIGTERM; only the supervisor decides the controller stays down', async () => {
      const supervisor = readPid('supervisor.pid')!;
      const old = readPid('controller.pid')!;
      process.kill(old, 'SIGTERM');
      await poll('the old serve process to exit', () => !alive(old));
      const next = await backAfter(old);
      expect(next).not.toBe(old);
      expect(readPid('supervisor.pid')).toBe(supervisor);
      expect(alive(supervisor)).toBe(true);
      // The model is intact: once the machine's agent has reconnected to the new process
      // (it shows as lost until then), the unit is as it was.
      await until(M, 'source/0 active again with its token', (s) => workload(s, 'source/0') === 'active token=one');
    }, 90_000);

    it('serves every CLI read made while the serve process is killed and restarted', async () => {
      const reads = [['status', '-m', M, '--format', 'json'], ['config', 'source', 'token', '-m', M], ['models', '-c', C, '--format', 'json']];
      const calls: { args: string[]; start: number; end: number; run: Run }[] = [];
      let stop = false;
      const lane = async (first: number) => {
        for (let n = first; !stop; n++) {
          const args = reads[n % reads.length]!;
          const start = Date.now();
          const run = await sigil(args, { timeoutMs: 60_000 });
          calls.push({ args, start, end: Date.now(), run });
        }
      };
      const lanes = [0, 1, 2].map((i) => lane(i));
      const outages: [number, number][] = [];
      for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
        const before = calls.length;
        await poll('some calls to finish before the restart', () => calls.length >= before + 3, 60_000);
        const old = readPid('controller.pid')!;
        const down = Date.now();
        process.kill(old, signal);
        await backAfter(old);
        outages.push([down, Date.now()]);
      }
      const after = calls.length;
      await poll('some calls to finish after the restarts', () => calls.length >= after + 3, 60_000);
      stop = true;
      await Promise.all(lanes);

      const failed = calls.filter((c) => c.run.code !== 0).map((c) => `sigil ${c.args.join(' ')} exited ${c.run.code}: ${c.run.stderr}`);
      expect(failed).toEqual([]);
      // Each outage was met by calls in flight, which waited for the controller instead of failing.
      for (const [down, up] of outages) expect(calls.filter((c) => c.start < up && c.end > down).length).toBeGreaterThan(0);
      expect(calls.find((c) => c.args[0] === 'config')?.run.stdout.trim()).toBe('one');
    }, 180_000);
  });
});
