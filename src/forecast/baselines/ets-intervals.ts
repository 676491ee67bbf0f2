/**
 * Forecast means and variances of fitted ETS models, as R's forecast.ets computes them
 * analytically (Hyndman et al. 2008, ch. 6): every model the automatic selection can choose falls
 * in one of R's three classes, so no simulation is needed.
 *
 * - class 1, additive error, trend N/A/Ad, season N/A (linear): the mean H·F^j·x and
 *   variance σ²(1 + Σ c_j²) with c_j = H·F^(j−1)·G.
 * - class 2, multiplicative error, same trends and seasons: the class-1 mean, variance
 *   (1+σ²)θ_h − μ_h² with θ_h = μ_h² + σ² Σ c_j² θ_(h−j).
 * - class 3, multiplicative error and season, trend N/A/Ad: the level-trend × season moments
 *   propagated exactly through Kronecker products (Hyndman et al. 2008, §6.5). Its mean is the
 *   expectation, slightly above the point forecast ℓ·s for σ² > 0, as R reports it.
 *
 * Class 1 follows R's current source: forecast ≤ 8.20 put the seasonal smoothing weight γ on the
 * third state even without a trend (fixed upstream, robjhyndman/forecast commit 84689588), which
 * misplaced it for ETS(A,N,A) and ETS(M,N,A); our goldens use the fixed R function.
 */

import type { EtsSpec } from './ets-model.ts';
import type { EtsFit } from './ets-fit.ts';

/** Mean and variance of the h-step forecast, h = 1…horizon. */
export interface ForecastMoments {
  mean: Float64Array;
  variance: Float64Array;
}

/** The forecast distribution's mean and variance for a fitted model (R's class 1, 2 or 3). */
export function forecastMoments(fit: EtsFit, horizon: number): ForecastMoments {
  const { spec } = fit;
  if (spec.season === 'M') {
    if (spec.error !== 'M') throw new Error(`no analytic forecast variance for ETS(A,·,M) (R forbids the model)`);
    return class3(fit, horizon);
  }
  const linear = class1(fit, horizon);
  return spec.error === 'A' ? { mean: linear.mean, variance: linear.variance } : class2(fit, horizon, linear);
}

/** A dense row-major matrix. */
interface Mat {
  rows: number;
  cols: number;
  a: Float64Array;
}
const mat = (rows: number, cols: number): Mat => ({ rows, cols, a: new Float64Array(rows * cols) });
const at = (x: Mat, i: number, j: number): number => x.a[i * x.cols + j]!;
const set = (x: Mat, i: number, j: number, v: number): void => {
  x.a[i * x.cols + j] = v;
};

/** R's F (transition), G (smoothing weights) and H (measurement) of a linear model. */
function linearSystem(spec: EtsSpec, m: number, par: EtsFit['par'], p: number): { F: Mat; g: Float64Array; h: Float64Array } {
  const phi = spec.damped ? par.phi : 1;
  const hasTrend = spec.trend !== 'N';
  const seasonal = spec.season !== 'N';
  const h = new Float64Array(p);
  h[0] = 1;
  if (seasonal) h[p - 1] = 1;
  if (hasTrend) h[1] = phi;
  const F = mat(p, p);
  set(F, 0, 0, 1);
  if (hasTrend) {
    set(F, 0, 1, phi);
    set(F, 1, 1, phi);
  }
  if (seasonal) {
    const s0 = p - m; // first seasonal state
    set(F, s0, p - 1, 1); // the oldest season becomes the newest
    for (let i = 1; i < m; i++) set(F, s0 + i, s0 + i - 1, 1); // the others age by one
  }
  const g = new Float64Array(p);
  g[0] = par.alpha;
  if (hasTrend) g[1] = par.beta;
  if (seasonal) g[p - m] = par.gamma;
  return { F, g, h };
}

function applyMat(F: Mat, v: Float64Array): Float64Array {
  const out = new Float64Array(F.rows);
  for (let i = 0; i < F.rows; i++) {
    let s = 0;
    for (let j = 0; j < F.cols; j++) s += at(F, i, j) * v[j]!;
    out[i] = s;
  }
  return out;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Class 1: mean, variance and the weights c_j (j = 1…horizon−1) class 2 reuses. */
function class1(fit: EtsFit, horizon: number): ForecastMoments & { c: Float64Array } {
  const p = fit.finalState.length;
  const { F, g, h } = linearSystem(fit.spec, fit.m, fit.par, p);
  const mean = new Float64Array(horizon);
  const c = new Float64Array(Math.max(horizon - 1, 0));
  let x: Float64Array = Float64Array.from(fit.finalState);
  let w: Float64Array = Float64Array.from(g);
  for (let i = 0; i < horizon; i++) {
    mean[i] = dot(h, x);
    if (i < horizon - 1) {
      c[i] = dot(h, w);
      x = applyMat(F, x);
      w = applyMat(F, w);
    }
  }
  const variance = new Float64Array(horizon);
  let cum = 0;
  for (let i = 0; i < horizon; i++) {
    variance[i] = fit.sigma2 * (1 + cum);
    if (i < horizon - 1) cum += c[i]! * c[i]!;
  }
  return { mean, variance, c };
}

/** Class 2 from the class-1 mean and weights. */
function class2(fit: EtsFit, horizon: number, linear: { mean: Float64Array; c: Float64Array }): ForecastMoments {
  const { mean, c } = linear;
  const s2 = fit.sigma2;
  const theta = new Float64Array(horizon);
  for (let j = 0; j < horizon; j++) {
    let s = 0;
    for (let k = 0; k < j; k++) s += c[k]! * c[k]! * theta[j - 1 - k]!;
    theta[j] = mean[j]! * mean[j]! + s2 * s;
  }
  const variance = new Float64Array(horizon);
  for (let j = 0; j < horizon; j++) variance[j] = (1 + s2) * theta[j]! - mean[j]! * mean[j]!;
  return { mean, variance };
}

function matMul(x: Mat, y: Mat): Mat {
  const out = mat(x.rows, y.cols);
  for (let i = 0; i < x.rows; i++) {
    for (let k = 0; k < x.cols; k++) {
      const v = at(x, i, k);
      if (v === 0) continue;
      for (let j = 0; j < y.cols; j++) out.a[i * out.cols + j] = out.a[i * out.cols + j]! + v * at(y, k, j);
    }
  }
  return out;
}

function transpose(x: Mat): Mat {
  const out = mat(x.cols, x.rows);
  for (let i = 0; i < x.rows; i++) for (let j = 0; j < x.cols; j++) set(out, j, i, at(x, i, j));
  return out;
}

/** Kronecker product x ⊗ y (R's %x%): block (i, j) is x[i, j]·y. */
function kron(x: Mat, y: Mat): Mat {
  const out = mat(x.rows * y.rows, x.cols * y.cols);
  for (let i = 0; i < x.rows; i++)
    for (let j = 0; j < x.cols; j++) {
      const v = at(x, i, j);
      if (v === 0) continue;
      for (let k = 0; k < y.rows; k++) for (let l = 0; l < y.cols; l++) set(out, i * y.rows + k, j * y.cols + l, v * at(y, k, l));
    }
  return out;
}

function add(...xs: Mat[]): Mat {
  const out = mat(xs[0]!.rows, xs[0]!.cols);
  for (const x of xs) for (let i = 0; i < out.a.length; i++) out.a[i] = out.a[i]! + x.a[i]!;
  return out;
}

function scale(x: Mat, s: number): Mat {
  const out = mat(x.rows, x.cols);
  for (let i = 0; i < out.a.length; i++) out.a[i] = s * x.a[i]!;
  return out;
}

/** x·V·yᵀ */
function sandwich(x: Mat, v: Mat, y: Mat): Mat {
  return matMul(matMul(x, v), transpose(y));
}

/**
 * Class 3 (R's `class3`): M_h = E[(ℓ, b)ᵀ·(s1…sm)] and V_h = Var(vec M_h) propagated one step at
 * a time; the h-step mean is H1·M_h·H2ᵀ, its variance (1+σ²)·H21·V_h·H21ᵀ + σ²·μ_h².
 */
function class3(fit: EtsFit, horizon: number): ForecastMoments {
  const { spec, par, m } = fit;
  const s2 = fit.sigma2;
  const state = fit.finalState;
  const q = spec.trend === 'N' ? 1 : 2;
  const phi = spec.damped ? par.phi : 1;
  const H1 = mat(1, q);
  H1.a.fill(1);
  const H2 = mat(1, m);
  set(H2, 0, m - 1, 1);
  const F1 = mat(q, q);
  const G1 = mat(q, q);
  if (q === 1) {
    set(F1, 0, 0, 1);
    set(G1, 0, 0, par.alpha);
  } else {
    F1.a.set([1, 1, 0, phi]);
    G1.a.set([par.alpha, par.alpha, par.beta, par.beta]);
  }
  const F2 = mat(m, m);
  set(F2, 0, m - 1, 1);
  for (let i = 1; i < m; i++) set(F2, i, i - 1, 1);
  const G2 = mat(m, m);
  set(G2, 0, m - 1, par.gamma);

  let Mh = mat(q, m);
  for (let i = 0; i < q; i++) for (let j = 0; j < m; j++) set(Mh, i, j, state[i]! * state[q + j]!);
  const d = q * m;
  let Vh = mat(d, d);
  const H21 = kron(H2, H1);
  const F21 = kron(F2, F1);
  const G21 = kron(G2, G1);
  const K = add(kron(G2, F1), kron(F2, G1));

  const mean = new Float64Array(horizon);
  const variance = new Float64Array(horizon);
  for (let i = 0; i < horizon; i++) {
    const mu = at(sandwich(H1, Mh, H2), 0, 0);
    mean[i] = mu;
    variance[i] = (1 + s2) * at(sandwich(H21, Vh, H21), 0, 0) + s2 * mu * mu;
    // vec(M_h), column-major as R's c(Mh)
    const vec = mat(d, 1);
    for (let j = 0; j < m; j++) for (let r = 0; r < q; r++) vec.a[j * q + r] = at(Mh, r, j);
    const outer = matMul(vec, transpose(vec));
    Vh = add(
      sandwich(F21, Vh, F21),
      scale(
        add(
          sandwich(F21, Vh, G21),
          sandwich(G21, Vh, F21),
          sandwich(K, add(Vh, outer), K),
          scale(sandwich(G21, add(scale(Vh, 3), scale(outer, 2)), G21), s2),
        ),
        s2,
      ),
    );
    Mh = add(sandwich(F1, Mh, F2), scale(sandwich(G1, Mh, G2), s2));
  }
  return { mean, variance };
}
