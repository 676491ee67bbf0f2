/**
 * Fitting one ETS model as R's forecast::etsmodel does: Nelder–Mead over the smoothing parameters
 * and the free initial states together, on R's criterion (n·log SSE, + 2Σlog|ŷ| for multiplicative
 * errors), inside R's default parameter space `bounds = "both"`: the usual bounds (ets-init.ts,
 * with beta ≤ alpha and gamma ≤ 1 − alpha) and the admissible region, where the model forgets its
 * start (Hyndman et al. 2008, ch. 10: the discount matrix's eigenvalues inside the unit circle).
 * Outside it the objective is +∞, which the search treats as a wall.
 */

import { type EtsParams, type EtsSpec, etsFilter, stateCount } from './ets-model.ts';
import { LOWER, UPPER, initialParams, initialStates } from './ets-init.ts';
import { nelderMead } from './ets-optim.ts';

/** A fitted model: what R's `ets` object holds that forecasting and selection need. */
export interface EtsFit {
  spec: EtsSpec;
  /** Season length used (1 without a seasonal component). */
  m: number;
  par: EtsParams;
  /** Initial state, R's layout, all m seasons. */
  initState: Float64Array;
  /** State after the last observation. */
  finalState: Float64Array;
  fitted: Float64Array;
  residuals: Float64Array;
  /** R's `loglik` (−lik/2), AIC, AICc, BIC with R's parameter count. */
  loglik: number;
  aic: number;
  aicc: number;
  bic: number;
  /** Residual variance Σe²/(n − free parameters), R's `sigma2`. */
  sigma2: number;
  /** Objective evaluations the search used. */
  evaluations: number;
}

/** R's optimiser settings in etsmodel: reltol sqrt(machine epsilon), 2000 evaluations. */
const REL_TOL = Math.sqrt(2.220446049250313e-16);
const MAX_EVAL = 2000;

/**
 * R's `check.param` for bounds "both": true when the parameters are inside the usual bounds and
 * admissible. beta and gamma are only checked when the model has them; phi when damped.
 */
export function parametersAllowed(spec: EtsSpec, m: number, par: EtsParams): boolean {
  const { alpha, beta, gamma, phi } = par;
  if (alpha < LOWER.alpha || alpha > UPPER.alpha) return false;
  if (spec.trend !== 'N' && (beta < LOWER.beta || beta > alpha || beta > UPPER.beta)) return false;
  if (spec.damped && (phi < LOWER.phi || phi > UPPER.phi)) return false;
  if (spec.season !== 'N' && (gamma < LOWER.gamma || gamma > 1 - alpha || gamma > UPPER.gamma)) return false;
  return admissible(spec, m, par);
}

/**
 * R's `admissible` (forecast's C++ target function): the region where the model's forecasts do
 * not depend on the distant past. Non-seasonal models have closed-form bounds; seasonal ones need
 * the roots of the characteristic polynomial
 *   z^(m+1) + (α+β−φ) z^m + (α+β−αφ)(z^(m−1) + … + z^2) + (α+β−αφ+γ−1) z + φ(1−α−γ)
 * inside the unit circle (R: largest root modulus ≤ 1 + 1e−10 by its polynomial root finder;
 * here by the Schur–Cohn test on the polynomial rescaled by that radius, which needs no root
 * finding). Where roots lie within ~1e-8 of the circle (near-double roots when α and γ are
 * tiny) both answers are decided by rounding and may differ, so a fit can take a different path
 * from R's there: the restarts in {@link fitEtsModel} are for that.
 */
export function admissible(spec: EtsSpec, m: number, par: EtsParams): boolean {
  const phi = spec.damped ? par.phi : 1;
  const { alpha } = par;
  if (phi < 0 || phi > 1 + 1e-8) return false;
  if (spec.season === 'N' || m <= 1) {
    if (spec.season !== 'N') return true; // R: a "seasonal" model with m = 1 has no extra check
    if (alpha < 1 - 1 / phi || alpha > 1 + 1 / phi) return false;
    if (spec.trend !== 'N' && (par.beta < alpha * (phi - 1) || par.beta > (1 + phi) * (2 - alpha))) return false;
    return true;
  }
  const beta = spec.trend === 'N' ? 0 : par.beta;
  const gamma = par.gamma;
  if (gamma < Math.max(1 - 1 / phi - alpha, 0) || gamma > 1 + 1 / phi - alpha) return false;
  if (alpha < 1 - 1 / phi - (gamma * (1 - m + phi + phi * m)) / (2 * phi * m)) return false;
  if (beta < -(1 - phi) * (gamma / m + alpha)) return false;
  // coefficients, highest power first, in a buffer kept between calls: the search asks this
  // thousands of times per fit, and a fresh array each time was most of its garbage
  const c = scratch(coefficients, m + 2);
  coefficients = c;
  let len = 0;
  c[len++] = 1;
  c[len++] = alpha + beta - phi;
  for (let i = 0; i < m - 2; i++) c[len++] = alpha + beta - alpha * phi;
  c[len++] = alpha + beta - alpha * phi + gamma - 1;
  c[len++] = phi * (1 - alpha - gamma);
  // Without trend and damping, z = 1 is always a root (the coefficients sum to 0). It sits exactly
  // on the limit, where a test within 1e-10 of it is decided by rounding; R's root finder puts it
  // inside. Divide it out (synthetic division) and test the other roots.
  if (beta === 0 && phi === 1) {
    for (let k = 1; k < len - 1; k++) c[k] = c[k]! + c[k - 1]!;
    len--;
  }
  return rootsWithin(c, 1 + 1e-10, len - 1);
}

/** The buffers {@link admissible} and {@link rootsWithin} reuse (one thread runs one call at a time). */
let coefficients = new Float64Array(32);
let reduced = [new Float64Array(32), new Float64Array(32)] as const;
let powers = { radius: Number.NaN, table: new Float64Array(0) };

/** `buffer` when it holds `length` values, else a new one that does. */
function scratch(buffer: Float64Array<ArrayBuffer>, length: number): Float64Array<ArrayBuffer> {
  return buffer.length >= length ? buffer : new Float64Array(2 * length);
}

/**
 * Schur–Cohn–Jury test: true when every root of Σ c[k]·z^(d−k) (c[0] the leading coefficient,
 * d = `degree`, by default c.length − 1) lies strictly inside |z| < radius. The polynomial is rescaled to the unit circle, then reduced
 * one degree at a time by q(z) = (a_d·p(z) − a_0·p*(z))/z, p* the reversed polynomial; all roots
 * are inside iff |a_0| < |a_d| at every step (then q's leading coefficient a_d² − a_0² > 0).
 */
export function rootsWithin(c: ArrayLike<number>, radius: number, degree = c.length - 1): boolean {
  const d = degree;
  if (reduced[0].length <= d) reduced = [new Float64Array(2 * d + 2), new Float64Array(2 * d + 2)];
  if (powers.radius !== radius || powers.table.length <= d) {
    powers = { radius, table: Float64Array.from({ length: 2 * d + 2 }, (_, k) => radius ** k) };
  }
  const pow = powers.table;
  // a[k] = coefficient of w^k of p(radius·w); each reduction writes the other buffer
  let a = reduced[0];
  let next = reduced[1];
  for (let k = 0; k <= d; k++) a[k] = c[d - k]! * pow[k]!;
  for (let deg = d; deg >= 1; deg--) {
    const lead = a[deg]!;
    const tail = a[0]!;
    if (!(Math.abs(tail) < Math.abs(lead))) return false;
    for (let k = 0; k < deg; k++) next[k] = lead * a[k + 1]! - tail * a[deg - 1 - k]!;
    // rescale to a monic polynomial (same roots) so 25 reductions neither underflow nor overflow
    const monic = next[deg - 1]!;
    for (let k = 0; k < deg; k++) next[k] = next[k]! / monic;
    const done = a;
    a = next;
    next = done;
  }
  return true;
}

/**
 * Fits `spec` to `y` (season length `m`, used only when the model is seasonal). Returns null where
 * R's etsmodel gives no model: too many parameters for the data (np ≥ n − 1), or no finite start.
 */
export function fitEtsModel(y: ArrayLike<number>, spec: EtsSpec, m: number): EtsFit | null {
  const mm = spec.season === 'N' ? 1 : m;
  const n = y.length;
  const par0 = initialParams(spec, mm);
  let states0: number[];
  try {
    states0 = initialStates(y, spec, mm);
  } catch {
    return null;
  }
  const nPar = par0.length;
  const start = [...par0, ...states0];
  if (start.length >= n - 1) return null;

  const nStates = stateCount(spec, mm);
  const init = new Float64Array(nStates);
  const par: EtsParams = { alpha: 0, beta: 0, gamma: 0, phi: 1 };
  const unpack = (x: ArrayLike<number>): void => {
    let j = 0;
    par.alpha = x[j++]!;
    par.beta = spec.trend !== 'N' ? x[j++]! : 0;
    par.gamma = spec.season !== 'N' ? x[j++]! : 0;
    par.phi = spec.damped ? x[j++]! : 1;
    fillState(spec, mm, x, nPar, init);
  };
  // The admissibility test depends on the smoothing parameters only; the search often moves only
  // the states (the first simplex's vertices but nPar + 1 of them, shrinks): ask it once per
  // parameter set.
  const checked: EtsParams = { alpha: Number.NaN, beta: 0, gamma: 0, phi: 0 };
  let allowed = false;
  const objective = (x: Float64Array): number => {
    unpack(x);
    if (par.alpha !== checked.alpha || par.beta !== checked.beta || par.gamma !== checked.gamma || par.phi !== checked.phi) {
      allowed = parametersAllowed(spec, mm, par);
      Object.assign(checked, par);
    }
    if (!allowed) return Infinity;
    if (spec.season === 'M') {
      for (let i = spec.trend === 'N' ? 1 : 2; i < nStates; i++) if (init[i]! < 0) return Infinity;
    }
    const lik = etsFilter(y, spec, mm, par, init);
    if (Number.isNaN(lik)) return Infinity;
    return Math.max(lik, -1e10); // R: "avoid perfect fits"
  };

  let result;
  try {
    result = nelderMead(objective, start, REL_TOL, MAX_EVAL);
  } catch {
    return null;
  }
  unpack(result.x);
  return finishFit(y, spec, mm, { ...par }, Float64Array.from(init), result.evaluations);
}

/**
 * Writes R's full initial state from the free states `x[offset…]` (`[l, b?, s1…s(m−1)]`): the last
 * season is m − Σ (multiplicative) or −Σ (additive) of the others.
 */
function fillState(spec: EtsSpec, m: number, x: ArrayLike<number>, offset: number, init: Float64Array): void {
  const free = init.length - (spec.season === 'N' ? 0 : 1);
  for (let i = 0; i < free; i++) init[i] = x[offset + i]!;
  if (spec.season !== 'N') {
    let sum = 0;
    for (let i = spec.trend === 'N' ? 1 : 2; i < free; i++) sum += x[offset + i]!;
    init[free] = (spec.season === 'M' ? m : 0) - sum;
  }
}

/**
 * Runs the filter once more with the final parameters and computes R's criteria: np = free
 * parameters + free initial states + 1 (the variance); AIC = lik + 2np, AICc = AIC +
 * 2np(np+1)/(n−np−1), BIC = lik + log(n)·np; sigma2 = Σe²/(n − np + 1).
 */
export function finishFit(
  y: ArrayLike<number>,
  spec: EtsSpec,
  m: number,
  par: EtsParams,
  initState: Float64Array,
  evaluations = 0,
): EtsFit {
  const n = y.length;
  const nStates = stateCount(spec, m);
  const fitted = new Float64Array(n);
  const residuals = new Float64Array(n);
  const finalState = new Float64Array(nStates);
  const lik = etsFilter(y, spec, m, par, initState, { fitted, residuals, finalState });
  const nSmoothing = 1 + (spec.trend !== 'N' ? 1 : 0) + (spec.season !== 'N' ? 1 : 0) + (spec.damped ? 1 : 0);
  const freeStates = nStates - (spec.season !== 'N' ? 1 : 0);
  const np = nSmoothing + freeStates + 1;
  const aic = lik + 2 * np;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += residuals[i]! * residuals[i]!;
  return {
    spec,
    m,
    par,
    initState,
    finalState,
    fitted,
    residuals,
    loglik: -0.5 * lik,
    aic,
    aicc: aic + (2 * np * (np + 1)) / (n - np - 1),
    bic: lik + Math.log(n) * np,
    sigma2: sse / (n - (np - 1)),
    evaluations,
  };
}
