import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SigilError } from '@sigil/core';
import { renderError } from './main.ts';

// Real failures from the real fs and network, rendered as the CLI's top-level handler does.

const dir = mkdtempSync(join(tmpdir(), 'sigil-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a failure');
}

async function rejected(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => {
    throw new Error('expected a failure');
  }, (e: unknown) => e);
}

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** One ERROR line and one hint line, and no stack frames. */
function expectTwoLines(text: string): [string, string] {
  const lines = text.split('\n');
  expect(lines).toHaveLength(3);
  expect(lines[0]).toMatch(/^ERROR \S/);
  expect(lines[1]).toMatch(/^hint: \S/);
  expect(lines[2]).toBe('');
  expect(text).not.toMatch(/^\s+at /m);
  return [lines[0]!, lines[1]!];
}

describe('renderError', () => {
  it('shows a SigilError as its message and hint', () => {
    expect(renderError(new SigilError('not-found', 'unit "a/9" not found', 'see `sigil status`'), false)).toBe('ERROR unit "a/9" not found\nhint: see `sigil status`\n');
  });

  it('names the path of a symlink loop and says what to do', () => {
    symlinkSync('loop', join(dir, 'loop'));
    const [error, hint] = expectTwoLines(renderError(caught(() => statSync(join(dir, 'loop'))), false));
    expect(error).toBe(`ERROR too many levels of symbolic links at "${join(dir, 'loop')}"`);
    expect(hint).toContain('symlink');
  });

  it('names a missing path and a refused permission', () => {
    const [missing] = expectTwoLines(renderError(caught(() => readdirSync(join(dir, 'nope'))), false));
    expect(missing).toBe(`ERROR no such file or directory: "${join(dir, 'nope')}"`);
    const eacces = Object.assign(new Error(`EACCES: permission denied, open '/root/x'`), { code: 'EACCES', syscall: 'open', path: '/root/x' });
    expect(expectTwoLines(renderError(eacces, false))[0]).toBe('ERROR permission denied: "/root/x" (open)');
  });

  it('unwraps a failed fetch to the address that refused it', async () => {
    const port = await closedPort();
    const e = await rejected(fetch(`http://127.0.0.1:${port}/gui/`));
    const [error, hint] = expectTwoLines(renderError(e, false));
    expect(error).toBe(`ERROR cannot connect to 127.0.0.1:${port} (ECONNREFUSED)`);
    expect(hint).toContain('sigil controllers');
  });

  it('reports anything else as a bug, in one line, and shows the stack only when debugging', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')\nmore detail");
    const [error, hint] = expectTwoLines(renderError(bug, false));
    expect(error).toBe("ERROR Cannot read properties of undefined (reading 'x')");
    expect(hint).toContain('SIGIL_DEBUG=1');
    expect(renderError(bug, true)).toMatch(/^\s+at /m);
    expect(expectTwoLines(renderError('a string', false))[0]).toBe('ERROR a string');
  });

  it('escapes control characters in paths before they reach the terminal', () => {
    const e = Object.assign(new Error('ENOENT'), { code: 'ENOENT', syscall: 'stat', path: 'evil\u001b[2Jname' });
    expect(expectTwoLines(renderError(e, false))[0]).toBe('ERROR no such file or directory: "evil\\x1b[2Jname"');
  });
});
