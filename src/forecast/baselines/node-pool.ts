import { existsSync, mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { baselineThreads, type BaselinePool, checkThreads, createBaselinePool, installBaselinePool } from './pool.ts';

/**
 * The baseline pool (./pool.ts) on Node's worker_threads, for the command line and the benchmarks.
 * The thread's script is ./node-worker.ts, found as:
 * - `node-worker.js` beside this module in the built package (dist/forecast/baselines/);
 * - `baseline-worker.mjs` beside it where the GPU run kit bundled both into one folder
 *   (scripts/gpu-kit.mjs: kit.mjs and baseline-worker.mjs);
 * - else, in a checkout of the repository (tests, `scripts/vite-run.mjs`), bundled from the sources
 *   by Vite into a temporary folder, once per process.
 *
 * @module
 */

export type { BaselinePool } from './pool.ts';

/** The worker script's names beside this module: the package's build, the GPU run kit's bundle. */
const WORKER_FILES = ['node-worker.js', 'baseline-worker.mjs'];

let bundled: Promise<string> | null = null;

/**
 * This module's URL, held in a variable: Vite rewrites `new URL(literal, import.meta.url)` into an
 * asset import (a template literal into one for every file of the folder), and these paths are
 * files to look for at run time, not assets to bundle.
 */
const here = import.meta.url;

/** The worker script (see the module comment). */
export function baselineWorkerFile(): Promise<string> {
  for (const name of WORKER_FILES) {
    const beside = fileURLToPath(new URL(name, here));
    if (existsSync(beside)) return Promise.resolve(beside);
  }
  // a checkout of the repository: the package never reaches here, nor carries Vite or scripts/
  bundled ??= (async () => {
    const { bundleForNode } = (await import(/* @vite-ignore */ new URL('../../../scripts/bundle-node.mjs', here).href)) as {
      bundleForNode(o: { root: string; entry: string; outDir: string; fileName: string }): Promise<string>;
    };
    return bundleForNode({
      root: fileURLToPath(new URL('../../..', here)),
      entry: 'src/forecast/baselines/node-worker.ts',
      outDir: mkdtempSync(join(tmpdir(), 'webrnn-baseline-worker-')),
      fileName: 'baseline-worker.mjs',
    });
  })();
  return bundled;
}

const threadCounts = { started: 0, live: 0 };

/** How many pool threads this process has started, and how many run now (tests check that pools end theirs). @internal */
export function baselineThreadCounts(): { started: number; live: number } {
  return { ...threadCounts };
}

/** Options of {@link startBaselinePool}. */
export interface NodePoolOptions {
  /** Threads; default one per core (`os.availableParallelism()`). */
  threads?: number;
  /** The worker script; default {@link baselineWorkerFile}. */
  workerFile?: string;
}

/** Starts a pool of worker threads fitting baselines; {@link BaselinePool.close} ends them. */
export async function startBaselinePool(options: NodePoolOptions = {}): Promise<BaselinePool> {
  const threads = options.threads ?? availableParallelism();
  checkThreads(threads);
  const file = options.workerFile ?? (await baselineWorkerFile());
  return createBaselinePool(threads, ({ answer, fail }) => {
    const w = new Worker(file);
    threadCounts.started++;
    threadCounts.live++;
    w.on('message', answer);
    w.on('error', (e) => fail(new Error(`a baseline worker failed: ${e.message}`)));
    w.on('exit', (code) => {
      threadCounts.live--;
      if (code !== 0) fail(new Error(`a baseline worker exited with code ${code}`));
    });
    return {
      post: (task) => w.postMessage(task),
      // resolves on the thread's exit (terminate's own promise can settle before the 'exit' event)
      terminate: () => new Promise((resolve) => (w.threadId < 0 ? resolve(0) : (w.once('exit', resolve), void w.terminate()))),
    };
  });
}

/**
 * Installs a pool of worker threads sized to a job of `series` series and this machine
 * ({@link baselineThreads}: one per core, none for a small job) as the library's baseline fitter
 * ({@link installBaselinePool}); resolves to its handle, whose `close` puts the previous fitter back and
 * ends the threads, or to null where the job is too small for a pool. The forecasts are the same
 * with it or without it.
 */
export async function useBaselinePool(
  series: number,
  threads = baselineThreads(series, availableParallelism()),
): Promise<BaselinePool | null> {
  return threads < 1 ? null : installBaselinePool(await startBaselinePool({ threads }));
}
