import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backends/cpu.ts';
import { DataError, ShapeError } from '../src/errors.ts';
import { Forecaster, type ForecasterOptions } from '../src/forecast/forecaster.ts';
import type { Series } from '../src/forecast/frame.ts';
import { mae, metrics, overall, rmse, seasonalNaiveScale } from '../src/forecast/metrics.ts';
import { fitScaler, scale, unscale } from '../src/forecast/scaling.ts';
import { mulberry32 } from '../src/util/rng.ts';

// Extreme but finite values through scaling, forecasting and scoring (issue 12): no forecast or
// metric is ever non-finite without an error. Before, values around 1e200 with standard scaling
// gave Infinity forecasts (the variance overflowed), around 1e308 a "non-finite value (NaN)" error
// though every input was finite, and values beyond float32 with scaling 'none' the same.

/** Seasonal series with a trend, times `unit`; seeded. */
function seasonal(count: number, length: number, unit: number, seed = 1): Series[] {
  const rand = mulberry32(seed);
  return Array.from({ length: count }, (_, k) => {
    const level = 50 + 20 * rand();
    const amp = 3 + 4 * rand();
    const y = Float64Array.from(
      { length },
      (_, t) => unit * (level + 0.3 * t + amp * Math.sin((2 * Math.PI * t) / 12) + 0.3 * (rand() - 0.5)),
    );
    return { id: `s${k}`, ds: Array.from({ length }, (_, t) => String(t + 1)), y, exog: {} };
  });
}

const options = (o: Partial<ForecasterOptions> = {}): ForecasterOptions => ({
  backend: cpuBackend,
  horizon: 4,
  season: 12,
  inputSize: 12,
  cell: 'gru',
  hiddenSize: 6,
  seed: 3,
  ...o,
});
const fit = { epochs: 2 };

describe('scaling and metrics of extreme finite values', () => {
  it('fits standard, minmax and robust scalers on values near ±1.8e308 without overflow', () => {
    const huge = [1.7e308, -1.7e308, 1e308, -5e307, 0];
    const s = fitScaler('standard', huge);
    expect(Number.isFinite(s.shift) && Number.isFinite(s.scale)).toBe(true);
    // The same as the scaler of the values divided by 1e300, times 1e300.
    const small = fitScaler(
      'standard',
      huge.map((v) => v / 1e300),
    );
    expect(s.shift / 1e300).toBeCloseTo(small.shift, 6);
    expect(s.scale / 1e300).toBeCloseTo(small.scale, 6);
    const z = scale(s, huge);
    z.forEach((v) => expect(Math.abs(v)).toBeLessThan(3));
    unscale(s, z).forEach((v, i) => expect(v / huge[i]! || 0).toBeCloseTo(huge[i] === 0 ? 0 : 1, 12));
    // minmax's range 3.4e308 is beyond float64: a typed error, not an Infinity scale.
    expect(() => fitScaler('minmax', huge)).toThrow(/range .* beyond float64's range/);
    // q75 − q25 = 1.45e308 − 1.15e308, each a weighted mean of two order statistics (no difference).
    expect(fitScaler('robust', [1e308, 1.2e308, 1.4e308, 1.6e308]).scale / 3e307).toBeCloseTo(1, 12);
  });

  it('scores forecasts of values near 1e308 with finite metrics where the metric is finite', () => {
    const history = [1e308, 1.2e308, 0.9e308, 1.1e308];
    const actual = [1.3e308, 1.0e308];
    const forecast = [1.1e308, 1.1e308];
    const m = metrics(actual, forecast, history, 1);
    expect(m.mae).toBeCloseTo(1.5e307, -300);
    expect(m.rmse).toBeCloseTo(Math.sqrt((0.2 ** 2 + 0.1 ** 2) / 2) * 1e308, -300);
    expect(m.mase).toBeCloseTo(1.5e307 / seasonalNaiveScale(history, 1), 12);
    expect(Number.isFinite(seasonalNaiveScale(history, 1))).toBe(true);
    expect(Number.isFinite(overall([m, m]).rmse)).toBe(true);
    // An error beyond float64 is Infinity (the forecaster turns it into a DataError naming the series)…
    expect(mae([1.7e308], [-1.7e308])).toBe(Infinity);
    expect(rmse([1e200], [-1e200])).toBeCloseTo(2e200, -190);
    // …and non-finite inputs are typed errors.
    expect(() => mae([1, NaN], [1, 2])).toThrow(ShapeError);
  });
});

describe('Forecaster on extreme finite values', () => {
  it('forecasts series around 1e200 (standard scaling) as 2^664 times the forecast of the same series around 1', async () => {
    // 2^664 ≈ 1.2e200: a power of two, so the huge series is the small one with other exponents and
    // every method must give exactly proportional forecasts. (Times 1e200 the values' last bits differ,
    // and automatic ETS may then pick another of two near-tied models, as R's ets would.)
    const unit = seasonal(3, 60, 1);
    const huge = seasonal(3, 60, 2 ** 664);
    const a = Forecaster.create(options({ scaling: 'standard' }));
    const b = Forecaster.create(options({ scaling: 'standard' }));
    await a.fit(unit, fit);
    await b.fit(huge, fit);
    const small = await a.predict(unit);
    const large = await b.predict(huge);
    large.forEach((fc, k) =>
      fc.values.forEach((v, h) => {
        expect(Number.isFinite(v)).toBe(true);
        expect(v / 2 ** 664).toBeCloseTo(small[k]!.values[h]!, 4);
      }),
    );
    const report = await Forecaster.create(options()).backtest(huge, fit);
    for (const m of [report.model, ...Object.values(report.baselines)])
      for (const v of Object.values(m)) expect(Number.isFinite(v)).toBe(true);
  });

  it('forecasts series near 1e307 with finite values, and names the series whose forecast leaves float64', async () => {
    const near = seasonal(2, 48, 2e305);
    const f = Forecaster.create(options());
    await f.fit(near, fit);
    (await f.predict(near)).forEach((fc) => fc.values.forEach((v) => expect(Number.isFinite(v)).toBe(true)));
    // A series that leaps from 0 to 1.7e308 and back: its scaled forecast, times a standard deviation
    // near 8e307, plus a mean near 3e307, can pass 1.8e308; either a finite forecast or the error.
    const leap = { id: 'leap', ds: near[0]!.ds, y: Float64Array.from(near[0]!.y, (_, t) => (t % 12 < 3 ? 1.7e308 : 0)), exog: {} };
    const g = Forecaster.create(options({ scaling: 'minmax' }));
    await g.fit([leap], fit);
    try {
      (await g.predict([leap]))[0]!.values.forEach((v) => expect(Number.isFinite(v)).toBe(true));
    } catch (e) {
      expect(e).toBeInstanceOf(DataError);
      expect((e as Error).message).toMatch(/^series leap: forecast \d+ is -?Infinity/);
    }
  });

  it('refuses values beyond float32 with scaling none, and spreads beyond float64, naming the series', async () => {
    const beyond = seasonal(2, 40, 1e37);
    await expect(Forecaster.create(options({ scaling: 'none' })).fit(beyond, fit)).rejects.toThrow(
      /^series s0: the value [\d.e+]+ at index \d+ scales \(none\) to [\d.e+]+, beyond float32's range/,
    );
    await expect(Forecaster.create(options({ scaling: 'none' })).fit(beyond, fit)).rejects.toThrow(DataError);
    const spread = seasonal(1, 40, 1)[0]!;
    spread.y[3] = 1.7e308;
    spread.y[4] = -1.7e308;
    await expect(
      Forecaster.create(options({ scaling: 'minmax' })).fit([seasonal(1, 40, 1, 9)[0]!, { ...spread, id: 'wide' }], fit),
    ).rejects.toThrow(/^series wide: the series' range .* is beyond float64's range: use standard scaling/);
    // Standard scaling of the same series works, and its forecasts are finite.
    const f = Forecaster.create(options());
    await f.fit([{ ...spread, id: 'wide' }], fit);
    (await f.predict([{ ...spread, id: 'wide' }]))[0]!.values.forEach((v) => expect(Number.isFinite(v)).toBe(true));
  });
});
