/**
 * Automatic exponential smoothing (ETS) as R's `forecast::ets(y)` with its defaults does it: every
 * allowed model of the ETS(E,T,S) family (Hyndman et al. 2008) is fitted by maximum likelihood
 * and the one with the lowest AICc is kept; forecasts come with R's analytic prediction intervals.
 *
 * Why our own: the maintained library the issue suggests, Grafana's augurs (@bsull/augurs 0.10.2
 * on npm, Rust compiled to WASM), has AutoETS but no seasonal component (its WASM answers "not
 * implemented: seasonal component not implemented yet"), and monthly and daily series need one.
 *
 * What is R's here, and checked against goldens from R (test/golden/make_ets_goldens.R):
 * - the family: errors A/M, trend N/A/Ad, season N/A/M, without R's default exclusions:
 *   no multiplicative trend (`allow.multiplicative.trend = FALSE`), no additive error with a
 *   multiplicative season (`restrict = TRUE`), multiplicative errors only for positive data;
 * - the filter, the criterion and AIC/AICc/BIC with R's parameter count (ets-model.ts, ets-fit.ts);
 * - starting values (ets-init.ts), the Nelder–Mead search (ets-optim.ts), the parameter space
 *   `bounds = "both"` (ets-fit.ts);
 * - the forecast means and variances of R's classes 1–3 (ets-intervals.ts);
 * - the data rules: a season only when 1 < m ≤ 24 and n > m (R refuses m > 24 as "frequency too
 *   high" and, for an automatic model, drops the season: so do we; the caller decides whether a
 *   daily series has season 7 or none); a model only when it has fewer parameters than n − 1.
 * Where R does something else than ETS we refuse instead, with a DataError the caller can fall
 * back on: R fits Holt–Winters by least squares to series of 6 points or fewer (n ≤ 2 + 4,
 * `npars + 4` with the automatic model's count of 2), and returns simple exponential smoothing
 * with α ≈ 1 for a constant series, which here is the same flat forecast with zero-width
 * intervals (and AICc NaN: there is no likelihood to compare).
 */

import { DataError, ShapeError } from '../../errors.ts';
import { type EtsFit, fitEtsModel } from './ets-fit.ts';
import { forecastMoments } from './ets-intervals.ts';
import { normalQuantile } from './normal.ts';
import { type EtsSpec, etsName, parseEtsCode } from './ets-model.ts';

export type { EtsSpec } from './ets-model.ts';
export type { EtsFit } from './ets-fit.ts';

/** A prediction interval at `level` percent: bounds per forecast step. */
export interface EtsInterval {
  level: number;
  lo: Float64Array;
  hi: Float64Array;
}

/** Options of {@link autoEts}. */
export interface AutoEtsOptions {
  /** Interval levels in percent, each in (0, 99.99]. Default [80, 95]. */
  levels?: number[];
  /**
   * Candidate models instead of R's default set, as codes (`"ANN"`, `"MAdM"`) or names
   * (`"ETS(M,Ad,M)"`). Candidates the data rule out (a season where the data can have none,
   * multiplicative errors with non-positive data, more parameters than R allows for the length)
   * are skipped; multiplicative trends and ETS(A,·,M) are refused, as R does by default.
   */
  models?: string[];
  /** true: only damped-trend models; false: no damped ones; absent: both (R's `damped = NULL`). */
  damped?: boolean;
}

/** The fitted model's parameters: smoothing weights, residual variance, initial state. */
export interface EtsFittedParams {
  alpha: number;
  beta?: number;
  gamma?: number;
  phi?: number;
  /** Residual variance (of relative errors for multiplicative-error models), R's sigma2. */
  sigma2: number;
  /** Initial state in R's layout: [l, b?, s1 (newest) … sm (oldest)]. */
  initialState: Float64Array;
}

/** What {@link autoEts} returns. */
export interface EtsForecast {
  /** R's name of the chosen model, e.g. `ETS(M,Ad,M)`. */
  model: string;
  /** Forecast means, h = 1…horizon. */
  point: Float64Array;
  intervals: EtsInterval[];
  /** AICc of the chosen model (NaN for a constant series). */
  aicc: number;
  params: EtsFittedParams;
}

/** R's model loop order (error, trend, season, damped TRUE before FALSE) without the excluded ones. */
const DEFAULT_MODELS: readonly EtsSpec[] = (() => {
  const out: EtsSpec[] = [];
  for (const error of ['A', 'M'] as const)
    for (const trend of ['N', 'A'] as const)
      for (const season of ['N', 'A', 'M'] as const)
        for (const damped of [true, false]) {
          if (trend === 'N' && damped) continue;
          if (error === 'A' && season === 'M') continue;
          out.push({ error, trend, damped, season });
        }
  return out;
})();

/** Longest season R's ets handles. */
export const MAX_ETS_SEASON = 24;

/**
 * Fits R's automatic ETS to `history` (season length `season`; 1 for none) and forecasts
 * `horizon` steps with intervals at `options.levels`.
 *
 * @throws ShapeError horizon or season not a positive integer, bad levels, unknown or forbidden
 *   model codes; DataError a non-finite value, a series too short (≤ 6 points), or no candidate
 *   model that the data allow.
 */
export function autoEts(history: ArrayLike<number>, horizon: number, season: number, options: AutoEtsOptions = {}): EtsForecast {
  const levels = checkArgs(history, horizon, season, options.levels);
  const y = Float64Array.from(history);
  const n = y.length;
  const explicit = options.models !== undefined;
  const requested = explicit ? parseModels(options.models!) : DEFAULT_MODELS;

  if (!explicit && isConstant(y)) return constantForecast(y, horizon, levels);
  if (!explicit && n <= 6) throw new DataError(`ETS needs more than 6 points, the series has ${n}`);

  const seasonOk = season > 1 && season <= MAX_ETS_SEASON && n > season;
  const positive = y.every((v) => v > 0);
  const candidates = requested.filter((spec) => {
    if (options.damped !== undefined && spec.damped !== options.damped) return false;
    if (spec.season !== 'N' && !seasonOk) return false;
    if (spec.error === 'M' && !positive) return false;
    // R's rule for a model given explicitly: more than (its parameter count + 4) points.
    if (explicit && n <= 2 + (spec.trend !== 'N' ? 2 : 0) + (spec.season !== 'N' ? season : 0) + (spec.damped ? 1 : 0) + 4) return false;
    return true;
  });
  if (candidates.length === 0)
    throw new DataError(
      `no ETS model fits this series (${n} points, season ${season}${positive ? '' : ', non-positive values'}) among ${requested.map(etsName).join(', ')}`,
    );

  let best: EtsFit | null = null;
  for (const spec of candidates) {
    const fit = fitEtsModel(y, spec, season);
    if (fit && !Number.isNaN(fit.aicc) && (best === null || fit.aicc < best.aicc)) best = fit;
  }
  if (best === null) throw new DataError(`no ETS model could be fitted to this series (${n} points, season ${season})`);
  return forecastFit(best, horizon, levels);
}

/** Forecast means and intervals of a fitted model (R's forecast.ets without simulation). */
export function forecastFit(fit: EtsFit, horizon: number, levels: readonly number[] = [80, 95]): EtsForecast {
  const { mean, variance } = forecastMoments(fit, horizon);
  const intervals = levels.map((level) => {
    const z = Math.abs(normalQuantile((100 - level) / 200));
    const lo = new Float64Array(horizon);
    const hi = new Float64Array(horizon);
    for (let h = 0; h < horizon; h++) {
      const half = Math.sqrt(variance[h]!) * z;
      lo[h] = mean[h]! - half;
      hi[h] = mean[h]! + half;
    }
    return { level, lo, hi };
  });
  const { spec, par } = fit;
  const params: EtsFittedParams = { alpha: par.alpha, sigma2: fit.sigma2, initialState: fit.initState };
  if (spec.trend !== 'N') params.beta = par.beta;
  if (spec.season !== 'N') params.gamma = par.gamma;
  if (spec.damped) params.phi = par.phi;
  return { model: etsName(spec), point: mean, intervals, aicc: fit.aicc, params };
}

function checkArgs(history: ArrayLike<number>, horizon: number, season: number, levels: number[] | undefined): number[] {
  if (!Number.isInteger(horizon) || horizon < 1) throw new ShapeError(`ETS: horizon must be a positive integer, got ${horizon}`);
  if (!Number.isInteger(season) || season < 1) throw new ShapeError(`ETS: season must be a positive integer, got ${season}`);
  const out = levels ?? [80, 95];
  for (const level of out) {
    if (typeof level !== 'number' || !(level > 0 && level <= 99.99))
      throw new ShapeError(`ETS: interval levels are percentages in (0, 99.99], got ${level}`);
  }
  if (history.length === 0) throw new DataError('ETS: the series is empty');
  for (let i = 0; i < history.length; i++) {
    if (!Number.isFinite(history[i]!)) throw new DataError(`ETS: value ${i} of the series is ${history[i]!}, not a finite number`);
  }
  return out;
}

function parseModels(codes: string[]): EtsSpec[] {
  if (!Array.isArray(codes) || codes.length === 0)
    throw new ShapeError('ETS: models must be a non-empty list of model codes such as "ANN" or "MAdM"');
  return codes.map((code) => {
    const spec = typeof code === 'string' ? parseEtsCode(code) : null;
    if (!spec)
      throw new ShapeError(
        `ETS: unknown model ${JSON.stringify(code)}: expected a code such as "ANN", "AAdA", "MAdM" (error A/M, trend N/A/Ad, season N/A/M)`,
      );
    if (spec.error === 'A' && spec.season === 'M')
      throw new ShapeError(`ETS: ${etsName(spec)} is a forbidden combination (additive error, multiplicative season), as in R`);
    return spec;
  });
}

function isConstant(y: Float64Array): boolean {
  for (let i = 1; i < y.length; i++) if (y[i]! !== y[0]!) return false;
  return true;
}

/** R's answer for a constant series: simple exponential smoothing, α = 0.99999, start y[0]. */
function constantForecast(y: Float64Array, horizon: number, levels: number[]): EtsForecast {
  const point = new Float64Array(horizon).fill(y[0]!);
  return {
    model: 'ETS(A,N,N)',
    point,
    intervals: levels.map((level) => ({ level, lo: point.slice(), hi: point.slice() })),
    aicc: Number.NaN,
    params: { alpha: 0.99999, sigma2: 0, initialState: Float64Array.of(y[0]!) },
  };
}
