/**
 * Starting values of an ETS fit, as R's forecast package computes them (`initstate`, `initparam`):
 * the optimiser starts from these, so matching them is what lets our fits land where R's do.
 *
 * Initial states (Hyndman et al. 2008, §2.6.1, R's heuristic):
 * - season: from a classical decomposition (R's `decompose`, centred moving average) when the
 *   series has at least three seasons; with fewer, from a regression on a linear trend and one
 *   Fourier pair (R's `tslm(y ~ trend + fourier(y, 1))`). The m−1 newest seasonal states are free
 *   parameters; the last one makes the seasons sum to 0 (additive) or m (multiplicative).
 * - level and growth: the mean (no trend) or a least-squares line (trend) over the first
 *   max(10, 2m) points (at most n) of the seasonally adjusted series.
 */

import type { EtsSpec } from './ets-model.ts';

/** Usual bounds of R's `ets`: alpha, beta, gamma in [1e-4, 0.9999], phi in [0.8, 0.98]. */
export const LOWER = { alpha: 1e-4, beta: 1e-4, gamma: 1e-4, phi: 0.8 } as const;
export const UPPER = { alpha: 0.9999, beta: 0.9999, gamma: 0.9999, phi: 0.98 } as const;

/**
 * R's `initparam` for bounds "both"/"usual": alpha a fifth of its range divided by m (so seasonal
 * models start smoother), beta and gamma a tenth and a twentieth of what alpha leaves them, phi
 * near its upper bound. Returns them in the order R optimises them (absent components skipped).
 */
export function initialParams(spec: EtsSpec, m: number): number[] {
  const mm = spec.season === 'N' ? 1 : m;
  let alpha = LOWER.alpha + (0.2 * (UPPER.alpha - LOWER.alpha)) / mm;
  if (alpha > 1 || alpha < 0) alpha = LOWER.alpha + 0.002;
  const out = [alpha];
  if (spec.trend !== 'N') {
    const upper = Math.min(UPPER.beta, alpha);
    let beta = LOWER.beta + 0.1 * (upper - LOWER.beta);
    if (beta < 0 || beta > alpha) beta = alpha - 0.001;
    out.push(beta);
  }
  if (spec.season !== 'N') {
    const upper = Math.min(UPPER.gamma, 1 - alpha);
    let gamma = LOWER.gamma + 0.05 * (upper - LOWER.gamma);
    if (gamma < 0 || gamma > 1 - alpha) gamma = 1 - alpha - 0.001;
    out.push(gamma);
  }
  if (spec.damped) {
    let phi = LOWER.phi + 0.99 * (UPPER.phi - LOWER.phi);
    if (phi < 0 || phi > 1) phi = UPPER.phi - 0.001;
    out.push(phi);
  }
  return out;
}

/**
 * R's `initstate`: `[l, b?, s1, …, s(m−1)]` (the free states; sm follows from the others).
 * Throws a plain Error where R stops (fewer than 4 points for a seasonal model); the caller
 * treats the model as not fittable, as R's `try` does.
 */
export function initialStates(y: ArrayLike<number>, spec: EtsSpec, m: number): number[] {
  const n = y.length;
  let adjusted: Float64Array;
  let seasons: number[] = [];
  let period = 1;
  if (spec.season !== 'N') {
    period = m;
    if (n < 4) throw new Error('not enough data for initial seasonal states');
    const seasonal = n < 3 * m ? regressionSeasonal(y, m, spec.season) : decomposeSeasonal(y, m, spec.season);
    // R: init.seas <- rev(y.d$seasonal[2:m]), the newest state first.
    for (let j = m - 1; j >= 1; j--) seasons.push(seasonal[j]!);
    adjusted = new Float64Array(n);
    if (spec.season === 'A') {
      for (let i = 0; i < n; i++) adjusted[i] = y[i]! - seasonal[i]!;
    } else {
      seasons = seasons.map((s) => Math.max(s, 0.01));
      let sum = 0;
      for (const s of seasons) sum += s;
      if (sum > m) {
        let sumPlus = 0;
        for (const s of seasons) sumPlus += s + 0.01;
        seasons = seasons.map((s) => s / sumPlus);
      }
      for (let i = 0; i < n; i++) adjusted[i] = y[i]! / Math.max(seasonal[i]!, 0.01);
    }
  } else {
    adjusted = Float64Array.from(y);
  }

  const maxn = Math.min(Math.max(10, 2 * period), n);
  if (spec.trend === 'N') return [mean(adjusted, 0, maxn), ...seasons];
  // lsfit(1:maxn, y.sa[1:maxn])
  const t = Float64Array.from({ length: maxn }, (_, i) => i + 1);
  const line = leastSquares([new Float64Array(maxn).fill(1), t], adjusted.subarray(0, maxn));
  let l0 = line[0]!;
  let b0 = line[1]!;
  if (Math.abs(l0 + b0) < 1e-8) {
    l0 *= 1 + 0.001;
    b0 *= 1 - 0.001;
  }
  return [l0, b0, ...seasons];
}

/**
 * R's `decompose(y, type)$seasonal`: detrend by the centred moving average of order m (weights
 * 1/2m at both ends when m is even), average each position of the cycle (counted from the first
 * point), normalise to mean 0 (additive) or 1 (multiplicative). Needs n ≥ 2m.
 */
export function decomposeSeasonal(y: ArrayLike<number>, m: number, type: 'A' | 'M'): Float64Array {
  const n = y.length;
  const even = m % 2 === 0;
  const nf = even ? m + 1 : m;
  const filter = new Float64Array(nf).fill(1 / m);
  if (even) filter[0] = filter[nf - 1] = 0.5 / m;
  const shift = Math.floor(nf / 2);
  // detrended values, grouped by position in the cycle (counted from the first point)
  const byPosition: number[][] = Array.from({ length: m }, () => []);
  for (let i = shift; i + nf - 1 - shift < n; i++) {
    // R's filter(): z = Σ_j filter[j]·x[i + shift − j], in this order.
    let trend = 0;
    for (let j = 0; j < nf; j++) trend += filter[j]! * y[i + shift - j]!;
    byPosition[i % m]!.push(type === 'A' ? y[i]! - trend : y[i]! / trend);
  }
  const figure = Float64Array.from(byPosition, (values) => mean(values, 0, values.length));
  const average = mean(figure, 0, m);
  for (let j = 0; j < m; j++) figure[j] = type === 'A' ? figure[j]! - average : figure[j]! / average;
  const seasonal = new Float64Array(n);
  for (let i = 0; i < n; i++) seasonal[i] = figure[i % m]!;
  return seasonal;
}

/**
 * R's short-series seasonal estimate (fewer than three seasons): least squares of y on
 * [1, t, sin(2πt/m), cos(2πt/m)], t = 1…n (the sine is dropped for m = 2, where it is zero);
 * the seasonal part is y minus (additive) or over (multiplicative) the fitted line a + b·t.
 */
export function regressionSeasonal(y: ArrayLike<number>, m: number, type: 'A' | 'M'): Float64Array {
  const n = y.length;
  const columns: ((t: number) => number)[] = [() => 1, (t) => t];
  if (m > 2) columns.push((t) => sinPi(2 * (1 / m) * t));
  columns.push((t) => cosPi(2 * (1 / m) * t));
  const x = columns.map((col) => Float64Array.from({ length: n }, (_, i) => col(i + 1)));
  const coef = leastSquares(x, y);
  const seasonal = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // R: y - a - b*t (additive), y / (a + b*t) (multiplicative)
    seasonal[i] = type === 'A' ? y[i]! - coef[0]! - coef[1]! * (i + 1) : y[i]! / (coef[0]! + coef[1]! * (i + 1));
  }
  return seasonal;
}

/** sin(πx) with R's argument reduction (exact zeros and ones at multiples of ½). */
function sinPi(x: number): number {
  let r = x % 2;
  if (r <= -1) r += 2;
  else if (r > 1) r -= 2;
  if (r === 0 || r === 1) return 0;
  if (r === 0.5) return 1;
  if (r === -0.5) return -1;
  return Math.sin(Math.PI * r);
}

/** cos(πx) with R's argument reduction. */
function cosPi(x: number): number {
  const r = Math.abs(x) % 2;
  if (r % 1 === 0.5) return 0;
  if (r === 1) return -1;
  if (r === 0) return 1;
  return Math.cos(Math.PI * r);
}

/**
 * Least-squares coefficients of y on the given columns, by the Householder QR R's `lm` and `lsfit`
 * use (LINPACK's dqrdc2 and dqrsl, with reference BLAS: plain sequential dot products and norms),
 * step for step, so the starting values agree with R's to the last bit as often as possible. The
 * columns must be linearly independent (no pivoting: the designs here always are).
 */
export function leastSquares(columns: Float64Array[], y: ArrayLike<number>): number[] {
  const p = columns.length;
  const n = y.length;
  const x = columns.map((c) => Float64Array.from(c));
  const qraux = new Float64Array(p);
  // dqrdc2: reflect column l onto e_l; x[l][l…] keeps the Householder vector, qraux its first entry
  for (let l = 0; l < Math.min(n, p); l++) {
    if (l === n - 1) break;
    const col = x[l]!;
    let norm = Math.sqrt(dot(col, col, l, n));
    if (norm === 0) continue;
    if (col[l]! !== 0) norm = col[l]! < 0 ? -Math.abs(norm) : Math.abs(norm);
    const inv = 1 / norm;
    for (let i = l; i < n; i++) col[i] = inv * col[i]!;
    col[l] = 1 + col[l]!;
    for (let j = l + 1; j < p; j++) {
      const t = -dot(col, x[j]!, l, n) / col[l]!;
      for (let i = l; i < n; i++) x[j]![i] = x[j]![i]! + t * col[i]!;
    }
    qraux[l] = col[l]!;
    col[l] = -norm;
  }
  // dqrsl: Qᵀy, then back substitution
  const qty = Float64Array.from(y);
  for (let j = 0; j < Math.min(p, n - 1); j++) {
    if (qraux[j]! === 0) continue;
    const col = x[j]!;
    const diagonal = col[j]!;
    col[j] = qraux[j]!;
    const t = -dot(col, qty, j, n) / col[j]!;
    for (let i = j; i < n; i++) qty[i] = qty[i]! + t * col[i]!;
    col[j] = diagonal;
  }
  const b = Array.from(qty.subarray(0, p));
  for (let j = p - 1; j >= 0; j--) {
    b[j] = b[j]! / x[j]![j]!;
    const t = -b[j]!;
    for (let i = 0; i < j; i++) b[i] = b[i]! + t * x[j]![i]!;
  }
  return b;
}

/** Σ a[i]·b[i] for i in [from, to), in order (reference BLAS ddot and dnrm2 for mid-range values). */
function dot(a: Float64Array, b: Float64Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * Mean of x[from…to), correctly rounded in practice. R's mean() sums in extended precision and
 * adds a correction pass, which nearly always gives the correctly rounded mean; the optimiser's
 * path from these starting values is sensitive to their last bits, so a plain float64 sum (off by
 * an ulp or two) would let our fits wander from R's. Here the sum is kept exactly as an unevaluated
 * pair (Neumaier's compensated summation) and divided with the exact remainder (Dekker's product).
 */
export function mean(x: ArrayLike<number>, from: number, to: number): number {
  const n = to - from;
  let hi = 0;
  let lo = 0;
  for (let i = from; i < to; i++) {
    const v = x[i]!;
    const t = hi + v;
    lo += Math.abs(hi) >= Math.abs(v) ? hi - t + v : v - t + hi;
    hi = t;
  }
  const q = hi / n;
  const p = q * n;
  // hi + lo − q·n, exactly up to the rounding of the small terms
  const remainder = hi - p - productError(q, n, p) + lo;
  return q + remainder / n;
}

/** a·b − p exactly, for p = fl(a·b) (Dekker's split product). */
function productError(a: number, b: number, p: number): number {
  const split = 134217729; // 2^27 + 1
  const ca = split * a;
  const aHi = ca - (ca - a);
  const aLo = a - aHi;
  const cb = split * b;
  const bHi = cb - (cb - b);
  const bLo = b - bHi;
  return aHi * bHi - p + aHi * bLo + aLo * bHi + aLo * bLo;
}
