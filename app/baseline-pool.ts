import { type BaselinePool, baselineThreads, createBaselinePool, installBaselinePool } from '../src/forecast/baselines/pool.ts';

/**
 * The app's baselines on Web Workers started by its forecasting worker (app/worker.ts), one per
 * core (`navigator.hardwareConcurrency`), none for a small run: the library's baseline pool
 * (src/forecast/baselines/pool.ts) installed as its fitter for one run, so that automatic ETS, most
 * of a large run's time on one thread, runs on every core. The forecasts are the same numbers as
 * when the worker fits them itself. Returns null where the run is too small for a pool (or `threads`
 * is 0).
 */
export function useBaselinePool(
  series: number,
  threads = baselineThreads(series, navigator.hardwareConcurrency ?? 1),
): BaselinePool | null {
  if (threads < 1) return null;
  const pool = createBaselinePool(threads, ({ answer, fail }) => {
    const w = new Worker(new URL('./baseline-worker.ts', import.meta.url), { type: 'module', name: 'baselines' });
    w.onmessage = (e) => answer(e.data);
    w.onerror = (e) => fail(new Error(`a baseline worker failed: ${e.message}`));
    return { post: (task) => w.postMessage(task), terminate: async () => w.terminate() };
  });
  return installBaselinePool(pool);
}
