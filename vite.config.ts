/// <reference types="vitest/config" />
import { existsSync } from 'node:fs';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vite';

/**
 * One config for the three things Vite does here:
 *  - `npm start`: the dev server for the page in index.html;
 *  - `vite build`: the library (dist/webrnn.js, browser and Node) and the CLI (dist/cli.js);
 *  - `vitest`: two projects in one run, Node (Dawn's `webgpu` package) and Chromium (Playwright).
 */

/** The system Chromium, which the browser tests drive instead of a downloaded one. */
function chromiumPath(): string | undefined {
  const candidates = [process.env.WEBRNN_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  return candidates.find((p): p is string => !!p && existsSync(p));
}

/** True when the machine has a GPU device node, so Chromium should use the hardware adapter. */
function hasGpuDevice(): boolean {
  return existsSync('/dev/nvidia0') || existsSync('/dev/dri/renderD128');
}

/**
 * Chromium flags that give a working navigator.gpu on Linux. Without a GPU, SwiftShader (Vulkan on
 * the CPU) is forced; with one, Chromium picks the hardware adapter. The last three flags keep
 * Chromium from dialling out on a closed network.
 */
export const chromiumArgs = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  ...(hasGpuDevice() ? [] : ['--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader']),
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const executablePath = chromiumPath();

export default defineConfig({
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
