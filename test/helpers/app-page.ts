// Driving the forecasting app (index.html) in Chromium, for the tests that open it from the dev
// server (test/app.node.test.ts) and from the static build (test/app-build.node.test.ts).
import type { Page } from 'playwright';
import { expect } from 'vitest';

/** Waits until #status is in one of `states` (or error), and checks it is not an error. */
export async function waitForStatus(page: Page, states: string[], timeout = 120_000): Promise<void> {
  const selector = [...states, 'error'].map((s) => `#status[data-state="${s}"]`).join(', ');
  await page.locator(selector).waitFor({ timeout });
  expect(await page.locator('#status').getAttribute('data-state'), (await page.locator('#status').textContent()) ?? '').not.toBe('error');
}

/**
 * Fills the options form: inputs by value, selects by option value, the `calendar` box by `on` or
 * `off`, the `combine` boxes by a comma-separated list of baselines (`ets,theta`, or `` for none).
 */
export async function setOptions(page: Page, options: Record<string, string>): Promise<void> {
  for (const [name, value] of Object.entries(options)) {
    if (name === 'combine') {
      const chosen = value.split(',').filter(Boolean);
      for (const box of await page.locator('#options-form [name="combine"]').all())
        await box.setChecked(chosen.includes((await box.getAttribute('value'))!));
      continue;
    }
    if (name === 'calendar') {
      await page.locator('#options-form [name="calendar"]').setChecked(value === 'on');
      continue;
    }
    const field = page.locator(`#options-form [name="${name}"]`);
    if ((await field.evaluate((el) => el.tagName)) === 'SELECT') await field.selectOption(value);
    else await field.fill(value);
  }
}

/** The text of a stream (a download's). */
export async function streamText(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}
