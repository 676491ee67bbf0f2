import { ConfigError } from '../errors.ts';
import type { Interval } from './baselines/index.ts';

/**
 * Prediction intervals by split conformal calibration (Vovk et al. 2005; Stankeviciute et al. 2021
 * for multi-step forecasts). The nonconformity scores are absolute errors on windows held out of
 * each series, divided by the series' scale d_s (its mean absolute seasonal change over the
 * history before the window), so one calibration serves series of any size:
 *
 * - the held-out window (each series' last `horizon` points, which the network did not train on):
 *   the errors of the forecast itself, the combination of the networks and the baselines;
 * - up to `calibrationWindows` earlier windows, each a horizon before the next, while the history
 *   before the window holds at least half the held-out one's: the errors of the mean of Theta and
 *   Naive2 fitted on the history before the window. The network trained on these windows, so it is
 *   never scored there; the statistical forecast stands in for it. This is a different forecast
 *   from the one the intervals are for, usually a less accurate one, so these scores lean wide;
 *   on the accuracy benchmark's validation split they brought the 80 % and 95 % intervals from
 *   71.7 % and 88.7 % coverage to within a few points of their levels, with a lower MSIS
 *   (bench/RESULTS.md, "Interval calibration on the validation split").
 *
 * A level-ℓ interval of step h is then ŷ_h ± q_h · d_s with q_h the ⌈(N+1)·ℓ⌉-th smallest of the
 * N scores: per step when there are at least 100 windows (a 95 % quantile of fewer rests on the
 * largest two or three scores), else pooled over steps after dividing each score by √h, the growth
 * of a random walk's error, with q_h = q·√h. Such an interval covers a new point with probability
 * at least ℓ when the new errors are exchangeable with the scored ones. Two things make that
 * optimistic here, and the earlier windows partly offset them: the combination's weights were
 * fitted on the held-out window, and early stopping chose the network's epochs on it. The q_h are
 * made non-decreasing in h (a later step is never more certain) and in the level (nested intervals).
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

/** Windows from which each step gets its own quantile (fewer: pooled over steps). */
const PER_STEP_WINDOWS = 100;

/** The k-th smallest (1-based, clamped to the count) of `xs`. */
export function orderStatistic(xs: number[], k: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, k)) - 1]!;
}

/** One held-out window: its actual values and forecasts (`horizon` each), and its series' scale d_s (> 0). */
export interface HeldOut {
  actual: ArrayLike<number>;
  forecast: ArrayLike<number>;
  scale: number;
}

/**
 * Calibrates from held-out windows' forecasts. Null when there is nothing to calibrate from.
 * `perStepWindows`: the windows from which each step gets its own quantile (the default's choice is
 * in bench/RESULTS.md; the benchmark's comparisons set others).
 */
export function calibrate(
  held: readonly HeldOut[],
  horizon: number,
  levels: readonly number[],
  perStepWindows = PER_STEP_WINDOWS,
): Calibration | null {
  const usable = held.filter((r) => r.scale > 0 && Number.isFinite(r.scale));
  if (usable.length === 0 || levels.length === 0) return null;
  const N = usable.length;
  const score = (r: (typeof usable)[number], h: number) => Math.abs(r.actual[h]! - r.forecast[h]!) / r.scale;
  const q = levels.map((level) => {
    const l = level / 100;
    const out = new Float64Array(horizon);
    if (N >= perStepWindows) {
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
