import { ShapeError } from '../../errors.ts';
import { magnitude } from '../scaling.ts';
import { seasonalAdjustment } from './decompose.ts';
import { checkHistory, checkHorizon, checkLevels, checkSeason } from './inputs.ts';
import { normalQuantile } from './normal.ts';
import { fitSes, type SesFixed } from './ses.ts';

/** Options of {@link theta}. */
export interface ThetaOptions {
  /** Prediction interval levels in percent, each strictly between 0 and 100 (default 80 and 95, as thetaf). */
  levels?: readonly number[];
  /**
   * SES parameters to use as given instead of optimising them (ets(alpha = …) in R): α within
   * [1e−4, 0.9999] (n ≥ 7) or [0, 1] (n ≤ 6), ℓ_0 any finite number. For tests against R's fit and
   * for a user who wants a fixed α.
   */
  ses?: SesFixed;
}

/** A prediction interval at `level` percent: lower and upper bounds per forecast step. */
export interface ThetaInterval {
  level: number;
  lo: Float64Array;
  hi: Float64Array;
}

/** Theta's forecast and what it fitted. */
export interface ThetaForecast {
  point: Float64Array;
  intervals: ThetaInterval[];
  fit: {
    /** Whether the series was seasonally adjusted (thetaf's test and a multiplicative decomposition). */
    seasonal: boolean;
    /** SES's α (at least 1e−10, as thetaf). */
    alpha: number;
    /** SES's initial level. */
    level0: number;
    /** Half the slope of the least-squares line through the adjusted series (per step). */
    drift: number;
    /** The SES error variance the intervals use. */
    sigma2: number;
    /** The SES criterion at its optimum (see ./ses.ts). */
    mse: number;
  };
}

/**
 * The Theta method of Assimakopoulos & Nikolopoulos (2000), the M3 competition's best, in the form
 * Hyndman & Billah (2003) showed it to be (SES with drift) and R's `forecast::thetaf` implements
 * (forecast 8.20), step for step:
 *
 * 1. seasonal adjustment: thetaf's 90 % test (n > 2m, see {@link seasonalAdjustment}, rule
 *    `thetaf`); if seasonal, x is divided by its classical multiplicative indices;
 * 2. SES on the adjusted series, α and ℓ_0 optimised ({@link fitSes}: R's ses());
 * 3. drift b = ½ · the slope of the least-squares line of the adjusted x_t on t = 0 … n−1 (the
 *    θ = 0 line's slope, halved: the average of the θ = 0 and θ = 2 lines' forecasts);
 * 4. ŷ_{n+h} = ℓ_n + b · ((h − 1) + (1 − (1 − α)^n)/α),  h = 1 … horizon, with α ≥ 1e−10;
 *    the term (1 − (1 − α)^n)/α is computed as −expm1(n·log1p(−α))/α, which is the same
 *    number without the cancellation R's direct formula has for tiny α (at α = 1e−10, n = 5,
 *    R's value is off by about 2e−7 relative);
 * 5. re-seasonalised: ŷ_{n+h} times the index of step h;
 * 6. intervals ŷ_{n+h} ± z · σ · √((h − 1)·α² + 1), z = −qnorm(0.5 − level/200), σ² SES's error
 *    variance. As in thetaf, the half-width is SES's on the adjusted scale and is not multiplied by
 *    the seasonal index (thetaf re-seasonalises only the point forecast), and it ignores the
 *    drift's estimation error.
 *
 * Needs 3 points of history: R fails at n = 1, and at n = 2 its SES criterion does not depend on α
 * (the one error after the first is x_2 − x_1 whatever α), so R's α is its optimiser's starting
 * value. A bad season, horizon or level is a ShapeError; a too-short or non-finite history a
 * DataError.
 */
export function theta(history: ArrayLike<number>, horizon: number, season: number, options: ThetaOptions = {}): ThetaForecast {
  const levels = options.levels ?? [80, 95];
  checkSeason(season);
  checkHorizon(horizon);
  checkLevels(levels);
  checkHistory(history, 3, 'Theta');
  checkFixed(options.ses ?? {}, history.length);
  const n = history.length;
  const adj = seasonalAdjustment(history, horizon, season, 'thetaf');
  const x = adj === null ? Float64Array.from(history) : Float64Array.from(history, (v, t) => v / adj.history[t]!);

  const ses = fitSes(x, options.ses);
  const alpha = Math.max(1e-10, ses.alpha);
  const drift = slope(x) / 2;
  const start = -Math.expm1(n * Math.log1p(-alpha)) / alpha;
  const point = new Float64Array(horizon);
  for (let k = 0; k < horizon; k++) {
    point[k] = (ses.level + drift * (k + start)) * (adj === null ? 1 : adj.horizon[k]!);
  }
  const intervals = levels.map((level) => {
    const z = -normalQuantile(0.5 - level / 200);
    const lo = new Float64Array(horizon);
    const hi = new Float64Array(horizon);
    for (let k = 0; k < horizon; k++) {
      const half = z * ses.sigma * Math.sqrt(k * alpha * alpha + 1);
      lo[k] = point[k]! - half;
      hi[k] = point[k]! + half;
    }
    return { level, lo, hi };
  });
  return { point, intervals, fit: { seasonal: adj !== null, alpha, level0: ses.level0, drift, sigma2: ses.sigma2, mse: ses.mse } };
}

/** Fixed SES parameters must lie in the range the optimiser would search ({@link ShapeError}). */
function checkFixed(fixed: SesFixed, n: number): void {
  const [lo, hi] = n <= 6 ? [0, 1] : [1e-4, 0.9999];
  if (fixed.alpha !== undefined && !(fixed.alpha >= lo && fixed.alpha <= hi))
    throw new ShapeError(`a fixed SES alpha for ${n} points must lie in [${lo}, ${hi}], got ${fixed.alpha}`);
  if (fixed.level0 !== undefined && !Number.isFinite(fixed.level0))
    throw new ShapeError(`a fixed SES initial level must be finite, got ${fixed.level0}`);
}

/**
 * The least-squares slope of x_t on t = 0 … n−1 (R's `lsfit(0:(n-1), x)$coefficients[2]`):
 * Σ (t − t̄)(x_t − x̄) / Σ (t − t̄)², on x divided by a power of two (exact) so nothing overflows.
 */
function slope(x: Float64Array): number {
  const n = x.length;
  const p = magnitude(x);
  const tm = (n - 1) / 2;
  let xm = 0;
  for (let t = 0; t < n; t++) xm += x[t]! / p / n;
  let sxy = 0;
  let sxx = 0;
  for (let t = 0; t < n; t++) {
    sxy += (t - tm) * (x[t]! / p - xm);
    sxx += (t - tm) * (t - tm);
  }
  return (sxy / sxx) * p;
}
