// One thread of bench/baseline-pool.ts's pool: fits the baselines it is sent with the library's own
// baselineForecast and posts the forecasts back (null where the method cannot fit the history).
// `npm run gpu-kit` bundles it beside kit.mjs as baseline-worker.mjs; from the sources,
// bench/baseline-pool.ts builds it the same way.
import { parentPort } from 'node:worker_threads';
import { baselineForecast, type BaselineForecast, type BaselineRequest } from '../src/forecast/baselines/index.ts';

parentPort?.on('message', ({ id, requests }: { id: number; requests: BaselineRequest[] }) => {
  const forecasts = requests.map((r): BaselineForecast | null => {
    try {
      return baselineForecast(r.name, r.history, r.horizon, r.season, r.levels);
    } catch {
      return null; // the caller fits it again itself and reports the error as it always does
    }
  });
  parentPort!.postMessage({ id, forecasts });
});
