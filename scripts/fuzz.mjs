#!/usr/bin/env node
// `npm run fuzz -- --runs N [--seed S] [--kind csv|model|api] [--property NAME --path P] [--no-gpu] [--json FILE]`:
// the fuzzing suite's long runs (test/fuzz/main.ts, which documents the flags), run in a child
// process that this one watches. A case that hangs asynchronously fails inside the run (each has a
// time limit); one that hangs synchronously (an endless loop) cannot be stopped from inside, so the
// child reports every input it starts to a progress file and, when none starts for --hang-seconds
// (default 180), this process kills it and prints the input and the command that replays it.
//
// The child loads the TypeScript through Vite's SSR loader (the library imports WGSL with `?raw`),
// as scripts/vite-run.mjs does, with Vite's WebSocket server off (a fuzz run serves nothing).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const root = resolve(here, '..', '..');

if (process.argv[2] === '--child') {
  const { createServer } = await import('vite');
  const entry = resolve(root, 'test/fuzz/main.ts');
  process.argv = [process.argv[0], entry, ...process.argv.slice(3)];
  const server = await createServer({
    root,
    logLevel: 'error',
    server: { middlewareMode: true, hmr: false, ws: false },
    appType: 'custom',
  });
  try {
    await server.ssrLoadModule(entry);
  } finally {
    await server.close();
  }
} else {
  let args = process.argv.slice(2);
  let hangSeconds = 180;
  const at = args.indexOf('--hang-seconds');
  if (at >= 0) {
    hangSeconds = Number(args[at + 1]);
    args = [...args.slice(0, at), ...args.slice(at + 2)];
    if (!(hangSeconds > 0)) {
      console.error('fuzz: --hang-seconds must be a positive number');
      process.exit(2);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'webrnn-fuzz-'));
  const progress = join(dir, 'progress');
  const child = spawn(process.execPath, [here, '--child', ...args], { stdio: 'inherit', env: { ...process.env, FUZZ_PROGRESS: progress } });
  let hung = null;
  const watchdog = setInterval(() => {
    let last;
    try {
      last = statSync(progress).mtimeMs;
    } catch {
      return; // no input started yet (setting up the device, building seeds)
    }
    if (Date.now() - last < hangSeconds * 1000) return;
    hung = readFileSync(progress, 'utf8').trim();
    child.kill('SIGKILL');
  }, 5000);
  child.on('exit', (code, signal) => {
    clearInterval(watchdog);
    rmSync(dir, { recursive: true, force: true });
    if (hung) {
      const [property, seed, index, shrinking] = hung.split(' ');
      const what = shrinking ? `a shrinking step of input ${index} of ${property}` : `input ${index} of ${property}`;
      console.error(`\nfuzz: ${what} started more than ${hangSeconds} s ago and has not finished (a hang); the run was stopped.`);
      console.error(`  replay: npm run fuzz -- --property ${property} --seed ${seed} --path ${index}`);
      process.exit(1);
    }
    process.exit(code ?? (signal ? 1 : 0));
  });
}
