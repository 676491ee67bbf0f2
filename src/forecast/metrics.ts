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
  for (const [name, a] of [['actual', actual], ['forecast', forecast]] as const) {
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) throw new ShapeError(`the ${name} values hold a non-finite value (${a[i]}) at ${i}`);
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
  return { mae: mae(actual, forecast), rmse: rmse(actual, forecast), smape: smape(actual, forecast), mase: mase(actual, forecast, history, season) };
}

/**
 * The seasonal naive forecast of `horizon` points after `history`: each point the value one season
 * earlier (ŷ_{n+k} = x_{n+k−s·⌈k/s⌉}); with s = 1 the last value repeated (naive).
 */
export function seasonalNaive(history: ArrayLike<number>, horizon: number, season: number): Float64Array {
  if (!Number.isInteger(season) || season < 1) throw new ShapeError(`the season must be a positive integer, got ${season}`);
  if (history.length < season) throw new ShapeError(`a seasonal naive forecast of season ${season} needs ${season} points of history, got ${history.length}`);
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
