import { ConfigError } from '../errors.ts';
import type { Interval } from './baselines/index.ts';

/**
 * Prediction intervals by split conformal calibration (Vovk et al. 2005; Stankeviciute et al. 2021
 * for multi-step forecasts): the forecaster forecasts a window it held out of training (the last
 * `horizon` points of each series), and the absolute errors there, divided by each series' scale,
 * are the nonconformity scores. A level-ℓ interval of step h is then
 *
 *   ŷ_h ± q_h · d_s,   q_h = the ⌈(N+1)·ℓ⌉-th smallest of the N scores of step h,
 *
 * which covers a new point with probability at least ℓ when the held-out errors are exchangeable
 * with the future ones. d_s is the series' in-sample scale (its mean absolute seasonal change), so
 * one calibration serves series of any size. With fewer than 20 series (too few scores per step for
 * a 95 % quantile), the steps are pooled: scores are divided by √h first and q_h = q·√h, the
 * growth of a random walk's error. The q_h are made non-decreasing in h (a later step is never
 * more certain).
 */
export interface Calibration {
  levels: number[];
  /** Per level, q_h for each step. */
  q: Float64Array[];
}

/** Checks interval levels: percentages in (0, 100), distinct; returned ascending. */
export function checkLevels(levels: unknown): number[] {
  if (!Array.isArray(levels) || levels.some((l) => typeof l !== 'number' || !(l > 0 && l < 100))) {
    throw new ConfigError(`levels must be an array of percentages between 0 and 100 (e.g. [80, 95]), got ${JSON.stringify(levels)}`);
  }
  const sorted = [...(levels as number[])].sort((a, b) => a - b);
  if (sorted.some((l, i) => i > 0 && l === sorted[i - 1]))
    throw new ConfigError(`levels names ${sorted.find((l, i) => i > 0 && l === sorted[i - 1])} twice`);
  return sorted;
}

/** The k-th smallest (1-based, clamped to the count) of `xs`. */
function orderStatistic(xs: number[], k: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, k)) - 1]!;
}

/**
 * Calibrates from held-out forecasts: per series its actual values, forecasts (`horizon` each) and
 * scale d_s (> 0). Null when there is nothing to calibrate from.
 */
export function calibrate(
  held: readonly { actual: ArrayLike<number>; forecast: ArrayLike<number>; scale: number }[],
  horizon: number,
  levels: readonly number[],
): Calibration | null {
  const usable = held.filter((r) => r.scale > 0 && Number.isFinite(r.scale));
  if (usable.length === 0 || levels.length === 0) return null;
  const N = usable.length;
  const score = (r: (typeof usable)[number], h: number) => Math.abs(r.actual[h]! - r.forecast[h]!) / r.scale;
  const q = levels.map((level) => {
    const l = level / 100;
    const out = new Float64Array(horizon);
    if (N >= 20) {
      for (let h = 0; h < horizon; h++)
        out[h] = orderStatistic(
          usable.map((r) => score(r, h)),
          Math.ceil((N + 1) * l),
        );
    } else {
      const pooled = usable.flatMap((r) => Array.from({ length: horizon }, (_, h) => score(r, h) / Math.sqrt(h + 1)));
      const base = orderStatistic(pooled, Math.ceil((pooled.length + 1) * l));
      for (let h = 0; h < horizon; h++) out[h] = base * Math.sqrt(h + 1);
    }
    for (let h = 1; h < horizon; h++) out[h] = Math.max(out[h]!, out[h - 1]!);
    return out;
  });
  // Nested levels: a wider level never gives a narrower interval.
  for (let k = 1; k < q.length; k++) for (let h = 0; h < horizon; h++) q[k]![h] = Math.max(q[k]![h]!, q[k - 1]![h]!);
  return { levels: [...levels], q };
}

/** The calibrated intervals around `point` for a series of scale `scale`. */
export function conformalIntervals(point: ArrayLike<number>, scale: number, cal: Calibration): Interval[] {
  return cal.levels.map((level, k) => ({
    level,
    lo: Float64Array.from({ length: point.length }, (_, h) => point[h]! - cal.q[k]![h]! * scale),
    hi: Float64Array.from({ length: point.length }, (_, h) => point[h]! + cal.q[k]![h]! * scale),
  }));
}
