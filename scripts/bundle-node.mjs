// One TypeScript entry and everything it imports bundled by Vite into one ES module for Node: WGSL
// and the data files inlined as strings, every dependency inlined except `external` (Node's own
// modules always). Used by scripts/gpu-kit.mjs (kit.mjs, baseline-worker.mjs) and, from the sources,
// by bench/baseline-pool.ts (its worker script).
import { join } from 'node:path';

/**
 * Bundles `entry` (relative to `root`) into `outDir/fileName`; resolves to that path.
 * @param {{ root: string, entry: string, outDir: string, fileName: string, external?: (string | RegExp)[] }} o
 */
export async function bundleForNode({ root, entry, outDir, fileName, external = [] }) {
  const { build } = await import('vite');
  await build({
    root,
    configFile: false,
    logLevel: 'warn',
    build: {
      ssr: join(root, entry),
      outDir,
      emptyOutDir: true,
      target: 'node20',
      minify: false,
      sourcemap: false,
      rollupOptions: {
        external: [/^node:/, ...external],
        output: { entryFileNames: fileName, codeSplitting: false },
      },
    },
    ssr: { noExternal: true, target: 'node' },
    // The accuracy benchmark's files are bundled as strings, resolved as vite.config.ts resolves them
    // (vega-datasets exports only its index).
    resolve: { alias: { 'vega-datasets/data': join(root, 'node_modules/vega-datasets/data') } },
  });
  return join(outDir, fileName);
}
