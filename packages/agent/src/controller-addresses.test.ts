import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adoptAnswer, connectionFailure, saveAddresses, startingAddresses, type AddressConfig } from './controller-addresses.ts';

const A = 'https://10.0.0.1:17070';
const B = 'https://10.0.0.2:17070';
const C = 'https://10.0.0.3:17070';

describe('connectionFailure', () => {
  it.each([
    ['a refused connection', 'ECONNREFUSED', false, 'unsent'],
    ['an unreachable host', 'EHOSTUNREACH', false, 'unsent'],
    ['a connect that timed out', 'ETIMEDOUT', false, 'unsent'],
    ['a reset after the handshake', 'ECONNRESET', true, 'lost'],
    ['a silence after the handshake', 'ETIMEDOUT', true, 'lost'],
    ['a certificate that does not verify', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', false, undefined],
    ['an error of the answer, not the connection', undefined, true, undefined],
  ] as const)('%s', (_what, code, handshakeDone, expected) => {
    expect(connectionFailure(Object.assign(new Error('x'), code === undefined ? {} : { code }), handshakeDone)).toBe(expected);
  });
});

describe('adoptAnswer', () => {
  it.each([
    ['keeps the answer when it names the controller in use', A, { urls: [A, B] }, [A, B]],
    ['keeps the answer in its order, the controller in use wherever it is', B, { urls: [A, B, C] }, [A, B, C]],
    ['puts the address the agent used in place of the answering controller’s own name for itself', 'https://ctl.example:17070', { urls: [A, B] }, ['https://ctl.example:17070', B]],
    ['drops what is not an https server URL, and a trailing slash', A, { urls: [A, 'http://10.0.0.9:1', 'https://u:p@10.0.0.8', `${B}/`, 'https://10.0.0.7/x', 7] }, [A, B]],
    ['ignores an answer without addresses', A, { urls: [] }, undefined],
    ['ignores an answer of another shape', A, { ok: true }, undefined],
  ] as const)('%s', (_what, current, answer, expected) => {
    expect(adoptAnswer(current, answer)).toEqual(expected);
  });
});

describe('startingAddresses', () => {
  const cases: [string, AddressConfig, string[]][] = [
    ['only controllerUrl', { controllerUrl: A }, [A]],
    ['the saved list, from controllerUrl on, in its cyclic order', { controllerUrl: B, controllerUrls: [A, B, C] }, [B, C, A]],
    ['not a saved list that lacks controllerUrl (the agent was re-pointed)', { controllerUrl: 'https://192.168.1.5:17070', controllerUrls: [A, B] }, ['https://192.168.1.5:17070']],
    ['only the relay behind which a container sits', { controllerUrl: A, controllerUrls: [A, B], tlsServerName: '10.0.0.1' }, [A]],
  ];
  it.each(cases)('%s', (_what, config, expected) => {
    expect(startingAddresses(config)).toEqual(expected);
  });
});

describe('saveAddresses', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sigil-agent-config-'));
    path = join(dir, 'agent.json');
    writeFileSync(path, JSON.stringify({ controllerUrl: A, token: 'secret', id: '0' }), { mode: 0o600 });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const read = () => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

  it('writes every address into the config, keeping the rest of it, controllerUrl included, and its mode', async () => {
    expect(await saveAddresses(path, A, [B, A, C])).toBe(true);
    expect(read()).toEqual({ controllerUrl: A, controllerUrls: [B, A, C], token: 'secret', id: '0' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(startingAddresses(read() as unknown as AddressConfig)).toEqual([A, C, B]);
    // The same list again changes nothing.
    expect(await saveAddresses(path, A, [B, A, C])).toBe(false);
  });

  it('keeps controllerUrl in the list even when the controllers name it otherwise', async () => {
    await saveAddresses(path, A, [B, C]);
    expect(read().controllerUrls).toEqual([A, B, C]);
  });

  it('leaves a config re-pointed to another controller alone', async () => {
    writeFileSync(path, JSON.stringify({ controllerUrl: 'https://192.168.1.5:17070', token: 'secret' }));
    expect(await saveAddresses(path, A, [A, B])).toBe(false);
    expect(read()).toEqual({ controllerUrl: 'https://192.168.1.5:17070', token: 'secret' });
  });
});
