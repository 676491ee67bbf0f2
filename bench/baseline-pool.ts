import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BaselineFitter, BaselineForecast, BaselineRequest } from '../src/forecast/baselines/index.ts';

/**
 * The statistical baselines of a forecasting job fitted on a pool of Node worker threads, one per
 * core: a {@link BaselineFitter} for src/forecast/baselines/index.ts's setBaselineFitter. Automatic
 * ETS costs about 50–100 ms a series on one core (bench/RESULTS.md), and the forecaster fits it up to
 * three times per series (the held-out members, the backtest, the final forecast), so at 10⁴–10⁵
 * series it is most of a job's wall time on one thread. Each thread runs the library's own
 * baselineForecast (bench/baseline-worker.ts), so the forecasts are the same numbers, bit for bit.
 *
 * The worker script is baseline-worker.mjs beside this module where the kit bundled them together
 * (scripts/gpu-kit.mjs), else bench/baseline-worker.ts bundled now by Vite into a temporary folder.
 */

/** The bundled worker's file name. */
export const BASELINE_WORKER = 'baseline-worker.mjs';

/** Requests per message: messages cost little beside ETS's milliseconds, and small chunks keep the threads evenly busy. */
const CHUNK = 8;

export interface BaselinePool {
  readonly threads: number;
  readonly fitter: BaselineFitter;
  /** Ends the threads (a pending batch rejects). */
  close(): Promise<void>;
}

/** The worker script: beside this module in the kit's bundle, else built from the sources (see the module comment). */
export async function baselineWorkerFile(): Promise<string> {
  const beside = fileURLToPath(new URL(`./${BASELINE_WORKER}`, import.meta.url));
  if (existsSync(beside)) return beside;
  const bundler = '../scripts/bundle-node.mjs'; // a variable: the kit's bundle never reaches here, nor carries Vite
  const { bundleForNode } = (await import(/* @vite-ignore */ new URL(bundler, import.meta.url).href)) as {
    bundleForNode(o: { root: string; entry: string; outDir: string; fileName: string }): Promise<string>;
  };
  const root = fileURLToPath(new URL('..', import.meta.url));
  return bundleForNode({
    root,
    entry: 'bench/baseline-worker.ts',
    outDir: mkdtempSync(join(tmpdir(), 'webrnn-baseline-worker-')),
    fileName: BASELINE_WORKER,
  });
}

/** Starts `threads` workers running `workerFile`. */
export async function startBaselinePool(threads: number, workerFile?: string): Promise<BaselinePool> {
  if (!Number.isInteger(threads) || threads < 1)
    throw new RangeError(`a baseline pool needs a positive whole number of threads, got ${threads}`);
  const file = workerFile ?? (await baselineWorkerFile());
  const workers = Array.from({ length: threads }, () => new Worker(file));
  let failure: Error | null = null;
  let batch: {
    chunks: BaselineRequest[][];
    next: number;
    done: number;
    results: (BaselineForecast | null)[][];
    resolve: () => void;
    reject: (e: Error) => void;
  } | null = null;

  const send = (w: Worker) => {
    if (!batch || batch.next >= batch.chunks.length) return;
    const id = batch.next++;
    w.postMessage({ id, requests: batch.chunks[id] });
  };
  const fail = (e: Error) => {
    failure ??= e;
    batch?.reject(e);
    batch = null;
  };
  for (const w of workers) {
    w.on('message', ({ id, forecasts }: { id: number; forecasts: (BaselineForecast | null)[] }) => {
      if (!batch) return;
      batch.results[id] = forecasts;
      if (++batch.done === batch.chunks.length) {
        batch.resolve();
        batch = null;
      } else {
        send(w);
      }
    });
    w.on('error', (e) => fail(new Error(`a baseline worker failed: ${e.message}`)));
    w.on('exit', (code) => {
      if (code !== 0) fail(new Error(`a baseline worker exited with code ${code}`));
    });
  }

  const fitter: BaselineFitter = async (requests) => {
    if (failure) throw failure;
    if (batch) throw new Error('the baseline pool fits one batch at a time');
    if (requests.length === 0) return [];
    const chunks: BaselineRequest[][] = [];
    for (let i = 0; i < requests.length; i += CHUNK) chunks.push(requests.slice(i, i + CHUNK));
    const results: (BaselineForecast | null)[][] = new Array(chunks.length);
    await new Promise<void>((resolve, reject) => {
      batch = { chunks, next: 0, done: 0, results, resolve, reject };
      for (const w of workers) send(w);
    });
    return results.flat();
  };

  return {
    threads,
    fitter,
    async close() {
      fail(new Error('the baseline pool was closed'));
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
