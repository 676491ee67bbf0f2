import { DataError, ShapeError } from '../../errors.ts';
import { seasonalNaive } from '../metrics.ts';
import { magnitude } from '../scaling.ts';
import { autoEts } from './ets.ts';
import { naive2 } from './naive2.ts';
import { theta } from './theta.ts';

/**
 * The statistical baselines every forecast is shown beside, by the names the reports use:
 *
 *   snaive  seasonal naive: each point the value one season earlier (src/forecast/metrics.ts)
 *   naive2  the M4 competition's Naive2: naive on the seasonally adjusted series (./naive2.ts)
 *   ets     automatic exponential smoothing, chosen by AICc as R's forecast::ets (./ets.ts)
 *   theta   the M3 competition's Theta method, as R's forecast::thetaf (./theta.ts)
 */
export const BASELINES = ['snaive', 'naive2', 'ets', 'theta'] as const;
export type BaselineName = (typeof BASELINES)[number];

/** The readable name of each baseline (tables, the app, the command line). */
export const BASELINE_LABELS: Record<BaselineName, string> = {
  snaive: 'seasonal naive',
  naive2: 'Naive2',
  ets: 'ETS',
  theta: 'Theta',
};

/** A prediction interval at `level` percent (e.g. 80): lower and upper bounds per forecast step. */
export interface Interval {
  level: number;
  lo: Float64Array;
  hi: Float64Array;
}

/** A baseline's forecast: points, intervals where the method gives them, and what was fitted. */
export interface BaselineForecast {
  point: Float64Array;
  intervals: Interval[];
  /** The fitted model, e.g. `ETS(M,Ad,M)`, or the method's name. */
  model: string;
}

/**
 * `name`'s forecast of `horizon` points after `history` with seasonal period `season`. ETS and
 * Theta give prediction intervals at `levels` (percent); the naive methods give none.
 * A history too short for the method is a {@link DataError}; callers name the series.
 *
 * Every method is equivariant to the series' unit, so each runs on the history divided by a power
 * of two near its largest value (exact) and its forecast is multiplied back: sums of squares in
 * the likelihoods cannot overflow for series near 1e200 or 1.8e308.
 */
export function baselineForecast(
  name: BaselineName,
  history: ArrayLike<number>,
  horizon: number,
  season: number,
  levels: readonly number[] = [],
): BaselineForecast {
  // A fit is a pure function of its arguments: a forecaster's held-out phase, its forecast and a
  // backtest's table ask for the same ones (automatic ETS costs ~0.1 s a series), so recent fits are
  // kept, keyed by the arguments and the history's bytes, and handed out as copies.
  const key = fitKey(name, history, horizon, season, levels);
  const hit = recent.get(key) ?? ahead.get(key);
  if (hit) {
    recent.delete(key);
    recent.set(key, hit);
    return copy(hit);
  }
  const f = scaledForecast(name, history, horizon, season, levels);
  recent.set(key, copy(f));
  if (recent.size > RECENT_FITS) recent.delete(recent.keys().next().value!);
  return f;
}

/** Fits kept by {@link baselineForecast}: enough for every series of a large batch and its held-out twin. */
const RECENT_FITS = 1 << 15;
const recent = new Map<string, BaselineForecast>();

function fitKey(name: BaselineName, history: ArrayLike<number>, horizon: number, season: number, levels: readonly number[]): string {
  return `${name}|${horizon}|${season}|${levels.join(',')}|${history.length}|${fingerprint(history)}`;
}

/** One fit of {@link baselineForecast}'s, by its arguments. */
export interface BaselineRequest {
  name: BaselineName;
  history: Float64Array;
  horizon: number;
  season: number;
  levels: readonly number[];
}

/**
 * Fits many requests at once (./pool.ts: on a pool of threads, Node's worker_threads or a browser's
 * Web Workers, each running {@link baselineForecast}), resolving to each one's forecast, or null
 * where the method cannot fit that history (the caller then fits it itself and reports the error as
 * usual).
 */
export type BaselineFitter = (requests: readonly BaselineRequest[]) => Promise<(BaselineForecast | null)[]>;

let fitter: BaselineFitter | null = null;
/** The fits of the last {@link prefitBaselines} batch, which {@link baselineForecast} hands out. */
let ahead = new Map<string, BaselineForecast>();

/**
 * Forgets every fit kept so far, so that the next ones are made from cold: for benchmarks that time
 * a job's fits (bench/forecast-job.ts) and tests that compare two ways of making them.
 * @internal
 */
export function forgetBaselineFits(): void {
  recent.clear();
  ahead = new Map();
}

/** Sets the fitter {@link prefitBaselines} uses (null: none, the default); returns the one it replaces. */
export function setBaselineFitter(next: BaselineFitter | null): BaselineFitter | null {
  const previous = fitter;
  fitter = next;
  ahead = new Map();
  return previous;
}

/**
 * Fits the baselines a caller is about to ask {@link baselineForecast} for, all at once with the
 * fitter where one is set (nothing happens without one). They are kept until the next batch, beside
 * the recent fits: a forecaster asks for a batch of series' fits, then one at a time. A fit is a
 * pure function of its arguments, so where it ran changes nothing in the result.
 */
export async function prefitBaselines(requests: readonly BaselineRequest[]): Promise<void> {
  if (!fitter) return;
  const next = new Map<string, BaselineForecast>();
  const missing: BaselineRequest[] = [];
  const keys = new Set<string>();
  for (const r of requests) {
    const key = fitKey(r.name, r.history, r.horizon, r.season, r.levels);
    const known = ahead.get(key) ?? recent.get(key);
    if (known) next.set(key, known);
    else if (!keys.has(key)) missing.push(r);
    keys.add(key);
  }
  const fits = missing.length ? await fitter(missing) : [];
  missing.forEach((r, i) => {
    const f = fits[i];
    if (f) next.set(fitKey(r.name, r.history, r.horizon, r.season, r.levels), f);
  });
  ahead = next;
}

function copy(f: BaselineForecast): BaselineForecast {
  return {
    model: f.model,
    point: f.point.slice(),
    intervals: f.intervals.map((iv) => ({ level: iv.level, lo: iv.lo.slice(), hi: iv.hi.slice() })),
  };
}

/** Two 32-bit FNV-1a hashes of the history's float64 bytes (a 64-bit fingerprint). */
function fingerprint(history: ArrayLike<number>): string {
  const bytes = new Uint8Array(Float64Array.from(history).buffer);
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ bytes.length;
  for (let i = 0; i < bytes.length; i++) {
    a = Math.imul(a ^ bytes[i]!, 0x01000193);
    b = Math.imul(b ^ bytes[bytes.length - 1 - i]!, 0x01000193);
  }
  return `${(a >>> 0).toString(36)}.${(b >>> 0).toString(36)}`;
}

function scaledForecast(
  name: BaselineName,
  history: ArrayLike<number>,
  horizon: number,
  season: number,
  levels: readonly number[],
): BaselineForecast {
  const unit = magnitude(history);
  if (unit === 1) return unitForecast(name, history, horizon, season, levels);
  const f = unitForecast(
    name,
    Float64Array.from(history, (v) => v / unit),
    horizon,
    season,
    levels,
  );
  const back = (a: Float64Array) => a.map((v) => v * unit);
  return { ...f, point: back(f.point), intervals: f.intervals.map((iv) => ({ level: iv.level, lo: back(iv.lo), hi: back(iv.hi) })) };
}

function unitForecast(
  name: BaselineName,
  history: ArrayLike<number>,
  horizon: number,
  season: number,
  levels: readonly number[],
): BaselineForecast {
  switch (name) {
    case 'snaive':
      if (history.length < season)
        return { point: seasonalNaive(history, horizon, 1), intervals: [], model: 'naive (shorter than one season)' };
      return { point: seasonalNaive(history, horizon, season), intervals: [], model: 'seasonal naive' };
    case 'naive2':
      return { point: naive2(history, horizon, season), intervals: [], model: 'Naive2' };
    case 'ets': {
      const f = autoEts(history, horizon, season, { levels: [...levels] });
      return { point: f.point, intervals: f.intervals, model: f.model };
    }
    case 'theta': {
      const f = theta(history, horizon, season, { levels: [...levels] });
      return { point: f.point, intervals: f.intervals, model: 'Theta' };
    }
    default:
      throw new ShapeError(`unknown baseline ${JSON.stringify(name)}: expected ${BASELINES.join(', ')}`);
  }
}

/** {@link baselineForecast} with a failure for this history as a {@link DataError} naming series `id`. */
export function seriesBaseline(
  id: string,
  name: BaselineName,
  history: ArrayLike<number>,
  horizon: number,
  season: number,
  levels: readonly number[] = [],
): BaselineForecast {
  try {
    return baselineForecast(name, history, horizon, season, levels);
  } catch (e) {
    if (e instanceof ShapeError || e instanceof DataError) throw new DataError(`series ${id}: ${BASELINE_LABELS[name]}: ${e.message}`);
    throw e;
  }
}
