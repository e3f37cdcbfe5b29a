import { afterAll, describe, expect, it, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { Toxiproxy } from 'toxiproxy-node-client';
import { CHARMS, ROOT, freshModel, ok, poll, sigil, until, workload } from './harness.ts';
import { canRunBrowser, launchTrusting } from './browser.ts';
import { testDir } from '../tests/temp.ts';

// Relation chaos on local-process machines: a proxy between tcp-client and tcp-echo adds
// latency that the client unit itself measures (its `probe` action), through the client
// charm's ordinary -relation-changed hook; removing it gives the real address back.
const LATENCY_MS = 400;

describe('sigil chaos on a relation', () => {
  let m: string;
  let realBackend: string;
  let proxied = '';
  let browser: Browser | undefined;
  let page: Page | undefined;

  afterAll(async () => {
    await browser?.close();
  });

  const backend = async () => {
    const s = await until(m, 'tcp-client to know its backend', (s) => workload(s, 'tcp-client/0').startsWith('active backend='));
    return workload(s, 'tcp-client/0').slice('active backend='.length);
  };
  const probe = async (): Promise<{ backend: string; ms: number }> => {
    const out = await ok(['run', 'tcp-client/0', 'probe', '-m', m, '--format', 'json']);
    const results = JSON.parse(out) as Record<string, string>;
    return { backend: results['backend'] ?? '', ms: Number(results['ms']) };
  };

  beforeAll(async () => {
    m = await freshModel('chaos');
    await ok(['deploy', join(CHARMS, 'tcp-echo'), '-m', m]);
    await ok(['deploy', join(CHARMS, 'tcp-client'), '-m', m]);
    await ok(['integrate', 'tcp-client', 'tcp-echo', '-m', m]);
    realBackend = await backend();
  }, 180_000);

  it('puts a proxy on the relation that the client sees through relation-changed and measures as latency', async () => {
    expect(realBackend).toMatch(/^127\.\d+\.\d+\.\d+:7007$/);
    const direct = await probe();
    expect(direct.backend).toBe(realBackend);

    const added = await ok(['chaos', 'add', 'tcp-client:backend', 'tcp-echo', '--latency', `${LATENCY_MS}ms`, '-m', m]);
    expect(added).toMatch(/chaos on tcp-client:backend tcp-echo:echo: latency 400ms/);
    proxied = /through (127\.0\.0\.1:\d+)/.exec(added)![1]!;
    await until(m, 'tcp-client to be told the proxy address', (s) => workload(s, 'tcp-client/0') === `active backend=${proxied}`);

    const slow = await probe();
    expect(slow.backend).toBe(proxied);
    expect(slow.ms).toBeGreaterThanOrEqual(LATENCY_MS);

    const listed = JSON.parse(await ok(['chaos', 'list', '-m', m, '--format', 'json'])) as { key: string; faults: unknown; listeners: { listen: string }[] }[];
    expect(listed).toMatchObject([{ key: 'tcp-client:backend tcp-echo:echo', faults: { latencyMs: LATENCY_MS }, listeners: [{ listen: proxied }] }]);
  });

  it.runIf(canRunBrowser())('the GUI marks the relation under chaos, and its inspector lists the faults and proxies', async () => {
    const out = await ok(['gui', '--no-browser', '-m', m]);
    const login = /^(https:\/\/\S+\/gui\/login\?\S+)$/m.exec(out)?.[1] ?? '';
    expect(login, out).not.toBe('');
    browser = await launchTrusting(m.split(':')[0]!);
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(login);
    const label = page.locator('.relation-label.chaos');
    await label.waitFor();
    expect(await label.getAttribute('title')).toBe(`chaos: latency ${LATENCY_MS}ms`);
    await label.click();
    const section = page.getByTestId('relation-chaos');
    await section.waitFor();
    const text = await section.textContent();
    expect(text).toContain(`latency ${LATENCY_MS}ms`);
    expect(text).toContain(`through ${proxied}`);
    expect(text).toContain('sigil chaos remove tcp-client tcp-echo');
  });

  it('refuses bad input with a hint and changes nothing', async () => {
    const before = await ok(['chaos', 'list', '-m', m, '--format', 'json']);
    const cases: [string[], RegExp][] = [
      [['chaos', 'add', 'tcp-client', 'nope', '--latency', '1s'], /no relation between tcp-client and nope/],
      [['chaos', 'add', 'tcp-client', 'tcp-echo', '--latency', '1s', '--toxicity', '2'], /--toxicity 2 is outside 0..1/],
      [['chaos', 'add', 'tcp-client', 'tcp-echo'], /no fault given/],
      [['chaos', 'add', 'tcp-client', 'tcp-echo', '--latency', '1s'], /already under chaos/],
    ];
    for (const [args, message] of cases) {
      const r = await sigil([...args, '-m', m]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/^hint: /m);
    }
    expect(await ok(['chaos', 'list', '-m', m, '--format', 'json'])).toBe(before);
  });

  it('remove gives the client the real address back', async () => {
    expect(await ok(['chaos', 'remove', 'tcp-client', 'tcp-echo', '-m', m])).toMatch(/chaos removed from tcp-client:backend tcp-echo:echo/);
    await until(m, 'tcp-client to get the real address back', (s) => workload(s, 'tcp-client/0') === `active backend=${realBackend}`);
    const back = await probe();
    expect(back.backend).toBe(realBackend);
    expect(back.ms).toBeLessThan(LATENCY_MS);
    expect((await ok(['chaos', 'list', '-m', m])).trim()).toBe('No relation is under chaos.');
    // An open GUI follows: the mark goes with the chaos (the change feed, no reload).
    if (page) {
      await page.locator('.relation-label.chaos').waitFor({ state: 'detached' });
      await page.getByTestId('relation-chaos').waitFor({ state: 'detached' });
      expect(await page.locator('.relation-label').count()).toBe(1);
    }
  });

  it('--down refuses the client connections until the chaos is removed', async () => {
    const added = await ok(['chaos', 'add', 'tcp-client', 'tcp-echo', '--down', '-m', m]);
    proxied = /through (127\.0\.0\.1:\d+)/.exec(added)![1]!;
    await until(m, 'tcp-client to be told the proxy address', (s) => workload(s, 'tcp-client/0') === `active backend=${proxied}`);
    const refused = await sigil(['run', 'tcp-client/0', 'probe', '-m', m]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/ECONNREFUSED/);
    await ok(['chaos', 'reset', '-m', m]);
    await until(m, 'tcp-client to get the real address back', (s) => workload(s, 'tcp-client/0') === `active backend=${realBackend}`);
    expect((await probe()).backend).toBe(realBackend);
  });

  it('drill: runs a fault with its check over and over and reports every check failed while the provider is down', async () => {
    const dir = testDir('sigil-drill-');
    const file = join(dir, 'drill.yaml');
    const check = `${join(ROOT, 'bin', 'sigil')} run tcp-client/0 probe -m ${m}`;
    writeFileSync(file, `faults:\n  - name: echo down\n    relation: [tcp-client, tcp-echo]\n    down: true\n    duration: 3s\n    interval: 100ms\n    check: ${JSON.stringify(check)}\n`);
    const report = JSON.parse(await ok(['chaos', 'drill', file, '-m', m, '--format', 'json'], { timeoutMs: 170_000 })) as { name: string; requests: number; errors: number }[];
    expect(report).toHaveLength(1);
    expect(report[0]!.name).toBe('echo down');
    expect(report[0]!.requests).toBeGreaterThanOrEqual(1);
    expect(report[0]!.errors).toBe(report[0]!.requests);
    expect((await ok(['chaos', 'list', '-m', m])).trim()).toBe('No relation is under chaos.');
    await until(m, 'tcp-client to get the real address back', (s) => workload(s, 'tcp-client/0') === `active backend=${realBackend}`);
  });
});

describe('sigil chaos serve', () => {
  it("serves Toxiproxy's API that the npm client drives, with the proxies of --config, until interrupted", async () => {
    const dir = testDir('sigil-chaos-serve-');
    const config = join(dir, 'proxies.json');
    writeFileSync(config, JSON.stringify([{ name: 'from_config', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' }]));
    const child = spawn(join(ROOT, 'bin', 'sigil'), ['chaos', 'serve', '--port', '0', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await poll('the API address on stderr', () => Promise.resolve(/on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1]), 30_000);
      const client = new Toxiproxy(url);
      expect(JSON.parse(await client.getVersion())).toEqual({ version: expect.stringMatching(/^2\./) as string });
      expect(Object.keys(await client.getAll())).toEqual(['from_config']);
      const proxy = await client.createProxy({ name: 'made', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' });
      expect(proxy.listen).toMatch(/^127\.0\.0\.1:\d+$/);
      await client.reset();
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });
});
