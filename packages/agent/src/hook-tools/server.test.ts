import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readlinkSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testEnv } from './testkit.ts';
import { suiteDir } from '../../../../tests/temp.ts';
import { HOOK_TOOL_NAMES, HookToolServer, decodeRequest, encodeRequest, installToolLinks } from './server.ts';

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), '../../native/hook-tool.c');
const work = suiteDir('sigil-hook-tool-');
const binary = join(work, 'sigil-hook-tool');
const toolsDir = join(work, 'tools');
const socket = `@sigil-test-${randomBytes(6).toString('hex')}`;
const server = new HookToolServer(socket);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a tool the way a hook does: by name, from PATH, with the hook's environment. */
function tool(
  name: string,
  args: string[],
  opts: { context?: string; socket?: string; stdin?: string; closeStdin?: boolean; cwd?: string } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(name, args, {
      cwd: opts.cwd ?? work,
      env: {
        PATH: `${toolsDir}:/usr/bin:/bin`,
        JUJU_AGENT_SOCKET_ADDRESS: opts.socket ?? socket,
        JUJU_CONTEXT_ID: opts.context ?? 'ctx-1',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (opts.stdin !== undefined) child.stdin.end(opts.stdin);
    else if (opts.closeStdin !== false) child.stdin.end();
    // closeStdin: false leaves stdin open: the tool must finish without reading it.
  });
}

/** A socket file whose listener died without cleaning up, as after `kill -9`. */
async function leaveStaleSocket(path: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

const env = testEnv();

beforeAll(async () => {
  execFileSync('cc', ['-O2', '-Wall', '-Werror', '-o', binary, SOURCE]);
  await installToolLinks(toolsDir, binary);
  await server.start();
  server.register('ctx-1', env);
});

afterAll(async () => {
  await server.close();
});

describe('the C client against a real server', () => {
  test('runs the tool named by argv[0] and passes its output through', async () => {
    expect(await tool('config-get', ['blog_title'])).toEqual({ code: 0, stdout: 'My Blog\n', stderr: '' });
    expect(await tool('relation-get', ['--format=json'])).toEqual({
      code: 0,
      stdout: '{"host":"10.0.0.9","password":"s3cret","port":"3306"}\n',
      stderr: '',
    });
  });

  test('passes usage errors and exit code 2 through', async () => {
    expect(await tool('status-set', ['error'])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'ERROR invalid status "error", expected one of [maintenance blocked waiting active]\nUsage: status-set [options] <maintenance | blocked | waiting | active> [message]\n',
    });
  });

  test('records changes into the registered context', async () => {
    expect(await tool('status-set', ['maintenance', 'installing'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(env.changes.unitStatus).toEqual({ status: 'maintenance', message: 'installing' });
    expect(await tool('juju-log', ['-l', 'ERROR', 'from', 'a hook'])).toMatchObject({ code: 0 });
    expect(env.logs).toContainEqual(['ERROR', 'db:2: from a hook']);
  });

  test('sends stdin only when the tool asks for it', async () => {
    const r = await tool('relation-set', ['--file', '-', 'extra=1'], { stdin: 'from-stdin: "yes"\nmulti: |\n  a\n  b\n' });
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(env.changes.relationUnit.get(2)).toMatchObject({ 'from-stdin': 'yes', multi: 'a\nb\n', extra: '1' });
    expect(await tool('relation-get', ['multi', 'wordpress/0'])).toEqual({ code: 0, stdout: 'a\nb\n\n', stderr: '' });
  });

  test('never blocks on stdin when the tool does not need it', async () => {
    expect(await tool('is-leader', [], { closeStdin: false })).toEqual({ code: 0, stdout: 'True\n', stderr: '' });
  });

  test('reads --file relative to the hook\'s working directory', async () => {
    const dir = mkdtempSync(join(work, 'cwd-'));
    writeFileSync(join(dir, 'state.yaml'), 'k: v\n');
    expect(await tool('state-set', ['--file', 'state.yaml'], { cwd: dir })).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(env.changes.unitState).toMatchObject({ k: 'v' });
  });

  test('carries large values both ways', async () => {
    const big = 'x'.repeat(3 * 1024 * 1024);
    expect(await tool('relation-set', ['--file', '-'], { stdin: `big: ${big}\n` })).toMatchObject({ code: 0 });
    const r = await tool('relation-get', ['big', 'wordpress/0']);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(big.length + 1);
  });

  test('can be called as sigil-hook-tool <tool>', async () => {
    expect(await tool(binary, ['config-get', 'port'])).toEqual({ code: 0, stdout: '80\n', stderr: '' });
  });

  test('an unknown context id is refused with a hint', async () => {
    const r = await tool('config-get', [], { context: 'stale-context' });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^ERROR bad request: unknown context id "stale-context" \(hook tools work only while a hook, an action or `sigil exec` is running\)\n$/);
  });

  test('an unregistered context stops working', async () => {
    server.register('short-lived', testEnv());
    expect(await tool('is-leader', [], { context: 'short-lived' })).toMatchObject({ code: 0, stdout: 'True\n' });
    server.unregister('short-lived');
    expect(await tool('is-leader', [], { context: 'short-lived' })).toMatchObject({ code: 1 });
  });

  test('reports an unreachable agent and exits 2', async () => {
    expect(await tool('config-get', [], { socket: '@sigil-test-nobody-listens' })).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'ERROR cannot connect to the Sigil agent at @sigil-test-nobody-listens: Connection refused (hook tools work only inside a hook or `sigil exec`)\n',
    });
    const missing = join(work, 'no-such.socket');
    expect(await tool('config-get', [], { socket: missing })).toEqual({
      code: 2,
      stdout: '',
      stderr: `ERROR cannot connect to the Sigil agent at ${missing}: No such file or directory (hook tools work only inside a hook or \`sigil exec\`)\n`,
    });
  });

  test('refuses to run without a context id', async () => {
    const r = await tool('config-get', [], { context: '' });
    expect(r).toEqual({ code: 2, stdout: '', stderr: 'ERROR JUJU_CONTEXT_ID not set (hook tools work only inside a hook or `sigil exec`)\n' });
  });
});

describe('HookToolServer', () => {
  test('listens on a filesystem socket too, replacing one left by a crashed agent', async () => {
    const path = join(work, 'agent.socket');
    await leaveStaleSocket(path);
    expect(lstatSync(path).isSocket()).toBe(true);
    expect(await tool('unit-get', ['private-address'], { socket: path })).toMatchObject({ code: 2 });

    const fsServer = new HookToolServer(path);
    await fsServer.start();
    fsServer.register('fs', testEnv());
    expect(await tool('unit-get', ['private-address'], { socket: path, context: 'fs' })).toEqual({ code: 0, stdout: '10.0.0.5\n', stderr: '' });
    await fsServer.close();
    expect(existsSync(path)).toBe(false);
  });

  test('answers several requests on one connection and rejects unknown protocols', async () => {
    const conn = createConnection(socket.replace('@', '\0'));
    const responses: Buffer[] = [];
    let pending = Buffer.alloc(0);
    const got = new Promise<void>((resolve) => {
      conn.on('data', (d: Buffer) => {
        pending = Buffer.concat([pending, d]);
        while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
          responses.push(pending.subarray(4, 4 + pending.readUInt32BE(0)));
          pending = pending.subarray(4 + pending.readUInt32BE(0));
          if (responses.length === 3) resolve();
        }
      });
    });
    conn.write(encodeRequest({ contextId: 'ctx-1', cwd: '/', command: 'unit-get', args: ['public-address'], stdin: undefined }));
    conn.write(encodeRequest({ contextId: 'ctx-1', cwd: '/', command: 'state-set', args: ['--file', '-'], stdin: undefined }));
    const bogus = Buffer.from('HTTP/1.1\0');
    const frame = Buffer.alloc(4);
    frame.writeUInt32BE(bogus.length);
    conn.write(Buffer.concat([frame, bogus]));
    await got;
    conn.destroy();
    const [first, second, third] = responses;
    expect(first?.toString('latin1', 0, 1)).toBe('R');
    expect(first?.readInt32BE(1)).toBe(0);
    expect(first?.subarray(9).toString()).toBe('203.0.113.5\n');
    expect(second?.toString('latin1', 0, 1)).toBe('I');
    expect(third?.readInt32BE(1)).toBe(1);
    expect(third?.subarray(9).toString()).toMatch(/^ERROR bad request: unsupported protocol/);
  });

  test('request encoding round-trips, binary stdin included', () => {
    const stdin = Buffer.from([0, 1, 2, 255, 0]);
    const frame = encodeRequest({ contextId: 'c', cwd: '/tmp', command: 'relation-set', args: ['a=1', '', 'b c'], stdin });
    expect(decodeRequest(frame.subarray(4))).toEqual({ contextId: 'c', cwd: '/tmp', command: 'relation-set', args: ['a=1', '', 'b c'], stdin });
    expect(decodeRequest(Buffer.from('SIGIL-HOOK-TOOL/1\x000\x00c\x00/\x00x\x002\x00only-one\x00'))).toBe('malformed request');
  });
});

test('installToolLinks creates one link per tool and is idempotent', async () => {
  const dir = join(work, 'links');
  await installToolLinks(dir, binary);
  unlinkSync(join(dir, 'config-get'));
  symlinkSync('/somewhere/else', join(dir, 'config-get'));
  writeFileSync(join(dir, 'relation-get'), 'not a link');
  await installToolLinks(dir, binary);
  await installToolLinks(dir, binary);
  for (const name of HOOK_TOOL_NAMES) expect(readlinkSync(join(dir, name))).toBe(binary);
});
