/// <reference types="vitest/config" />
import { playwright } from '@vitest/browser-playwright';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { chromiumArgs, chromiumPath } from './test/helpers/chromium.ts';

/**
 * One config for the three things Vite does here:
 *  - `npm start`: the dev server for the page in index.html;
 *  - `vite build`: the library (dist/webrnn.js, browser and Node) and the CLI (dist/cli.js);
 *  - `vitest`: two projects in one run, Node (Dawn's `webgpu` package) and Chromium (Playwright).
 */

const executablePath = chromiumPath();

export default defineConfig({
  // vega-datasets exports only its index (which fetches from a CDN); its files are imported from
  // the package folder itself, as strings (`?raw`), so they ship inside the bundle and work offline.
  resolve: {
    alias: { 'vega-datasets/data': fileURLToPath(new URL('./node_modules/vega-datasets/data', import.meta.url)) },
  },
  // The benchmark page's worker imports ONNX Runtime Web and TF.js, the forecasting app's papaparse;
  // Vite's dependency scan does not follow `new Worker(new URL(...))`, so name them, or the first
  // visit reloads the page mid-run.
  optimizeDeps: { entries: ['*.html', 'bench/page/worker.ts', 'app/worker.ts'] },
  build: {
    target: 'es2022',
    sourcemap: true,
    lib: {
      entry: { webrnn: 'src/index.ts', cli: 'src/cli/bin.ts' },
      formats: ['es'],
    },
    rollupOptions: {
      external: ['webgpu', /^node:/],
    },
  },
  test: {
    testTimeout: 300_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.browser.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          // The GPU tests run here too; pure-CPU and Node-only tests run once, in Node.
          include: ['test/**/*.gpu.test.ts', 'test/**/*.browser.test.ts'],
          fileParallelism: false,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            instances: [{ browser: 'chromium' }],
            provider: playwright({
              launchOptions: { ...(executablePath ? { executablePath } : {}), args: chromiumArgs },
            }),
          },
        },
      },
    ],
  },
});
