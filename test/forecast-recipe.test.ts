import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.ts';
import type { Series } from '../src/forecast/frame.ts';
import { calibrate, checkLevels, conformalIntervals } from '../src/forecast/intervals.ts';
import { coverage } from '../src/forecast/metrics.ts';
import {
  prepare,
  seasonPositions,
  seriesScale,
  toSeriesUnits,
  windowLevel,
  writeInputs,
  type WindowOptions,
} from '../src/forecast/windows.ts';
import { mulberry32 } from '../src/util/rng.ts';

// The forecaster's recipe pieces (src/forecast/windows.ts, src/forecast/intervals.ts) on series whose
// right answer is known: a pure seasonal series, a multiplicative one, a level shift.

const base: WindowOptions = {
  scaling: 'window',
  transform: 'none',
  season: 4,
  inputSize: 8,
  horizon: 4,
  calendar: false,
  exog: [],
  deseasonalize: false,
  level: 'season',
};
const series = (y: number[], ds?: string[]): Series => ({
  id: 's',
  ds: ds ?? y.map((_, t) => String(t)),
  y: Float64Array.from(y),
  exog: {},
});

describe('window normalisation', () => {
  it('makes a pure seasonal series the same at every level: inputs relative to the last season, in units of its seasonal change', () => {
    // Period 4 with a trend of 1 per step: the seasonal change y_t − y_{t−4} is 4 everywhere.
    const pattern = [0, 3, 1, 2];
    const y = Array.from({ length: 40 }, (_, t) => 100 + t + pattern[t % 4]!);
    const p = prepare(series(y), 40, base);
    // The values are first divided by a power of two near their largest (143 → 128): exact.
    expect(p.unit).toBe(128);
    expect(p.scale * p.unit).toBe(4);
    const at = (end: number) => {
      const x = new Float32Array(8);
      writeInputs(p, end, windowLevel(p, end, base), base, x, 0);
      return Array.from(x);
    };
    // Windows one season apart, at levels 16 apart, read the same.
    expect(at(12)).toEqual(at(28));
    // The level is the mean of the last season: (y_8 … y_11) = 108 + 9, 108 + 1.5 + ... ⇒ mean 111.
    expect(windowLevel(p, 12, base) * p.unit).toBe((108 + 0 + 109 + 3 + 110 + 1 + 111 + 2) / 4);
    // Model outputs map back exactly: z → level + c·z.
    expect(Array.from(toSeriesUnits(p, 111 / 128, [0, 0.25, -1, 2]))).toEqual([111, 112, 107, 119]);
  });

  it('takes logs of a multiplicative series so that its windows look alike at every scale', () => {
    const y = Array.from({ length: 48 }, (_, t) => 10 * 1.05 ** t * (1 + 0.5 * Math.sin((2 * Math.PI * t) / 4)));
    const o: WindowOptions = { ...base, transform: 'log' };
    const p = prepare(series(y), 48, o);
    expect(p.log).toBe(true);
    const x1 = new Float32Array(8);
    const x2 = new Float32Array(8);
    writeInputs(p, 16, windowLevel(p, 16, o), o, x1, 0);
    writeInputs(p, 40, windowLevel(p, 40, o), o, x2, 0);
    for (let t = 0; t < 8; t++) expect(x2[t]).toBeCloseTo(x1[t]!, 5);
    // exp undoes the log: the level itself maps back to the geometric mean of the last season.
    const level = windowLevel(p, 48, o);
    const back = toSeriesUnits(p, level, [0])[0]!;
    expect(back).toBeCloseTo(Math.exp(y.slice(44).reduce((a, v) => a + Math.log(v), 0) / 4), 9);
    // A series with a value ≤ 0 cannot take logs: it is modelled as it is.
    expect(prepare(series([1, 2, 0, 3, ...y]), 52, o).log).toBe(false);
  });

  it('deseasonalises a multiplicative seasonal series so that a zero output is the Naive2 forecast: its exact continuation', () => {
    const pattern = [0.8, 1.3, 1.1, 0.8];
    const y = Array.from({ length: 40 }, (_, t) => 50 * pattern[t % 4]!);
    const o: WindowOptions = { ...base, deseasonalize: true, level: 'last' };
    const p = prepare(series(y), 40, o);
    expect(p.seasonal).not.toBeNull();
    const x = new Float32Array(8);
    writeInputs(p, 40, windowLevel(p, 40, o), o, x, 0);
    for (const v of x) expect(Math.abs(v)).toBeLessThan(1e-9);
    const back = toSeriesUnits(p, windowLevel(p, 40, o), [0, 0, 0, 0]);
    back.forEach((v, h) => expect(v).toBeCloseTo(y[h]!, 9));
    // Not seasonal by the M4 test (noise: no autocorrelation at lag 4): left as it is.
    const rand = mulberry32(7);
    expect(prepare(series(Array.from({ length: 40 }, () => 10 + rand())), 40, o).seasonal).toBeNull();
  });

  it('follows a level shift: windows after the shift are measured from the new level', () => {
    const y = Array.from({ length: 40 }, (_, t) => (t < 20 ? 10 : 50) + (t % 4));
    const p = prepare(series(y), 40, base);
    expect(windowLevel(p, 40, base) * p.unit).toBe(51.5);
    expect(windowLevel(p, 16, base) * p.unit).toBe(11.5);
    // The scale counts the shift once among 36 seasonal changes of 0: (4 × 40) / 36.
    expect(p.scale * p.unit).toBeCloseTo((4 * 40) / 36, 12);
  });

  it('divides values near ±1.8e308 by a power of two first, so levels and scales stay finite and map back exactly', () => {
    const y = Array.from({ length: 24 }, (_, t) => (t % 2 ? 1.7e308 : -1.7e308));
    const p = prepare(series(y), 24, base);
    expect(p.unit).toBe(2 ** 1023);
    expect(Number.isFinite(p.scale)).toBe(true);
    expect(toSeriesUnits(p, windowLevel(p, 24, base), [1])[0]).toBeCloseTo(p.scale * p.unit, -300);
  });

  it('falls back to a scale from the size of a constant series, and to 1 for zeros', () => {
    expect(seriesScale(new Float64Array(12).fill(5), 4)).toBeCloseTo(0.05, 15);
    expect(seriesScale(new Float64Array(12), 4)).toBe(1);
  });

  it('reads season positions from the calendar, so every series agrees on what January and Monday are', () => {
    const months = ['2021-03-01', '2021-04-01', '2021-05-01'];
    expect(Array.from(seasonPositions({ ds: months }, 12, 12))).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 1]);
    // 2024-01-01 was a Monday (0); 2024-01-06 a Saturday (5).
    expect(Array.from(seasonPositions({ ds: ['2024-01-06', '2024-01-07'] }, 7, 4))).toEqual([5, 6, 0, 1]);
    expect(Array.from(seasonPositions({ ds: ['2024-01-01T22:00:00', '2024-01-01T23:00:00'] }, 24, 3))).toEqual([22, 23, 0]);
    expect(Array.from(seasonPositions({ ds: ['2020Q3', '2020Q4'] }, 4, 3))).toEqual([2, 3, 0]);
    // Integers: their value modulo the season.
    expect(Array.from(seasonPositions({ ds: ['13', '14'] }, 12, 3))).toEqual([1, 2, 3]);
  });

  it('adds sine and cosine of the season position as inputs, for the history and the horizon', () => {
    const ds = Array.from({ length: 16 }, (_, t) => `2020-${String((t % 12) + 1).padStart(2, '0')}-01`).map((d, t) =>
      t >= 12 ? d.replace('2020', '2021') : d,
    );
    const o: WindowOptions = { ...base, season: 12, calendar: true };
    const p = prepare(
      series(
        Array.from({ length: 16 }, (_, t) => t + 1),
        ds,
      ),
      16,
      o,
    );
    expect(p.extra).toHaveLength(2);
    expect(p.extra[0]!.length).toBe(16 + 4);
    expect(p.extra[0]![3]).toBeCloseTo(Math.sin((2 * Math.PI * 3) / 12), 15); // April
    expect(p.extra[1]![12]).toBeCloseTo(1, 15); // January again
  });
});

describe('conformal intervals', () => {
  it('cover held-out errors at their level when the new errors are exchangeable with them', () => {
    const rand = mulberry32(3);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    const H = 6;
    const draw = () =>
      Array.from({ length: 400 }, () => ({
        actual: Float64Array.from({ length: H }, () => gauss() * 2),
        forecast: new Float64Array(H),
        scale: 2,
      }));
    const cal = calibrate(draw(), H, [80, 95])!;
    // The standard normal's 80 % and 95 % two-sided quantiles: 1.2816 and 1.9600.
    expect(cal.q[0]![0]).toBeGreaterThan(1.1);
    expect(cal.q[0]![0]).toBeLessThan(1.45);
    expect(cal.q[1]![0]).toBeGreaterThan(1.75);
    expect(cal.q[1]![0]).toBeLessThan(2.2);
    const test = draw();
    for (const [k, level] of [
      [0, 0.8],
      [1, 0.95],
    ] as const) {
      const cover =
        test.reduce((a, r) => {
          const iv = conformalIntervals(r.forecast, r.scale, cal)[k]!;
          return a + coverage(r.actual, iv.lo, iv.hi);
        }, 0) / test.length;
      expect(Math.abs(cover - level), `coverage ${cover} at ${level}`).toBeLessThan(0.03);
    }
  });

  it('pooled over steps below 100 windows, cover at their level when errors grow as a random walk', () => {
    // Exchangeable windows whose error at step h is a sum of h independent normals (sd √h): the
    // pooled scores |e_h|/√h are then identically distributed, and the conformal quantile covers at
    // its level on average over calibrations (60 windows each: pooled, not per step).
    const rand = mulberry32(7);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    const H = 6;
    const draw = () =>
      Array.from({ length: 60 }, () => {
        let walk = 0;
        return { actual: Float64Array.from({ length: H }, () => (walk += gauss())), forecast: new Float64Array(H), scale: 1 };
      });
    const covered = [0, 0];
    const rounds = 200;
    for (let r = 0; r < rounds; r++) {
      const cal = calibrate(draw(), H, [80, 95])!;
      // Pooled: q_h = q_1·√h exactly (before the non-decreasing pass, which √h already satisfies).
      expect(cal.q[0]![3]).toBeCloseTo(cal.q[0]![0]! * 2, 12);
      for (const w of draw())
        conformalIntervals(w.forecast, w.scale, cal).forEach((iv, k) => (covered[k]! += coverage(w.actual, iv.lo, iv.hi) / 60 / rounds));
    }
    expect(Math.abs(covered[0]! - 0.8), `80 %: ${covered[0]}`).toBeLessThan(0.02);
    expect(Math.abs(covered[1]! - 0.95), `95 %: ${covered[1]}`).toBeLessThan(0.02);
  });

  it('gives nested intervals that never narrow with the horizon, pooled over steps for few series', () => {
    const held = [{ actual: Float64Array.from([1, 0, 3, 0]), forecast: new Float64Array(4), scale: 1 }];
    const cal = calibrate(held, 4, [50, 90])!;
    for (const q of cal.q) for (let h = 1; h < 4; h++) expect(q[h]).toBeGreaterThanOrEqual(q[h - 1]!);
    for (let h = 0; h < 4; h++) expect(cal.q[1]![h]).toBeGreaterThanOrEqual(cal.q[0]![h]!);
    // Pooled: the scores |e_h| / √(h+1) are 1, 0, √3, 0; the 90 % order statistic of 4 is the largest.
    expect(cal.q[1]![0]).toBeCloseTo(Math.sqrt(3), 12);
    const [iv] = conformalIntervals([10, 10, 10, 10], 2, cal);
    expect(iv!.lo[0]).toBeLessThan(10);
    expect(iv!.hi[0]! - 10).toBeCloseTo(10 - iv!.lo[0]!, 12);
  });

  it('checks levels', () => {
    expect(checkLevels([95, 80])).toEqual([80, 95]);
    expect(() => checkLevels([80, 100])).toThrow(ConfigError);
    expect(() => checkLevels([80, 80])).toThrow(/levels names 80 twice/);
    expect(() => checkLevels('80')).toThrow(ConfigError);
  });
});
