import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '../src/errors.ts';
import { mae, mase, metrics, overall, rmse, seasonalNaive, smape } from '../src/forecast/metrics.ts';
import { fitScaler, scale, unscale } from '../src/forecast/scaling.ts';

// Forecast metrics, the seasonal-naive baseline and per-series scalers against numpy
// (test/golden/make_forecast_metrics.py) and hand calculation.

interface Case {
  history: number[]; actual: number[]; forecast: number[]; season: number;
  mae: number; rmse: number; smape: number; mase: number; seasonalNaive: number[];
  standard: [number, number]; minmax: [number, number]; robust: [number, number];
}
const golden = JSON.parse(readFileSync(new URL('./data/forecast/metrics.json', import.meta.url), 'utf8')) as { cases: Case[] };

describe('forecast metrics', () => {
  golden.cases.forEach((c, i) => {
    it(`match numpy: case ${i} (n=${c.history.length}, h=${c.actual.length}, season ${c.season})`, () => {
      const m = metrics(c.actual, c.forecast, c.history, c.season);
      expect(m.mae).toBeCloseTo(c.mae, 12);
      expect(m.rmse).toBeCloseTo(c.rmse, 12);
      expect(m.smape).toBeCloseTo(c.smape, 10);
      expect(m.mase).toBeCloseTo(c.mase, 12);
      expect(Array.from(seasonalNaive(c.history, c.actual.length, c.season))).toEqual(c.seasonalNaive);
      for (const kind of ['standard', 'minmax', 'robust'] as const) {
        const s = fitScaler(kind, c.history);
        expect(s.shift).toBeCloseTo(c[kind][0], 12);
        expect(s.scale).toBeCloseTo(c[kind][1], 12);
        const back = unscale(s, scale(s, c.history));
        back.forEach((v, k) => expect(v).toBeCloseTo(c.history[k]!, 12));
      }
    });
  });

  it('match hand calculation', () => {
    expect(mae([1, 2, 3], [2, 2, 5])).toBe(1);
    expect(rmse([0, 0], [3, 4])).toBeCloseTo(Math.sqrt(12.5), 15);
    expect(smape([0, 2], [0, 2])).toBe(0);
    expect(smape([1], [3])).toBe(100); // 2·2 / 4
    // History 1, 2, 3, 4 with season 1: in-sample naive MAE 1, so MASE = MAE.
    expect(mase([5, 7], [6, 7], [1, 2, 3, 4], 1)).toBe(0.5);
    expect(mase([5], [6], [3, 3, 3], 1)).toBeNull(); // a constant history scales by 0: undefined
    expect(Array.from(seasonalNaive([1, 2, 3, 4, 5, 6], 5, 4))).toEqual([3, 4, 5, 6, 3]);
    expect(Array.from(seasonalNaive([1, 2, 3], 2, 1))).toEqual([3, 3]);
    const o = overall([{ mae: 1, rmse: 1, smape: 10, mase: null }, { mae: 3, rmse: 7, smape: 30, mase: 2 }]);
    expect(o).toEqual({ mae: 2, rmse: 5, smape: 20, mase: 2 });
    expect(overall([{ mae: 1, rmse: 1, smape: 10, mase: null }]).mase).toBeNull();
  });

  it('scales constant series by 1 and rejects bad input with typed errors', () => {
    expect(fitScaler('standard', [4, 4, 4])).toEqual({ kind: 'standard', shift: 4, scale: 1 });
    expect(fitScaler('minmax', [4, 4])).toEqual({ kind: 'minmax', shift: 4, scale: 1 });
    expect(() => fitScaler('zscore' as never, [1])).toThrow(ConfigError);
    expect(() => fitScaler('standard', [])).toThrow(ShapeError);
    expect(() => fitScaler('robust', [1, NaN])).toThrow(/non-finite value \(NaN\) at 1/);
    expect(() => mae([1, 2], [1])).toThrow(ShapeError);
    expect(() => seasonalNaive([1, 2], 3, 12)).toThrow(/needs 12 points of history/);
  });
});
