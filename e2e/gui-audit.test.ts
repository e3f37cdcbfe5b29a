// The audit trail in the GUI (issue 12 item 7), in a real browser (Debian's chromium, driven
// by playwright-core) against the shared local-process controller: a read user's refused
// write and an admin's config change both show in the admin's audit panel, newest first,
// the refusal highlighted and named by the read user's cookie; a read user gets no link to
// the panel and the server refuses it the trail anyway.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CHARMS, ROOT, controllerEntry, freshModel, ok } from './harness.ts';
import { canRunBrowser, launchTrusting } from './browser.ts';

const ARTIFACTS = join(ROOT, 'test-artifacts');
const PASSWORD = 'an auditable password';
const READER = 'audit-reader';

let browser: Browser;
let m: string;
let model: string;
let controller: string;
let address: string;
const contexts: BrowserContext[] = [];
let readerHome: string;

async function freshPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  contexts.push(context);
  return context.newPage();
}

/** The CLI as the read user: its own SIGIL_HOME. */
function asReader(args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(join(ROOT, 'bin', 'sigil'), args, { env: { ...process.env, SIGIL_HOME: readerHome }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

async function live(page: Page): Promise<void> {
  await page.getByTestId('live').filter({ hasText: 'live' }).waitFor();
}

/** A call from the page itself, riding on its session cookie (a script cannot read it). */
function pageFetch(page: Page, path: string, method: string, body?: unknown): Promise<{ status: number; body: string }> {
  return page.evaluate(async ([p, verb, b]) => {
    const r = await fetch(p, { method: verb, headers: { 'content-type': 'application/json' }, ...(b === undefined ? {} : { body: JSON.stringify(b) }) });
    return { status: r.status, body: await r.text() };
  }, [path, method, body] as const);
}

/** Waits until the table answers this filter (the rows of the one before may still show). */
async function applied(page: Page, user: string, model: string): Promise<void> {
  await page.locator(`[data-testid=audit-count][data-user="${user}"][data-model="${model}"]`).waitFor();
}

/**
 * The panel's rows as text, cell by cell, newest first: read in one go in the page, so a
 * refresh of the table (new calls arrive all the time) cannot change it half-way through.
 */
async function rows(page: Page): Promise<{ cells: string[]; refused: string | null; cls: string | null }[]> {
  // A string: this file is type-checked without the DOM library.
  return page.evaluate<{ cells: string[]; refused: string | null; cls: string | null }[]>(
    `[...document.querySelectorAll('[data-testid=audit-row]')].map((row) => ({ cells: [...row.cells].map((c) => c.innerText), refused: row.getAttribute('data-refused'), cls: row.getAttribute('class') }))`,
  );
}

describe.skipIf(!canRunBrowser())('GUI audit trail', () => {
  let reader: Page;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    readerHome = mkdtempSync(join(tmpdir(), 'sigil-gui-audit-'));
    m = await freshModel('gui-audit');
    [controller, model] = m.split(':') as [string, string];
    await ok(['deploy', join(CHARMS, 'source'), '-n', '0', '-m', m]);
    const added = await ok(['add-user', READER, '-c', controller]);
    const string = /sigil register (\S+)/.exec(added)?.[1];
    expect(string, added).toBeDefined();
    const reg = await asReader(['register', string!, '--password-file', '-'], `${PASSWORD}\n`);
    expect(reg.code, reg.stderr).toBe(0);
    await ok(['grant', READER, 'read', m]);
    address = `${controllerEntry(controller).endpoint}/gui/?model=${encodeURIComponent(model)}`;
    browser = await launchTrusting(controller);
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    if (readerHome) rmSync(readerHome, { recursive: true, force: true });
  });

  it('gives a read user no audit link, and the server refuses it the trail; its refused write is a call like any other', async () => {
    reader = await freshPage();
    await reader.goto(address);
    await reader.getByTestId('login').waitFor();
    await reader.getByTestId('login-user').fill(READER);
    await reader.getByTestId('login-password').fill(PASSWORD);
    await reader.getByTestId('login-submit').click();
    await live(reader);
    await reader.getByTestId('user').filter({ hasText: READER }).waitFor();
    await reader.getByTestId('read-only').waitFor();
    // The header is complete (bundle and logout are there), without the audit link.
    await reader.getByTestId('open-bundle').waitFor();
    await reader.getByTestId('logout').waitFor();
    expect(await reader.getByTestId('open-audit').count()).toBe(0);
    expect(await reader.getByTestId('audit-panel').count()).toBe(0);

    const trail = await pageFetch(reader, `/api/audit?model=${encodeURIComponent(model)}`, 'GET');
    expect(trail.status, trail.body).toBe(403);
    expect(trail.body).not.toContain('"route"');
    // A write the page never offers a read user, sent anyway: refused.
    const refused = await pageFetch(reader, `/api/models/${encodeURIComponent(model)}/applications/source/expose`, 'POST', { exposed: true });
    expect(refused.status, refused.body).toBe(403);
    expect(refused.body).toMatch(/read access/);
  });

  it('shows a controller admin the refused call and a config change, newest first, the refusal highlighted, filtered by user and model', async () => {
    await ok(['config', 'source', 'token=audited', '-m', m]);

    const out = await ok(['gui', '--no-browser', '-m', m]);
    const link = /^(https:\/\/\S+\/gui\/login\?\S+)$/m.exec(out)?.[1] ?? '';
    expect(link, out).toMatch(/[?&]code=[A-Za-z0-9_-]+/);
    const admin = await freshPage();
    await admin.goto(link);
    await live(admin);
    await admin.getByTestId('user').filter({ hasText: 'admin' }).waitFor();
    await admin.getByTestId('open-audit').click();
    await admin.getByTestId('audit-panel').waitFor();
    await admin.getByTestId('audit-count').waitFor();

    // This model's calls: the config change, then (older) the read user's refused expose;
    // the admin's canvas may have saved positions since (annotations), newer still.
    await admin.getByTestId('audit-model').fill(model);
    await admin.getByTestId('audit-apply').click();
    await applied(admin, '', model);
    const byModel = await rows(admin);
    // Columns: time, user, address, call, model, summary, status.
    for (const r of byModel) expect(r.cells[4]).toBe(model);
    const config = byModel.findIndex((r) => r.cells[3] === 'POST /api/models/:model/applications/:app/config');
    const expose = byModel.findIndex((r) => r.cells[3] === 'POST /api/models/:model/applications/:app/expose');
    expect(config, JSON.stringify(byModel)).toBeGreaterThanOrEqual(0);
    expect(expose, JSON.stringify(byModel)).toBeGreaterThan(config);
    expect(byModel[config]).toMatchObject({ refused: 'false' });
    expect(byModel[config]!.cells[1]).toBe('admin');
    expect(byModel[config]!.cells[5]).toContain('app=source');
    expect(byModel[config]!.cells[6]).toBe('200');
    // The refusal names the read user (its cookie), says why, and stands out.
    const refusal = byModel[expose]!;
    expect(refusal.refused).toBe('true');
    expect(refusal.cls).toContain('refused');
    expect(refusal.cells[1]).toBe(READER);
    expect(refusal.cells[2]).toMatch(/^[0-9a-f.:]+$/i);
    expect(refusal.cells[5]).toMatch(/app=source: .*read access/);
    expect(refusal.cells[6]).toBe('403');
    // A string: this file is type-checked without the DOM library.
    const shade = await admin.evaluate<string>(`getComputedStyle([...document.querySelectorAll('[data-testid=audit-row][data-refused=true]')].find((r) => r.cells[3].innerText.endsWith('/expose')).cells[0]).backgroundColor`);
    expect(shade).not.toMatch(/rgba\(0, 0, 0, 0\)|rgb\(255, 255, 255\)/);
    // Newest first.
    const times = byModel.map((r) => r.cells[0]!);
    expect([...times].sort().reverse()).toEqual(times);
    await admin.screenshot({ path: join(ARTIFACTS, 'gui-audit.png') });

    // The read user's calls on any model, newest first: both refusals, then its password login.
    await admin.getByTestId('audit-model').fill('');
    await admin.getByTestId('audit-user').fill(READER);
    await admin.getByTestId('audit-apply').click();
    await applied(admin, READER, '');
    const byUser = await rows(admin);
    for (const r of byUser) expect(r.cells[1]).toBe(READER);
    const mine = byUser.map((r) => `${r.cells[3]} ${r.cells[6]} ${r.refused}`);
    expect(mine.filter((r) => /expose|\/api\/audit|\/api\/gui\/session/.test(r))).toEqual([
      'POST /api/models/:model/applications/:app/expose 403 true',
      'GET /api/audit 403 true',
      'POST /api/gui/session 200 false',
    ]);

    // A filter that matches nothing says so.
    await admin.getByTestId('audit-user').fill('nobody-at-all');
    await admin.getByTestId('audit-apply').click();
    await admin.getByTestId('audit-empty').waitFor();
  });
});
