#!/usr/bin/env node
// The package's declarations: `tsc -p tsconfig.build.json` writes dist/**/*.d.ts beside the
// JavaScript of `vite build`, then the relative import paths in them are rewritten from `.ts` (as the
// sources write them) to `.js`, the files that ship, so every TypeScript version and resolution mode
// (NodeNext, Bundler) resolves them. TypeScript's rewriteRelativeImportExtensions rewrites the
// JavaScript it emits, not declarations.
import { execFileSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(root, 'node_modules', '.bin', 'tsc');
execFileSync(tsc, ['-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

const dist = join(root, 'dist');
const relativeTs = /(["'])(\.{1,2}\/[^"']*?)\.ts\1/g;
for (const entry of await readdir(dist, { recursive: true })) {
  if (!entry.endsWith('.d.ts')) continue;
  const path = join(dist, entry);
  const text = await readFile(path, 'utf8');
  const rewritten = text.replace(relativeTs, '$1$2.js$1');
  if (rewritten !== text) await writeFile(path, rewritten);
}
