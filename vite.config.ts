/// <reference types="vitest/config" />
import { playwright } from '@vitest/browser-playwright';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { chromiumArgs, chromiumPath } from './test/helpers/chromium.ts';
import pkg from './package.json' with { type: 'json' };

/**
 * One config for the three things Vite does here:
 *  - `npm start`: the dev server for the page in index.html;
 *  - `vite build`: the library (dist/webrnn.js, browser and Node) and the CLI (dist/cli.js);
 *  - `vitest`: two projects in one run, Node (Dawn's `webgpu` package) and Chromium (Playwright).
 */

const executablePath = chromiumPath();

/** What the library imports at run time rather than inlines: its dependencies and peers (webgpu). */
const packageDependencies = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];

/**
 * Where a module of the library build goes in dist/: sources as in src/ (Rolldown names them relative
 * to `preserveModulesRoot`), the shaders and package.json under their path in the repository, and
 * inlined dependencies under vendor/ (npm never packs a folder named node_modules). Rolldown names a
 * module outside src/ by its absolute path without the leading slash.
 */
function libFileName(name: string): string {
  const vendored = name.split('node_modules/');
  if (vendored.length > 1) return `vendor/${vendored.at(-1)}`;
  const root = fileURLToPath(new URL('.', import.meta.url)).slice(1);
  return name.startsWith(root) ? name.slice(root.length) : name;
}

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
  // The library: one file per source module (dist/ mirrors src/), so a consumer's bundler keeps only
  // the modules an app reaches (package.json's `sideEffects` lets it drop the rest); unminified, so
  // class names (`DeviceError`, `ElmanRNN`) and stack traces read as in the sources. Entries:
  // index (browsers, the default), node (adds Dawn's adapter), onnx/index (`webrnn/onnx`), cli/bin,
  // forecast/baselines/node-worker (a thread of the command line's baseline pool).
  // Dependencies (papaparse, protobufjs) and the peer webgpu stay imports; the vega-datasets files
  // (data, from a 42 MB package) are inlined under dist/vendor/.
  build: {
    target: 'es2022',
    sourcemap: true,
    minify: false,
    lib: {
      entry: ['src/index.ts', 'src/node.ts', 'src/onnx/index.ts', 'src/cli/bin.ts', 'src/forecast/baselines/node-worker.ts'],
      formats: ['es'],
    },
    rollupOptions: {
      external: [/^node:/, ...packageDependencies.map((name) => new RegExp(`^${name}(/|$)`))],
      output: {
        preserveModules: true,
        preserveModulesRoot: 'src',
        entryFileNames: (chunk) => `${libFileName(chunk.name)}.js`,
      },
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
          setupFiles: ['test/helpers/node-gpu.ts', 'test/helpers/tune-off.ts'],
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.browser.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          setupFiles: ['test/helpers/tune-off.ts'],
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
