// `node scripts/vite-run.mjs bench/app-browser-job.ts [--series N]`: the app's whole job in
// Chromium, as a person runs it (issue 13, item 5): `npm start`'s page from the Vite dev server, the
// synthetic set at the form's defaults (10,000 series × 96 points, season 12, seed 1; --series
// changes the count), then Run with the options form as it opens (the app's defaults). Times the
// run from the click to the status "Forecast ready" (the backtest, its baselines on the app's Web
// Workers, and the forecast), printing the progress line every 15 s, the adapter the app reports,
// the verdict and the status line. bench/app-job.ts runs the same job in Node (Dawn); this is the app.
import { loadavg } from 'node:os';
import { startPageServer } from '../test/helpers/page-server.ts';

const at = process.argv.indexOf('--series');
const count = at < 0 ? null : String(Number(process.argv[at + 1]));
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const pages = await startPageServer();
try {
  const page = await pages.browser.newPage({ viewport: { width: 1300, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const status = (states: string[], timeout: number) =>
    page.locator([...states, 'error'].map((s) => `#status[data-state="${s}"]`).join(', ')).waitFor({ timeout });
  await page.goto(pages.url(''));
  await status(['ready'], 120_000);
  if (count !== null) await page.fill('#synthetic-form [name="count"]', count);
  await page.click('#synthetic-form button[type="submit"]');
  await page.locator('#data-summary', { hasText: 'synthetic series' }).waitFor({ timeout: 300_000 });
  await status(['ready'], 300_000);
  console.log(`data: ${await page.locator('#data-summary').textContent()} (load ${load()})`);
  const t0 = performance.now();
  await page.click('#run');
  const seconds = () => ((performance.now() - t0) / 1000).toFixed(0);
  const ticker = setInterval(async () => {
    const text = await page
      .locator('#progress-text')
      .textContent()
      .catch(() => '');
    console.log(`  ${seconds()} s: ${text} (load ${load()})`);
  }, 15_000);
  try {
    await status(['done'], 3_600_000);
  } finally {
    clearInterval(ticker);
  }
  const wall = (performance.now() - t0) / 1000;
  const state = await page.locator('#status').getAttribute('data-state');
  console.log(`status (${state}): ${await page.locator('#status').textContent()}`);
  console.log(`adapter: ${await page.locator('#backend').textContent()}`);
  console.log(`verdict: ${await page.locator('#verdict').textContent()}`);
  console.log(`the job, click to "Forecast ready": ${wall.toFixed(1)} s = ${(wall / 60).toFixed(2)} min (load ${load()})`);
  if (errors.length) console.log(`page errors: ${errors.join('; ')}`);
  if (state !== 'done') process.exitCode = 1;
} finally {
  await pages.close();
}
