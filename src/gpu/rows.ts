import type { FloatArray } from '../tensor.ts';
import { resultArray } from './chunks.ts';

/**
 * Rows of the batch dimension: a batch chunk's slice of a per-sequence array, and its results
 * written back into place. A per-sequence array is `[outer, B, inner]` around the batch index:
 * batch-major tensors pass outer = 1, time-major ones (`[T, B, I]`, `[D, B, H]`) keep the batch in
 * the middle.
 */

/** `a` as float32 (itself when it is already). */
export function asFloat32(a: FloatArray): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

/** Rows `b0 … b1−1` of the batch dimension of a `[outer, B, inner]` array, as `[outer, b1−b0, inner]` float32. */
export function batchSlice(a: FloatArray, outer: number, B: number, inner: number, b0: number, b1: number): Float32Array {
  const out = new Float32Array(outer * (b1 - b0) * inner);
  for (let o = 0; o < outer; o++) {
    out.set(a.subarray((o * B + b0) * inner, (o * B + b1) * inner), o * (b1 - b0) * inner);
  }
  return out;
}

/** The inverse of {@link batchSlice}: writes `part` into rows `b0 … b1−1` of `dst`. */
export function batchScatter(dst: Float32Array, part: Float32Array, outer: number, B: number, inner: number, b0: number, b1: number): void {
  const rows = (b1 - b0) * inner;
  for (let o = 0; o < outer; o++) dst.set(part.subarray(o * rows, (o + 1) * rows), (o * B + b0) * inner);
}

/**
 * One result of a batch call, `[outer, B, inner]` float32, assembled from its chunks' results: the
 * chunk's own array when one chunk holds the whole batch, else each chunk's rows written into place
 * ({@link batchScatter}).
 */
export class BatchRows {
  private data: Float32Array | null = null;

  constructor(
    private readonly B: number,
    private readonly inner: number,
    private readonly what: string,
    private readonly outer = 1,
  ) {}

  /** The result of rows b0 … b1−1: `[outer, b1 − b0, inner]`. */
  put(part: Float32Array, b0: number, b1: number): void {
    if (b1 - b0 === this.B) {
      this.data = part;
      return;
    }
    this.data ??= resultArray(this.outer * this.B * this.inner, this.what);
    batchScatter(this.data, part, this.outer, this.B, this.inner, b0, b1);
  }

  /** The whole result, once every chunk has been put. */
  get result(): Float32Array {
    return this.data!;
  }
}
