import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HOST_NODE, mirrorProbe, parseFacts, stageScript, usableHostNode } from './host-files.ts';

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

describe('mirrorProbe', () => {
  const dirs: string[] = [];
  const servers: Server[] = [];
  afterEach(() => {
    dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
    servers.splice(0).forEach((s) => s.close());
  });
  /** An /etc/apt with these files, and a PATH whose apt-config prints `dump`. */
  const host = (files: Record<string, string>, dump = '') => {
    const d = mkdtempSync(join(tmpdir(), 'sigil-mirror-'));
    dirs.push(d);
    mkdirSync(join(d, 'apt', 'sources.list.d'), { recursive: true });
    mkdirSync(join(d, 'bin'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(d, 'apt', name), text);
    writeFileSync(join(d, 'bin', 'apt-config'), `#!/bin/sh\nprintf '%s' '${dump}'\n`);
    chmodSync(join(d, 'bin', 'apt-config'), 0o755);
    return parseFacts(execFileSync('bash', ['-c', mirrorProbe(join(d, 'apt'))], { env: { PATH: `${join(d, 'bin')}:/usr/bin:/bin` }, encoding: 'utf8' }));
  };
  const listening = async () => {
    const s = createServer((c) => c.destroy());
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    return (s.address() as AddressInfo).port;
  };
  const closed = async () => {
    const port = await listening();
    await new Promise<void>((r) => servers.pop()!.close(() => r()));
    return port;
  };

  it('finds the first source that is not commented out, and whether it answers', async () => {
    const up = await listening();
    const f = host({ 'sources.list': `# deb http://old.example/debian bookworm main\ndeb http://127.0.0.1:${up}/debian bookworm main\n` });
    expect([f.mirror, f.mirrorOk]).toEqual([`127.0.0.1:${up}`, true]);
  });

  it('reads deb822 .sources files, and reports a mirror nothing answers on', async () => {
    const down = await closed();
    const f = host({ 'sources.list.d/debian.sources': `Types: deb\nURIs: http://127.0.0.1:${down}/debian\nSuites: bookworm\n` });
    expect([f.mirror, f.mirrorOk]).toEqual([`127.0.0.1:${down}`, false]);
  });

  it('says "proxy" when apt already has an http proxy (the host\'s own), and nothing without sources', () => {
    expect(host({ 'sources.list': 'deb http://deb.example/debian bookworm main\n' }, 'Acquire::http::Proxy "http://proxy.example:3128";\n').mirror).toBe('proxy');
    expect(host({}).mirror).toBe('');
  });
});
