import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HOST_NODE, stageScript, usableHostNode } from './host-files.ts';

describe('usableHostNode', () => {
  it('takes the host Node only at the same version', () => {
    expect(usableHostNode('sigil-ok\nnode=/usr/bin/node v20.20.2\n', 'v20.20.2')).toBe('/usr/bin/node');
    expect(usableHostNode('sigil-ok\nnode=/usr/bin/node v18.19.0\n', 'v20.20.2')).toBeUndefined();
    expect(usableHostNode('sigil-ok\n', 'v20.20.2')).toBeUndefined();
    expect(usableHostNode('node=relative/node v20.20.2\n', 'v20.20.2')).toBeUndefined();
  });
});

describe('stageScript', () => {
  it('links the host Node (quoted) instead of changing its mode', () => {
    const s = stageScript("/opt/my node/bin/node");
    expect(s).toContain("ln -s '/opt/my node/bin/node' /opt/sigil.new/node");
    expect(s).not.toContain('chmod 755 /opt/sigil.new/node');
    expect(stageScript()).toContain('chmod 755 /opt/sigil.new/node');
  });
});

describe('HOST_NODE', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const fakeNode = (mode: number) => {
    const d = mkdtempSync(join(tmpdir(), 'sigil-hostnode-'));
    dirs.push(d);
    chmodSync(d, 0o755);
    writeFileSync(join(d, 'node'), '#!/bin/sh\necho v99.1.2\n');
    chmodSync(join(d, 'node'), mode);
    return d;
  };
  const run = (dir: string) => execFileSync('sh', ['-c', HOST_NODE], { env: { PATH: `${dir}:/usr/bin:/bin` }, encoding: 'utf8' });

  it.skipIf(process.getuid?.() !== 0)('reports a root-owned node on PATH with its version', () => {
    const d = fakeNode(0o755);
    expect(run(d)).toBe(`node=${join(d, 'node')} v99.1.2\n`);
  });

  it.skipIf(process.getuid?.() !== 0)('ignores a node others can write (the agent runs as root)', () => {
    const d = fakeNode(0o777);
    expect(run(d)).not.toContain(join(d, 'node'));
  });
});
