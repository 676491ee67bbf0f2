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

/**
 * float32's smallest normal value, 2⁻¹²⁶: the least a threshold the GPU reads (a clip, an ε) may be,
 * since GPUs may flush subnormals to 0 and the kernels read 0 as "none".
 */
export const FLOAT32_MIN_NORMAL = 2 ** -126;

/** The index of the first value of `a` that is not finite or lies beyond ±`limit`; −1 when none. */
export function firstOutside(a: ArrayLike<number>, limit = FLOAT32_MAX): number {
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    // The negated comparison also catches NaN.
    if (!(v <= limit && v >= -limit)) return i;
  }
  return -1;
}

/** Checks that an input is a Float32Array or Float64Array ({@link ShapeError} naming it otherwise). */
export function checkFloatArray(name: string, a: unknown): void {
  if (!(a instanceof Float32Array || a instanceof Float64Array)) {
    const got =
      a === null ? 'null' : Array.isArray(a) ? 'an array' : typeof a === 'object' ? (a.constructor?.name ?? 'an object') : typeof a;
    throw new ShapeError(`${name} must be a Float32Array or Float64Array, got ${got}`);
  }
}

/**
 * Checks that an input holds only finite values within float32's range ({@link ShapeError} naming
 * `name`, the index, as `[i0, i1, …]` when `shape` is given, and the value).
 */
export function checkFiniteInput(name: string, a: ArrayLike<number>, shape?: readonly number[]): void {
  const i = firstOutside(a);
  if (i < 0) return;
  const v = a[i]!;
  const where = `index ${i}${shape ? ` ${unravel(i, shape)}` : ''}`;
  if (!Number.isFinite(v)) throw new ShapeError(`${name} holds a non-finite value (${v}) at ${where}: inputs must be finite`);
  throw new ShapeError(`${name} holds ${v} at ${where}, beyond float32's range (±3.4e38) that the GPU computes in: scale the data first`);
}

/**
 * Checks that every array in a backend's result holds only finite values within float32's range
 * ({@link NumericError} naming what computed it, the output and the index). Finite inputs and
 * weights can still overflow float32 inside a network (a ReLU state that grows, a large head); the
 * GPU then computes Infinity or NaN, and the float64 reference a value float32 cannot hold, so both
 * backends refuse the same results instead of returning them. `outputs` is the result object: its
 * typed arrays, arrays of them and tensors (`{ data }`) are checked, under their property names.
 */
export function checkFiniteOutputs(what: string, outputs: unknown, name = 'the output'): void {
  if (ArrayBuffer.isView(outputs) && !(outputs instanceof DataView)) {
    const a = outputs as unknown as ArrayLike<number>;
    const i = firstOutside(a);
    if (i < 0) return;
    const v = a[i]!;
    const kind = Number.isFinite(v) ? `${v}, beyond float32's range,` : `a non-finite value (${v})`;
    throw new NumericError(
      `${what} computed ${kind} in ${name} at index ${i} from finite inputs and weights: the network overflows float32 (scale the inputs or weights down)`,
    );
  }
  if (Array.isArray(outputs)) outputs.forEach((o, k) => checkFiniteOutputs(what, o, `${name}[${k}]`));
  else if (outputs !== null && typeof outputs === 'object') {
    for (const [key, o] of Object.entries(outputs)) if (key !== 'shape') checkFiniteOutputs(what, o, key === 'data' ? name : key);
  }
}

/** `result`, after {@link checkFiniteOutputs}: how both backends return what they computed. */
export function checkedOutputs<R>(what: string, result: R): R {
  checkFiniteOutputs(what, result);
  return result;
}
