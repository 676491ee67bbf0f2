import type { Browser } from 'playwright';
import { createServer, type ViteDevServer } from 'vite';
import { launchChromium } from './chromium.ts';

/** The Vite dev server of `npm start` on a free port, and the system Chromium to open its pages. */
export interface PageServer {
  /** The server's URL of `path` (e.g. `bench.html`). */
  url(path?: string): string;
  browser: Browser;
  close(): Promise<void>;
}

/**
 * Vite's dependency scan starts from the HTML pages and does not follow `new Worker(new URL(…))`:
 * packages only a worker imports (the benchmark's, the forecasting app's: the engine's webgpu-utils)
 * would be found while the page runs, and Vite would reload the page under the test. Naming the
 * workers as entries has them optimized up front, as vite.config.ts does for `npm start`.
 */
const SCAN_ENTRIES = ['*.html', 'bench/page/worker.ts', 'app/worker.ts'];

export async function startPageServer(): Promise<PageServer> {
  const server: ViteDevServer = await createServer({
    configFile: 'vite.config.ts',
    logLevel: 'warn',
    server: { port: 0, strictPort: false },
    optimizeDeps: { entries: SCAN_ENTRIES },
  });
  await server.listen();
  const browser = await launchChromium();
  return {
    url: (path = '') => new URL(path, server.resolvedUrls!.local[0]!).href,
    browser,
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}
