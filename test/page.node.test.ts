import { chromium, type Browser } from 'playwright';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, chromiumPath } from './helpers/chromium.ts';

// The kernel page (kernel.html, linked from the forecasting app `npm start` opens), driven in Chromium
// as a person would open it.

let server: ViteDevServer;
let browser: Browser;

beforeAll(async () => {
  server = await createServer({ configFile: 'vite.config.ts', logLevel: 'warn', server: { port: 0, strictPort: false } });
  await server.listen();
  const executablePath = chromiumPath();
  browser = await chromium.launch({ ...(executablePath ? { executablePath } : {}), args: chromiumArgs });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the kernel page', () => {
  it('shows the adapter, the worked example and a 10,000-sequence batch matching the reference', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(new URL('kernel.html', server.resolvedUrls!.local[0]!).href);
    await page.locator('#status[data-state="done"], #status[data-state="error"]').waitFor({ timeout: 120_000 });
    expect(await page.locator('#status').getAttribute('data-state'), (await page.locator('#status').textContent()) ?? '').toBe('done');
    expect(await page.locator('#adapter').textContent()).toMatch(/WebGPU adapter: .+, (software|hardware), browser/);

    const worked = await page.locator('#worked tbody tr').allTextContents();
    expect(worked).toHaveLength(2);
    expect(worked[0]).toContain('1.800000');
    expect(worked[1]).toContain('2.700000');

    expect(await page.locator('dd[data-key="sequences"]').textContent()).toMatch(/^10,000 × 32 steps$/);
    const diff = Number(await page.locator('dd[data-key="largest difference"]').textContent());
    expect(diff).toBeLessThan(1e-4);
    expect(await page.locator('dd[data-key="within float32 tolerance"]').textContent()).toBe('yes');
    expect(errors).toEqual([]);
    await page.close();
  });
});
