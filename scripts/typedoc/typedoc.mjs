#!/usr/bin/env node
// `npm run docs`: runs TypeDoc with the arguments given, from the repository root (typedoc.json).
//
// Why a package of its own: TypeDoc reads the sources through TypeScript's JavaScript compiler API,
// and its peer range stops at TypeScript 6.0; the repository's typescript@7 is the Go port, which
// has no such API. Declared here as dependencies, TypeDoc and TypeScript 5.9 are installed in this
// folder's node_modules, where TypeDoc finds its TypeScript, while the repository's `tsc` stays 7.
// TypeDoc only documents: type errors are `npm run typecheck`'s (typedoc.json: skipErrorChecking).
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const cli = join(dirname(require.resolve('typedoc/package.json')), 'bin', 'typedoc');
fork(cli, process.argv.slice(2), { stdio: 'inherit' }).on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
