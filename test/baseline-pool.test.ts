import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { ConfigError } from '../src/errors.ts';
import { cpuBackend } from '../src/backends/cpu.ts';
import { syntheticSeries, toSeries } from '../src/data/datasets.ts';
import {
  BASELINES,
  baselineForecast,
  forgetBaselineFits,
  prefitBaselines,
  setBaselineFitter,
  type BaselineFitter,
  type BaselineRequest,
} from '../src/forecast/baselines/index.ts';
import { Forecaster } from '../src/forecast/forecaster.ts';
import { baselineThreadCounts, startBaselinePool, useBaselinePool } from '../src/forecast/baselines/node-pool.ts';
import { baselineThreads, type BaselinePool } from '../src/forecast/baselines/pool.ts';

// The forecasting job's baselines on a pool of worker threads (src/forecast/baselines/node-pool.ts,
// which the command line and the benchmarks use) and the forecaster's hook for it
// (src/forecast/baselines/index.ts setBaselineFitter / prefitBaselines): the pool's fits are the
// library's own, bit for bit, the forecaster uses what was fitted ahead instead of fitting again, and
// a closed pool leaves no thread running.

let pool: BaselinePool;
beforeAll(async () => {
  pool = await startBaselinePool({ threads: 2 });
}, 60_000);
afterAll(async () => {
  setBaselineFitter(null);
  await pool?.close();
  expect(baselineThreadCounts().live).toBe(0);
});

const series = syntheticSeries({ count: 6, length: 48, season: 4, seed: 7 }).map(toSeries);

describe('the baseline pool', () => {
  it('fits every baseline exactly as baselineForecast does in this thread, and null where the method cannot', async () => {
    const requests: BaselineRequest[] = [
      ...series.flatMap((s) =>
        BASELINES.map((name) => ({
          name,
          history: s.y,
          horizon: 4,
          season: 4,
          levels: name === 'ets' || name === 'theta' ? [80, 95] : [],
        })),
      ),
      { name: 'ets', history: Float64Array.of(1, 2), horizon: 3, season: 4, levels: [] },
    ];
    const fits = await pool.fitter(requests);
    expect(fits).toHaveLength(requests.length);
    requests.slice(0, -1).forEach((r, i) => {
      const here = baselineForecast(r.name, r.history, r.horizon, r.season, r.levels);
      expect(fits[i], `${r.name} of series ${Math.floor(i / BASELINES.length)}`).toEqual(here);
    });
    expect(() => baselineForecast('ets', Float64Array.of(1, 2), 3, 4)).toThrow();
    expect(fits.at(-1)).toBeNull();
  });

  it('gives a backtest the same report as fitting in this thread', async () => {
    const backtest = async () => {
      const f = Forecaster.create({ backend: cpuBackend, horizon: 4, season: 4, ensemble: 1, hiddenSize: 3, combine: ['ets', 'theta'] });
      const r = await f.backtest(series, { epochs: 1 });
      return r.rows.map((row) => ({
        forecast: Array.from(row.forecast),
        baselines: BASELINES.map((n) => Array.from(row.baselines[n].forecast)),
      }));
    };
    setBaselineFitter(null);
    forgetBaselineFits();
    const here = await backtest();
    let asked = 0;
    forgetBaselineFits();
    setBaselineFitter((requests) => ((asked += requests.length), pool.fitter(requests)));
    try {
      expect(await backtest()).toEqual(here);
    } finally {
      setBaselineFitter(null);
    }
    // Every ETS and Theta fit of the job went to the pool: the held-out members, the backtest's
    // forecasts and its table (the table's ETS and Theta were the forecasts' own, fitted once).
    expect(asked).toBe(series.length * (2 + 2 + 2));
  });
});

it('a forecaster takes the fits made ahead instead of fitting again', async () => {
  // A fitter whose "ETS" forecasts 42 everywhere: where the forecaster shows 42, it used the batch.
  const fake: BaselineFitter = async (requests) =>
    requests.map((r) => (r.name === 'ets' ? { point: new Float64Array(r.horizon).fill(42), intervals: [], model: 'fake' } : null));
  forgetBaselineFits();
  setBaselineFitter(fake);
  try {
    const f = Forecaster.create({
      backend: cpuBackend,
      horizon: 4,
      season: 4,
      ensemble: 1,
      hiddenSize: 3,
      combine: ['ets'],
      weighting: 'equal',
    });
    const report = await f.backtest(series.slice(0, 2), { epochs: 1 });
    for (const row of report.rows) {
      expect(Array.from(row.baselines.ets.forecast)).toEqual([42, 42, 42, 42]);
      // The combination (equal weights) is the network's and 42's mean.
      row.forecast.forEach((v, h) => expect(v).toBeCloseTo((row.network!.forecast[h]! + 42) / 2, 9));
    }
  } finally {
    setBaselineFitter(null);
    forgetBaselineFits();
  }
});

it('fits a key once across overlapping batches, handing the fitter one batch at a time, and keeps early fits until asked for', async () => {
  const fitted: string[] = [];
  let busy = false;
  const fitter: BaselineFitter = async (requests) => {
    if (busy) throw new Error('two batches at once');
    busy = true;
    await new Promise((resolve) => setTimeout(resolve, 5));
    busy = false;
    return requests.map(
      (r) => (fitted.push(`${r.name} ${r.history.length}`), baselineForecast(r.name, r.history, r.horizon, r.season, r.levels)),
    );
  };
  forgetBaselineFits();
  setBaselineFitter(fitter);
  try {
    const ask = (name: 'ets' | 'theta', n: number) => ({ name, history: series[0]!.y.subarray(0, n), horizon: 4, season: 4, levels: [] });
    // Started early and left running, then a batch that overlaps it, then one of other fits.
    const early = prefitBaselines([ask('ets', 40), ask('theta', 40), ask('ets', 44)]);
    await Promise.all([early, prefitBaselines([ask('ets', 44), ask('theta', 44)]), prefitBaselines([ask('theta', 36)])]);
    expect(fitted).toEqual(['ets 40', 'theta 40', 'ets 44', 'theta 44', 'theta 36']);
    // The first batch's fits were kept through the later ones: asked for now, none is fitted again.
    setBaselineFitter(async () => {
      throw new Error('fitted again');
    });
    await prefitBaselines([ask('ets', 40), ask('theta', 40), ask('ets', 44)]);
  } finally {
    setBaselineFitter(null);
    forgetBaselineFits();
  }
});

/** The fitter's batches and the training's steps, in order, of a backtest, fitFromBacktest and predict on `backend`. */
async function jobOrder(software: boolean): Promise<{ order: string[]; batches: BaselineRequest[][] }> {
  const order: string[] = [];
  const batches: BaselineRequest[][] = [];
  const fitter: BaselineFitter = async (requests) => {
    order.push(`fit ${[...new Set(requests.map((r) => r.history.length))].join(',')}`);
    batches.push([...requests]);
    return requests.map((r) => baselineForecast(r.name, r.history, r.horizon, r.season, r.levels, r.model ?? null));
  };
  const backend: typeof cpuBackend = {
    ...cpuBackend,
    software,
    async createTrainEngine(setup) {
      const engine = await cpuBackend.createTrainEngine(setup);
      return Object.assign(Object.create(engine), {
        step: (...a: Parameters<typeof engine.step>) => (order.push('step'), engine.step(...a)),
        evaluate: (...a: Parameters<typeof engine.evaluate>) => (order.push('evaluate'), engine.evaluate(...a)),
      });
    },
  };
  forgetBaselineFits();
  setBaselineFitter(fitter);
  try {
    const f = Forecaster.create({ backend, horizon: 4, season: 4, ensemble: 1, hiddenSize: 3 });
    await f.backtest(series, { epochs: 1, onBaselines: () => void order.push('baselines') }, { forecast: true });
    f.fitFromBacktest(series);
    await f.predict(series);
    return { order, batches };
  } finally {
    setBaselineFitter(null);
    forgetBaselineFits();
  }
}

it("a backtest (and the forecast after it) starts its baselines' fits before its networks train", async () => {
  const { order, batches } = await jobOrder(false);
  // The held-out members' fits (48 − 4 − 4 points), the table's (48 − 4) and the forecast's Theta
  // and Naive2 (48), all under way before the training's end, each made once; then, from
  // fitFromBacktest, the forecast's ETS of the form the last fold's ETS chose (48), before predict.
  expect(order.filter((o) => o.startsWith('fit'))).toEqual(['fit 40', 'fit 44', 'fit 48', 'fit 48']);
  expect(order.indexOf('fit 40')).toBeLessThan(order.indexOf('step'));
  expect(order.indexOf('fit 48')).toBeLessThan(order.indexOf('evaluate'));
  expect(batches[2]!.map((r) => r.name).sort()).toEqual([...Array(series.length).fill('naive2'), ...Array(series.length).fill('theta')]);
  const forms = batches[3]!;
  expect(forms.map((r) => r.name)).toEqual(Array(series.length).fill('ets'));
  // Each the model automatic ETS chose on that series' last fold (its first 44 points).
  forms.forEach((r, k) => expect(r.model).toBe(baselineForecast('ets', series[k]!.y.subarray(0, 44), 4, 4).model));
});

it('on a software adapter, the backtest fits its baselines after its networks train, not beside them', async () => {
  const { order, batches } = await jobOrder(true);
  // Nothing fits while the training runs; then each phase's fits in one batch: the held-out
  // members' (40 points), the last fold's members' and the table's seasonal naive (44), and the
  // forecast's members (48): ETS of the fold's forms, Theta and Naive2.
  expect(order.filter((o) => o.startsWith('fit'))).toEqual(['fit 40', 'fit 44', 'fit 44', 'fit 48']);
  const firstFit = order.findIndex((o) => o.startsWith('fit'));
  expect(firstFit).toBeGreaterThan(order.lastIndexOf('step'));
  // onBaselines announces that phase once, when the networks have trained and before its first fit.
  expect(order.filter((o) => o === 'baselines')).toHaveLength(1);
  expect(order.indexOf('baselines')).toBe(firstFit - 1);
  expect(batches[2]!.map((r) => r.name)).toEqual(Array(series.length).fill('snaive'));
  const forecast = batches[3]!;
  expect(forecast.filter((r) => r.name === 'ets').every((r) => typeof r.model === 'string')).toBe(true);
  expect(forecast.map((r) => r.name).sort()).toEqual(['ets', 'naive2', 'theta'].flatMap((name) => Array(series.length).fill(name)));
});

describe('a pool sized to the job', () => {
  it('has a thread per core, and none for a job too small to pay for them or where one thread would run', () => {
    expect(baselineThreads(10000, 16)).toBe(16);
    expect(baselineThreads(10000, 2)).toBe(2);
    expect(baselineThreads(100, 16)).toBe(3);
    expect(baselineThreads(63, 16)).toBe(0);
    expect(baselineThreads(10000, 1)).toBe(0);
  });

  it('refuses a thread count that is not a positive whole number, before starting any', async () => {
    const before = baselineThreadCounts().started;
    for (const threads of [0, -1, 1.5, Number.NaN]) await expect(startBaselinePool({ threads })).rejects.toThrow(ConfigError);
    expect(baselineThreadCounts().started).toBe(before);
  });

  it('is installed as the fitter while in use, and its close puts the previous one back and ends its threads', async () => {
    const before = baselineThreadCounts().live;
    expect(await useBaselinePool(10, 0)).toBeNull();
    const previous: BaselineFitter = async (requests) => requests.map(() => null);
    setBaselineFitter(previous);
    const job = await useBaselinePool(series.length, 2);
    try {
      expect(job!.threads).toBe(2);
      expect(baselineThreadCounts().live).toBe(before + 2);
      // the pool, not `previous`, is the fitter now
      const installed = setBaselineFitter(null);
      expect(installed).toBe(job!.fitter);
      const request: BaselineRequest = { name: 'theta', history: series[0]!.y, horizon: 4, season: 4, levels: [] };
      expect((await installed!([request]))[0]).toEqual(baselineForecast('theta', request.history, 4, 4));
    } finally {
      await job!.close();
    }
    expect(setBaselineFitter(null)).toBe(previous);
    expect(baselineThreadCounts().live).toBe(before);
  });
});

it('webrnn backtest on a job large enough fits its baselines on a thread per core and ends them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'webrnn-pool-'));
  try {
    const many = syntheticSeries({ count: 64, length: 24, season: 4, seed: 11 });
    const rows = ['unique_id,ds,y', ...many.flatMap((d) => d.values.map((v, t) => `${d.id},${d.dates[t]},${v}`))];
    writeFileSync(join(dir, 'many.csv'), `${rows.join('\n')}\n`);
    const before = baselineThreadCounts();
    const argv = [
      'backtest',
      join(dir, 'many.csv'),
      '--horizon',
      '4',
      '--season',
      '4',
      '--cpu',
      '--epochs',
      '1',
      '--ensemble',
      '1',
      '--hidden',
      '3',
      '--quiet',
    ];
    expect(await main(argv, { out: () => {}, err: () => {} }, '9.9.9')).toBe(0);
    const after = baselineThreadCounts();
    expect(after.started - before.started).toBe(baselineThreads(64, availableParallelism()));
    expect(after.live).toBe(before.live);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
