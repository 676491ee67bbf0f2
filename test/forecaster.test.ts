import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backends/cpu.ts';
import { ConfigError, DataError, ModelError } from '../src/errors.ts';
import { floatTensors, readSafetensors, writeSafetensors } from '../src/io/safetensors.ts';
import { baselineForecast, setBaselineFitter } from '../src/forecast/baselines/index.ts';
import { Forecaster } from '../src/forecast/forecaster.ts';
import type { Series } from '../src/forecast/frame.ts';
import type { StackStates } from '../src/train/engine.ts';
import type { Samples } from '../src/train/data.ts';
import type { FitHistory } from '../src/train/trainer.ts';
import { mulberry32 } from '../src/util/rng.ts';

// The forecaster (src/forecast/forecaster.ts) on the float64 CPU backend: windows, scaling, the two
// strategies, global and per-series models, exogenous inputs, backtests beside seasonal naive.

/** Series with a trend, a yearly cycle (period 12) and noise; seeded. */
function synthetic(count: number, length: number, seed: number): Series[] {
  const rand = mulberry32(seed);
  return Array.from({ length: count }, (_, k) => {
    const level = 50 + 20 * rand();
    const slope = 0.3 + 0.4 * rand();
    const amp = 3 + 4 * rand();
    const y = Float64Array.from({ length }, (_, t) => level + slope * t + amp * Math.sin((2 * Math.PI * t) / 12) + 0.3 * (rand() - 0.5));
    return { id: `s${k}`, ds: Array.from({ length }, (_, t) => String(t)), y, exog: {} };
  });
}

const fit = { epochs: 15 };

describe('Forecaster', () => {
  it('backtests a global recursive LSTM and beats seasonal naive on trending seasonal series', async () => {
    const series = synthetic(6, 96, 1);
    const f = Forecaster.create({
      backend: cpuBackend,
      horizon: 6,
      season: 12,
      inputSize: 24,
      cell: 'lstm',
      hiddenSize: 12,
      seed: 2,
      strategy: 'recursive',
      ensemble: 1,
      combine: [],
    });
    const report = await f.backtest(series, fit);
    expect(report.rows).toHaveLength(6);
    expect(report.rows[0]!.forecast).toHaveLength(6);
    const snaive = report.baselines.snaive;
    expect(report.model.mase, `model MASE ${report.model.mase}, seasonal naive ${snaive.mase}`).toBeLessThan(snaive.mase!);
    expect(report.model.smape).toBeLessThan(snaive.smape);
  });

  it('forecasts directly, per series, and with rolling origins', async () => {
    const series = synthetic(3, 72, 3);
    const direct = Forecaster.create({
      backend: cpuBackend,
      horizon: 4,
      season: 12,
      inputSize: 16,
      cell: 'gru',
      hiddenSize: 8,
      strategy: 'direct',
      seed: 1,
      ensemble: 1,
      combine: [],
    });
    const r1 = await direct.backtest(series, fit, { folds: 2, step: 4 });
    expect(r1.rows.map((r) => [r.id, r.fold])).toEqual([
      ['s0', 0],
      ['s1', 0],
      ['s2', 0],
      ['s0', 1],
      ['s1', 1],
      ['s2', 1],
    ]);
    expect(direct.models()).toHaveLength(1);
    expect(r1.model.mase).toBeLessThan(r1.baselines.snaive.mase!);
    // One model per series, each on its own windows (8 a batch).
    const perSeries = Forecaster.create({
      backend: cpuBackend,
      horizon: 4,
      season: 12,
      inputSize: 16,
      cell: 'gru',
      hiddenSize: 8,
      perSeries: true,
      seed: 1,
      ensemble: 1,
      combine: [],
      training: { batchSize: 8 },
    });
    const r2 = await perSeries.backtest(series, fit);
    expect(perSeries.models()).toHaveLength(3);
    expect(r2.rows.map((r) => r.id)).toEqual(['s0', 's1', 's2']);
    expect(r2.model.mase, `per-series MASE ${r2.model.mase}, seasonal naive ${r2.baselines.snaive.mase}`).toBeLessThan(
      r2.baselines.snaive.mase!,
    );
    await expect(perSeries.predict([{ ...series[0]!, id: 'other' }])).rejects.toThrow(/series other has no model of its own/);
  });

  it('with the default recipe (but the weighted mean of the network, ETS and Theta), continues a multiplicative seasonal series and a level shift, with nested intervals, weights saved and fallbacks named', async () => {
    // Known answers: a pure multiplicative season around a slow trend, and a series that shifts
    // level once and stays there. Naive2, ETS and Theta all continue both nearly exactly; the
    // deseasonalised windows make the network's zero output Naive2, so the combination must too.
    const pattern = [0.7, 0.9, 1.3, 1.1];
    const seasonalSeries = Array.from({ length: 4 }, (_, k): Series => {
      const y = Float64Array.from({ length: 64 }, (_, t) => (20 + 5 * k) * (1 + 0.002 * t) * pattern[t % 4]!);
      return { id: `m${k}`, ds: Array.from({ length: 64 }, (_, t) => String(t + 1)), y, exog: {} };
    });
    const shifted: Series = {
      id: 'shift',
      ds: Array.from({ length: 64 }, (_, t) => String(t + 1)),
      y: Float64Array.from({ length: 64 }, (_, t) => (t < 40 ? 10 : 30) * pattern[t % 4]!),
      exog: {},
    };
    const short: Series = {
      id: 'short',
      ds: Array.from({ length: 12 }, (_, t) => String(t + 1)),
      y: Float64Array.from({ length: 12 }, (_, t) => 5 * pattern[t % 4]!),
      exog: {},
    };
    // The weighted mean of the members (inverse-error), not the default weighted median: where ETS is
    // exact (MASE ~1e-13) but the members' weights are spread (ETS misses the shift's held-out
    // window), the weighted median takes the middle member, here the network (MASE 0.214 for m0);
    // the weighted mean is pulled to ETS. The default is checked by the combination tests below.
    const f = Forecaster.create({
      backend: cpuBackend,
      horizon: 4,
      season: 4,
      hiddenSize: 8,
      ensemble: 2,
      seed: 5,
      combine: ['ets', 'theta'],
      weighting: 'inverse-error',
    });
    const report = await f.backtest([...seasonalSeries, shifted, short], { epochs: 3 });
    // The shifted series: forecasts near the new level (30 times the pattern), at least three times
    // closer to it than to the old one (10 times; the shift also bends the seasonal indices a little).
    const shift = report.rows.find((r) => r.id === 'shift')!;
    shift.forecast.forEach((v, h) => {
      const p = pattern[(60 + h) % 4]!;
      expect(3 * Math.abs(v - 30 * p), `shift step ${h + 1}: ${v}`).toBeLessThan(Math.abs(v - 10 * p));
    });
    for (const row of report.rows.filter((r) => r.id !== 'short')) {
      if (row.id !== 'shift') expect(row.metrics.mase, `${row.id}: MASE ${row.metrics.mase}`).toBeLessThan(0.2);
      expect(row.method).toBe('webrnn + ETS + Theta');
      expect(row.network!.forecast).toHaveLength(4);
      const [i80, i95] = row.intervals;
      expect([i80!.level, i95!.level]).toEqual([80, 95]);
      row.forecast.forEach((v, h) => {
        expect(i95!.lo[h]).toBeLessThanOrEqual(i80!.lo[h]!);
        expect(i80!.lo[h]).toBeLessThanOrEqual(v);
        expect(v).toBeLessThanOrEqual(i80!.hi[h]!);
        expect(i80!.hi[h]).toBeLessThanOrEqual(i95!.hi[h]!);
      });
    }
    // 12 points cannot hold a window of 8, a horizon and a held-out horizon: a baseline stands in, named.
    const fallback = report.rows.find((r) => r.id === 'short')!;
    expect(fallback.method).toMatch(/\(fallback\)$/);
    expect(report.notes).toEqual([fallback.note]);
    expect(fallback.note).toMatch(/^series short has 8 points; the network needs 16 .*: forecast by (ETS|Theta|seasonal naive)$/);
    expect(report.owa).toBeGreaterThan(0);
    expect(Object.keys(report.baselines).sort()).toEqual(['ets', 'naive2', 'snaive', 'theta']);
    // Saved and loaded, the forecaster gives the same forecasts and intervals.
    await f.fit([...seasonalSeries, shifted], { epochs: 2 });
    const want = await f.predict(seasonalSeries);
    const got = await Forecaster.fromSafetensors(f.toSafetensors(), cpuBackend).predict(seasonalSeries);
    got.forEach((g, k) => {
      expect(Array.from(g.values)).toEqual(Array.from(want[k]!.values));
      expect(Array.from(g.intervals[1]!.hi)).toEqual(Array.from(want[k]!.intervals[1]!.hi));
    });
  });

  it("fitFromBacktest: forecasts with the backtest's networks, weighed by each member's MASE on the backtest's last fold", async () => {
    const series = synthetic(4, 60, 5);
    const f = Forecaster.create({ backend: cpuBackend, horizon: 4, season: 12, inputSize: 12, hiddenSize: 6, ensemble: 2, seed: 3 });
    expect(() => f.fitFromBacktest(series)).toThrow(ConfigError);
    const report = await f.backtest(series, { epochs: 2 }, { folds: 2, step: 3 });
    expect(() => f.fitFromBacktest(series.slice(1))).toThrow(ConfigError);
    f.fitFromBacktest(series);
    // The weights fit gives its held-out members (∝ 1/mean MASE), here from the last fold's rows.
    const last = report.rows.filter((r) => r.fold === 1);
    const meanMase = (pick: (r: (typeof last)[number]) => number | null) => last.reduce((a, r) => a + pick(r)! / last.length, 0);
    const inverse = [
      meanMase((r) => r.network!.metrics.mase),
      meanMase((r) => r.baselines.ets.metrics.mase),
      meanMase((r) => r.baselines.theta.metrics.mase),
      meanMase((r) => r.baselines.naive2.metrics.mase),
    ].map((m) => 1 / m);
    const weights = JSON.parse(readSafetensors(f.toSafetensors()).metadata!.weights!) as number[];
    weights.forEach((w, j) => expect(w).toBeCloseTo(inverse[j]! / inverse.reduce((a, b) => a + b), 12));
    const out = await f.predict(series);
    expect(out.map((o) => [o.values.length, o.intervals.map((iv) => iv.level)])).toEqual(series.map(() => [4, [80, 95]]));
    // A fit afterwards replaces the backtest's networks: fitFromBacktest then needs a new backtest.
    await f.fit(series, { epochs: 1 });
    expect(() => f.fitFromBacktest(series)).toThrow(ConfigError);
  });

  it("fitFromBacktest: predict's ETS member fits the form automatic ETS chose on the backtest's last fold", async () => {
    // On these series automatic ETS chooses ETS(M,A,A) for s0 from its first 56 points and ETS(A,A,A)
    // from all 60: the forecast's member is the fold's form, its parameters estimated on all 60.
    const series = synthetic(4, 60, 5);
    const H = 4;
    const forms = series.map((s) => baselineForecast('ets', s.y.subarray(0, 60 - H), H, 12).model);
    expect(forms[0]).toBe('ETS(M,A,A)');
    expect(baselineForecast('ets', series[0]!.y, H, 12).model).toBe('ETS(A,A,A)');
    const f = Forecaster.create({
      backend: cpuBackend,
      horizon: H,
      season: 12,
      inputSize: 12,
      hiddenSize: 4,
      ensemble: 1,
      seed: 3,
      combine: ['ets'],
      weighting: 'median',
    });
    await f.backtest(series, { epochs: 1 });
    f.fitFromBacktest(series);
    const out = await f.predict(series);
    out.forEach((o, k) => {
      // The median of two members is their mean: the ETS member is 2·forecast − network.
      const member = o.values.map((v, h) => 2 * v - o.network![h]!);
      const expected = baselineForecast('ets', series[k]!.y, H, 12, [], forms[k]!).point;
      member.forEach((v, h) => expect(v).toBeCloseTo(expected[h]!, 9));
    });
    // A forecaster fitted afresh chooses again: s0's member is then ETS(A,A,A)'s.
    await f.fit(series, { epochs: 1 });
    const fresh = (await f.predict(series))[0]!;
    const auto = baselineForecast('ets', series[0]!.y, H, 12).point;
    fresh.values.forEach((v, h) => expect(2 * v - fresh.network![h]!).toBeCloseTo(auto[h]!, 9));
  });

  it('a model form is ETS-only, and ETS fits the form it is given', () => {
    const y = synthetic(1, 60, 5)[0]!.y;
    expect(() => baselineForecast('theta', y, 4, 12, [], 'ETS(A,A,A)')).toThrow(/ETS's only/);
    const given = baselineForecast('ets', y, 4, 12, [], 'MAA');
    expect(given.model).toBe('ETS(M,A,A)');
    expect(baselineForecast('ets', y, 4, 12).model).toBe('ETS(A,A,A)');
    expect(() =>
      baselineForecast(
        'ets',
        Float64Array.from(y, (v) => v - 1000),
        4,
        12,
        [],
        'MAA',
      ),
    ).toThrow(DataError);
  });

  it('on many windows, trains each member on a new sample of 4,096 every epoch and stops early on 2,048 series', async () => {
    // 3,000 series: more windows per member (12,000) than an epoch reads.
    const series = synthetic(3000, 13, 6);
    const epochs: { windows: Set<string>; count: number }[] = [];
    const evaluated: number[] = [];
    const backend: typeof cpuBackend = {
      ...cpuBackend,
      async createTrainEngine(setup) {
        const engine = await cpuBackend.createTrainEngine(setup);
        return Object.assign(Object.create(engine), {
          step: (batch: Samples, states: StackStates | null) => {
            const epoch = epochs.at(-1)!;
            const width = batch.steps * batch.inputSize;
            for (let b = 0; b < batch.count; b++) epoch.windows.add(batch.x.subarray(b * width, (b + 1) * width).join());
            epoch.count += batch.count;
            return engine.step(batch, states);
          },
          evaluate: (samples: Samples) => {
            evaluated.push(samples.count);
            epochs.push({ windows: new Set(), count: 0 });
            return engine.evaluate(samples);
          },
        });
      },
    };
    epochs.push({ windows: new Set(), count: 0 });
    const f = Forecaster.create({
      backend,
      horizon: 1,
      season: 1,
      inputSize: 8,
      hiddenSize: 2,
      ensemble: 1,
      combine: ['naive2'],
      training: { batchSize: 256 },
    });
    // The fits the forecaster hands the baseline pool, by history length (12: a held-out member's).
    const asked: number[] = [];
    const previous = setBaselineFitter(async (requests) => {
      asked.push(...requests.map((r) => r.history.length));
      return requests.map((r) => baselineForecast(r.name, r.history, r.horizon, r.season, r.levels));
    });
    let history: FitHistory;
    try {
      history = await f.fit(series, { epochs: 2, patience: 5 });
    } finally {
      setBaselineFitter(previous);
    }
    expect(history.epochs).toHaveLength(2);
    expect(epochs.slice(0, 2).map((e) => e.count)).toEqual([4096, 4096]);
    // Each epoch its own draw: most windows of the second were not in the first.
    const again = [...epochs[1]!.windows].filter((w) => epochs[0]!.windows.has(w)).length;
    expect(again).toBeLessThan(0.7 * epochs[1]!.windows.size);
    expect(evaluated).toEqual([2048, 2048]);
    // The weights and the intervals read the same 2,048 series' held-out forecasts (one Naive2 fit each).
    expect(asked).toEqual(Array(2048).fill(12));
    // The forecasts still cover every series.
    expect((await f.predict(series.slice(0, 5))).map((o) => o.method)).toEqual(Array(5).fill('webrnn + Naive2'));
  });

  it('calibrates intervals on earlier windows too, forecast by Theta and Naive2 from the history before each', async () => {
    // Known answer: flat series (level 100 + 10k, noise ±0.05) that jumped by 20 once, at t = 26,
    // inside the window [24, 28), three horizons before the held-out one [36, 40). Earlier windows
    // start at 32, 28, 24 and 20 (16 would leave less than half the held-out window's 36 points of
    // history). Theta and Naive2 fitted on the points before 24 miss the jump by 20 at steps 3 and
    // 4, about 600 times that history's scale (its mean absolute change, ~0.03): 16 of the 160
    // pooled scores, so the 95 % quantile is one of them and the 95 % interval is far wider than
    // ±20. From the held-out window alone (calm, after the jump) it is far narrower.
    const rand = mulberry32(11);
    const series = Array.from({ length: 8 }, (_, k): Series => {
      const y = Float64Array.from({ length: 40 }, (_, t) => 100 + 10 * k + (t >= 26 ? 20 : 0) + 0.1 * (rand() - 0.5));
      return { id: `j${k}`, ds: Array.from({ length: 40 }, (_, t) => String(t)), y, exog: {} };
    });
    const halfWidths = async (calibrationWindows: number) => {
      const f = Forecaster.create({
        backend: cpuBackend,
        horizon: 4,
        inputSize: 8,
        hiddenSize: 4,
        ensemble: 1,
        seed: 3,
        calibrationWindows,
      });
      await f.fit(series, { epochs: 1 });
      const [first] = await f.predict(series);
      return first!.intervals.map((iv) => Array.from(iv.hi, (hi, h) => (hi - iv.lo[h]!) / 2));
    };
    const [, withEarlier] = await halfWidths(5);
    for (const w of withEarlier!) expect(w, `95 % half-widths ${withEarlier}`).toBeGreaterThan(20);
    const [, heldOnly] = await halfWidths(0);
    for (const w of heldOnly!) expect(w, `95 % half-widths ${heldOnly}`).toBeLessThan(10);
    // One earlier window (starting at 32, after the jump) leaves the jump out: narrow again.
    const [, one] = await halfWidths(1);
    for (const w of one!) expect(w, `95 % half-widths ${one}`).toBeLessThan(10);
    expect(() => Forecaster.create({ backend: cpuBackend, horizon: 4, calibrationWindows: -1 })).toThrow(
      new ConfigError('calibrationWindows must be a whole number ≥ 0, got -1'),
    );
  });

  it('combines by the median of the network, ETS and Theta at each step with weighting median', async () => {
    const series = synthetic(3, 60, 8);
    const f = Forecaster.create({
      backend: cpuBackend,
      horizon: 4,
      season: 12,
      inputSize: 24,
      hiddenSize: 4,
      ensemble: 1,
      seed: 2,
      combine: ['ets', 'theta'],
      weighting: 'median',
    });
    await f.fit(series, { epochs: 1 });
    const forecasts = await f.predict(series);
    forecasts.forEach((fc, k) => {
      const ets = baselineForecast('ets', series[k]!.y, 4, 12).point;
      const theta = baselineForecast('theta', series[k]!.y, 4, 12).point;
      fc.values.forEach((v, h) => {
        const three = [fc.network![h]!, ets[h]!, theta[h]!].sort((a, b) => a - b);
        expect(v).toBe(three[1]);
      });
    });
    expect(() => Forecaster.create({ backend: cpuBackend, horizon: 4, weighting: 'mean' as never })).toThrow(
      /weighting must be equal or inverse-error or inverse-squared-error or median or weighted-median/,
    );
  });

  it('by default combines by the median of the network, ETS, Theta and Naive2 weighted by their held-out inverse MASE', async () => {
    const series = synthetic(3, 60, 9);
    const f = Forecaster.create({ backend: cpuBackend, horizon: 4, season: 12, inputSize: 24, hiddenSize: 4, ensemble: 1, seed: 4 });
    await f.fit(series, { epochs: 1 });
    const weights = JSON.parse(readSafetensors(f.toSafetensors()).metadata!.weights!) as number[];
    expect(weights).toHaveLength(4);
    expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const forecasts = await f.predict(series);
    forecasts.forEach((fc, k) => {
      expect(fc.method).toBe('webrnn + ETS + Theta + Naive2');
      const members = [fc.network!, ...(['ets', 'theta', 'naive2'] as const).map((n) => baselineForecast(n, series[k]!.y, 4, 12).point)];
      fc.values.forEach((v, h) => {
        // The member where the weights, in the order of the members' values, first reach ½.
        const order = members.map((m, j) => [m[h]!, weights[j]!] as const).sort((a, b) => a[0] - b[0]);
        let total = 0;
        const want = order.find(([, w]) => (total += w) >= 0.5 - 1e-12)![0];
        expect(v).toBe(want);
      });
    });
  });

  it('reads exogenous inputs and needs their future values', async () => {
    const series = synthetic(2, 60, 4).map((s) => ({ ...s, exog: { month: Float64Array.from(s.y, (_, t) => t % 12) } }));
    const f = Forecaster.create({ backend: cpuBackend, horizon: 3, season: 12, inputSize: 12, hiddenSize: 6, exog: ['month'], seed: 1 });
    await f.fit(series, { epochs: 2 });
    await expect(f.predict(series)).rejects.toThrow(/needs 3 future values of month/);
    const future = Object.fromEntries(series.map((s) => [s.id, { month: [0, 1, 2] }]));
    const out = await f.predict(series, future);
    expect(out[1]!.values).toHaveLength(3);
  });

  it('reports MASE as null, not NaN, where it is undefined (a constant history), and the other metrics as numbers', async () => {
    const flat: Series = {
      id: 'flat',
      ds: Array.from({ length: 10 }, (_, t) => String(t + 1)),
      y: new Float64Array(10).fill(10),
      exog: {},
    };
    const report = await Forecaster.create({
      backend: cpuBackend,
      horizon: 1,
      season: 1,
      inputSize: 2,
      cell: 'rnn',
      hiddenSize: 1,
      ensemble: 1,
    }).backtest([flat], { epochs: 1 });
    for (const m of [report.model, report.baselines.snaive, report.rows[0]!.metrics, report.rows[0]!.baselines.snaive.metrics]) {
      expect(m.mase).toBeNull();
      for (const v of [m.mae, m.rmse, m.smape]) expect(Number.isFinite(v)).toBe(true);
    }
    expect(report.baselines.snaive.mae).toBe(0);
  });

  it('rejects bad options and data with typed errors', async () => {
    expect(() => Forecaster.create({ backend: cpuBackend, horizon: 0 })).toThrow(ConfigError);
    expect(() => Forecaster.create({ backend: cpuBackend, horizon: 2, scaling: 'log' as never })).toThrow(/unknown scaling "log"/);
    expect(() => Forecaster.create({ backend: cpuBackend, horizon: 2, strategy: 'mimo' as never })).toThrow(ConfigError);
    const f = Forecaster.create({ backend: cpuBackend, horizon: 2, inputSize: 10 });
    await expect(f.predict(synthetic(1, 20, 1))).rejects.toThrow(/fit the forecaster before predicting/);
    // A series too short for the network's windows is forecast by a baseline, and says so.
    await f.fit(synthetic(1, 8, 1), fit);
    const [fallback] = await f.predict(synthetic(1, 8, 1));
    expect(fallback!.method).toMatch(/\(fallback\)$/);
    expect(fallback!.note).toMatch(
      /^series s0 has 8 points; the network needs 14 \(input 10 \+ horizon 2 \+ a held-out horizon of 2\): forecast by (ETS|Theta|seasonal naive)$/,
    );
    expect(fallback!.values).toHaveLength(2);
    await expect(f.fit([], fit)).rejects.toThrow(DataError);
    // Series built by hand are checked as the CSV readers check theirs (issue 12): a ds shorter than
    // y, stamps out of order and a NaN value are DataErrors naming the series, in fit, predict and backtest.
    const [good] = synthetic(1, 20, 1);
    const short = { ...good!, ds: good!.ds.slice(0, 2) };
    await expect(f.fit([short], fit)).rejects.toThrow(new DataError('series s0 has 2 time stamps (ds) for 20 values (y)'));
    await expect(f.backtest([short], fit)).rejects.toThrow(/series s0 has 2 time stamps/);
    const swapped = { ...good!, ds: good!.ds.map((d, i) => (i === 4 ? '6' : i === 5 ? '5' : d)) };
    await expect(f.fit([swapped], fit)).rejects.toThrow(/series s0: the time stamps are not in increasing order: ds\[5\] = 5 follows 6/);
    const nan = { ...good!, y: good!.y.map((v, i) => (i === 3 ? NaN : v)) };
    await expect(f.fit([nan], fit)).rejects.toThrow(/series s0: y\[3\] is NaN, not a finite number/);
    await f.fit([good!], { epochs: 1 });
    await expect(f.predict([short])).rejects.toThrow(/series s0 has 2 time stamps/);
    // Options and saved files the fuzzing suite found accepted, then failing untyped (TypeError,
    // RangeError) in predict: checked up front now.
    expect(() => Forecaster.create({ backend: cpuBackend, horizon: 2, exog: 'lstm' as never })).toThrow(
      new ConfigError('exog must be an array of names, got "lstm"'),
    );
    expect(() => Forecaster.create({ backend: cpuBackend, horizon: 2, exog: ['a', 'a'] })).toThrow(/exog names a twice/);
    expect(() => Forecaster.create({ backend: cpuBackend, horizon: 2 ** 31 })).toThrow(
      /horizon must be a positive integer up to 1048576, got 2147483648/,
    );
    expect(() => Forecaster.create({ backend: cpuBackend, horizon: 2, perSeries: 'yes' as never })).toThrow(ConfigError);
    const saved = readSafetensors(f.toSafetensors());
    const resaved = (metadata: Record<string, string>) => writeSafetensors(floatTensors(saved), { ...saved.metadata, ...metadata });
    expect(Forecaster.fromSafetensors(resaved({}), cpuBackend)).toBeInstanceOf(Forecaster);
    for (const [metadata, message] of [
      [{ ids: '-1' }, /metadata is invalid: ids must be an array of names, got -1/],
      [{ ids: '{}' }, /ids must be an array of names/],
      [{ options: '3' }, /options are not an object/],
      [{ options: JSON.stringify({ horizon: 2, exog: 'lstm' }) }, /metadata is invalid: exog must be an array of names/],
      [{ options: JSON.stringify({ horizon: 2, cell: 'transformer' }) }, /metadata is invalid: .*transformer/],
    ] as const) {
      expect(() => Forecaster.fromSafetensors(resaved(metadata), cpuBackend), JSON.stringify(metadata)).toThrow(ModelError);
      expect(() => Forecaster.fromSafetensors(resaved(metadata), cpuBackend)).toThrow(message);
    }
  });
});
