import { defineConfig } from 'vite';
import shared from './vite.config.ts';

/**
 * `npm run build:app`: the pages `npm start` serves (the forecasting app in index.html, the kernel
 * page and the benchmark page it links to) as static files in dist-app/, for any static host and any
 * folder: `base: './'` makes every URL in the output relative, so the folder works at a domain's root
 * and under a path (GitHub Pages' /webrnn/) alike. The library build and the dev server keep
 * vite.config.ts; only its `resolve` is shared (vega-datasets' data files, bundled as strings so the
 * app's built-in data needs no network).
 */
export default defineConfig({
  base: './',
  resolve: shared.resolve,
  build: {
    outDir: 'dist-app',
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: { input: { index: 'index.html', kernel: 'kernel.html', bench: 'bench.html' } },
  },
  // The app's worker imports code that is split into chunks, which a classic-script worker cannot load.
  worker: { format: 'es' },
});
