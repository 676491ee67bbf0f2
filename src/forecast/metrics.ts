import { ShapeError } from '../errors.ts';
import { magnitude } from './scaling.ts';

/**
 * Forecast accuracy, per series and overall, and the seasonal-naive baseline every forecast is
 * shown beside. Definitions (y the actuals, ŷ the forecasts over the horizon, n points):
 *
 *   MAE   = (1/n) Σ |y − ŷ|
 *   RMSE  = √((1/n) Σ (y − ŷ)²)
 *   sMAPE = (100/n) Σ 2|y − ŷ| / (|y| + |ŷ|)        (a term with y = ŷ = 0 counts 0), in percent
 *   MASE  = MAE / ((1/(m−s)) Σ_{t>s} |x_t − x_{t−s}|)   scaled by the in-sample MAE of the seasonal
 *           naive forecast of season s on the training history x (s = 1: naive); null (undefined,
 *           not a number) when that in-sample error is 0 or the history has no more than s points
 *
 * as in Hyndman & Koehler (2006) and the M4 competition. Each is computed on the values divided by
 * a power of two near their largest magnitude (exact), so data near ±1.8e308 gives finite metrics
 * wherever the metric itself is below float64's maximum.
 */
export interface Metrics {
  mae: number;
  rmse: number;
  smape: number;
  /** null where MASE is undefined: a history whose in-sample seasonal-naive error is 0 (constant, or periodic with period s), or no more than s points. */
  mase: number | null;
}

function check(actual: ArrayLike<number>, forecast: ArrayLike<number>): void {
  if (actual.length !== forecast.length) throw new ShapeError(`${actual.length} actual values but ${forecast.length} forecasts`);
  if (actual.length === 0) throw new ShapeError('no points to score');
  for (const [name, a] of [
    ['actual', actual],
    ['forecast', forecast],
  ] as const) {
    for (let i = 0; i < a.length; i++)
      if (!Number.isFinite(a[i])) throw new ShapeError(`the ${name} values hold a non-finite value (${a[i]}) at ${i}`);
  }
}

/** The largest {@link magnitude} of several arrays: one power of two to divide them all by. */
function common(...arrays: ArrayLike<number>[]): number {
  return Math.max(...arrays.map(magnitude));
}

export function mae(actual: ArrayLike<number>, forecast: ArrayLike<number>): number {
  check(actual, forecast);
  const p = common(actual, forecast);
  let s = 0;
  for (let i = 0; i < actual.length; i++) s += Math.abs(actual[i]! / p - forecast[i]! / p);
  return (s / actual.length) * p;
}

export function rmse(actual: ArrayLike<number>, forecast: ArrayLike<number>): number {
  check(actual, forecast);
  const p = common(actual, forecast);
  let s = 0;
  for (let i = 0; i < actual.length; i++) s += (actual[i]! / p - forecast[i]! / p) ** 2;
  return Math.sqrt(s / actual.length) * p;
}

export function smape(actual: ArrayLike<number>, forecast: ArrayLike<number>): number {
  check(actual, forecast);
  const p = common(actual, forecast);
  let s = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]! / p;
    const f = forecast[i]! / p;
    const d = Math.abs(a) + Math.abs(f);
    if (d > 0) s += (2 * Math.abs(a - f)) / d;
  }
  return (100 * s) / actual.length;
}

/** The in-sample MAE of the seasonal naive forecast of season `season` on `history` (MASE's scale). */
export function seasonalNaiveScale(history: ArrayLike<number>, season: number): number {
  return naiveScale(history, season, magnitude(history)) * magnitude(history);
}

/** {@link seasonalNaiveScale} of `history` divided by `p`. */
function naiveScale(history: ArrayLike<number>, season: number, p: number): number {
  if (!Number.isInteger(season) || season < 1) throw new ShapeError(`the season must be a positive integer, got ${season}`);
  if (history.length <= season) return NaN;
  let s = 0;
  for (let t = season; t < history.length; t++) s += Math.abs(history[t]! / p - history[t - season]! / p);
  return s / (history.length - season);
}

export function mase(actual: ArrayLike<number>, forecast: ArrayLike<number>, history: ArrayLike<number>, season: number): number | null {
  // Both errors of the ratio divided by one power of two, so neither overflows.
  const p = common(actual, forecast, history);
  const scale = naiveScale(history, season, p);
  return scale > 0 ? mae(actual, forecast) / p / scale : null;
}

/**
 * The first metric of `m` that is not a finite number (MASE's null, "undefined", aside), as
 * `[name, value]`, or null: what the forecaster and the command line refuse to report.
 */
export function nonFiniteMetric(m: Metrics): [keyof Metrics, number] | null {
  for (const [name, v] of Object.entries(m) as [keyof Metrics, number | null][]) {
    if (v !== null && !Number.isFinite(v)) return [name, v];
  }
  return null;
}

/** Every metric of one series' forecast. */
export function metrics(actual: ArrayLike<number>, forecast: ArrayLike<number>, history: ArrayLike<number>, season: number): Metrics {
  return {
    mae: mae(actual, forecast),
    rmse: rmse(actual, forecast),
    smape: smape(actual, forecast),
    mase: mase(actual, forecast, history, season),
  };
}

/**
 * The seasonal naive forecast of `horizon` points after `history`: each point the value one season
 * earlier (ŷ_{n+k} = x_{n+k−s·⌈k/s⌉}); with s = 1 the last value repeated (naive).
 */
export function seasonalNaive(history: ArrayLike<number>, horizon: number, season: number): Float64Array {
  if (!Number.isInteger(season) || season < 1) throw new ShapeError(`the season must be a positive integer, got ${season}`);
  if (history.length < season)
    throw new ShapeError(`a seasonal naive forecast of season ${season} needs ${season} points of history, got ${history.length}`);
  const n = history.length;
  return Float64Array.from({ length: horizon }, (_, k) => history[n - season + (k % season)]!);
}

/**
 * Overall metrics over many series: MAE, sMAPE and MASE are the means of the per-series values (the
 * M4 convention; series whose MASE is undefined are left out of its mean, which is null when every
 * series' is), RMSE the root of the mean of the per-series mean squared errors.
 */
export function overall(perSeries: readonly Metrics[]): Metrics {
  if (perSeries.length === 0) throw new ShapeError('no series to summarise');
  // Means of terms divided by their count first, and the RMSE's squares of values divided by a
  // power of two: no sum overflows for metrics below float64's maximum.
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b / xs.length, 0);
  const p = magnitude(perSeries.map((m) => m.rmse));
  const defined = perSeries.flatMap((m) => (m.mase === null ? [] : [m.mase]));
  return {
    mae: mean(perSeries.map((m) => m.mae)),
    rmse: Math.sqrt(mean(perSeries.map((m) => (m.rmse / p) ** 2))) * p,
    smape: mean(perSeries.map((m) => m.smape)),
    mase: defined.length ? mean(defined) : null,
  };
}

/**
 * The mean scaled interval score of the M4 competition (Makridakis, Spiliotis & Assimakopoulos, "The
 * M4 Competition: 100,000 time series and 61 forecasting methods", IJF 36 (2020), and the M4
 * competitor's guide), for the interval [lo, hi] at `level` percent over the horizon:
 *
 *   MSIS = (1/h) Σ [(U − L) + (2/a)(L − y)·1{y < L} + (2/a)(y − U)·1{y > U}]
 *          / ((1/(m−s)) Σ_{t>s} |x_t − x_{t−s}|),      a = 1 − level/100
 *
 * (M4 scores 95 % intervals: a = 0.05). `level` is in percent, as thetaf's and statsforecast's
 * levels, strictly between 0 and 100. The scale is MASE's (the in-sample seasonal naive MAE), and
 * MSIS is null where that is undefined, as {@link mase}. Bounds with lo > hi are a
 * {@link ShapeError}. Computed on values divided by one power of two (exact), as the other metrics.
 */
export function msis(
  actual: ArrayLike<number>,
  lo: ArrayLike<number>,
  hi: ArrayLike<number>,
  history: ArrayLike<number>,
  season: number,
  level: number,
): number | null {
  if (typeof level !== 'number' || !(level > 0 && level < 100))
    throw new ShapeError(`the interval level is a percentage between 0 and 100 (e.g. 95), got ${level}`);
  checkInterval(actual, lo, hi);
  const p = common(actual, lo, hi, history);
  const scale = naiveScale(history, season, p);
  if (!(scale > 0)) return null;
  const a = 1 - level / 100;
  let s = 0;
  for (let i = 0; i < actual.length; i++) {
    const y = actual[i]! / p;
    const l = lo[i]! / p;
    const u = hi[i]! / p;
    // Each term divided by h first, so the sum of terms near float64's maximum does not overflow.
    let term = u - l;
    if (y < l) term += (2 / a) * (l - y);
    if (y > u) term += (2 / a) * (y - u);
    s += term / actual.length;
  }
  return s / scale;
}

/**
 * The fraction (0 to 1) of actual values inside their interval, bounds included:
 * (1/h) Σ 1{lo ≤ y ≤ hi}. An 80 % interval should cover about 0.8.
 */
export function coverage(actual: ArrayLike<number>, lo: ArrayLike<number>, hi: ArrayLike<number>): number {
  checkInterval(actual, lo, hi);
  let inside = 0;
  for (let i = 0; i < actual.length; i++) if (actual[i]! >= lo[i]! && actual[i]! <= hi[i]!) inside++;
  return inside / actual.length;
}

/** Equal lengths, finite values and lo ≤ hi ({@link ShapeError} otherwise). */
function checkInterval(actual: ArrayLike<number>, lo: ArrayLike<number>, hi: ArrayLike<number>): void {
  if (lo.length !== actual.length || hi.length !== actual.length)
    throw new ShapeError(`${actual.length} actual values but ${lo.length} lower and ${hi.length} upper bounds`);
  if (actual.length === 0) throw new ShapeError('no points to score');
  for (const [name, a] of [
    ['actual', actual],
    ['lower bound', lo],
    ['upper bound', hi],
  ] as const) {
    for (let i = 0; i < a.length; i++)
      if (!Number.isFinite(a[i])) throw new ShapeError(`the ${name} values hold a non-finite value (${a[i]}) at ${i}`);
  }
  for (let i = 0; i < lo.length; i++)
    if (lo[i]! > hi[i]!) throw new ShapeError(`the interval's lower bound ${lo[i]} is above its upper bound ${hi[i]} at ${i}`);
}

/**
 * The M4 competition's overall weighted average, of a method against Naive2:
 *
 *   OWA = ½ (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2)
 *
 * where each sMAPE and MASE is the mean over the same series (as {@link overall} gives them;
 * M4 computes OWA from these means, not per series). Below 1 is better than Naive2. Null where a
 * MASE is null (undefined) or Naive2's sMAPE or MASE is 0 (a perfect Naive2 leaves nothing to
 * compare with); a value that is negative or not finite is a {@link ShapeError}.
 */
export function owa(model: { smape: number; mase: number | null }, naive2: { smape: number; mase: number | null }): number | null {
  for (const [who, m] of [
    ['the model', model],
    ['Naive2', naive2],
  ] as const) {
    for (const [name, v] of [
      ['sMAPE', m.smape],
      ['MASE', m.mase],
    ] as const) {
      if (v !== null && !(Number.isFinite(v) && v >= 0))
        throw new ShapeError(`OWA needs ${who}'s mean ${name} as a finite number ≥ 0, got ${v}`);
    }
  }
  if (model.mase === null || naive2.mase === null || naive2.smape === 0 || naive2.mase === 0) return null;
  return 0.5 * (model.smape / naive2.smape + model.mase / naive2.mase);
}
