import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommanderError } from 'commander';
import { buildProgram } from './program.ts';
import { Ctx } from './context.ts';
import { scpArgs, sshArgs } from './commands/ssh.ts';
import { suiteDir } from '../../../tests/temp.ts';

class Parsed extends Error {}

interface Seen {
  command: string;
  args: unknown[];
  opts: Record<string, unknown>;
}

/** Parses argv with the real command tree and reports what the action would have been called with. */
async function parse(argv: string[]): Promise<Seen> {
  const program = await buildProgram(new Ctx());
  let seen: Seen | undefined;
  program.hook('preAction', (_root, action) => {
    seen = { command: action.name(), args: action.processedArgs as unknown[], opts: action.opts() };
    throw new Parsed();
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) throw new Error(`sigil ${argv.join(' ')}: ${e.message}`);
    if (!(e instanceof Parsed)) throw e;
  }
  if (!seen) throw new Error(`sigil ${argv.join(' ')}: no action ran`);
  return seen;
}

describe('ssh passes everything after the target to the remote command, as juju ssh does', () => {
  it.each([
    [['ssh', 'u/0', 'test', '-s', 'FILE'], 'u/0', ['test', '-s', 'FILE'], undefined],
    [['ssh', '-m', 'c:m', 'u/0', 'ls', '-la'], 'u/0', ['ls', '-la'], 'c:m'],
    [['ssh', '--model', 'c:m', '0', '--', 'ls', '-la'], '0', ['--', 'ls', '-la'], 'c:m'],
    // After the target even sigil's own option names belong to the remote command.
    [['ssh', 'u/0', 'grep', '-m', '1', 'x', 'f'], 'u/0', ['grep', '-m', '1', 'x', 'f'], undefined],
    [['ssh', 'u/0'], 'u/0', [], undefined],
  ])('sigil %j', async (argv, target, command, model) => {
    const s = await parse(argv);
    expect(s.command).toBe('ssh');
    expect(s.args).toEqual([target, command]);
    expect(s.opts.model).toBe(model);
  });
});

describe('exec takes the command after -- or after its options', () => {
  it.each([
    [['exec', '--unit', 'u/0', '--', 'ls', '-la'], ['ls', '-la']],
    [['exec', '--unit', 'u/0', 'ls', '-la'], ['ls', '-la']],
    [['exec', '-u', 'u/0', '-m', 'c:m', 'cmd', '-x', '--unit', 'y'], ['cmd', '-x', '--unit', 'y']],
    [['exec', '--unit', 'u/0', '--', 'sh', '-c', 'echo a -- b'], ['sh', '-c', 'echo a -- b']],
  ])('sigil %j', async (argv, command) => {
    const s = await parse(argv);
    expect(s.command).toBe('exec');
    expect(s.args).toEqual([command]);
    expect(s.opts.unit).toBe('u/0');
  });

  it('still reads its own options before the command', async () => {
    const s = await parse(['exec', '--all', '--timeout', '30s', '--format', 'json', '-m', 'c:m', 'hostname', '-f']);
    expect(s.opts).toMatchObject({ all: true, timeout: '30s', format: 'json', model: 'c:m' });
    expect(s.args).toEqual([['hostname', '-f']]);
  });
});

describe('scp passes scp options through in order', () => {
  it.each([
    [['scp', '--', '-r', 'src', 'u/0:dst'], ['-r', 'src', 'u/0:dst'], undefined],
    [['scp', '-m', 'c:m', '--', '-r', '-P', '22', 'src', 'u/0:dst'], ['-r', '-P', '22', 'src', 'u/0:dst'], 'c:m'],
    [['scp', '-p', '-C', 'u/0:a', 'b'], ['-p', '-C', 'u/0:a', 'b'], undefined],
    [['scp', 'src', 'u/0:dst'], ['src', 'u/0:dst'], undefined],
  ])('sigil %j', async (argv, words, model) => {
    const s = await parse(argv);
    expect(s.command).toBe('scp');
    expect(s.args).toEqual([words]);
    expect(s.opts.model).toBe(model);
  });

  it('takes -r as its own option too', async () => {
    const s = await parse(['scp', '-r', 'src', 'u/0:dst']);
    expect(s.args).toEqual([['src', 'u/0:dst']]);
    expect(s.opts.recursive).toBe(true);
  });
});

describe('the ssh and scp command lines', () => {
  // The controller's key, as the operator who bootstrapped it has it.
  const keyDir = suiteDir('sigil-ssh-argv-');
  writeFileSync(join(keyDir, 'id_ed25519'), '');
  const common = ['-i', join(keyDir, 'id_ed25519'), '-o', 'StrictHostKeyChecking=accept-new', '-o', `UserKnownHostsFile=${join(keyDir, 'known_hosts')}`, '-o', 'LogLevel=ERROR', '-o', 'BatchMode=yes'];

  it('leave ssh to pick the user\'s own key when this client has no controller key', () => {
    expect(sshArgs('/nowhere/ssh', '10.1.2.3', [], false)).toEqual(['-o', 'StrictHostKeyChecking=accept-new', '-o', 'UserKnownHostsFile=/nowhere/ssh/known_hosts', '-o', 'LogLevel=ERROR', '-o', 'BatchMode=yes', 'root@10.1.2.3']);
  });

  it('puts what followed the target after the host, unchanged', () => {
    expect(sshArgs(keyDir, '10.1.2.3', ['test', '-s', 'FILE'], true)).toEqual([...common, 'root@10.1.2.3', 'test', '-s', 'FILE']);
    expect(sshArgs(keyDir, '10.1.2.3', ['--', '-x'], false)).toEqual([...common, 'root@10.1.2.3', '--', '-x']);
  });

  it('asks for a terminal only for an interactive shell', () => {
    expect(sshArgs(keyDir, '10.1.2.3', [], true)).toEqual([...common, '-t', 'root@10.1.2.3']);
    expect(sshArgs(keyDir, '10.1.2.3', [], false)).toEqual([...common, 'root@10.1.2.3']);
  });

  it('keeps scp options in place and resolves unit and machine targets', async () => {
    const address = (t: string) => Promise.resolve(t === 'u/0' ? '10.0.0.5' : '10.0.0.9');
    expect(await scpArgs(keyDir, ['-P', '22', 'src', 'u/0:dst'], true, address)).toEqual([...common, '-r', '-P', '22', 'src', 'root@10.0.0.5:dst']);
    expect(await scpArgs(keyDir, ['-p', '3:/etc/hosts', '.'], false, address)).toEqual([...common, '-p', 'root@10.0.0.9:/etc/hosts', '.']);
  });
});
