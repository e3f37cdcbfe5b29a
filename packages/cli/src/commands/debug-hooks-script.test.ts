import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_TMUX, debugClientScript, remoteCommand } from './debug-hooks-script.ts';

function bash(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('/bin/bash', args, { env }, (err, stdout) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout }));
  });
}

describe('debugClientScript', () => {
  it('is valid bash for a real machine and for a local-process one, with odd names quoted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigil-dhs-'));
    for (const [root, at] of [['/', undefined], [join(dir, "it's a dir"), 'all']] as const) {
      const file = join(dir, 'client.sh');
      writeFileSync(file, debugClientScript(root, 'web-app/12', at === undefined ? { hooks: ['install'] } : { hooks: [], debugAt: at }));
      expect((await bash(['-n', file], process.env)).code).toBe(0);
    }
    rmSync(dir, { recursive: true });
  });

  it('exits with NO_TMUX and writes nothing on a machine without tmux', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigil-dhs-'));
    const root = join(dir, 'machine');
    const r = await bash(['-c', debugClientScript(root, 'db/0', { hooks: [] })], { PATH: join(dir, 'empty-bin') });
    expect(r.code).toBe(NO_TMUX);
    expect(existsSync(root)).toBe(false);
    rmSync(dir, { recursive: true });
  });

  it('is sent over ssh base64-encoded, so the remote shell gets it byte for byte', async () => {
    const script = "#!/bin/bash\necho \"it's $((6 * 7))\"\n";
    const cmd = remoteCommand(script);
    expect(cmd).toMatch(/^S=\$\(echo [A-Za-z0-9+/=]+ \| base64 -d\) && exec \/bin\/bash -c "\$S"$/);
    expect((await bash(['-c', cmd], process.env)).stdout).toBe("it's 42\n");
  });
});
