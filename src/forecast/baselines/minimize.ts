/**
 * One-dimensional minimisation on a closed interval, for the smoothing parameter of exponential
 * smoothing.
 */

/** A minimum found: the argument and the function's value there. */
export interface Minimum {
  x: number;
  fx: number;
}

/**
 * Brent's method (golden section with parabolic steps) for a minimum of `f` in [a, b], stopping
 * when the bracket is within 2·(√ε·|x| + tol/3) of the current best: R's `optimize` (Brent_fmin,
 * after Brent, "Algorithms for Minimization without Derivatives", 1973, ch. 5), line by line.
 * Finds a local minimum; {@link minimizeOnGrid} makes it global on a grid's resolution.
 */
export function brent(f: (x: number) => number, a: number, b: number, tol: number): Minimum {
  const c = (3 - Math.sqrt(5)) * 0.5;
  const eps = Math.sqrt(Number.EPSILON);
  let v = a + c * (b - a);
  let w = v;
  let x = v;
  let d = 0;
  let e = 0;
  let fx = f(x);
  let fv = fx;
  let fw = fx;
  const tol3 = tol / 3;
  for (;;) {
    const xm = (a + b) * 0.5;
    const tol1 = eps * Math.abs(x) + tol3;
    const t2 = tol1 * 2;
    if (Math.abs(x - xm) <= t2 - (b - a) * 0.5) break;
    let p = 0;
    let q = 0;
    let r = 0;
    if (Math.abs(e) > tol1) {
      // A parabola through x, w and v.
      r = (x - w) * (fx - fv);
      q = (x - v) * (fx - fw);
      p = (x - v) * q - (x - w) * r;
      q = (q - r) * 2;
      if (q > 0) p = -p;
      else q = -q;
      r = e;
      e = d;
    }
    let u: number;
    if (Math.abs(p) >= Math.abs(q * 0.5 * r) || p <= q * (a - x) || p >= q * (b - x)) {
      // A golden-section step into the larger part.
      e = x < xm ? b - x : a - x;
      d = c * e;
    } else {
      // The parabola's minimum, kept tol1 away from the ends.
      d = p / q;
      u = x + d;
      if (u - a < t2 || b - u < t2) d = x < xm ? tol1 : -tol1;
    }
    if (Math.abs(d) >= tol1) u = x + d;
    else u = d > 0 ? x + tol1 : x - tol1;
    const fu = f(u);
    if (fu <= fx) {
      if (u < x) b = x;
      else a = x;
      v = w;
      fv = fw;
      w = x;
      fw = fx;
      x = u;
      fx = fu;
    } else {
      if (u < x) a = u;
      else b = u;
      if (fu <= fw || w === x) {
        v = w;
        fv = fw;
        w = u;
        fw = fu;
      } else if (fu <= fv || v === x || v === w) {
        v = u;
        fv = fu;
      }
    }
  }
  return { x, fx };
}

/**
 * The minimum of `f` on [lo, hi]: `f` at `steps + 1` evenly spaced points (the ends included), then
 * {@link brent} between the neighbours of the best of them, and the better of the two results. A
 * function with several minima gets the lowest one unless two lie within one grid step, and a
 * minimum at an end is found exactly (local searches such as Nelder–Mead stop short of a bound).
 * Ties go to the smallest argument.
 */
export function minimizeOnGrid(f: (x: number) => number, lo: number, hi: number, steps = 100, tol = 1e-10): Minimum {
  let best = 0;
  let fBest = Infinity;
  const at = (i: number) => (i === steps ? hi : lo + ((hi - lo) * i) / steps);
  for (let i = 0; i <= steps; i++) {
    const fi = f(at(i));
    if (fi < fBest) {
      best = i;
      fBest = fi;
    }
  }
  const local = brent(f, at(Math.max(0, best - 1)), at(Math.min(steps, best + 1)), tol);
  return local.fx < fBest ? local : { x: at(best), fx: fBest };
}
