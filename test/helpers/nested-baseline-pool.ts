/// <reference lib="webworker" />
// A worker that fits baselines on the app's pool (app/baseline-pool.ts) from inside itself, as the
// app's forecasting worker does: Web Workers started by a worker. test/baseline-pool.browser.test.ts
// sends it requests and compares the fits with the page's own.
import { useBaselinePool } from '../../app/baseline-pool.ts';
import type { BaselineRequest } from '../../src/forecast/baselines/index.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
scope.onmessage = async (e: MessageEvent<BaselineRequest[]>) => {
  const pool = useBaselinePool(e.data.length, 2)!;
  try {
    scope.postMessage(await pool.fitter(e.data));
  } finally {
    await pool.close();
  }
};
