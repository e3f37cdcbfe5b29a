import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BEGIN_MARKER, END_MARKER, applyAuthorizedKeys, renderAuthorizedKeys } from './authorized-keys.ts';

const OWN = 'ssh-ed25519 AAAAown controller-key';
const HAND = 'ssh-rsa AAAAhand added-by-hand';

describe('renderAuthorizedKeys', () => {
  it('adds the model keys in one block after what was there, and leaves the rest alone', () => {
    expect(renderAuthorizedKeys(`${OWN}\n`, ['k1', 'k2'])).toBe(`${OWN}\n${BEGIN_MARKER}\nk1\nk2\n${END_MARKER}\n`);
    expect(renderAuthorizedKeys('', ['k1'])).toBe(`${BEGIN_MARKER}\nk1\n${END_MARKER}\n`);
  });

  it('replaces the block where it stands, keeping lines before and after it', () => {
    const before = `${OWN}\n${BEGIN_MARKER}\nold\n${END_MARKER}\n${HAND}\n`;
    expect(renderAuthorizedKeys(before, ['new'])).toBe(`${OWN}\n${BEGIN_MARKER}\nnew\n${END_MARKER}\n${HAND}\n`);
    expect(renderAuthorizedKeys(before, [])).toBe(`${OWN}\n${HAND}\n`);
    expect(renderAuthorizedKeys(renderAuthorizedKeys(before, ['new']), ['new'])).toBe(renderAuthorizedKeys(before, ['new']));
  });

  it('treats a block whose end marker was deleted as reaching the end of the file, so no stale key survives', () => {
    expect(renderAuthorizedKeys(`${OWN}\n${BEGIN_MARKER}\nstale\n`, ['k'])).toBe(`${OWN}\n${BEGIN_MARKER}\nk\n${END_MARKER}\n`);
  });
});

describe('applyAuthorizedKeys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-authorized-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates root/.ssh (0700) and the file (0600) when missing, then changes it only when the keys change', async () => {
    const path = join(dir, 'root', '.ssh', 'authorized_keys');
    expect(await applyAuthorizedKeys(path, ['k1'])).toBe(true);
    expect(statSync(join(dir, 'root', '.ssh')).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const mtime = statSync(path).mtimeMs;
    expect(await applyAuthorizedKeys(path, ['k1'])).toBe(false);
    expect(statSync(path).mtimeMs).toBe(mtime);
    writeFileSync(path, `${HAND}\n${readFileSync(path, 'utf8')}`);
    expect(await applyAuthorizedKeys(path, ['k2'])).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe(`${HAND}\n${BEGIN_MARKER}\nk2\n${END_MARKER}\n`);
    // No temporary file is left behind.
    expect(readdirSync(join(dir, 'root', '.ssh'))).toEqual(['authorized_keys']);
  });
});
