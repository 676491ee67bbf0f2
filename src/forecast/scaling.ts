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

/** The q-quantile (0 ≤ q ≤ 1) of sorted values, linear between order statistics. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Fits a scaler on `history` ({@link ShapeError} when it is empty or not finite). */
export function fitScaler(kind: ScalingKind, history: ArrayLike<number>): Scaler {
  if (!['standard', 'minmax', 'robust', 'none'].includes(kind)) {
    throw new ConfigError(`unknown scaling ${JSON.stringify(kind)}: expected standard, minmax, robust or none`);
  }
  const n = history.length;
  if (n === 0) throw new ShapeError('cannot fit a scaler on an empty series');
  for (let i = 0; i < n; i++) if (!Number.isFinite(history[i])) throw new ShapeError(`the series holds a non-finite value (${history[i]}) at ${i}`);
  const nonZero = (v: number) => (v > 0 ? v : 1);
  switch (kind) {
    case 'none':
      return { kind, shift: 0, scale: 1 };
    case 'standard': {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += history[i]!;
      mean /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (history[i]! - mean) ** 2;
      return { kind, shift: mean, scale: nonZero(Math.sqrt(v / n)) };
    }
    case 'minmax': {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < n; i++) {
        lo = Math.min(lo, history[i]!);
        hi = Math.max(hi, history[i]!);
      }
      return { kind, shift: lo, scale: nonZero(hi - lo) };
    }
    case 'robust': {
      const sorted = Float64Array.from(history).sort();
      return { kind, shift: quantile(sorted, 0.5), scale: nonZero(quantile(sorted, 0.75) - quantile(sorted, 0.25)) };
    }
  }
}

export function scale(s: Scaler, x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => (v - s.shift) / s.scale);
}

export function unscale(s: Scaler, z: ArrayLike<number>): Float64Array {
  return Float64Array.from(z, (v) => v * s.scale + s.shift);
}
