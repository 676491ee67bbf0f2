import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../bench/harness.ts';
import { startPageServer, type PageServer } from './helpers/page-server.ts';

// The benchmark page (bench.html) in Chromium: the harness in its worker on a tiny workload.

let pages: PageServer;
beforeAll(async () => {
  pages = await startPageServer();
});
afterAll(async () => {
  await pages?.close();
});

describe('the benchmark page', () => {
  it('runs one tiny workload in its worker: webrnn and the CPU reference validated and timed, JSON offered', async () => {
    const page = await pages.browser.newPage({ acceptDownloads: true });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pages.url('bench.html'));
    await page.locator('#status[data-state="ready"], #status[data-state="error"]').waitFor({ timeout: 120_000 });
    expect(await page.locator('#adapter').textContent()).toMatch(/WebGPU adapter: .+, (software|hardware), browser/);

    await page.selectOption('select[name="model"]', 'lstm-h32');
    await page.fill('input[name="batch"]', '8');
    await page.fill('input[name="steps"]', '4');
    await page.click('button[data-action="one"]');
    await page.locator('#status[data-state="done"], #status[data-state="error"]').waitFor({ timeout: 240_000 });
    expect(await page.locator('#status').getAttribute('data-state'), (await page.locator('#status').textContent()) ?? '').toBe('done');

    for (const name of ['webrnn-webgpu', 'cpu-reference']) {
      expect(await page.locator(`#results tr[data-contender="${name}"]`).getAttribute('data-status')).toBe('ok');
    }
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    const report = JSON.parse(await streamText(await download.createReadStream())) as BenchReport;
    expect(report.records.find((r) => r.contender === 'webrnn-webgpu')).toMatchObject({
      status: 'ok',
      batch: 8,
      steps: 4,
      workload: 'lstm-h32',
    });
    expect(errors).toEqual([]);
    await page.close();
  });
});

async function streamText(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}
