import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { HookToolEnv, ToolResult } from './context.ts';
import { testEnv } from './testkit.ts';
import { runHookTool } from './tools.ts';
import { testDir } from '../../../../tests/temp.ts';

function run(env: HookToolEnv, command: string, args: string[] = [], stdin?: Buffer, cwd = '/'): ToolResult {
  const r = runHookTool(env, command, args, stdin, cwd);
  if (r instanceof Promise || 'needStdin' in r) throw new Error('unexpected stdin request or promise');
  return r;
}

const ok = (stdout: string): ToolResult => ({ code: 0, stdout, stderr: '' });

describe('relation-get', () => {
  test('defaults to the hook relation and remote unit', () => {
    const env = testEnv();
    expect(run(env, 'relation-get')).toEqual(ok('host: 10.0.0.9\npassword: s3cret\nport: "3306"\n'));
    expect(run(env, 'relation-get', ['host'])).toEqual(ok('10.0.0.9\n'));
    expect(run(env, 'relation-get', ['-'])).toEqual(run(env, 'relation-get'));
  });

  test('a missing key prints nothing and succeeds; json prints null', () => {
    const env = testEnv();
    expect(run(env, 'relation-get', ['nope'])).toEqual(ok(''));
    expect(run(env, 'relation-get', ['nope', '--format', 'json'])).toEqual(ok('null\n'));
    expect(run(env, 'relation-get', ['-', 'mysql/1'])).toEqual(ok('{}\n'));
  });

  test('-r accepts name:id, a bare id and --relation=', () => {
    const env = testEnv();
    for (const args of [['-r', 'cluster:1'], ['-r', '1'], ['--relation=1'], ['-r1'], ['--relation', 'cluster:1']]) {
      expect(run(env, 'relation-get', [...args, 'ready', 'wordpress/1'])).toEqual(ok('true\n'));
    }
  });

  test('an unknown relation id is a usage error naming it', () => {
    const env = testEnv();
    expect(run(env, 'relation-get', ['-r', 'db:99'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'ERROR invalid value "db:99" for option -r: relation not found\nUsage: relation-get [options] <key> <unit id>\n',
    });
    expect(run(env, 'relation-get', ['--relation', 'db:x']).stderr).toMatch(/^ERROR invalid value "db:x" for option --relation: invalid relation id\n/);
  });

  test('without a hook relation, -r is required', () => {
    const env = testEnv((s) => {
      delete s.hookRelationId;
      delete s.remoteUnit;
      delete s.remoteApp;
    });
    expect(run(env, 'relation-get')).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ERROR no relation id specified\n/) });
    expect(run(env, 'relation-get', ['-r', 'db:2'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^ERROR no unit or application specified\n/),
    });
    expect(run(env, 'relation-get', ['-r', 'db:2', 'host', 'mysql/0'])).toEqual(ok('10.0.0.9\n'));
  });

  test('my own unit bag includes this hook\'s uncommitted writes', () => {
    const env = testEnv();
    expect(run(env, 'relation-set', ['foo=bar', 'private-address='])).toEqual(ok(''));
    expect(run(env, 'relation-get', ['-', 'wordpress/0'])).toEqual(ok('foo: bar\ningress-address: 10.0.0.5\n'));
    // The snapshot itself is untouched: writes live in the change buffer.
    expect(env.snapshot.relations[2]?.unitData['wordpress/0']).toEqual({ 'private-address': '10.0.0.5', 'ingress-address': '10.0.0.5' });
    expect(env.changes.relationUnit.get(2)).toEqual({ foo: 'bar', 'private-address': null });
  });

  test('a departed unit stays readable; an unknown one is an error', () => {
    const env = testEnv();
    expect(run(env, 'relation-get', ['host', 'mysql/7'])).toEqual(ok('departed\n'));
    expect(run(env, 'relation-get', ['host', 'mysql/9'])).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^ERROR cannot read settings for unit "mysql\/9" in relation db:2: settings not found/),
    });
  });

  test('--app reads the remote application bag; a unit name stands for its application', () => {
    const env = testEnv();
    expect(run(env, 'relation-get', ['--app'])).toEqual(ok('database: wp\n'));
    expect(run(env, 'relation-get', ['--app', 'database', 'mysql/0'])).toEqual(ok('wp\n'));
    expect(run(env, 'relation-get', ['--app', '-', 'mysql'])).toEqual(ok('database: wp\n'));
  });

  test('in an application-data hook (no remote unit) the default target is the remote app', () => {
    const env = testEnv((s) => {
      delete s.remoteUnit;
    });
    expect(run(env, 'relation-get', ['database'])).toEqual(ok('wp\n'));
  });

  test('only the leader reads its own application bag in a non-peer relation', () => {
    const leader = testEnv();
    expect(run(leader, 'relation-get', ['--app', '-', 'wordpress'])).toEqual(ok('requested: "yes"\n'));
    const follower = testEnv((s) => {
      s.leader = false;
    });
    expect(run(follower, 'relation-get', ['--app', '-', 'wordpress'])).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'ERROR permission denied (only the leader of "wordpress" may read its application data in a non-peer relation (relation db:2))\n',
    });
  });

  test('anyone reads the peer application bag; only the leader writes it', () => {
    const follower = testEnv((s) => {
      s.leader = false;
    });
    expect(run(follower, 'relation-get', ['-r', 'cluster:1', '--app', 'secret', 'wordpress'])).toEqual(ok('shared\n'));
    expect(run(follower, 'relation-set', ['-r', '1', '--app', 'secret=mine'])).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^ERROR permission denied \(only the leader of "wordpress" may write/),
    });
    expect(follower.changes.relationApp.size).toBe(0);

    const leader = testEnv();
    expect(run(leader, 'relation-set', ['-r', '1', '--app', 'secret=new'])).toEqual(ok(''));
    expect(leader.changes.relationApp.get(1)).toEqual({ secret: 'new' });
    expect(run(leader, 'relation-get', ['-r', '1', '--app', 'secret', 'wordpress'])).toEqual(ok('new\n'));
  });
});

describe('relation-set', () => {
  test('writes my unit bag; key= deletes; values stay strings', () => {
    const env = testEnv();
    expect(run(env, 'relation-set', ['a=1', 'b=', 'c=x=y'])).toEqual(ok(''));
    expect(env.changes.relationUnit.get(2)).toEqual({ a: '1', b: null, c: 'x=y' });
  });

  test('keys are data, even ones that are special to JavaScript', () => {
    const env = testEnv();
    expect(run(env, 'relation-set', ['__proto__=polluted', 'constructor=x'])).toEqual(ok(''));
    expect(run(env, 'relation-get', ['__proto__', 'wordpress/0'])).toEqual(ok('polluted\n'));
    expect(run(env, 'relation-get', ['--format=json', '-', 'wordpress/0'])).toEqual(
      ok('{"__proto__":"polluted","constructor":"x","ingress-address":"10.0.0.5","private-address":"10.0.0.5"}\n'),
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(run(env, 'relation-get', ['toString'])).toEqual(ok(''));
  });

  test('duplicate keys and malformed pairs are usage errors', () => {
    const env = testEnv();
    expect(run(env, 'relation-set', ['a=1', 'a=2'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ERROR key "a" specified more than once\n/) });
    expect(run(env, 'relation-set', ['oops'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ERROR expected "key=value", got "oops"\n/) });
    expect(env.changes.relationUnit.size).toBe(0);
  });

  test('--file reads YAML relative to the hook directory; arguments override it', () => {
    const dir = testDir('sigil-relset-');
    writeFileSync(join(dir, 'settings.yaml'), 'a: 5\nb: yes\nc: ~\nd: "quoted"\nlong: |\n  line1\n  line2\n');
    const env = testEnv();
    expect(run(env, 'relation-set', ['--file', 'settings.yaml', 'd=override'], undefined, dir)).toEqual(ok(''));
    expect(env.changes.relationUnit.get(2)).toEqual({ a: '5', b: 'yes', c: null, d: 'override', long: 'line1\nline2\n' });
    expect(run(env, 'relation-set', ['--file', 'missing.yaml'], undefined, dir)).toEqual({
      code: 1,
      stdout: '',
      stderr: `ERROR open ${join(dir, 'missing.yaml')}: no such file or directory\n`,
    });
  });

  test('--file - asks for stdin, then uses it', () => {
    const env = testEnv();
    expect(runHookTool(env, 'relation-set', ['--file', '-'], undefined)).toEqual({ needStdin: true });
    expect(env.changes.relationUnit.size).toBe(0);
    expect(run(env, 'relation-set', ['--file', '-', 'z=1'], Buffer.from('y: 2\nz: 3\n'))).toEqual(ok(''));
    expect(env.changes.relationUnit.get(2)).toEqual({ y: '2', z: '1' });
  });

  test('a nested value in --file is an error, as go-yaml reports it', () => {
    const env = testEnv();
    expect(run(env, 'relation-set', ['--file', '-'], Buffer.from('a:\n  b: c\n'))).toMatchObject({
      code: 1,
      stderr: 'ERROR yaml: unmarshal errors:\n  line 2: cannot unmarshal !!map into string\n',
    });
  });

  test('--format is accepted with Juju\'s deprecation notice', () => {
    const env = testEnv();
    expect(run(env, 'relation-set', ['--format', 'json', 'a=1'])).toEqual({
      code: 0,
      stdout: '',
      stderr: '--format flag deprecated for command "relation-set"',
    });
  });
});

describe('relation-ids and relation-list', () => {
  test('relation-ids lists endpoint:id sorted as strings, defaulting to the hook endpoint', () => {
    const env = testEnv();
    expect(run(env, 'relation-ids')).toEqual(ok('db:10\ndb:2\n'));
    expect(run(env, 'relation-ids', ['website', '--format=json'])).toEqual(ok('["website:3"]\n'));
    expect(run(env, 'relation-ids', ['nothing'])).toEqual(ok(''));
    expect(run(env, 'relation-ids', ['nothing', '--format', 'json'])).toEqual(ok('[]\n'));
  });

  test('relation-ids needs a name outside relation hooks', () => {
    const env = testEnv((s) => {
      delete s.hookRelationId;
    });
    expect(run(env, 'relation-ids')).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ERROR no relation name specified\n/) });
  });

  test('relation-list prints members one per line, or the remote app with --app', () => {
    const env = testEnv();
    expect(run(env, 'relation-list')).toEqual(ok('mysql/0\nmysql/1\n'));
    expect(run(env, 'relation-list', ['-r', 'db:10'])).toEqual(ok(''));
    expect(run(env, 'relation-list', ['-r', 'db:10', '--format', 'yaml'])).toEqual(ok('[]\n'));
    expect(run(env, 'relation-list', ['--app'])).toEqual(ok('mysql\n'));
    expect(run(env, 'relation-list', ['extra'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ERROR unrecognized args: \["extra"\]\n/) });
  });
});

test('-o writes the output to a file relative to the hook directory', () => {
  const dir = testDir('sigil-out-');
  const env = testEnv();
  expect(run(env, 'relation-get', ['-o', 'out.txt', 'host'], undefined, dir)).toEqual(ok(''));
  expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toBe('10.0.0.9\n');
});
