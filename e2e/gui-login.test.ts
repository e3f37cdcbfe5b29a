// The GUI logs in like a web app (issue 12), in a real browser (Debian's chromium, driven by
// playwright-core) against the shared local-process controller: the one-time link `sigil
// gui` prints, a user name and password, and a read user's canvas with no control that
// changes the model.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CHARMS, ROOT, controllerEntry, freshModel, ok, sigil, status } from './harness.ts';
import { canRunBrowser, launchTrusting } from './browser.ts';

const ARTIFACTS = join(ROOT, 'test-artifacts');
const COOKIE = '__Host-sigil-session';
const PASSWORD = 'a reader password';

let browser: Browser;
let m: string;
let model: string;
let controller: string;
/** The model's page without a login. */
let address: string;
const contexts: BrowserContext[] = [];
let readerHome: string;

/** A fresh browser profile: no cookies, no storage. */
async function freshPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  contexts.push(context);
  return context.newPage();
}

/** A one-time login link from `sigil gui`, as the user reads it on the terminal. */
async function guiLink(): Promise<string> {
  const out = await ok(['gui', '--no-browser', '-m', m]);
  const link = /^(https:\/\/\S+\/gui\/login\?\S+)$/m.exec(out)?.[1] ?? '';
  expect(link, out).toMatch(/[?&]code=[A-Za-z0-9_-]+/);
  return link;
}

/** The CLI as the new user: its own SIGIL_HOME, nothing shared with the admin's. */
function asReader(args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(join(ROOT, 'bin', 'sigil'), args, { env: { ...process.env, SIGIL_HOME: readerHome }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

/** Everything a script in the page could read: storage, and the cookies it can see. */
function pageStorage(page: Page): Promise<string> {
  // A string: this file is type-checked without the DOM library.
  return page.evaluate<string>('JSON.stringify({ session: { ...sessionStorage }, local: { ...localStorage }, cookie: document.cookie })');
}

async function live(page: Page): Promise<void> {
  await page.getByTestId('live').filter({ hasText: 'live' }).waitFor();
}

describe.skipIf(!canRunBrowser())('GUI login', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    readerHome = mkdtempSync(join(tmpdir(), 'sigil-gui-reader-'));
    m = await freshModel('gui-login');
    [controller, model] = m.split(':') as [string, string];
    // Something to look at: a related pair, one unit that runs an action.
    await ok(['deploy', join(CHARMS, 'source'), '-m', m]);
    await ok(['deploy', join(CHARMS, 'sink'), '-n', '0', '-m', m]);
    await ok(['relate', 'source', 'sink', '-m', m]);
    address = `${controllerEntry(controller).endpoint}/gui/?model=${encodeURIComponent(model)}`;
    browser = await launchTrusting(controller);
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    if (readerHome) rmSync(readerHome, { recursive: true, force: true });
  });

  it('logs in once with the link `sigil gui` prints: the code leaves the address bar, the session is an HttpOnly cookie, nothing is stored', async () => {
    const link = await guiLink();
    const page = await freshPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));
    await page.goto(link);
    await live(page);
    await page.getByTestId('user').filter({ hasText: 'admin' }).waitFor();
    expect(page.url()).not.toContain('code=');
    // The page fetched the link with a GET and spent the code with a POST: no request after the first carries it.
    const code = new URL(link).searchParams.get('code')!;
    expect(requests.filter((r) => r.includes(code))).toEqual([`GET ${link}`]);
    const cookies = await page.context().cookies();
    expect(cookies.map((c) => ({ name: c.name, httpOnly: c.httpOnly, secure: c.secure, sameSite: c.sameSite, path: c.path }))).toEqual([
      { name: COOKIE, httpOnly: true, secure: true, sameSite: 'Strict', path: '/' },
    ]);
    // No credential anywhere a script can reach: no storage, and the cookie is HttpOnly.
    expect(JSON.parse(await pageStorage(page))).toEqual({ session: {}, local: {}, cookie: '' });
    const token = controllerEntry(controller).token;
    for (const r of requests) expect(r).not.toContain(token);
    await page.screenshot({ path: join(ARTIFACTS, 'gui-login-code.png') });

    // The page's own address, opened again in the same browser, needs no new link.
    await page.goto(address);
    await live(page);

    // The link was single use: another browser that opens it gets the login form and why.
    const other = await freshPage();
    await other.goto(link);
    await other.getByTestId('login-error').filter({ hasText: /already used or expired/ }).waitFor();
    expect(await other.context().cookies()).toEqual([]);

    // Logging out ends the session on the server too: the old cookie no longer works.
    const [jar] = await page.context().cookies();
    await page.getByTestId('logout').click();
    await page.getByTestId('login').waitFor();
    expect(await page.context().cookies()).toEqual([]);
    await page.reload();
    await page.getByTestId('login').waitFor();
    const replay = await freshPage();
    await replay.context().addCookies([jar!]);
    await replay.goto(address);
    await replay.getByTestId('login').waitFor();
  });

  it('logs in with a user name and password; a wrong password gets a clear message and stores nothing', async () => {
    // A new user, registered as `sigil add-user` tells them to, with read access to the model.
    const added = await ok(['add-user', 'gui-reader', '-c', controller]);
    const string = /sigil register (\S+)/.exec(added)?.[1];
    expect(string, added).toBeDefined();
    const reg = await asReader(['register', string!, '--password-file', '-'], `${PASSWORD}\n`);
    expect(reg.code, reg.stderr).toBe(0);
    await ok(['grant', 'gui-reader', 'read', m]);

    const page = await freshPage();
    await page.goto(address);
    await page.getByTestId('login').waitFor();
    await page.getByTestId('login-user').fill('gui-reader');
    await page.getByTestId('login-password').fill('not the password');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-error').filter({ hasText: /invalid user name or password/ }).waitFor();
    expect(await page.getByTestId('login-password').inputValue()).toBe('');
    expect(await page.context().cookies()).toEqual([]);
    expect(JSON.parse(await pageStorage(page))).toEqual({ session: {}, local: {}, cookie: '' });
    await page.screenshot({ path: join(ARTIFACTS, 'gui-login-refused.png') });

    await page.getByTestId('login-password').fill(PASSWORD);
    await page.getByTestId('login-submit').click();
    await live(page);
    await page.getByTestId('user').filter({ hasText: 'gui-reader' }).waitFor();
    expect((await page.context().cookies()).map((c) => c.name)).toEqual([COOKIE]);
    expect(JSON.parse(await pageStorage(page))).toEqual({ session: {}, local: {}, cookie: '' });
  });

  it('shows a read user the canvas with no control that changes the model, and the server refuses one anyway', async () => {
    const page = contexts[contexts.length - 1]!.pages()[0]!;
    await page.getByTestId('node-source').waitFor();
    await page.getByTestId('node-sink').waitFor();
    await page.locator('.relation-label', { hasText: 'token' }).waitFor();
    await page.getByTestId('read-only').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'gui-read-only.png') });
    const absent = async (ids: string[]) => {
      for (const id of ids) expect(await page.getByTestId(id).count(), id).toBe(0);
    };
    // No deploy, no relate handles.
    await absent(['open-deploy', 'relate-source', 'relate-sink']);
    // The application: no expose, scale, config save or remove; its config is shown, not editable.
    await page.getByTestId('node-source').click();
    await page.getByTestId('app-inspector').getByRole('heading', { name: 'source' }).waitFor();
    await page.getByTestId('cfg-token').waitFor();
    expect(await page.getByTestId('cfg-token').getAttribute('readonly')).not.toBeNull();
    await absent(['expose-toggle', 'add-unit', 'remove-unit', 'config-save', 'remove-app']);
    // The unit: its log and relation data, no actions and no resolve.
    await page.getByTestId('unit-row-source/0').click();
    await page.getByTestId('unit-inspector').waitFor();
    await page.getByTestId('tab-relations').waitFor();
    await absent(['tab-actions', 'action-run', 'resolve']);
    // The relation: no remove.
    await page.locator('.relation-label', { hasText: 'token' }).click();
    await page.getByTestId('relation-inspector').waitFor();
    await absent(['remove-relation']);
    // A bundle: export and plan, no apply.
    await page.getByTestId('open-bundle').click();
    await page.getByTestId('bundle-yaml').fill(`applications:\n  extra:\n    charm: ${join(CHARMS, 'sink')}\n    num_units: 0\n`);
    await page.getByTestId('bundle-plan').click();
    await page.getByTestId('bundle-plan-result').getByText(/deploy application "extra"/).waitFor();
    await absent(['bundle-apply']);
    await page.screenshot({ path: join(ARTIFACTS, 'gui-read-only-bundle.png') });

    const before = (await status(m)).applications.source;
    // The server refuses a write sent with the read user's cookie, whatever the page shows.
    const refused = await page.evaluate(async (path) => {
      const r = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ exposed: true }) });
      return { status: r.status, body: await r.text() };
    }, `/api/models/${encodeURIComponent(model)}/applications/source/expose`);
    expect(refused.status, refused.body).toBe(403);
    expect(refused.body).toMatch(/read access/);
    const after = (await status(m)).applications.source;
    expect(after?.exposed).toBe(before?.exposed);
    // The admin still sees the model through the CLI.
    expect((await sigil(['status', '-m', m])).code).toBe(0);

    // A model the user was not granted: said so, with the ones it may open.
    await page.goto(new URL('/gui/?model=not-granted', address).toString());
    const none = page.getByTestId('no-access');
    await none.getByText('User gui-reader has no access to model not-granted.').waitFor();
    expect(await none.getByRole('link').allTextContents()).toEqual([model]);
  });
});
