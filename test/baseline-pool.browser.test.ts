import { describe, expect, it } from 'vitest';
import { useBaselinePool } from '../app/baseline-pool.ts';
import { syntheticSeries } from '../src/data/datasets.ts';
import { BASELINES, baselineForecast, setBaselineFitter, type BaselineRequest } from '../src/forecast/baselines/index.ts';

// The app's baseline pool (app/baseline-pool.ts): Web Workers running the library's baselines give
// the fits of this thread, bit for bit, and the pool is the library's fitter only while in use.
describe("the app's baseline pool on Web Workers", () => {
  it('fits every baseline as baselineForecast does here, null where it cannot, and puts the previous fitter back on close', async () => {
    expect(useBaselinePool(10)).toBeNull();
    const requests: BaselineRequest[] = [
      ...syntheticSeries({ count: 3, length: 40, season: 4, seed: 3 }).flatMap((d) =>
        BASELINES.map((name) => ({ name, history: Float64Array.from(d.values), horizon: 4, season: 4, levels: [80] })),
      ),
      { name: 'ets', history: Float64Array.of(1, 2), horizon: 3, season: 4, levels: [] },
    ];
    const pool = useBaselinePool(requests.length, 2)!;
    try {
      expect(pool.threads).toBe(2);
      expect(setBaselineFitter(pool.fitter)).toBe(pool.fitter); // installed
      const fits = await pool.fitter(requests);
      requests
        .slice(0, -1)
        .forEach((r, i) =>
          expect(fits[i], `${r.name}, request ${i}`).toEqual(baselineForecast(r.name, r.history, r.horizon, r.season, r.levels)),
        );
      expect(fits.at(-1)).toBeNull();
    } finally {
      await pool.close();
    }
    expect(setBaselineFitter(null)).toBeNull();
    await expect(pool.fitter(requests)).rejects.toThrow('closed');
  });

  it("fits the same from inside a worker, where the app's forecasting worker starts it", async () => {
    const requests: BaselineRequest[] = syntheticSeries({ count: 4, length: 40, season: 4, seed: 5 }).map((d) => ({
      name: 'ets',
      history: Float64Array.from(d.values),
      horizon: 4,
      season: 4,
      levels: [80, 95],
    }));
    const worker = new Worker(new URL('./helpers/nested-baseline-pool.ts', import.meta.url), { type: 'module' });
    try {
      const fits = await new Promise<unknown>((resolve, reject) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => reject(new Error(e.message));
        worker.postMessage(requests);
      });
      expect(fits).toEqual(requests.map((r) => baselineForecast(r.name, r.history, r.horizon, r.season, r.levels)));
    } finally {
      worker.terminate();
    }
  });
});
