// The canvas as a newcomer first sees it (issue 23), in a real browser (Debian's chromium,
// driven by playwright-core) against the shared local-process controller: whole application
// names, the whole model in view on first load, and relation lines that join the sides
// two nodes turn to each other.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { CHARMS, ROOT, freshModel, ok } from './harness.ts';
import { canRunBrowser, launchTrusting } from './browser.ts';
import { suiteDir } from '../tests/temp.ts';

const ARTIFACTS = join(ROOT, 'test-artifacts');

/** Names as long as they come (50 characters is the limit), placed far apart as a saved layout may have them. */
const APPS: Record<string, { charm: string; x: number; y: number }> = {
  'dummy-source': { charm: 'source', x: 0, y: 0 },
  'dummy-sink-for-the-reporting-pipeline-in-europe': { charm: 'sink', x: 2400, y: 1500 },
  'wordpress-frontend-blue': { charm: 'sink', x: -900, y: 1400 },
};

type Box = { x: number; y: number; width: number; height: number };

const overlap = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** 'all in view' when every node lies inside the canvas, clear of the minimap and the controls; else what is wrong, with the view seen. */
async function inView(page: Page): Promise<string> {
  const canvas = (await page.getByTestId('canvas').boundingBox())!;
  const view = async () => `(viewport ${await page.locator('.react-flow__viewport').getAttribute('style')}, canvas ${JSON.stringify(canvas)})`;
  const covers = await Promise.all(['.react-flow__minimap', '.react-flow__controls'].map(async (sel) => [sel, await page.locator(sel).boundingBox()] as const));
  for (const name of Object.keys(APPS)) {
    const b = await page.getByTestId(`node-${name}`).boundingBox();
    if (!b || b.x < canvas.x || b.y < canvas.y || b.x + b.width > canvas.x + canvas.width || b.y + b.height > canvas.y + canvas.height) return `${name} out of view at ${JSON.stringify(b)} ${await view()}`;
    for (const [sel, c] of covers) if (c && overlap(b, c)) return `${name} under ${sel} at ${JSON.stringify(b)} ${await view()}`;
  }
  return 'all in view';
}

let browser: Browser;
let page: Page;
let login: string;

describe.skipIf(!canRunBrowser())('GUI canvas on first load', () => {
  const dir = suiteDir('sigil-gui-canvas-');
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const m = await freshModel('gui-canvas');
    const bundle = join(dir, 'apps.yaml');
    // The provider sits above and to the right of its requirer: a line from the provider's
    // right side to the requirer's left would loop round behind both.
    writeFileSync(bundle, `applications:\n${Object.entries(APPS).map(([name, a]) => `  ${name}:\n    charm: ${CHARMS}/${a.charm}\n    num_units: 0\n    annotations: {gui-x: "${a.x}", gui-y: "${a.y}"}\n`).join('')}relations:\n- [dummy-source:output, wordpress-frontend-blue:input]\n`);
    await ok(['deploy', bundle, '-m', m, '--no-wait']);
    const out = await ok(['gui', '--no-browser', '-m', m]);
    login = /^(https:\/\/\S+\/gui\/login\?\S+)$/m.exec(out)?.[1] ?? '';
    expect(login, out).not.toBe('');
    browser = await launchTrusting(m.split(':')[0]!);
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await page.goto(login);
    for (const name of Object.keys(APPS)) await page.getByTestId(`node-${name}`).waitFor();
    await page.locator('.react-flow__edge-path').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('shows every application name whole, and the full name on hover', async () => {
    for (const name of Object.keys(APPS)) {
      const node = page.getByTestId(`node-${name}`);
      const label = node.locator('.name');
      expect(await label.textContent()).toBe(name);
      // Nothing of the name is clipped: its box holds all of its text.
      const clipped = await label.evaluate((el) => el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight);
      expect(clipped, name).toBe(false);
      // Nor by the node around it.
      const [nodeBox, labelBox] = [await node.boundingBox(), await label.boundingBox()];
      expect(labelBox!.x + labelBox!.width, name).toBeLessThanOrEqual(nodeBox!.x + nodeBox!.width);
      expect(labelBox!.y + labelBox!.height, name).toBeLessThanOrEqual(nodeBox!.y + nodeBox!.height);
      expect(await node.getAttribute('title'), name).toMatch(new RegExp(`^${name}\\b`));
    }
  });

  it('fits the whole model in view on first load, clear of the minimap and the controls', async () => {
    await expect.poll(() => inView(page), { timeout: 5000 }).toBe('all in view');
    await page.screenshot({ path: join(ARTIFACTS, 'gui-canvas-first-load.png') });
  });

  it('fits the model again when the window changes size before the canvas is touched', async () => {
    // A window too short for the model at the smallest zoom, then grown: the first fit is
    // redone for the new size rather than left zoomed out in a corner.
    const short = await page.context().newPage();
    try {
      await short.setViewportSize({ width: 1280, height: 180 });
      await short.goto(page.url());
      for (const name of Object.keys(APPS)) await short.getByTestId(`node-${name}`).waitFor();
      await short.setViewportSize({ width: 1280, height: 800 });
      await expect.poll(() => inView(short), { timeout: 5000 }).toBe('all in view');
    } finally {
      await short.close();
    }
  });

  it('draws a relation from the bottom of the upper node to the top of the lower one, not round behind them', async () => {
    const [upper, lower, line] = await Promise.all([
      page.getByTestId('node-dummy-source').boundingBox(),
      page.getByTestId('node-wordpress-frontend-blue').boundingBox(),
      page.locator('.react-flow__edge-path').boundingBox(),
    ]);
    // The whole curve lies in the gap between the two nodes (a pixel of stroke either way).
    expect(line!.y).toBeGreaterThanOrEqual(upper!.y + upper!.height - 2);
    expect(line!.y + line!.height).toBeLessThanOrEqual(lower!.y + 2);
    expect(line!.x).toBeGreaterThanOrEqual(lower!.x);
    expect(line!.x + line!.width).toBeLessThanOrEqual(upper!.x + upper!.width);
  });
});
