import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '../src/errors.ts';
import { coverage, mae, mase, metrics, msis, overall, owa, rmse, seasonalNaive, smape } from '../src/forecast/metrics.ts';
import { fitScaler, scale, unscale } from '../src/forecast/scaling.ts';

// Forecast metrics, the seasonal-naive baseline and per-series scalers against numpy
// (test/golden/make_forecast_metrics.py) and hand calculation.

interface Case {
  history: number[];
  actual: number[];
  forecast: number[];
  season: number;
  mae: number;
  rmse: number;
  smape: number;
  mase: number;
  seasonalNaive: number[];
  standard: [number, number];
  minmax: [number, number];
  robust: [number, number];
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
    const o = overall([
      { mae: 1, rmse: 1, smape: 10, mase: null },
      { mae: 3, rmse: 7, smape: 30, mase: 2 },
    ]);
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

// The M4 metrics against R (test/golden/make_stat_goldens.R: the M4 benchmark code's smape_cal and
// mase_cal, forecast::accuracy's MASE, MSIS written out from the M4 guide) on R's own Theta and
// Naive2 forecasts of real series.
interface StatCase {
  name: string;
  season: number;
  history: number[];
  actual: number[];
  naive2: number[];
  theta: { point: number[]; lo80: number[]; hi80: number[]; lo95: number[]; hi95: number[] };
  metrics: {
    thetaSmape: number;
    thetaMase: number;
    thetaMsis95: number;
    thetaMsis80: number;
    thetaCoverage80: number;
    thetaCoverage95: number;
    naive2Smape: number;
    naive2Mase: number;
  };
}
const stat = JSON.parse(readFileSync(new URL('./golden/stat-baselines.json', import.meta.url), 'utf8')) as {
  cases: StatCase[];
  owa: { model: { smape: number; mase: number }; naive2: { smape: number; mase: number }; owa: number };
};

describe('M4 metrics', () => {
  it.each(stat.cases)('match R on $name', (c) => {
    const m = c.metrics;
    const rel = (a: number | null, e: number) => Math.abs(a! - e) / Math.abs(e);
    expect(rel(smape(c.actual, c.theta.point), m.thetaSmape)).toBeLessThan(1e-13);
    expect(rel(mase(c.actual, c.theta.point, c.history, c.season), m.thetaMase)).toBeLessThan(1e-13);
    expect(rel(msis(c.actual, c.theta.lo95, c.theta.hi95, c.history, c.season, 95), m.thetaMsis95)).toBeLessThan(1e-13);
    expect(rel(msis(c.actual, c.theta.lo80, c.theta.hi80, c.history, c.season, 80), m.thetaMsis80)).toBeLessThan(1e-13);
    expect(coverage(c.actual, c.theta.lo80, c.theta.hi80)).toBeCloseTo(m.thetaCoverage80, 15);
    expect(coverage(c.actual, c.theta.lo95, c.theta.hi95)).toBeCloseTo(m.thetaCoverage95, 15);
    expect(rel(smape(c.actual, c.naive2), m.naive2Smape)).toBeLessThan(1e-13);
    expect(rel(mase(c.actual, c.naive2, c.history, c.season), m.naive2Mase)).toBeLessThan(1e-13);
  });

  it("OWA of R's Theta against R's Naive2 over the golden series matches R", () => {
    const o = stat.owa;
    expect(owa(o.model, o.naive2)).toBeCloseTo(o.owa, 14);
    // The same from the per-series metrics through overall(): means first, then the ratios.
    const theta = overall(stat.cases.map((c) => metrics(c.actual, c.theta.point, c.history, c.season)));
    const naive = overall(stat.cases.map((c) => metrics(c.actual, c.naive2, c.history, c.season)));
    expect(owa(theta, naive)).toBeCloseTo(o.owa, 12);
  });

  it('match hand calculation', () => {
    // History 1, 2, 3, 4 (season 1: scale 1). Level 80: a = 0.2, penalty 2/a = 10.
    // y = 5 inside [4, 6]: 2. y = 3 below [4, 6]: 2 + 10·1 = 12. y = 8 above [5, 7]: 2 + 10·1 = 12.
    expect(msis([5, 3, 8], [4, 4, 5], [6, 6, 7], [1, 2, 3, 4], 1, 80)).toBeCloseTo(26 / 3, 14);
    // Season 2 on 1, 5, 2, 6: seasonal differences 1, 1, scale 1; a 95 % interval missed by 0.5: 2/0.05·0.5 = 20.
    expect(msis([10], [8], [9.5], [1, 5, 2, 6], 2, 95)).toBeCloseTo(1.5 + 20, 12);
    expect(msis([5], [4], [6], [3, 3, 3], 1, 95)).toBeNull(); // a constant history: no scale
    expect(coverage([1, 2, 3, 4], [1, 0, 3.5, 0], [1, 1, 4, 5])).toBe(0.5); // bounds included
    expect(owa({ smape: 10, mase: 1 }, { smape: 20, mase: 0.5 })).toBe(1.25); // ½ (0.5 + 2)
    expect(owa({ smape: 10, mase: null }, { smape: 20, mase: 1 })).toBeNull();
    expect(owa({ smape: 10, mase: 1 }, { smape: 0, mase: 1 })).toBeNull();
  });

  it('reject bad intervals and levels with typed errors', () => {
    expect(() => msis([1, 2], [0, 0], [3, 3], [1, 2, 3], 1, 0.95)).not.toThrow(); // 0.95 % is a (narrow) level
    expect(() => msis([1, 2], [0, 0], [3, 3], [1, 2, 3], 1, 100)).toThrow(/level is a percentage between 0 and 100/);
    expect(() => msis([1, 2], [0, 0], [3, 3], [1, 2, 3], 1, 0)).toThrow(ShapeError);
    expect(() => msis([1, 2], [0, 0], [3, 3], [1, 2, 3], 0, 95)).toThrow(/season must be a positive integer/);
    expect(() => coverage([1, 2], [0], [3, 3])).toThrow(/2 actual values but 1 lower and 2 upper bounds/);
    expect(() => coverage([1, 2], [0, 4], [3, 3])).toThrow(/lower bound 4 is above its upper bound 3 at 1/);
    expect(() => coverage([1, 2], [0, NaN], [3, 3])).toThrow(/lower bound values hold a non-finite value \(NaN\) at 1/);
    expect(() => coverage([], [], [])).toThrow(ShapeError);
    expect(() => owa({ smape: NaN, mase: 1 }, { smape: 1, mase: 1 })).toThrow(/OWA needs the model's mean sMAPE/);
    expect(() => owa({ smape: 1, mase: 1 }, { smape: 1, mase: -2 })).toThrow(ShapeError);
  });
});
