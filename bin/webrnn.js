#!/usr/bin/env node
// The `webrnn` command. The TypeScript sources (which import WGSL files) are bundled by `vite build`
// into dist/cli/bin.js; npm runs that build on install from git and on pack (the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli/bin.js', import.meta.url));
if (!existsSync(cli)) {
  console.error('webrnn: dist/cli/bin.js is missing; run `npm run build` in the webrnn package first');
  process.exit(1);
}
await import(cli);
