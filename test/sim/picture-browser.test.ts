// The picture of a failing run, opened in a real browser: Debian's headless
// Chromium driven by playwright-core. The page's own script draws the
// picture, so only a browser shows that the lanes and the violation really
// render. It saves a screenshot in a temporary folder; with
// SYNCKEY_UPDATE_PICTURE=1 it writes the one the README shows
// (docs/images/run-picture.png), so an ordinary run leaves the tree clean.
// Without /usr/bin/chromium (a developer machine without it) the test is
// skipped, and says why; CI installs it (.ci/run).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenarioByName } from '../../scenarios/index.ts';
import { pictureOfScenario, recordPicture, writePicture } from '../../sim/picture/record-picture.ts';
import { runSpec } from '../../sim/run.ts';
import type { RunSpec } from '../../sim/run-spec.ts';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = process.env['SYNCKEY_UPDATE_PICTURE'] === '1' ? 'docs/images/run-picture.png' : path.join(os.tmpdir(), `synckey-run-picture-${process.pid}.png`);
const haveChromium = fs.existsSync(CHROMIUM);

/** What the planted-bug property shrank skip-dedup to: a dropped response, a retried send, two MsgIDs. Small enough to see whole. */
const SHRUNK_SKIP_DEDUP: RunSpec = {
  scenario: 'calm',
  seed: '564405',
  accounts: [
    { name: 'u0', devices: [{ transport: 'tcp', startAt: 0 }] },
    { name: 'u1', devices: [{ transport: 'http', startAt: 0 }, { transport: 'tcp', startAt: 0 }] },
    { name: 'u2', devices: [{ transport: 'tcp', startAt: 0 }] },
    { name: 'u3', devices: [{ transport: 'tcp', startAt: 0 }] },
  ],
  groups: [],
  ops: [
    { at: 100, kind: 'send', from: 'u1.d0', to: 'u2', content: '' },
    { at: 0, kind: 'send', from: 'u0.d0', to: 'u1', content: '' },
  ],
  faults: [],
  net: { latencyMs: [1, 1], latencyTailProbability: 0, latencyTailMs: 0, dropProbability: 0.08, duplicateProbability: 0, commitDelayMs: [0, 0] },
  durationMs: 1000,
  livenessBoundMs: 180000,
};
if (!haveChromium) process.stdout.write(`picture-browser: skipped, no ${CHROMIUM} (apt-get install chromium; .ci/run does it on CI)\n`);

describe.skipIf(!haveChromium)('run picture in headless Chromium', () => {
  let dir: string;
  let browser: BrowserContext;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synckey-picture-'));
    // A fresh profile each run (playwright takes it as the persistent context's directory).
    browser = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1440, height: 1000 },
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('draws a lane per device and the server, and marks the violation of a planted bug', async () => {
    // A planted bug the checkers catch early in this run (a duplicate delivery at u2.d2).
    const { result, picture, html } = pictureOfScenario(scenarioByName('flaky-wifi'), '2', { bugs: new Set(['skip-dedup']) }, {
      title: 'flaky-wifi seed 2 (bugs skip-dedup)',
      replay: 'npm run sim -- --scenario flaky-wifi --seed 2 --bug skip-dedup',
    });
    expect(result.ok).toBe(false);
    const file = path.join(dir, 'run.html');
    writePicture(file, html);

    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${file}`);

    const lanes = await page.$$eval('svg#picture g.lane', (gs) => gs.map((g) => g.getAttribute('data-lane')));
    expect(lanes).toEqual(picture.lanes);
    expect(lanes[0]).toBe('server');
    expect(lanes.length).toBeGreaterThan(2);
    expect(await page.locator('svg#picture line.arrow').count()).toBe(picture.arrows.length);

    const marker = page.locator('#violation-marker');
    await expect.poll(() => marker.isVisible()).toBe(true);
    expect(await marker.getAttribute('data-lane')).toBe('u2.d2');
    expect(await page.locator('#violation-marker text').textContent()).toContain('exactly-once violated at u2.d2');
    expect(await page.locator('#violation-dot').isVisible()).toBe(true);
    expect(await page.locator('.violation-banner').textContent()).toContain('exactly-once');
    expect(await page.locator('.replay code').textContent()).toBe('npm run sim -- --scenario flaky-wifi --seed 2 --bug skip-dedup');

    // The device filter takes a lane, and its arrows, out of the drawing.
    const before = await page.locator('svg#picture line.arrow').count();
    await page.locator('.lane-filter[value="u1.d0"]').uncheck();
    expect(await page.$$eval('svg#picture g.lane', (gs) => gs.map((g) => g.getAttribute('data-lane')))).not.toContain('u1.d0');
    expect(await page.locator('svg#picture line.arrow').count()).toBeLessThan(before);
    await page.locator('#all-lanes').click();

    // Zoom redraws at another scale.
    const height = async (): Promise<number> => Number(await page.locator('svg#picture').getAttribute('height'));
    const h1 = await height();
    await page.locator('#zoom-in').click();
    expect(await height()).toBeGreaterThan(h1);
    await page.locator('#zoom-reset').click();
    await page.locator('#goto-violation').click();
    expect(await page.locator('#violation-dot').isVisible()).toBe(true);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it('draws a shrunk failing run whole, header to violation, for the README', async () => {
    const { result, picture, html } = recordPicture((watch) => runSpec(SHRUNK_SKIP_DEDUP, { bugs: new Set(['skip-dedup']), watch }), {
      title: 'a shrunk run of the planted bug skip-dedup',
      replay: 'npm run sim -- --replay .sim/failures/planted-skip-dedup.json',
    });
    expect(result.failure?.guarantee).toBe('exactly-once');
    const file = path.join(dir, 'shrunk.html');
    writePicture(file, html);
    const page = await browser.newPage();
    await page.setViewportSize({ width: 1000, height: 800 });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${file}`);
    expect(await page.$$eval('svg#picture g.lane', (gs) => gs.map((g) => g.getAttribute('data-lane')))).toEqual(['server', 'u0.d0', 'u1.d0', 'u1.d1', 'u2.d0', 'u3.d0']);
    expect(await page.locator('svg#picture line.arrow').count()).toBe(picture.arrows.length);
    expect(await page.locator('svg#picture line.arrow.culprit').count()).toBeGreaterThan(0);
    const dot = page.locator('#violation-dot');
    expect(await dot.isVisible()).toBe(true);
    expect(await page.locator('#violation-marker').getAttribute('data-lane')).toBe(picture.violation!.lane);
    // The whole run fits the page: the header and the violation in one screenshot.
    expect(await page.evaluate('document.documentElement.scrollHeight')).toBeLessThanOrEqual(1600);
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, type: 'png', fullPage: true });
    expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
    expect(errors).toEqual([]);
  });
});
