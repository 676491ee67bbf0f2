#!/usr/bin/env node
// Runs a TypeScript entry point in Node through Vite's SSR loader, so it can import WGSL with `?raw`
// exactly as the library and the tests do:   node scripts/vite-run.mjs bench/node.ts [args...]
import { resolve } from 'node:path';
import { createServer } from 'vite';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/vite-run.mjs FILE.ts [args...]');
  process.exit(2);
}
process.argv = [process.argv[0], resolve(entry), ...args];
const server = await createServer({ logLevel: 'error', server: { middlewareMode: true, hmr: false }, appType: 'custom' });
try {
  // In Node, devices come from Dawn's `webgpu` package, as the package's `node` entry arranges.
  const { installNodeGpu } = await server.ssrLoadModule('/src/gpu/node-adapter.ts');
  installNodeGpu();
  await server.ssrLoadModule(resolve(entry));
} finally {
  await server.close();
}
