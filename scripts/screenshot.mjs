#!/usr/bin/env node
// Takes the README's screenshot of the forecasting app (docs/app.png):   npm run screenshot
// Starts the dev server `npm start` serves (Vite, on a free port), opens index.html in Chromium
// (Playwright, the system browser), runs a backtest and forecast with the page's default options on
// its default built-in dataset (unemployment in 14 US industries), and saves the page from the
// options down to the status line once the loss chart, the chosen series' chart and the metrics
// table are drawn (the data sources above are left out to keep the PNG small).
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright';
import { createServer } from 'vite';
import { chromiumArgs, chromiumPath } from './chromium.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(root, process.argv[2] ?? 'docs/app.png');
/** The series drawn in the screenshot (one with a clear yearly cycle). */
const SERIES = 'Construction';

const executablePath = chromiumPath();
const args = chromiumArgs;

const server = await createServer({
  root,
  configFile: resolve(root, 'vite.config.ts'),
  logLevel: 'warn',
  server: { port: 0, strictPort: false },
});
let browser;
try {
  await server.listen();
  const url = server.resolvedUrls.local[0];
  browser = await chromium.launch({ ...(executablePath ? { executablePath } : {}), args });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));

  /** Waits until #status reaches `state`; an error state stops the script with the page's message. */
  const waitForStatus = async (state, timeout) => {
    await page.locator(`#status[data-state="${state}"], #status[data-state="error"]`).waitFor({ timeout });
    if ((await page.locator('#status').getAttribute('data-state')) === 'error') {
      throw new Error(`the app says: ${await page.locator('#status').textContent()}`);
    }
  };

  await page.goto(url);
  await waitForStatus('ready', 120_000);
  console.log(`${await page.locator('#data-summary').textContent()} ${await page.locator('#backend').textContent()}`);
  await page.click('#run');
  await waitForStatus('done', 600_000);
  console.log(await page.locator('#status').textContent());

  if ((await page.locator(`#rows tr[data-id="${SERIES}"]`).count()) > 0) await page.click(`#rows tr[data-id="${SERIES}"]`);
  // The chosen series' chart with its backtest and forecast lines, and the overall row of the table.
  await page.waitForFunction(() => (document.querySelector('#series-chart')?.dataset.lines ?? '').split(',').includes('forecast'), null, {
    timeout: 60_000,
  });
  await page.locator('#overall tr.overall').waitFor();
  await page.waitForTimeout(1500); // Chart.js animates its updates
  if (errors.length) throw new Error(`uncaught errors on the page: ${errors.join('; ')}`);

  mkdirSync(dirname(out), { recursive: true });
  // From the options ("2. Backtest and forecast") to the status line under the results, in page coordinates.
  const clip = await page.evaluate(() => {
    const top = document.querySelector('#train').getBoundingClientRect().top + window.scrollY;
    const bottom = document.querySelector('#status').getBoundingClientRect().bottom + window.scrollY;
    const margin = 12;
    return { x: 0, y: Math.max(0, top - margin), width: document.documentElement.clientWidth, height: bottom - top + 2 * margin };
  });
  await page.screenshot({ path: out, fullPage: true, clip, animations: 'disabled' });
  console.log(`wrote ${out}`);
} finally {
  await browser?.close();
  await server.close();
}
