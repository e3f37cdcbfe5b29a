import { describe, expect, test } from 'vitest';
import type { HookToolEnv, ToolResult } from './context.ts';
import { testEnv } from './testkit.ts';
import { runHookTool } from './tools.ts';

function run(env: HookToolEnv, command: string, args: string[] = []): ToolResult {
  const r = runHookTool(env, command, args, undefined, '/');
  if (r instanceof Promise || 'needStdin' in r) throw new Error('unexpected stdin request or promise');
  return r;
}

function storageEnv(): HookToolEnv {
  const env = testEnv();
  env.snapshot.storage = {
    'data/0': { name: 'data', kind: 'filesystem', location: '/srv/data' },
    'data/10': { name: 'data', kind: 'filesystem', location: '/srv/data/10' },
    'data/2': { name: 'data', kind: 'filesystem', location: '/srv/data/2' },
    'scratch/1': { name: 'scratch', kind: 'block', location: '/dev/loop3' },
  };
  env.snapshot.hookStorageId = 'data/0';
  return env;
}

describe('storage-get', () => {
  test('defaults to the hook storage; prints a map (YAML) or one key, as Juju', () => {
    const env = storageEnv();
    expect(run(env, 'storage-get')).toEqual({ code: 0, stdout: 'kind: filesystem\nlocation: /srv/data\n', stderr: '' });
    expect(run(env, 'storage-get', ['location'])).toEqual({ code: 0, stdout: '/srv/data\n', stderr: '' });
    expect(run(env, 'storage-get', ['-s', 'scratch/1', 'kind'])).toEqual({ code: 0, stdout: 'block\n', stderr: '' });
    expect(run(env, 'storage-get', ['--format', 'json', '-s', 'scratch/1'])).toEqual({ code: 0, stdout: '{"kind":"block","location":"/dev/loop3"}\n', stderr: '' });
  });

  test('bad input: no storage outside a storage hook, an invalid or unknown id', () => {
    const env = storageEnv();
    delete env.snapshot.hookStorageId;
    expect(run(env, 'storage-get')).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ERROR no storage instance specified\n/) });
    expect(run(env, 'storage-get', ['-s', 'Data'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ERROR invalid value "Data" for option -s: invalid storage ID "Data"\n/) });
    expect(run(env, 'storage-get', ['-s', 'data/9'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/^ERROR storage "data\/9" not found/) });
  });
});

describe('storage-list', () => {
  test('lists attached storage ids in natural order, optionally of one store', () => {
    const env = storageEnv();
    expect(run(env, 'storage-list')).toEqual({ code: 0, stdout: 'data/0\ndata/2\ndata/10\nscratch/1\n', stderr: '' });
    expect(run(env, 'storage-list', ['scratch'])).toEqual({ code: 0, stdout: 'scratch/1\n', stderr: '' });
    expect(run(env, 'storage-list', ['--format', 'json', 'none'])).toEqual({ code: 0, stdout: '[]\n', stderr: '' });
  });
});

describe('storage-add', () => {
  test('buffers the requests with the hook changes (count defaults to 1)', () => {
    const env = storageEnv();
    expect(run(env, 'storage-add', ['data', 'scratch=2', 'data=3'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(env.changes.storageAdd).toEqual({ data: 4, scratch: 2 });
  });

  test('bad input changes nothing', () => {
    const env = storageEnv();
    expect(run(env, 'storage-add')).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ERROR storage add requires a storage directive\n/) });
    expect(run(env, 'storage-add', ['data=0'])).toMatchObject({ code: 2 });
    expect(run(env, 'storage-add', ['data=x'])).toMatchObject({ code: 2 });
    expect(run(env, 'storage-add', ['Bad'])).toMatchObject({ code: 2 });
    expect(env.changes.storageAdd).toBeUndefined();
  });
});

describe('resource-get', () => {
  test('prints the cached path; unknown or missing resources are errors', () => {
    const env = testEnv();
    env.snapshot.resources = { theme: { path: '/var/lib/juju/agents/unit-w-0/resources/theme/theme.zip' }, blob: { error: 'resource "blob" has not been uploaded' } };
    expect(run(env, 'resource-get', ['theme'])).toEqual({ code: 0, stdout: '/var/lib/juju/agents/unit-w-0/resources/theme/theme.zip\n', stderr: '' });
    expect(run(env, 'resource-get', ['blob'])).toMatchObject({ code: 1, stderr: 'ERROR resource "blob" has not been uploaded\n' });
    expect(run(env, 'resource-get', ['nope'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/^ERROR could not download resource: resource "nope" not found/) });
    expect(run(env, 'resource-get')).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ERROR missing required resource name\n/) });
  });
});
