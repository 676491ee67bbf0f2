import { seasonalAdjustment } from './decompose.ts';
import { checkHistory, checkHorizon, checkSeason } from './inputs.ts';

/**
 * Naive2, the M4 competition's reference for OWA: the naive forecast of the seasonally adjusted
 * series, seasonalised again. With x_n the last value, s_n its seasonal index and s_{n+k} the
 * index of step k (see {@link seasonalAdjustment}, rule `m4`),
 *
 *   ŷ_{n+k} = (x_n / s_n) · s_{n+k},   k = 1 … horizon,
 *
 * and ŷ_{n+k} = x_n (plain naive) when the series is not seasonal by the M4 test (season 1, fewer
 * than 3 seasons of history, a constant series or no significant autocorrelation at lag m) or has
 * a value ≤ 0. This is `naive(des_input, h = fh)$mean * SIout` of the M4 benchmarks' `Benchmarks()`
 * ("Benchmarks and Evaluation.R", github.com/Mcompetitions/M4-methods); the golden is that code run
 * in R (test/golden/make_stat_goldens.R).
 *
 * Needs one point of history; a bad season or horizon is a ShapeError, an empty or non-finite
 * history a DataError.
 */
export function naive2(history: ArrayLike<number>, horizon: number, season: number): Float64Array {
  checkSeason(season);
  checkHorizon(horizon);
  checkHistory(history, 1, 'Naive2');
  const n = history.length;
  const adj = seasonalAdjustment(history, horizon, season, 'm4');
  if (adj === null) return new Float64Array(horizon).fill(history[n - 1]!);
  const last = history[n - 1]! / adj.history[n - 1]!;
  return Float64Array.from(adj.horizon, (s) => last * s);
}
