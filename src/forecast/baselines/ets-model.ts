/**
 * The ETS(E,T,S) state-space models of Hyndman, Koehler, Ord & Snyder (2008), "Forecasting with
 * Exponential Smoothing", as R's forecast package runs them (its C filter `etscalc`): the one-step
 * filter that gives the fitted values, the residuals and the criterion the parameters are fitted
 * by, and the point forecast from the last state.
 *
 * State layout (R's): `[l, b?, s1, …, sm]` where s1 is the newest seasonal state and sm the oldest,
 * the one the next forecast uses. Inside the filter the seasons live in a ring buffer (no copy of
 * m values per step), so the arithmetic is R's, step for step, without its memcpy.
 *
 * Only what the automatic selection can choose is here: errors A or M, trend N, A or damped A,
 * season N, A or M. R's multiplicative trend is off by default (`allow.multiplicative.trend =
 * FALSE`) and is not implemented.
 */

/** Error type: additive or multiplicative. */
export type EtsError = 'A' | 'M';
/** Trend type: none or additive (damped when {@link EtsSpec.damped}). */
export type EtsTrend = 'N' | 'A';
/** Season type: none, additive or multiplicative. */
export type EtsSeason = 'N' | 'A' | 'M';

/** One model of the family. */
export interface EtsSpec {
  error: EtsError;
  trend: EtsTrend;
  damped: boolean;
  season: EtsSeason;
}

/**
 * Smoothing parameters. A component the model lacks has R's neutral value: beta 0 without trend,
 * gamma 0 without season, phi 1 without damping.
 */
export interface EtsParams {
  alpha: number;
  beta: number;
  gamma: number;
  phi: number;
}

/** R's name of a model, e.g. `ETS(M,Ad,M)`. */
export function etsName(spec: EtsSpec): string {
  return `ETS(${spec.error},${spec.trend}${spec.damped ? 'd' : ''},${spec.season})`;
}

/**
 * Parses a model code as R's `ets(model=, damped=)` pair writes it, with the damping inside:
 * `"ANN"`, `"MAdM"`, or the printed form `"ETS(M,Ad,M)"`. Returns null when it is none of these
 * (multiplicative trend included: not implemented).
 */
export function parseEtsCode(code: string): EtsSpec | null {
  const m = /^(?:ETS\(([AM]),(N|Ad?),([NAM])\)|([AM])(N|Ad?)([NAM]))$/.exec(code.trim());
  if (!m) return null;
  const error = (m[1] ?? m[4]) as EtsError;
  const trendCode = m[2] ?? m[5];
  const season = (m[3] ?? m[6]) as EtsSeason;
  return { error, trend: trendCode === 'N' ? 'N' : 'A', damped: trendCode === 'Ad', season };
}

/** Number of states: level, trend if any, m seasons if any. */
export function stateCount(spec: EtsSpec, m: number): number {
  return 1 + (spec.trend === 'A' ? 1 : 0) + (spec.season === 'N' ? 0 : m);
}

/** R's guards in `update`: a divisor this small is replaced by HUGEN. */
const TOL = 1e-10;
const HUGEN = 1e10;

/** {@link etsFilter}'s seasonal states (one thread runs one filter at a time). */
let seasonRing = new Float64Array(32);

/** Where {@link etsFilter} writes what it computes besides the criterion (each optional). */
export interface FilterOutputs {
  /** One-step forecasts, length n. */
  fitted?: Float64Array;
  /** Residuals: y − ŷ (additive error) or (y − ŷ)/ŷ (multiplicative), length n. */
  residuals?: Float64Array;
  /** The state after the last observation, R's layout, length {@link stateCount}. */
  finalState?: Float64Array;
}

/**
 * Runs the model over `y` from initial state `init` (R's layout, all m seasons) and returns R's
 * criterion `lik` = n·log(Σe²) (+ 2·Σlog|ŷ| for multiplicative errors), which is −2·log-likelihood
 * up to a constant. `m` is the season length (ignored without season).
 *
 * The Σlog|ŷ| is kept as a running product of |ŷ| folded into a logarithm only when it leaves
 * [1e-150, 1e150]: one log per ~hundreds of steps instead of one per step (the fit calls this
 * thousands of times), the same sum to rounding (~1e-15 relative).
 */
export function etsFilter(
  y: ArrayLike<number>,
  spec: EtsSpec,
  m: number,
  par: EtsParams,
  init: ArrayLike<number>,
  out?: FilterOutputs,
): number {
  const n = y.length;
  const hasTrend = spec.trend === 'A';
  const seasonKind = spec.season === 'N' ? 0 : spec.season === 'A' ? 1 : 2;
  const multError = spec.error === 'M';
  const { alpha, beta, gamma } = par;
  const phi = spec.damped ? par.phi : 1;
  const betaOverAlpha = beta / alpha;
  const fitted = out?.fitted;
  const residuals = out?.residuals;

  let l = init[0]!;
  let b = hasTrend ? init[1]! : 0;
  const first = hasTrend ? 2 : 1;
  const period = seasonKind === 0 ? 1 : m;
  // ring[k] is the oldest season (R's s[m-1]); the newest is ring[k-1]. A buffer kept between calls:
  // the fit runs the filter thousands of times.
  if (seasonRing.length < period) seasonRing = new Float64Array(2 * period);
  const ring = seasonRing;
  if (seasonKind !== 0) for (let j = 0; j < m; j++) ring[j] = init[first + m - 1 - j]!;
  let k = 0;

  let sse = 0;
  let logSum = 0;
  let absProduct = 1;
  for (let i = 0; i < n; i++) {
    const yi = y[i]!;
    const phib = hasTrend ? phi * b : 0;
    const q = l + phib; // level + damped trend: the forecast before the season
    const sOld = ring[k]!;
    const f = seasonKind === 0 ? q : seasonKind === 1 ? q + sOld : q * sOld;
    const e = multError ? (yi - f) / f : yi - f;
    if (fitted) fitted[i] = f;
    if (residuals) residuals[i] = e;
    sse += e * e;
    if (multError) {
      absProduct *= Math.abs(f);
      if (!(absProduct < 1e150 && absProduct > 1e-150)) {
        logSum += Math.log(absProduct);
        absProduct = 1;
      }
    }
    // Update (R's `update`): level, then growth from the level change, then the season.
    let p: number;
    if (seasonKind === 0) p = yi;
    else if (seasonKind === 1) p = yi - sOld;
    else p = Math.abs(sOld) < TOL ? HUGEN : yi / sOld;
    const lNew = q + alpha * (p - q);
    if (hasTrend) b = phib + betaOverAlpha * (lNew - l - phib);
    if (seasonKind !== 0) {
      let t: number;
      if (seasonKind === 1) t = yi - q;
      else t = Math.abs(q) < TOL ? HUGEN : yi / q;
      ring[k] = sOld + gamma * (t - sOld);
      k = k + 1 === m ? 0 : k + 1;
    }
    l = lNew;
  }
  if (multError) logSum += Math.log(absProduct);

  const finalState = out?.finalState;
  if (finalState) {
    finalState[0] = l;
    if (hasTrend) finalState[1] = b;
    // newest first: s1 = ring[k-1], s2 = ring[k-2], …
    if (seasonKind !== 0) for (let j = 0; j < m; j++) finalState[first + j] = ring[(k - 1 - j + 2 * m) % m]!;
  }
  let lik = n * Math.log(sse);
  if (multError) lik += 2 * logSum;
  return lik;
}

/**
 * Point forecasts h = 1…horizon from `state` (R's layout): ℓ + (φ + … + φ^h)·b, plus or times the
 * season of the same position one cycle back. For linear models this is the forecast mean; for
 * multiplicative seasonality R reports a mean with a variance correction instead
 * (ets-intervals.ts).
 */
export function pointForecast(state: ArrayLike<number>, spec: EtsSpec, m: number, phiIn: number, horizon: number): Float64Array {
  const hasTrend = spec.trend === 'A';
  const phi = spec.damped ? phiIn : 1;
  const first = hasTrend ? 2 : 1;
  const l = state[0]!;
  const b = hasTrend ? state[1]! : 0;
  const out = new Float64Array(horizon);
  let phiSum = 0;
  let phiPow = 1;
  for (let h = 0; h < horizon; h++) {
    phiPow *= phi;
    phiSum += phiPow;
    let f = hasTrend ? l + phiSum * b : l;
    if (spec.season !== 'N') {
      const s = state[first + m - 1 - (h % m)]!;
      f = spec.season === 'A' ? f + s : f * s;
    }
    out[h] = f;
  }
  return out;
}
