// The registration string, --since and password input of the user commands.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ago, decodeRegistration, encodeRegistration, parseSince, readPassword } from './users.ts';

const dir = mkdtempSync(join(tmpdir(), 'sigil-users-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the registration string', () => {
  it('round-trips and carries only what register needs', () => {
    const r = { u: 'alice', c: 'prod', a: ['https://10.0.0.1:17070'], f: 'AB:CD', k: 'secret-key' };
    const text = encodeRegistration(r);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeRegistration(text)).toEqual(r);
    expect(decodeRegistration(`  ${text}\n`)).toEqual(r);
  });

  it('refuses anything else with a hint', () => {
    for (const bad of ['', 'not-base64!', encodeRegistration({ u: 'a', c: 'b', a: ['http://plain:1'], f: 'x', k: 'y' }), Buffer.from('{"u":1}').toString('base64url')]) {
      expect(() => decodeRegistration(bad)).toThrow(expect.objectContaining({ code: 'bad-request', hint: expect.stringContaining('sigil add-user') }));
    }
  });
});

describe('--since', () => {
  it('takes a duration back from now or a time', () => {
    const now = Date.parse('2026-12-05T20:00:00Z');
    expect(parseSince('1h', now)).toBe(now - 3600_000);
    expect(parseSince('90m', now)).toBe(now - 90 * 60_000);
    expect(parseSince('2026-12-05T18:00:00Z', now)).toBe(Date.parse('2026-12-05T18:00:00Z'));
    expect(() => parseSince('yesterday', now)).toThrow(/invalid --since "yesterday"/);
  });
});

describe('dates as Juju shows them', () => {
  it('are relative', () => {
    const now = Date.parse('2026-12-05T20:00:00Z');
    expect(ago(null, now)).toBe('never connected');
    expect(ago('2026-12-05T19:59:30Z', now)).toBe('just now');
    expect(ago('2026-12-05T19:59:00Z', now)).toBe('1 minute ago');
    expect(ago('2026-12-05T17:00:00Z', now)).toBe('3 hours ago');
    expect(ago('2026-12-03T20:00:00Z', now)).toBe('2 days ago');
  });
});

describe('passwords', () => {
  it('come from the first line of --password-file, never from an argument', async () => {
    const f = join(dir, 'pw');
    writeFileSync(f, 'first line secret\nsecond\n');
    expect(await readPassword({ passwordFile: f }, '', false)).toBe('first line secret');
    writeFileSync(f, '\n');
    await expect(readPassword({ passwordFile: f }, '', false)).rejects.toMatchObject({ message: 'no password given' });
    await expect(readPassword({ passwordFile: join(dir, 'missing') }, '', false)).rejects.toMatchObject({ message: expect.stringContaining('ENOENT') });
  });
});
