// SSH keys: parsed and fingerprinted as ssh-keygen does (checked against the real
// ssh-keygen), refused with a hint when they are not keys, and kept per model, all or none.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSigilError } from '@sigil/core';
import { openTestDb } from '../store/test-store.ts';
import { Store } from '../store/store.ts';
import { Models } from './models.ts';
import { SshKeys, parseSshKey } from './ssh-keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'sigil-ssh-keys-'));
const keys: Record<string, { line: string; fingerprint: string }> = {};

beforeAll(() => {
  for (const [type, bits] of [['ed25519', ''], ['rsa', '2048'], ['ecdsa', '384']] as const) {
    const file = join(dir, `id_${type}`);
    execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', bits] : []), '-N', '', '-C', `joe@${type}`, '-f', file]);
    // `ssh-keygen -lf` prints "<bits> SHA256:<print> <comment> (<TYPE>)".
    const fingerprint = execFileSync('ssh-keygen', ['-lf', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
    keys[type] = { line: readFileSync(`${file}.pub`, 'utf8').trim(), fingerprint };
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(f: () => unknown): { code: string; message: string; hint: string | undefined } {
  try {
    f();
  } catch (e) {
    if (isSigilError(e)) return { code: e.code, message: e.message, hint: e.hint };
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('parseSshKey', () => {
  it('accepts ed25519, RSA and ECDSA keys, with the fingerprint ssh-keygen -lf prints', () => {
    for (const type of ['ed25519', 'rsa', 'ecdsa']) {
      const k = parseSshKey(`  ${keys[type]!.line}\n`);
      expect(k.fingerprint).toBe(keys[type]!.fingerprint);
      expect(k.comment).toBe(`joe@${type}`);
      expect(k.line).toBe(keys[type]!.line);
      expect(k.md5).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    }
  });

  it('keeps a comment with spaces, and takes a key without one', () => {
    const [type, data] = keys.ed25519!.line.split(' ');
    expect(parseSshKey(`${type} ${data} Joe Bloggs laptop`).comment).toBe('Joe Bloggs laptop');
    expect(parseSshKey(`${type} ${data}`).line).toBe(`${type} ${data}`);
  });

  it('refuses what is not a public key, saying why, with a hint', () => {
    const [type, data] = keys.ed25519!.line.split(' ') as [string, string];
    const blob = Buffer.from(data, 'base64');
    const cases: [string, RegExp][] = [
      ['garbage', /expected "<type> <base64 key> \[comment\]"/],
      ['', /expected/],
      [`ssh-rsa ${data} x`, /the key says it is ssh-ed25519, not ssh-rsa/],
      [`${type} ${blob.subarray(0, blob.length - 3).toString('base64')} x`, /truncated/],
      [`${type} ${Buffer.concat([blob, Buffer.from([0, 0, 0, 1, 7])]).toString('base64')}`, /trailing bytes/],
      [`command="/bin/sh" ${keys.ed25519!.line}`, /authorized_keys options are not accepted/],
      [`${keys.ed25519!.line}\n${keys.rsa!.line}`, /one key per argument/],
      [`${keys.ed25519!.line} evil\ncommand="x"`, /one key per argument/],
      [`${keys.ed25519!.line} bell\u0007`, /control characters/],
      ['-----BEGIN OPENSSH PRIVATE KEY-----', /PEM key \(perhaps a private key\)/],
      ['ssh-dss AAAAB3NzaC1kc3MAAACBAP', /unsupported key type ssh-dss|truncated/],
    ];
    for (const [text, why] of cases) {
      const e = refusal(() => parseSshKey(text));
      expect(e.code, text).toBe('bad-request');
      expect(e.message, text).toMatch(why);
      expect(e.hint).toContain('ssh-keygen');
    }
  });
});

describe('a model\'s keys', () => {
  const store = new Store(openTestDb(dir));
  const ssh = new SshKeys(store);
  beforeAll(() => {
    new Models(store).add('m');
    new Models(store).add('other');
  });

  it('are added all or none, listed in order, and kept per model', () => {
    ssh.add('m', [keys.ed25519!.line], 'admin');
    // One bad key in the batch: nothing of it is added.
    expect(refusal(() => ssh.add('m', [keys.rsa!.line, 'garbage'], 'admin')).code).toBe('bad-request');
    expect(refusal(() => ssh.add('m', [keys.rsa!.line, keys.ed25519!.line], 'admin'))).toMatchObject({ code: 'already-exists', message: expect.stringContaining(`${keys.ed25519!.fingerprint} (joe@ed25519) is already in model m`) });
    expect(refusal(() => ssh.add('m', [keys.rsa!.line, keys.rsa!.line], 'admin')).code).toBe('already-exists');
    expect(ssh.list('m').map((k) => k.comment)).toEqual(['joe@ed25519']);
    ssh.add('m', [keys.rsa!.line, keys.ecdsa!.line], 'bob');
    expect(ssh.list('m').map((k) => [k.comment, k.addedBy])).toEqual([['joe@ed25519', 'admin'], ['joe@rsa', 'bob'], ['joe@ecdsa', 'bob']]);
    expect(ssh.lines('m')).toEqual([keys.ed25519!.line, keys.rsa!.line, keys.ecdsa!.line]);
    expect(ssh.list('other')).toEqual([]);
    expect(refusal(() => ssh.list('nope')).code).toBe('not-found');
  });

  it('are removed by fingerprint, bare print, MD5 or comment; an unknown or ambiguous name removes nothing', () => {
    const rev = store.revision();
    expect(refusal(() => ssh.remove('m', ['joe@rsa', 'nobody'])).message).toBe('no ssh key "nobody" in model m');
    ssh.add('m', [`ssh-ed25519 ${freshKeyData('one')} dup`, `ssh-ed25519 ${freshKeyData('two')} dup`], 'admin');
    expect(refusal(() => ssh.remove('m', ['dup']))).toMatchObject({ code: 'conflict', message: '2 ssh keys in model m have the comment "dup"' });
    expect(ssh.list('m')).toHaveLength(5);
    const [a, b] = ssh.list('m').filter((k) => k.comment === 'dup');
    ssh.remove('m', [a!.fingerprint, b!.md5]);
    ssh.remove('m', ['joe@rsa', keys.ecdsa!.fingerprint.slice('SHA256:'.length)]);
    expect(ssh.list('m').map((k) => k.comment)).toEqual(['joe@ed25519']);
    expect(store.revision()).toBeGreaterThan(rev);
  });
});

/** A fresh ed25519 key's base64 part (for two keys sharing a comment). */
function freshKeyData(name: string): string {
  const file = join(dir, `id_${name}`);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  return readFileSync(`${file}.pub`, 'utf8').split(' ')[1]!;
}
