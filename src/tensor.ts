import { ShapeError } from './errors.ts';

/** Element storage a tensor may hold: float32 on the GPU path, float64 from the CPU reference. */
export type FloatArray = Float32Array | Float64Array;

/**
 * A dense row-major tensor: `data[i0 * s0 + i1 * s1 + …]` with the last dimension contiguous, as in
 * PyTorch and TensorFlow.js. Shapes are plain arrays so tensors cross worker and JSON boundaries.
 */
export interface Tensor<D extends FloatArray = FloatArray> {
  readonly data: D;
  readonly shape: readonly number[];
}

/** Number of elements a shape holds. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Wraps data in a tensor after checking that the shape is made of non-negative integers and
 * matches the data length. Plain number arrays are copied into a Float32Array.
 */
export function tensor(data: FloatArray | readonly number[], shape: readonly number[]): Tensor {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(`tensor shape [${shape.join(', ')}] must hold non-negative integers`);
    }
  }
  const array = Array.isArray(data) ? Float32Array.from(data) : (data as FloatArray);
  if (array.length !== sizeOf(shape)) {
    throw new ShapeError(`tensor data has ${array.length} elements but shape [${shape.join(', ')}] needs ${sizeOf(shape)}`);
  }
  return { data: array, shape: [...shape] };
}

/**
 * The most elements a host array of results may have: V8 (Node 20, Chromium) holds at most 2^32
 * elements in one typed array.
 */
export const MAX_ARRAY_ELEMENTS = 2 ** 32;

/**
 * Throws a {@link ShapeError} before any work (on either backend) when a result of `length` values could not be
 * held in one typed array.
 */
export function checkResultLength(length: number, what: string): void {
  if (length > MAX_ARRAY_ELEMENTS) {
    throw new ShapeError(`${what} would hold ${length} values, more than one typed array holds (${MAX_ARRAY_ELEMENTS}); split the batch`);
  }
}
