import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PATCH_AGENT_CONFIG_JS } from './provider.ts';

describe('PATCH_AGENT_CONFIG_JS (re-pointing an agent)', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const patch = (config: Record<string, unknown>, with_: Record<string, unknown>) => {
    const d = mkdtempSync(join(tmpdir(), 'sigil-patch-'));
    dirs.push(d);
    const p = join(d, 'agent.json');
    writeFileSync(p, JSON.stringify(config));
    execFileSync(process.execPath, ['-e', PATCH_AGENT_CONFIG_JS, p], { input: JSON.stringify(with_) });
    expect(statSync(p).mode & 0o777).toBe(0o600);
    return JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
  };

  it('takes the new address and CA, keeps the credential, and moves the controller\'s apt cache with it', () => {
    const out = patch({ controllerUrl: 'https://10.0.0.1:17070', caCert: 'old', token: 't', aptCache: 'http://10.0.0.1:3142' }, { controllerUrl: 'https://192.168.7.2:17070', caCert: 'new' });
    expect(out).toEqual({ controllerUrl: 'https://192.168.7.2:17070', caCert: 'new', token: 't', aptCache: 'http://192.168.7.2:3142' });
  });

  it('adds no apt cache to an agent that had none', () => {
    expect(patch({ controllerUrl: 'https://10.0.0.1:17070', token: 't' }, { controllerUrl: 'https://10.0.0.9:17070' })).toEqual({ controllerUrl: 'https://10.0.0.9:17070', token: 't' });
  });
});
