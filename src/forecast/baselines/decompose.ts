import { DataError, ShapeError } from '../../errors.ts';
import { magnitude } from '../scaling.ts';
import { checkHistory, checkHorizon, checkSeason } from './inputs.ts';
import { normalQuantile } from './normal.ts';

/**
 * The seasonality test and the classical multiplicative decomposition that Naive2 and Theta use to
 * seasonally adjust a series, as the M4 competition's benchmark code and R's forecast::thetaf do.
 *
 * Sources: the M4 benchmarks' `SeasonalityTest` and `Benchmarks` ("Benchmarks and Evaluation.R",
 * github.com/Mcompetitions/M4-methods), R's `stats::decompose` and `forecast::thetaf` (forecast
 * 8.20). test/golden/make_stat_goldens.R runs them; test/stat-baselines.test.ts compares.
 */

/**
 * The sample autocorrelations r_1 … r_maxLag of `x`, as R's `acf` computes them:
 *
 *   r_k = Σ_{t=1}^{n−k} (x_t − x̄)(x_{t+k} − x̄) / Σ_{t=1}^{n} (x_t − x̄)²
 *
 * (the biased estimator: both sums divided by n). Index k − 1 holds r_k. NaN when `x` is constant.
 * The values are divided by a power of two near their largest magnitude first (exact; the ratio is
 * unchanged), so no square overflows.
 */
export function acf(x: ArrayLike<number>, maxLag: number): Float64Array {
  const n = x.length;
  if (!Number.isInteger(maxLag) || maxLag < 1 || maxLag >= n)
    throw new ShapeError(`the ACF of ${n} values has lags 1 to ${n - 1}, asked for ${maxLag}`);
  const p = magnitude(x);
  let mean = 0;
  for (let t = 0; t < n; t++) mean += x[t]! / p / n;
  const d = new Float64Array(n);
  for (let t = 0; t < n; t++) d[t] = x[t]! / p - mean;
  let c0 = 0;
  for (let t = 0; t < n; t++) c0 += d[t]! * d[t]!;
  const r = new Float64Array(maxLag);
  for (let k = 1; k <= maxLag; k++) {
    let ck = 0;
    for (let t = 0; t + k < n; t++) ck += d[t]! * d[t + k]!;
    r[k - 1] = ck / c0;
  }
  return r;
}

/**
 * Whose seasonality test and adjustment to reproduce. They differ only at the edges:
 *
 * | rule     | tests when  | critical value            | after decomposing                        |
 * |----------|-------------|---------------------------|------------------------------------------|
 * | `m4`     | n ≥ 3m      | 1.645                     | —                                        |
 * | `thetaf` | n > 2m      | qnorm(0.95) = 1.64485362… | not seasonal if any index has |s| < 1e−4 |
 *
 * `m4` is the M4 benchmarks' `SeasonalityTest` (Naive2 and the other M4 benchmarks use it);
 * `thetaf` is the test inside R's `forecast::thetaf` (Theta uses it).
 */
export type SeasonalityRule = 'm4' | 'thetaf';

/** qnorm(0.95), R's critical value in thetaf (the M4 code rounds it to 1.645). */
const Z95 = normalQuantile(0.95);

/**
 * The 90 % seasonality test of the M4 competition (and of R's thetaf): a series of season m > 1 is
 * seasonal when its autocorrelation at lag m is significantly non-zero,
 *
 *   |r_m| > z · √((1 + 2 Σ_{k=1}^{m−1} r_k²) / n)
 *
 * (Bartlett's standard error of r_m under an MA(m − 1) null), z = 1.645 (`m4`) or qnorm(0.95)
 * (`thetaf`). Never seasonal when m = 1, the series is too short for the rule (n < 3m for `m4`,
 * n ≤ 2m for `thetaf`) or constant (its ACF is undefined: R's M4 code turns that NA into "not
 * seasonal", thetaf checks `is.constant` first).
 *
 * One difference from the M4 code, on purpose: that code takes r_m from `acf()` with its default
 * `lag.max` of ⌊10·log10 n⌋, which is below m for m = 24 with n < 252 or m = 52 with n < 158,490;
 * r_m is then NA and the series "not seasonal" whatever its ACF. This test computes r_m itself, as
 * the definition above says (and as thetaf does, with `lag.max = m`). The two agree wherever
 * ⌊10·log10 n⌋ ≥ m, e.g. for every monthly or quarterly series the rule tests.
 */
export function seasonalityTest(x: ArrayLike<number>, season: number, rule: SeasonalityRule = 'm4'): boolean {
  checkSeason(season);
  checkHistory(x, 1, 'the seasonality test');
  const n = x.length;
  const m = season;
  if (m === 1) return false;
  if (rule === 'm4' ? n < 3 * m : n <= 2 * m) return false;
  const r = acf(x, m);
  if (Number.isNaN(r[0])) return false; // constant
  let s = 0;
  for (let k = 0; k < m - 1; k++) s += r[k]! * r[k]!;
  const z = rule === 'm4' ? 1.645 : Z95;
  return Math.abs(r[m - 1]!) > z * Math.sqrt((1 + 2 * s) / n);
}

/** A classical multiplicative decomposition x_t = trend_t · seasonal_t · remainder_t. */
export interface Decomposition {
  /** The centred moving average of order m (2×m for even m); NaN at the ⌊m/2⌋ points at each end. */
  trend: Float64Array;
  /** The seasonal index of each point: `figure[t mod m]`. */
  seasonal: Float64Array;
  /** The m seasonal indices, normalised to mean 1; index i belongs to the points t ≡ i (mod m), t counted from 0 at the first value. */
  figure: Float64Array;
}

/**
 * R's `decompose(x, type = "multiplicative")` with its default filter:
 *
 * - trend: the centred moving average, weights 1/m over t − (m−1)/2 … t + (m−1)/2 for odd m, and
 *   (½, 1, …, 1, ½)/m over t − m/2 … t + m/2 for even m; undefined (NaN) where the window leaves
 *   the series;
 * - detrended series x_t / trend_t; figure_i = the mean of its defined values at the positions
 *   t ≡ i (mod m), counted from the first value (R ignores the calendar position of the start, and so
 *   does this), then divided by the mean of the m figures so that they average 1;
 * - seasonal_t = figure_{t mod m}.
 *
 * Needs m ≥ 2 and n ≥ 2m (R: "time series has no or less than 2 periods") — a {@link DataError}
 * otherwise — and positive values: R divides by whatever the moving average is, so zeros or
 * negative values give infinite or negative indices; here they are a {@link DataError}
 * ({@link seasonalAdjustment} does not adjust such series).
 */
export function decomposeMultiplicative(x: ArrayLike<number>, season: number): Decomposition {
  checkSeason(season);
  const m = season;
  if (m < 2) throw new DataError(`a classical decomposition needs a season of at least 2, got ${m}`);
  checkHistory(x, 2 * m, `a classical decomposition of season ${m}`);
  const n = x.length;
  for (let t = 0; t < n; t++) {
    if (!(x[t]! > 0)) throw new DataError(`a multiplicative decomposition needs positive values, got ${x[t]} at ${t}`);
  }
  // Divided by a power of two (exact): the moving average's sum cannot overflow. The ratio
  // x / trend, and so every index, is unchanged.
  const p = magnitude(x);
  const half = Math.floor(m / 2);
  const even = m % 2 === 0;
  const trend = new Float64Array(n).fill(NaN);
  for (let t = half; t < n - half; t++) {
    let s = 0;
    for (let j = -half; j <= half; j++) {
      const w = even && (j === -half || j === half) ? 0.5 : 1;
      s += w * (x[t + j]! / p);
    }
    trend[t] = (s / m) * p;
  }
  const sum = new Float64Array(m);
  const count = new Float64Array(m);
  for (let t = half; t < n - half; t++) {
    sum[t % m]! += x[t]! / trend[t]!;
    count[t % m]! += 1;
  }
  const figure = new Float64Array(m);
  let mean = 0;
  for (let i = 0; i < m; i++) {
    figure[i] = sum[i]! / count[i]!; // n ≥ 2m leaves every position at least one defined value
    mean += figure[i]! / m;
  }
  for (let i = 0; i < m; i++) figure[i]! /= mean;
  const seasonal = Float64Array.from({ length: n }, (_, t) => figure[t % m]!);
  return { trend, seasonal, figure };
}

/** Seasonal indices to divide a history by and to multiply its forecasts by. */
export interface SeasonalAdjustment {
  /** The index of each point of the history (divide by it to adjust). */
  history: Float64Array;
  /** The index of each forecast step 1 … horizon (multiply the adjusted forecast by it). */
  horizon: Float64Array;
  /** The m indices of {@link Decomposition.figure}. */
  figure: Float64Array;
}

/**
 * The seasonal indices Naive2 (rule `m4`) and Theta (rule `thetaf`) adjust a series by, or null when
 * they leave it as it is:
 *
 * 1. null when {@link seasonalityTest} says the series is not seasonal under `rule` (m = 1, too
 *    short, constant, or no significant autocorrelation at lag m);
 * 2. null when a value is 0 or negative: a multiplicative decomposition needs positive data. The M4
 *    series are all positive, so the M4 code never meets this; R's decompose would divide by the
 *    moving average regardless and thetaf would use the resulting negative or infinite indices
 *    unless one is within 1e−4 of 0. Not adjusting is the defined, documented alternative;
 * 3. otherwise {@link decomposeMultiplicative}'s indices; for the forecast, the last season of them
 *    continued: step k (1-based) gets figure_{(n + k − 1) mod m}, as `rep(tail(seasonal, m), …)`
 *    in both sources;
 * 4. with rule `thetaf`, null when an index has |s| < 1e−4 (thetaf warns and uses the
 *    non-seasonal method then; positive data cannot give one, but the check costs nothing).
 */
export function seasonalAdjustment(
  history: ArrayLike<number>,
  horizon: number,
  season: number,
  rule: SeasonalityRule = 'm4',
): SeasonalAdjustment | null {
  checkSeason(season);
  checkHorizon(horizon);
  checkHistory(history, 1, 'a seasonal adjustment');
  if (!seasonalityTest(history, season, rule)) return null;
  for (let t = 0; t < history.length; t++) if (!(history[t]! > 0)) return null;
  const { seasonal, figure } = decomposeMultiplicative(history, season);
  if (rule === 'thetaf' && figure.some((s) => Math.abs(s) < 1e-4)) return null;
  const n = history.length;
  const ahead = Float64Array.from({ length: horizon }, (_, k) => figure[(n + k) % season]!);
  return { history: seasonal, horizon: ahead, figure };
}
