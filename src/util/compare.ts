/**
 * Absolute-plus-relative comparison for float32 results against a float64 reference:
 *     |actual - expected| <= atol + rtol * |expected|
 * NaN or ±Infinity on either side never passes. On failure the message names the first bad index
 * (as a multi-dimensional index when a shape is given), the worst error and how many elements failed.
 */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/**
 * The tolerance the GPU must meet against the float64 reference. float32 has a unit roundoff of
 * 6e-8; a dot product of n ≤ 200 terms rounds to within ~n·6e-8 ≈ 1.2e-5 relative in the worst case
 * and ~√n·6e-8 ≈ 1e-6 typically, and the transcendental tanh adds a few ulp. rtol = 1e-4 leaves a
 * margin of 10× over the worst case; atol = 1e-5 covers values near zero (ReLU outputs, readouts
 * that cancel).
 */
export const FLOAT32_TOLERANCE: Tolerance = { atol: 1e-5, rtol: 1e-4 };

export interface CompareReport {
  ok: boolean;
  maxAbsError: number;
  failures: number;
  message: string;
}

/** A flat index as a multi-dimensional one in `shape` (`[i0, i1, …]`), or `[index]` without a shape. */
export function unravel(index: number, shape: readonly number[] | undefined): string {
  if (!shape || shape.length === 0) return `[${index}]`;
  const idx: number[] = [];
  let rest = index;
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(rest % shape[d]!);
    rest = Math.floor(rest / shape[d]!);
  }
  return `[${idx.join(', ')}]`;
}

export function compare(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, shape?: readonly number[]): CompareReport {
  if (actual.length !== expected.length) {
    return {
      ok: false,
      maxAbsError: Infinity,
      failures: Math.max(actual.length, expected.length),
      message: `length ${actual.length} != expected ${expected.length}`,
    };
  }
  let failures = 0;
  let first = -1;
  let maxAbsError = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const err = Math.abs(a - e);
    const bad = !Number.isFinite(a) || !Number.isFinite(e) || !(err <= tol.atol + tol.rtol * Math.abs(e));
    if (Number.isFinite(err) && err > maxAbsError) maxAbsError = err;
    if (bad) {
      failures++;
      if (first < 0) first = i;
    }
  }
  if (failures === 0) return { ok: true, maxAbsError, failures, message: `max abs error ${maxAbsError.toExponential(2)}` };
  const a = actual[first]!;
  const e = expected[first]!;
  return {
    ok: false,
    maxAbsError,
    failures,
    message:
      `${failures} of ${actual.length} elements differ; first at ${unravel(first, shape)} (flat ${first}): ` +
      `got ${a}, expected ${e} (|diff| ${Math.abs(a - e)}, allowed ${tol.atol + tol.rtol * Math.abs(e)}); ` +
      `max abs error ${maxAbsError}`,
  };
}

/** Throws with {@link compare}'s message when the arrays differ. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance,
  label: string,
  shape?: readonly number[],
): number {
  const r = compare(actual, expected, tol, shape);
  if (!r.ok) throw new Error(`${label}: ${r.message}`);
  return r.maxAbsError;
}
