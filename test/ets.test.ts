import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DataError, ShapeError } from '../src/errors.ts';
import { autoEts, forecastFit } from '../src/forecast/baselines/ets.ts';
import { admissible, finishFit, fitEtsModel, rootsWithin } from '../src/forecast/baselines/ets-fit.ts';
import { decomposeSeasonal, leastSquares, mean } from '../src/forecast/baselines/ets-init.ts';
import { normalQuantile } from '../src/forecast/baselines/normal.ts';
import { type EtsSpec, etsName, parseEtsCode, pointForecast } from '../src/forecast/baselines/ets-model.ts';
import { nelderMead } from '../src/forecast/baselines/ets-optim.ts';
import { expectClose } from '../src/util/compare.ts';
import { mulberry32 } from '../src/util/rng.ts';

// Automatic ETS against R's forecast::ets (test/golden/make_ets_goldens.R, forecast 8.20 with
// upstream's class1 fix), known answers on synthetic series, and bad input.

interface GoldenFit {
  model: string;
  par: { alpha: number; beta?: number; gamma?: number; phi?: number };
  initstate: number[];
  loglik: number;
  aic: number;
  aicc: number;
  bic: number;
  sigma2: number;
  fitted: number[];
  finalstate: number[];
  point: number[];
  intervals: { level: number; lo: number[]; hi: number[] }[];
}
interface GoldenSeries {
  name: string;
  season: number;
  horizon: number;
  y: number[];
  fixed: GoldenFit[];
  auto: GoldenFit;
}
const golden = JSON.parse(readFileSync(new URL('./golden/ets-goldens.json', import.meta.url), 'utf8')) as {
  levels: number[];
  series: GoldenSeries[];
};

/**
 * The equations with R's own parameters: the same arithmetic in the same order, so only the last
 * bits of log() and of the interval algebra's summation order differ (~1e-15 observed); 1e-9 leaves
 * room for that and nothing else.
 */
const EXACT = { atol: 0, rtol: 1e-9 };
/**
 * Our own fits against R's. They take R's search step for step (same starting values to the bit,
 * same Nelder–Mead, same criterion, same parameter space), and agree with R's to ~1e-13 today; the
 * AICc may exceed R's by at most 1e-6 relative (≈ 0.001 on these series, a thousandth of what
 * tells models apart) and forecasts may differ by 1e-6 relative, so a change that moves a fit off
 * R's path fails here.
 */
const FIT_RTOL = 1e-6;

function specOf(model: string): EtsSpec {
  const spec = parseEtsCode(model);
  if (!spec) throw new Error(`bad model ${model}`);
  return spec;
}

describe('ETS against R forecast::ets', () => {
  for (const s of golden.series) {
    for (const g of s.fixed) {
      it(`${s.name} ${g.model}: R's parameters give R's likelihood, fitted values, forecasts and intervals`, () => {
        const spec = specOf(g.model);
        const m = spec.season === 'N' ? 1 : s.season;
        const par = { alpha: g.par.alpha, beta: g.par.beta ?? 0, gamma: g.par.gamma ?? 0, phi: g.par.phi ?? 1 };
        const fit = finishFit(s.y, spec, m, par, Float64Array.from(g.initstate));
        expectClose([fit.loglik, fit.aic, fit.aicc, fit.bic, fit.sigma2], [g.loglik, g.aic, g.aicc, g.bic, g.sigma2], EXACT, 'criteria');
        expectClose(fit.fitted, g.fitted, EXACT, 'fitted');
        expectClose(fit.finalState, g.finalstate, EXACT, 'final state');
        const f = forecastFit(fit, s.horizon, golden.levels);
        expect(f.model).toBe(g.model);
        expectClose(f.point, g.point, EXACT, 'point');
        g.intervals.forEach((iv, k) => {
          expect(f.intervals[k]!.level).toBe(iv.level);
          expectClose(f.intervals[k]!.lo, iv.lo, EXACT, `lo ${iv.level}`);
          expectClose(f.intervals[k]!.hi, iv.hi, EXACT, `hi ${iv.level}`);
        });
      });

      it(`${s.name} ${g.model}: our fit reaches R's AICc`, () => {
        const fit = fitEtsModel(s.y, specOf(g.model), s.season);
        expect(fit).not.toBeNull();
        expect(fit!.aicc).toBeLessThanOrEqual(g.aicc + FIT_RTOL * Math.abs(g.aicc));
      });
    }

    it(`${s.name}: automatic selection chooses R's model with R's AICc and forecasts`, () => {
      const f = autoEts(s.y, s.horizon, s.season, { levels: golden.levels });
      expect(f.model).toBe(s.auto.model);
      expect(f.aicc).toBeLessThanOrEqual(s.auto.aicc + FIT_RTOL * Math.abs(s.auto.aicc));
      const tol = { atol: 0, rtol: FIT_RTOL };
      expectClose(f.point, s.auto.point, tol, 'point');
      s.auto.intervals.forEach((iv, k) => {
        expectClose(f.intervals[k]!.lo, iv.lo, tol, `lo ${iv.level}`);
        expectClose(f.intervals[k]!.hi, iv.hi, tol, `hi ${iv.level}`);
      });
      expectClose(f.params.initialState, s.auto.initstate, tol, 'initial state');
      expect(f.params.alpha).toBeCloseTo(s.auto.par.alpha, 6);
    });
  }
});

/** Seeded noise, uniform on [−a, a]. */
function noise(seed: number, n: number, a: number): Float64Array {
  const rand = mulberry32(seed);
  return Float64Array.from({ length: n }, () => a * (2 * rand() - 1));
}

describe('ETS on synthetic series with known answers', () => {
  it('a pure additive seasonal series: a seasonal model, forecasts on the pattern, intervals around it', () => {
    const n = 120;
    const m = 12;
    const pattern = Array.from({ length: m }, (_, j) => 10 * Math.sin((2 * Math.PI * j) / m) + (j === 3 ? 5 : 0));
    const e = noise(1, n, 0.5);
    const y = Float64Array.from({ length: n }, (_, t) => 50 + pattern[t % m]! + e[t]!);
    const f = autoEts(y, 24, m);
    expect(f.model).toMatch(/,[AM]\)$/);
    const truth = Float64Array.from({ length: 24 }, (_, h) => 50 + pattern[(n + h) % m]!);
    expectClose(f.point, truth, { atol: 0.5, rtol: 0 }, 'point vs pattern');
    const i95 = f.intervals.find((iv) => iv.level === 95)!;
    for (let h = 0; h < 24; h++) {
      expect(i95.lo[h]).toBeLessThan(truth[h]!);
      expect(i95.hi[h]).toBeGreaterThan(truth[h]!);
      // noise sd 0.5/√3 ≈ 0.29: the one-step 95 % half-width is about 1.96·0.29 ≈ 0.57
      expect(i95.hi[h]! - i95.lo[h]!).toBeLessThan(2 * 1.96 * 0.29 * 2);
    }
  });

  it('a multiplicative seasonal series with trend: multiplicative season, forecasts within 2 %', () => {
    const n = 144;
    const m = 12;
    const e = noise(2, n, 0.01);
    const curve = (t: number) => (100 + 2 * t) * (1 + 0.3 * Math.sin((2 * Math.PI * t) / m));
    const y = Float64Array.from({ length: n }, (_, t) => curve(t) * (1 + e[t]!));
    const f = autoEts(y, 12, m);
    expect(f.model).toMatch(/^ETS\(M,Ad?,M\)$/);
    const truth = Float64Array.from({ length: 12 }, (_, h) => curve(n + h));
    expectClose(f.point, truth, { atol: 0, rtol: 0.02 }, 'point vs curve');
  });

  it('a linear trend: a trend model that continues the line', () => {
    const n = 60;
    const e = noise(3, n, 0.2);
    const y = Float64Array.from({ length: n }, (_, t) => 10 + 0.5 * t + e[t]!);
    const f = autoEts(y, 10, 1);
    expect(f.model).toMatch(/^ETS\([AM],Ad?,N\)$/);
    const truth = Float64Array.from({ length: 10 }, (_, h) => 10 + 0.5 * (n + h));
    expectClose(f.point, truth, { atol: 0.6, rtol: 0 }, 'point vs line');
    expect(f.params.beta).toBeGreaterThan(0);
  });

  it('a constant series: a flat forecast with zero-width intervals (R answers with SES, α ≈ 1)', () => {
    const f = autoEts(new Float64Array(30).fill(7), 5, 12);
    expect(Array.from(f.point)).toEqual([7, 7, 7, 7, 7]);
    expect(Array.from(f.intervals[0]!.lo)).toEqual([7, 7, 7, 7, 7]);
    expect(f.model).toBe('ETS(A,N,N)');
  });

  it('seasons above 24 fall back to non-seasonal models, as R does for an automatic model', () => {
    const n = 400;
    const e = noise(4, n, 1);
    const y = Float64Array.from({ length: n }, (_, t) => 100 + 10 * Math.sin((2 * Math.PI * t) / 52) + e[t]!);
    expect(autoEts(y, 10, 52).model).toMatch(/,N\)$/);
    expect(() => autoEts(y, 10, 52, { models: ['ANA'] })).toThrow(DataError);
  });

  it('non-positive data get additive errors only; a series shorter than its season gets no season', () => {
    const y = Float64Array.from({ length: 40 }, (_, t) => Math.sin(t) * 5 + (t % 4));
    expect(autoEts(y, 4, 4).model).toMatch(/^ETS\(A,/);
    const short = Float64Array.from({ length: 10 }, (_, t) => 20 + t + (t % 3));
    expect(autoEts(short, 3, 12).model).toMatch(/,N\)$/);
  });

  it('options restrict the candidates: models and damped', () => {
    const y = golden.series[0]!.y; // AirPassengers
    expect(autoEts(y, 12, 12, { models: ['MAM', 'MNM'] }).model).toMatch(/^ETS\(M,[AN],M\)$/);
    expect(autoEts(y, 12, 12, { damped: false }).model).not.toContain('Ad');
    expect(autoEts(y, 12, 12, { models: ['ETS(A,Ad,A)'] }).model).toBe('ETS(A,Ad,A)');
  });

  it('a 7,000-point daily series (season 7) fits the whole set and forecasts', () => {
    const n = 7000;
    const e = noise(5, n, 3);
    const y = Float64Array.from({ length: n }, (_, t) => (200 + 0.01 * t) * (1 + 0.2 * Math.sin((2 * Math.PI * t) / 7)) + e[t]!);
    const f = autoEts(y, 14, 7);
    expect(f.model).toMatch(/,[AM]\)$/);
    for (const v of f.point) expect(Number.isFinite(v)).toBe(true);
  });
});

describe('ETS pieces', () => {
  it('normalQuantile matches R qnorm', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 15);
    expect(normalQuantile(0.9)).toBeCloseTo(1.2815515655446004, 15);
    expect(normalQuantile(0.005)).toBeCloseTo(-2.5758293035489004, 14);
    expect(normalQuantile(0.5)).toBe(0);
  });

  it('rootsWithin agrees with roots known in closed form', () => {
    const rand = mulberry32(11);
    for (let k = 0; k < 200; k++) {
      // (z − r1)(z − r2) with real roots, or a complex pair of modulus ρ
      if (k % 2 === 0) {
        const r1 = 2.4 * rand() - 1.2;
        const r2 = 2.4 * rand() - 1.2;
        expect(rootsWithin([1, -(r1 + r2), r1 * r2], 1)).toBe(Math.max(Math.abs(r1), Math.abs(r2)) < 1);
      } else {
        const rho = 1.4 * rand();
        const theta = Math.PI * rand();
        expect(rootsWithin([1, -2 * rho * Math.cos(theta), rho * rho], 1)).toBe(rho < 1);
      }
    }
    // z^12 − 0.9^12: twelve roots of modulus 0.9
    const c = new Array<number>(13).fill(0);
    c[0] = 1;
    c[12] = -(0.9 ** 12);
    expect(rootsWithin(c, 1)).toBe(true);
    expect(rootsWithin(c, 0.89)).toBe(false);
  });

  it('admissible: the usual ETS(A,N,A) region holds, a γ beyond 1 − α does not', () => {
    const spec = specOf('ANA');
    expect(admissible(spec, 12, { alpha: 0.3, beta: 0, gamma: 0.1, phi: 1 })).toBe(true);
    expect(admissible(spec, 12, { alpha: 0.5, beta: 0, gamma: 1.6, phi: 1 })).toBe(false);
    expect(admissible(specOf('AAdN'), 1, { alpha: 0.5, beta: 0.3, gamma: 0, phi: 0.9 })).toBe(true);
    expect(admissible(specOf('AAN'), 1, { alpha: 0.5, beta: 3.1, gamma: 0, phi: 1 })).toBe(false);
  });

  it('mean is correctly rounded where a float64 sum is not', () => {
    const x = [0.1, 0.2, 0.3, 0.4, 1e16, -1e16];
    expect(mean(x, 0, x.length)).toBe(1 / 6);
    expect(mean([-901, 822, 209, 880, 809, 491, -573, -1031, 225, -777], 0, 10)).toBe(15.4);
  });

  it('leastSquares and decomposeSeasonal on exact data', () => {
    const t = Float64Array.from({ length: 20 }, (_, i) => i + 1);
    const [a, b] = leastSquares(
      [new Float64Array(20).fill(1), t],
      Float64Array.from(t, (v) => 3 - 2 * v),
    );
    expect(a).toBeCloseTo(3, 12);
    expect(b).toBeCloseTo(-2, 12);
    const pattern = [1, -2, 4, -3];
    const y = Float64Array.from({ length: 24 }, (_, i) => 10 + 0.5 * i + pattern[i % 4]!);
    const s = decomposeSeasonal(y, 4, 'A');
    for (let i = 0; i < 24; i++) expect(s[i]).toBeCloseTo(pattern[i % 4]!, 12);
  });

  it('nelderMead finds the minimum of a shifted quadratic', () => {
    const r = nelderMead((x) => (x[0]! - 3) ** 2 + 10 * (x[1]! + 1) ** 2 + 5, [0, 0], 1e-12, 5000);
    expect(r.code).toBe(0);
    expect(r.value).toBeCloseTo(5, 8);
    expect(r.x[0]).toBeCloseTo(3, 3);
    expect(r.x[1]).toBeCloseTo(-1, 3);
  });

  it('model codes and names', () => {
    expect(parseEtsCode('MAdM')).toEqual({ error: 'M', trend: 'A', damped: true, season: 'M' });
    expect(parseEtsCode('ETS(A,N,A)')).toEqual({ error: 'A', trend: 'N', damped: false, season: 'A' });
    expect(parseEtsCode('MMN')).toBeNull();
    expect(etsName(specOf('AAdN'))).toBe('ETS(A,Ad,N)');
    // damped point forecasts: l + (φ + φ²)·b at h = 2, times the season one cycle back
    const f = pointForecast([10, 2, 1.1, 0.9], specOf('MAdM'), 2, 0.5, 3);
    expect(Array.from(f)).toEqual([(10 + 0.5 * 2) * 0.9, (10 + 0.75 * 2) * 1.1, (10 + 0.875 * 2) * 0.9]);
  });
});

describe('ETS bad input', () => {
  const y = Float64Array.from({ length: 30 }, (_, t) => 10 + (t % 4));
  it('horizon, season and levels must be valid', () => {
    expect(() => autoEts(y, 0, 4)).toThrow(ShapeError);
    expect(() => autoEts(y, 1.5, 4)).toThrow(/horizon must be a positive integer/);
    expect(() => autoEts(y, 4, 0)).toThrow(/season must be a positive integer/);
    expect(() => autoEts(y, 4, 2.5)).toThrow(ShapeError);
    expect(() => autoEts(y, 4, 4, { levels: [100] })).toThrow(/levels/);
    expect(() => autoEts(y, 4, 4, { levels: [0] })).toThrow(ShapeError);
  });
  it('values must be finite and the series long enough', () => {
    const bad = Float64Array.from(y);
    bad[7] = Number.NaN;
    expect(() => autoEts(bad, 4, 4)).toThrow(DataError);
    expect(() => autoEts(bad, 4, 4)).toThrow(/value 7/);
    expect(() => autoEts([1, Infinity, 3, 4, 5, 6, 7, 8], 2, 1)).toThrow(DataError);
    expect(() => autoEts([], 2, 1)).toThrow(DataError);
    expect(() => autoEts([1, 2, 3, 4, 5, 7], 2, 1)).toThrow(/more than 6 points/);
  });
  it('model codes must be known and allowed', () => {
    expect(() => autoEts(y, 4, 4, { models: ['MMN'] })).toThrow(/unknown model/);
    expect(() => autoEts(y, 4, 4, { models: ['AAM'] })).toThrow(/forbidden/);
    expect(() => autoEts(y, 4, 4, { models: [] })).toThrow(ShapeError);
    // multiplicative errors need positive data
    expect(() =>
      autoEts(
        Float64Array.from(y, (v) => v - 11),
        4,
        4,
        { models: ['MNN'] },
      ),
    ).toThrow(DataError);
  });
});
