import { ConfigError, ShapeError } from '../errors.ts';

/**
 * Per-series scaling, fitted on a series' training history and undone on its forecasts:
 *
 *   standard  z = (x − mean) / std            (population std; 1 when the series is constant)
 *   minmax    z = (x − min) / (max − min)      (range 1 when constant)
 *   robust    z = (x − median) / IQR           (IQR = q75 − q25, linear interpolation of order
 *                                               statistics as numpy's default; 1 when 0)
 *   none      z = x
 */
export type ScalingKind = 'standard' | 'minmax' | 'robust' | 'none';

/** A fitted scaler: z = (x − shift) / scale. */
export interface Scaler {
  readonly kind: ScalingKind;
  readonly shift: number;
  readonly scale: number;
}

/**
 * The q-quantile (0 ≤ q ≤ 1) of sorted values, linear between order statistics (written as a
 * weighted mean of the two, so values near ±1.8e308 do not overflow in their difference).
 */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const w = pos - lo;
  return w === 0 ? sorted[lo]! : sorted[lo]! * (1 - w) + sorted[hi]! * w;
}

/**
 * A power of two near the largest magnitude of `values` (1 when all are 0): dividing by it is exact
 * and brings every value into (−2, 2), so sums and squares cannot overflow however large the data.
 */
export function magnitude(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!));
  return m === 0 ? 1 : 2 ** Math.floor(Math.log2(m));
}

/**
 * Fits a scaler on `history` ({@link ShapeError} when it is empty or not finite). Every value of a
 * finite history gives a finite shift and scale: means and deviations are taken of the history
 * divided by its magnitude (a power of two near its largest value), so 1e200 or ±1e308 do not overflow. Only a spread that float64
 * cannot hold (max − min or the IQR beyond 1.8e308, for minmax and robust) is a {@link ShapeError}.
 */
export function fitScaler(kind: ScalingKind, history: ArrayLike<number>): Scaler {
  if (!['standard', 'minmax', 'robust', 'none'].includes(kind)) {
    throw new ConfigError(`unknown scaling ${JSON.stringify(kind)}: expected standard, minmax, robust or none`);
  }
  const n = history.length;
  if (n === 0) throw new ShapeError('cannot fit a scaler on an empty series');
  for (let i = 0; i < n; i++)
    if (!Number.isFinite(history[i])) throw new ShapeError(`the series holds a non-finite value (${history[i]}) at ${i}`);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    lo = Math.min(lo, history[i]!);
    hi = Math.max(hi, history[i]!);
  }
  // A constant series is shifted to 0 and not scaled (exactly: no rounding of a mean or deviation).
  if (kind !== 'none' && lo === hi) return { kind, shift: lo, scale: 1 };
  const spread = (what: string, v: number) => {
    if (!Number.isFinite(v)) throw new ShapeError(`the series' ${what} (${hi} − ${lo}) is beyond float64's range: use standard scaling`);
    return v > 0 ? v : 1;
  };
  switch (kind) {
    case 'none':
      return { kind, shift: 0, scale: 1 };
    case 'standard': {
      const p = magnitude(history);
      let mean = 0;
      for (let i = 0; i < n; i++) mean += history[i]! / p;
      mean /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (history[i]! / p - mean) ** 2;
      return { kind, shift: mean * p, scale: spread('deviation', Math.sqrt(v / n) * p) };
    }
    case 'minmax':
      return { kind, shift: lo, scale: spread('range', hi - lo) };
    case 'robust': {
      const sorted = Float64Array.from(history).sort();
      return { kind, shift: quantile(sorted, 0.5), scale: spread('interquartile range', quantile(sorted, 0.75) - quantile(sorted, 0.25)) };
    }
  }
}

/**
 * (x − shift) / scale, without overflow where the result is finite: a difference that overflows
 * (x and shift near ±1.8e308 of opposite signs) is taken of halves.
 */
function scaleValue(s: Scaler, v: number): number {
  const d = v - s.shift;
  return Number.isFinite(d) ? d / s.scale : (v / 2 - s.shift / 2) / (s.scale / 2);
}

/** z · scale + shift, without overflow where the result is finite (halves when the sum overflows). */
function unscaleValue(s: Scaler, z: number): number {
  const v = z * s.scale + s.shift;
  return Number.isFinite(v) || !Number.isFinite(z) ? v : 2 * (z * (s.scale / 2) + s.shift / 2);
}

export function scale(s: Scaler, x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => scaleValue(s, v));
}

export function unscale(s: Scaler, z: ArrayLike<number>): Float64Array {
  return Float64Array.from(z, (v) => unscaleValue(s, v));
}
