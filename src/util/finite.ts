import { NumericError, ShapeError } from '../errors.ts';
import { unravel } from './compare.ts';

/**
 * One policy for values that are not numbers every backend can hold, shared by the float64 CPU
 * reference and WebGPU so the two never disagree on them:
 *
 * - inputs (x, initial states, covariates, training samples) must be finite and within float32's
 *   range, because the GPU computes in float32: a NaN or ±Infinity, or a finite 1e39 that float32
 *   would turn into Infinity, is a {@link ShapeError} naming the tensor and the index, raised before
 *   any GPU work (the CPU reference refuses the same values, though float64 could carry them);
 * - outputs are checked after the computation: a non-finite value computed from finite inputs and
 *   weights (a ReLU network or a head overflowing float32) is a {@link NumericError}, never a
 *   silent Infinity or NaN in a result.
 */

/** float32's largest finite value, 2¹²⁸ − 2¹⁰⁴. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** The index of the first value of `a` that is not finite or lies beyond ±`limit`; −1 when none. */
export function firstOutside(a: ArrayLike<number>, limit = FLOAT32_MAX): number {
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    // The negated comparison also catches NaN.
    if (!(v <= limit && v >= -limit)) return i;
  }
  return -1;
}

/**
 * Checks that an input holds only finite values within float32's range ({@link ShapeError} naming
 * `name`, the index, as `[i0, i1, …]` when `shape` is given, and the value).
 */
export function checkFiniteInput(name: string, a: ArrayLike<number>, shape?: readonly number[]): void {
  const i = firstOutside(a);
  if (i < 0) return;
  const v = a[i]!;
  const where = shape ? `${unravel(i, shape)} (index ${i})` : `index ${i}`;
  const why = Number.isFinite(v) ? `, beyond float32's range (±3.4e38) that the GPU computes in; scale the data first` : '';
  throw new ShapeError(`${name} holds ${v} at ${where}${why}; inputs must be finite numbers`);
}

/**
 * Checks that a result holds only finite values ({@link NumericError} naming what computed it, the
 * output and the index): finite inputs and weights can still overflow float32 (or, on the CPU,
 * float64) inside a network, and that must not come back as a silent Infinity or NaN.
 */
export function checkFiniteOutput(what: string, name: string, a: ArrayLike<number>): void {
  const i = firstOutside(a, Number.MAX_VALUE);
  if (i < 0) return;
  throw new NumericError(`${what} computed ${a[i]} in ${name} at index ${i} from finite inputs and weights: the network overflows (scale the inputs or the weights down)`);
}
