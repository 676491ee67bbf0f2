import { magnitude } from '../scaling.ts';
import { minimizeOnGrid } from './minimize.ts';

/**
 * Simple exponential smoothing fitted as R's `forecast::ses(x)` fits it (the SES inside thetaf).
 *
 * Model (ETS(A,N,N)): one-step forecast ℓ_{t−1}, error e_t = x_t − ℓ_{t−1}, level
 * ℓ_t = ℓ_{t−1} + α·e_t, t = 1 … n; every forecast is ℓ_n.
 *
 * R's ses() calls ets(x, "ANN", opt.crit = "mse"), which takes two paths by length:
 *
 * - n ≥ 7 (`ets`): α in [1e−4, 0.9999] and ℓ_0 free, chosen to minimise the MSE (1/n) Σ e_t², by
 *   Nelder–Mead from α = 0.2, ℓ_0 = mean of the first 10 values; σ² = Σ e_t² / (n − 2) (two
 *   parameters).
 * - n ≤ 6 (ets hands the fit to `HoltWintersZZ`): ℓ_0 = x_1, α in [0, 1] chosen to minimise
 *   Σ e_t² (whose first term is 0) by L-BFGS-B; σ² = (1/n) Σ e_t².
 *
 * The same criteria here, optimised differently and more exactly: for a fixed α every e_t is
 * linear in ℓ_0 (e_t = a_t − (1−α)^{t−1}·ℓ_0, a_t the errors from ℓ_0 = 0), so the best ℓ_0 is a
 * least-squares fit in closed form, ℓ_0 = Σ a_t c_t / Σ c_t² with c_t = (1−α)^{t−1}, and the MSE
 * a function of α alone (the profile). {@link minimizeOnGrid} minimises it over α's range (101 grid
 * points, then Brent to 1e−10): the lowest of several minima, and a minimum on a bound exactly.
 * So the criterion at this optimum is never above R's (up to rounding), while α and ℓ_0 can differ
 * from R's where the criterion is flat: Nelder–Mead stops once the simplex's values agree to a
 * relative 1.5e−8 (its `reltol`), which leaves α uncertain by about √1.5e−8 ≈ 1e−4 relative near a
 * smooth minimum and, at the bound 0.9999, stops short of it (R reports 0.99989…).
 *
 * The series is divided by a power of two near its largest magnitude first (exact), so squares of
 * values near 1.8e308 do not overflow; the results are scaled back (`mse` and `sigma2`, squares,
 * are Infinity for errors beyond about 1e154; `sigma`, which the intervals use, is not).
 */
export interface SesFit {
  /** The smoothing parameter α. */
  alpha: number;
  /** The initial level ℓ_0. */
  level0: number;
  /** The last level ℓ_n: every point forecast. */
  level: number;
  /** The criterion minimised, (1/n) Σ e_t² (both paths; the n ≤ 6 path minimises n times it). */
  mse: number;
  /** The error variance the intervals use: Σ e_t² / (n − 2) for n ≥ 7, (1/n) Σ e_t² for n ≤ 6. */
  sigma2: number;
  /** √σ², computed without squaring the scale back (finite wherever the errors are). */
  sigma: number;
  /** Which of R's two paths this reproduces. */
  path: 'ets' | 'HoltWintersZZ';
}

/** R's bounds on α in ets(): the "usual" region [1e−4, 0.9999]. */
const ETS_ALPHA: [number, number] = [1e-4, 0.9999];

/** The sum of squared one-step errors and the last level of SES from `level0` with `alpha`. */
function run(x: Float64Array, alpha: number, level0: number): { sse: number; level: number } {
  let l = level0;
  let sse = 0;
  for (let t = 0; t < x.length; t++) {
    const e = x[t]! - l;
    sse += e * e;
    l += alpha * e;
  }
  return { sse, level: l };
}

/** The ℓ_0 that minimises the squared errors for `alpha` (closed form; see {@link SesFit}). */
function bestLevel0(x: Float64Array, alpha: number): number {
  let l = 0;
  let c = 1;
  let ac = 0;
  let cc = 0;
  for (let t = 0; t < x.length; t++) {
    const a = x[t]! - l;
    ac += a * c;
    cc += c * c;
    l += alpha * a;
    c *= 1 - alpha;
  }
  return ac / cc;
}

/** Fixed SES parameters: either or both instead of optimising them. */
export interface SesFixed {
  /** α, within the path's range ([1e−4, 0.9999] for n ≥ 7, [0, 1] for n ≤ 6). */
  alpha?: number;
  /** ℓ_0 (for n ≤ 6, R fixes it at x_1: the default there). */
  level0?: number;
}

/**
 * Fits SES to `x` (at least 3 finite values; the callers check) as R's ses() does; see
 * {@link SesFit} for the criteria and how they are optimised. `fixed` holds parameters to use as
 * given rather than optimise (as ets(alpha = …) does), e.g. R's own, to compare the criterion.
 */
export function fitSes(x: ArrayLike<number>, fixed: SesFixed = {}): SesFit {
  const n = x.length;
  const p = magnitude(x);
  const z = Float64Array.from(x, (v) => v / p);
  const short = n <= 6;
  const [lo, hi] = short ? [0, 1] : ETS_ALPHA;
  const given = fixed.level0 === undefined ? undefined : fixed.level0 / p;
  const level0For = (a: number) => given ?? (short ? z[0]! : bestLevel0(z, a));
  const alpha = fixed.alpha ?? minimizeOnGrid((a) => run(z, a, level0For(a)).sse, lo, hi).x;
  const l0 = level0For(alpha);
  const { sse, level } = run(z, alpha, l0);
  const dof = short ? n : n - 2;
  return {
    alpha,
    level0: l0 * p,
    level: level * p,
    mse: (sse / n) * p * p,
    sigma2: (sse / dof) * p * p,
    sigma: Math.sqrt(sse / dof) * p,
    path: short ? 'HoltWintersZZ' : 'ets',
  };
}
