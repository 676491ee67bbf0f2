import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright';
import { createServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './helpers/chromium.ts';
import { makeProject, REPO, type TempProject } from './helpers/pack.ts';
import { serveStatic } from './helpers/static-server.ts';

// The examples in examples/, run as a user runs them: each copied into a fresh project with webrnn
// installed from the packed tarball (test/helpers/pack.ts), not from the repository. The README's
// Node and browser examples are these files, quoted whole (checked here), so this runs them too.

const EXAMPLES = join(REPO, 'examples');
const read = (path: string) => readFileSync(join(EXAMPLES, path), 'utf8');
/** The examples' package.json files name webrnn and its tools for users; the test installs the tarball and links the tools instead. */
const NO_REGISTRY = { dependencies: undefined, devDependencies: undefined };

/**
 * sales.csv: 48 months (from 2021-01) of three stores' sales, each level + trend + a yearly season
 * + a small deterministic wobble. The same formula continued gives the 12 months after the data:
 * the truth a forecast is scored against, beside seasonal naive (the last year again).
 */
const STORES: Record<string, { level: number; growth: number }> = {
  north: { level: 120, growth: 0.8 },
  south: { level: 80, growth: 0.5 },
  east: { level: 200, growth: 1.2 },
};
const sales = (level: number, growth: number, t: number) =>
  level + growth * t + 0.15 * level * Math.sin((2 * Math.PI * t) / 12) + 3 * Math.sin(7.3 * t + level);
const mae = (a: number[], b: number[]) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;

/** Checks the `id v1 … v12` lines an example prints: every store, 12 months each, closer to the truth than seasonal naive. */
function expectGoodForecasts(text: string): void {
  const csv = read('node/sales.csv')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
  const lines = text
    .trim()
    .split('\n')
    .filter((l) => /^\w+ -?\d/.test(l));
  expect(lines.map((l) => l.split(' ')[0]).sort(), text).toEqual(Object.keys(STORES).sort());
  for (const line of lines) {
    const [id, ...rest] = line.split(' ');
    const forecast = rest.map(Number);
    expect(forecast, line).toHaveLength(12);
    expect(forecast.every(Number.isFinite), line).toBe(true);
    const { level, growth } = STORES[id!]!;
    const truth = Array.from({ length: 12 }, (_, h) => sales(level, growth, 48 + h));
    const lastYear = csv
      .filter(([store]) => store === id)
      .slice(-12)
      .map(([, , y]) => Number(y));
    expect(mae(forecast, truth), `${id}: MAE against seasonal naive's ${mae(lastYear, truth)}`).toBeLessThan(mae(lastYear, truth));
  }
}

/** The body of the first ```js block of README.md that follows `heading` (a line of it). */
function readmeBlock(heading: string): string {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const from = readme.indexOf(heading);
  expect(from, `README has "${heading}"`).toBeGreaterThanOrEqual(0);
  const start = readme.indexOf('```js\n', from) + '```js\n'.length;
  return readme.slice(start, readme.indexOf('```', start));
}

describe('the examples', () => {
  it("are what README's quick start shows, and read the same data", () => {
    expect(readmeBlock('[examples/vite-app](examples/vite-app)')).toBe(read('vite-app/main.js'));
    expect(readmeBlock('[examples/node](examples/node)')).toBe(read('node/forecast.mjs'));
    expect(read('vite-app/public/sales.csv')).toBe(read('node/sales.csv'));
  });

  it('node/forecast.mjs forecasts every store closer to the truth than seasonal naive', async () => {
    const project = await makeProject('node', { copyFrom: join(EXAMPLES, 'node'), packageJson: NO_REGISTRY });
    try {
      const { stdout } = await project.exec('node', ['forecast.mjs'], { timeout: 240_000 });
      expectGoodForecasts(stdout);
    } finally {
      await project.cleanup();
    }
  });

  it("onnx/run.mjs runs PyTorch's exported LSTM on WebGPU and matches PyTorch's output", async () => {
    const project = await makeProject('node', { copyFrom: join(EXAMPLES, 'onnx'), packageJson: NO_REGISTRY });
    try {
      const { stdout } = await project.exec('node', ['run.mjs'], { timeout: 120_000 });
      expect(stdout).toContain('inputs x | outputs y, h_n, c_n');
      expect(stdout).toMatch(/^y \[3,7,2\] matches PyTorch: true, largest difference \d\.\de-\d+$/m);
    } finally {
      await project.cleanup();
    }
  });

  describe('vite-app in Chromium', () => {
    let project: TempProject;
    let browser: Browser;
    beforeAll(async () => {
      [project, browser] = await Promise.all([
        makeProject('vite', { copyFrom: join(EXAMPLES, 'vite-app'), packageJson: NO_REGISTRY }),
        launchChromium(),
      ]);
    });
    afterAll(async () => {
      await browser?.close();
      await project?.cleanup();
    });

    /** Opens the app at `url` and returns the forecasts it shows; fails on a page error or a failed request. */
    async function forecastsAt(url: string): Promise<string> {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('response', (r) => r.status() >= 400 && problems.push(`${r.status()}: ${r.url()}`));
      try {
        await page.goto(url);
        await page.waitForFunction(() => !document.querySelector('#forecasts')!.textContent!.startsWith('Training'), null, {
          timeout: 240_000,
        });
        expect(problems).toEqual([]);
        return (await page.locator('#forecasts').textContent())!;
      } finally {
        await page.close();
      }
    }

    it('forecasts from its dev server', async () => {
      const server = await createServer({ root: project.dir, logLevel: 'warn', server: { port: 0 } });
      try {
        await server.listen();
        expectGoodForecasts(await forecastsAt(server.resolvedUrls!.local[0]!));
      } finally {
        await server.close();
      }
    });

    it('forecasts from its production build on a static server', async () => {
      await project.exec('npm', ['run', 'build']);
      const server = await serveStatic(join(project.dir, 'dist'));
      try {
        expectGoodForecasts(await forecastsAt(server.url()));
      } finally {
        await server.close();
      }
    });
  });
});
