import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setOptions, streamText, waitForStatus } from './helpers/app-page.ts';
import { launchChromium } from './helpers/chromium.ts';
import { serveStatic, type StaticServer } from './helpers/static-server.ts';

// `npm run build:app` gives files any static host can serve: built into a temporary folder, served
// by a plain static file server from a sub-path (as GitHub Pages serves a project: /webrnn/), and
// the forecasting app driven in Chromium from data to a downloaded forecast on WebGPU. A URL that is
// absolute or needs Vite's dev server would be a 404 here.

const run = promisify(execFile);
const site = mkdtempSync(join(tmpdir(), 'webrnn-site-'));
const out = join(site, 'webrnn');
let server: StaticServer;
let browser: Browser;

beforeAll(async () => {
  await run('npm', ['run', 'build:app', '--', '--outDir', out, '--emptyOutDir', '--logLevel', 'warn'], { maxBuffer: 16 << 20 });
  [server, browser] = await Promise.all([serveStatic(site), launchChromium()]);
});
afterAll(async () => {
  await Promise.all([browser?.close(), server?.close()]);
  rmSync(site, { recursive: true, force: true });
});

describe('npm run build:app', () => {
  it('writes the pages with relative URLs only, and nothing for Node or the dev server', () => {
    expect(
      readdirSync(out)
        .filter((f) => f.endsWith('.html'))
        .sort(),
    ).toEqual(['bench.html', 'index.html', 'kernel.html']);
    const index = readFileSync(join(out, 'index.html'), 'utf8');
    const urls = [...index.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
    expect(urls.length).toBeGreaterThan(3);
    for (const url of urls) expect(url, url).toMatch(/^(\.\/|data:)/);
    const assets = join(out, 'assets');
    for (const file of readdirSync(assets).filter((f) => f.endsWith('.js'))) {
      const code = readFileSync(join(assets, file), 'utf8');
      for (const devOnly of ['/@vite/', '/@fs/', '/node_modules/', 'import("webgpu")'])
        expect(code.includes(devOnly), `${file} holds ${devOnly}`).toBe(false);
    }
  });

  it('runs the forecasting app from a static server under a sub-path, on WebGPU, to a downloaded forecast', async () => {
    const page = await browser.newPage({ acceptDownloads: true });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`failed: ${r.url()}`));
    page.on('response', (r) => r.status() >= 400 && problems.push(`${r.status()}: ${r.url()}`));
    await page.goto(server.url('webrnn/'));
    await waitForStatus(page, ['ready']);
    expect(await page.locator('#data-summary').textContent()).toMatch(/: 14 series, 1,708 points\.$/);
    expect(await page.locator('#backend').textContent()).toMatch(/^Runs on WebGPU/);

    const horizon = 6;
    await setOptions(page, {
      horizon: String(horizon),
      inputSize: '12',
      hiddenSize: '4',
      ensemble: '1',
      epochs: '2',
      lr: '0.02',
      seed: '0',
    });
    await page.click('#run');
    await waitForStatus(page, ['done'], 300_000);
    expect(await page.locator('#rows tr').count()).toBe(14);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    const [header, ...rows] = (await streamText(await download.createReadStream())).trim().split('\n');
    expect(header).toBe('unique_id,step,ds,yhat,yhat-lo-95,yhat-lo-80,yhat-hi-80,yhat-hi-95');
    expect(rows).toHaveLength(14 * horizon);
    for (const row of rows) {
      const [, step, , ...values] = row.split(',');
      expect(Number(step)).toBeGreaterThanOrEqual(1);
      expect(Number(step)).toBeLessThanOrEqual(horizon);
      const [yhat, lo95, lo80, hi80, hi95] = values.map(Number);
      expect(values.map(Number).every(Number.isFinite), row).toBe(true);
      expect(lo95! <= lo80! && lo80! <= yhat! && yhat! <= hi80! && hi80! <= hi95!, row).toBe(true);
    }

    // The pages the app links to are in the build too.
    for (const link of await page.locator('a[href$=".html"]').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href))) {
      expect((await page.request.get(link)).status(), link).toBe(200);
    }
    expect(problems).toEqual([]);
    await page.close();
  });
});
