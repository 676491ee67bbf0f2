/**
 * Nelder–Mead minimisation as R's `optim(method = "Nelder-Mead")` does it (J. C. Nash, "Compact
 * Numerical Methods for Computers", 1990, Algorithm 19, the `nmmin` R's forecast::ets calls with
 * reflection 1, contraction 0.5, expansion 2). Written here rather than taken from npm because
 * fitting ETS like R means taking the same steps: the same initial simplex (one step of a tenth of
 * the largest |coordinate|), the same order of trial points and the same stopping rule (the
 * spread of the simplex's values within a relative tolerance of the starting value, or the
 * evaluation budget spent).
 */

/** Result of {@link nelderMead}. */
export interface NelderMeadResult {
  x: Float64Array;
  value: number;
  evaluations: number;
  /** 0 converged, 1 budget spent, 10 a shrink did not reduce the simplex (as R's `fail`). */
  code: number;
}

/** What a non-finite objective value is replaced by inside the search (R's `big`). */
const BIG = 1.0e35;

/**
 * Minimises `fn` from `start`. The starting value must be finite (R stops otherwise; callers
 * check). `relTol` is R's `reltol` (ets passes sqrt(machine epsilon)), `maxEval` its `maxit`.
 */
export function nelderMead(fn: (x: Float64Array) => number, start: ArrayLike<number>, relTol: number, maxEval: number): NelderMeadResult {
  const n = start.length;
  const n1 = n + 1;
  // vertices[j] holds a point; values[j] its objective. One extra slot holds the centroid.
  const vertices: Float64Array[] = [];
  for (let j = 0; j <= n1; j++) vertices.push(new Float64Array(n));
  const values = new Float64Array(n1 + 1);
  const trial = Float64Array.from(start);

  const value = fn(trial);
  if (!Number.isFinite(value)) throw new Error('objective is not finite at the starting point');
  let evaluations = 1;
  const tolerance = relTol * (Math.abs(value) + relTol);
  vertices[0]!.set(trial);
  values[0] = value;

  let step = 0;
  for (let i = 0; i < n; i++) step = Math.max(step, 0.1 * Math.abs(trial[i]!));
  if (step === 0) step = 0.1;
  let size = 0;
  for (let j = 1; j < n1; j++) {
    const v = vertices[j]!;
    v.set(trial);
    // grow the step until it changes the coordinate (a huge coordinate can swallow a small step)
    let tryStep = step;
    while (v[j - 1]! === trial[j - 1]!) {
      v[j - 1] = trial[j - 1]! + tryStep;
      tryStep *= 10;
    }
    size += tryStep;
  }
  let oldSize = size;
  let low = 0;
  let needValues = true;
  let code = 0;
  const centroid = vertices[n1]!;

  const evaluate = (x: Float64Array): number => {
    const f = fn(x);
    evaluations++;
    return Number.isFinite(f) ? f : BIG;
  };

  for (;;) {
    if (needValues) {
      for (let j = 0; j < n1; j++) if (j !== low) values[j] = evaluate(vertices[j]!);
      needValues = false;
    }
    let vLow = values[low]!;
    let vHigh = vLow;
    let high = low;
    for (let j = 0; j < n1; j++) {
      if (j === low) continue;
      const f = values[j]!;
      if (f < vLow) {
        low = j;
        vLow = f;
      }
      if (f > vHigh) {
        high = j;
        vHigh = f;
      }
    }
    if (vHigh <= vLow + tolerance) break;

    // centroid of all vertices but the highest
    for (let i = 0; i < n; i++) {
      let s = -vertices[high]![i]!;
      for (let j = 0; j < n1; j++) s += vertices[j]![i]!;
      centroid[i] = s / n;
    }
    // reflect the highest through the centroid
    for (let i = 0; i < n; i++) trial[i] = 2 * centroid[i]! - vertices[high]![i]!;
    const vReflect = evaluate(trial);
    if (vReflect < vLow) {
      // expand further along the same line; keep the better of the two
      values[n1] = vReflect;
      for (let i = 0; i < n; i++) {
        const expanded = 2 * trial[i]! - centroid[i]!;
        centroid[i] = trial[i]!;
        trial[i] = expanded;
      }
      const vExpand = evaluate(trial);
      if (vExpand < vReflect) {
        vertices[high]!.set(trial);
        values[high] = vExpand;
      } else {
        vertices[high]!.set(centroid);
        values[high] = vReflect;
      }
    } else {
      if (vReflect < vHigh) {
        vertices[high]!.set(trial);
        values[high] = vReflect;
      }
      // contract the (possibly replaced) highest halfway to the centroid
      for (let i = 0; i < n; i++) trial[i] = 0.5 * vertices[high]![i]! + 0.5 * centroid[i]!;
      const vContract = evaluate(trial);
      if (vContract < values[high]!) {
        vertices[high]!.set(trial);
        values[high] = vContract;
      } else if (vReflect >= vHigh) {
        // nothing helped: shrink every vertex halfway towards the lowest
        needValues = true;
        size = 0;
        for (let j = 0; j < n1; j++) {
          if (j === low) continue;
          for (let i = 0; i < n; i++) {
            vertices[j]![i] = 0.5 * (vertices[j]![i]! - vertices[low]![i]!) + vertices[low]![i]!;
            size += Math.abs(vertices[j]![i]! - vertices[low]![i]!);
          }
        }
        if (size < oldSize) oldSize = size;
        else {
          code = 10;
          break;
        }
      }
    }
    if (evaluations > maxEval) break;
  }
  if (evaluations > maxEval) code = 1;
  return { x: Float64Array.from(vertices[low]!), value: values[low]!, evaluations, code };
}
