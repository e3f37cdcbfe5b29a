// Unpacking as root into real temp directories: a hostile archive writes nothing outside.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { CharmArchive, CharmArchiveFile } from '@sigil/api';
import { SigilError } from '@sigil/core';
import { ensureCharm, unpackCharm } from './charm-unpack.ts';
import type { AgentApi } from './api-client.ts';

const file = (path: string, text: string, mode = 0o644): CharmArchiveFile => ({ path, mode, data: Buffer.from(text).toString('base64') });
const link = (path: string, target: string): CharmArchiveFile => ({ path, mode: 0o777, data: '', link: target });
const GOOD: CharmArchive = {
  files: [
    file('metadata.yaml', 'name: t\nsummary: s\ndescription: d\n'),
    file('src/charm.py', '#!/bin/sh\necho hi\n', 0o755),
    link('hooks/install', '../src/charm.py'),
    link('hooks/config-changed', 'install'),
  ],
};

let top: string;
let unitDir: string;
let charmDir: string;
beforeEach(() => {
  top = mkdtempSync(join(tmpdir(), 'sigil-unpack-'));
  unitDir = join(top, 'agents', 'unit-t-0');
  charmDir = join(unitDir, 'charm');
});
afterEach(() => rmSync(top, { recursive: true, force: true }));

/** Every path under `dir`, links not followed. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const n of readdirSync(d).sort()) {
      out.push(rel + n);
      if (lstatSync(join(d, n)).isDirectory()) walk(join(d, n), `${rel}${n}/`);
    }
  };
  walk(dir, '');
  return out;
}

async function refused(archive: CharmArchive): Promise<SigilError> {
  const e = await unpackCharm(archive, charmDir).then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(SigilError);
  return e as SigilError;
}

describe('unpackCharm', () => {
  test('writes files with their modes and recreates links inside the charm', async () => {
    await unpackCharm(GOOD, charmDir);
    expect(tree(charmDir)).toEqual(['hooks', 'hooks/config-changed', 'hooks/install', 'metadata.yaml', 'src', 'src/charm.py']);
    expect(statSync(join(charmDir, 'src/charm.py')).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(charmDir, 'hooks/install')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(charmDir, 'hooks/install'))).toBe('../src/charm.py');
    expect(readlinkSync(join(charmDir, 'hooks/config-changed'))).toBe('install');
    expect(readFileSync(join(charmDir, 'hooks/config-changed'), 'utf8')).toContain('echo hi');
    expect(readdirSync(unitDir)).toEqual(['charm']);
  });

  test.each([
    ['a climbing name', file('../../../escaped', 'pwned'), 'climbs out of the charm'],
    ['an absolute name', file(join(tmpdir(), 'sigil-unpack-abs-escaped'), 'pwned'), 'is an absolute path'],
    ['a backslash name', file('..\\..\\escaped', 'pwned'), 'backslash'],
    ['an empty name', file('', 'pwned'), 'empty name'],
    ['an absolute link', link('shadow', '/etc/shadow'), 'symlink "shadow" points outside the charm with an absolute target'],
    ['an escaping link', link('hooks/x', '../../../escaped'), 'symlink "hooks/x" points outside the charm'],
  ])('refuses %s and writes nothing anywhere', async (_what, bad, message) => {
    await unpackCharm(GOOD, charmDir);
    const before = tree(top);
    const e = await refused({ files: [...GOOD.files, bad] });
    expect(e.code).toBe('invalid-charm');
    expect(e.message).toContain(message);
    expect(e.hint).toBeTruthy();
    expect(tree(top)).toEqual(before);
    expect(existsSync(join(tmpdir(), 'sigil-unpack-abs-escaped'))).toBe(false);
  });

  test('refuses a file stored beneath a link, which would be written through it', async () => {
    const e = await refused({ files: [link('hooks', '../..'), file('hooks/install', 'x')] });
    expect(e.message).toMatch(/symlink "hooks" points outside|beneath the symlink "hooks"/);
    expect(existsSync(join(top, 'install'))).toBe(false);
    const inside = await refused({ files: [file('src/a', 'x'), link('lib', 'src'), file('lib/b', 'x')] });
    expect(inside.message).toContain('lies beneath the symlink "lib"');
  });

  test('does not follow a link already on disk where the charm goes', async () => {
    const outside = join(top, 'outside');
    mkdirSync(outside);
    mkdirSync(charmDir, { recursive: true });
    symlinkSync(outside, join(charmDir, 'src'));
    writeFileSync(join(charmDir, 'metadata.yaml'), 'old');
    await unpackCharm(GOOD, charmDir);
    expect(readdirSync(outside)).toEqual([]);
    expect(lstatSync(join(charmDir, 'src')).isDirectory()).toBe(true);
    expect(readFileSync(join(charmDir, 'metadata.yaml'), 'utf8')).toContain('name: t');
  });

  test('replaces a charm directory that is itself a link, without touching its target', async () => {
    const outside = join(top, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'keep'), 'keep');
    mkdirSync(unitDir, { recursive: true });
    symlinkSync(outside, charmDir);
    await unpackCharm(GOOD, charmDir);
    expect(readdirSync(outside)).toEqual(['keep']);
    expect(lstatSync(charmDir).isDirectory()).toBe(true);
  });

  test('dangling and looping links inside the charm are kept as links', async () => {
    await unpackCharm({ files: [...GOOD.files, link('dangling', 'nowhere'), link('loop1', 'loop2'), link('loop2', 'loop1')] }, charmDir);
    expect(readlinkSync(join(charmDir, 'dangling'))).toBe('nowhere');
    expect(readlinkSync(join(charmDir, 'loop1'))).toBe('loop2');
  });
});

describe('ensureCharm', () => {
  test('fetches by hash, unpacks, and skips the fetch once the marker matches', async () => {
    const asked: string[] = [];
    // The agent's client, as far as fetching a charm goes: records what was asked for.
    const api = { call: (async (key: string, input: { params: { hash: string } }) => { asked.push(`${key} ${input.params.hash}`); return GOOD; }) as unknown as AgentApi['call'] };
    await ensureCharm(api, unitDir, charmDir, 'abc');
    await ensureCharm(api, unitDir, charmDir, 'abc');
    expect(asked).toEqual(['GET /api/agent/charms/:hash abc']);
    expect(readFileSync(join(unitDir, 'charm.hash'), 'utf8')).toBe('abc');
    expect(readlinkSync(join(charmDir, 'hooks/install'))).toBe('../src/charm.py');
  });

  test('a refused archive leaves no marker, so the next attempt fetches again', async () => {
    const api = { call: (async () => ({ files: [file('../../x', 'pwned')] })) as unknown as AgentApi['call'] };
    await expect(ensureCharm(api, unitDir, charmDir, 'bad')).rejects.toThrow(/climbs out/);
    expect(existsSync(join(unitDir, 'charm.hash'))).toBe(false);
    expect(existsSync(join(top, 'x'))).toBe(false);
  });
});
