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
 * Theta give prediction intervals at `levels` (percent); the naive methods give none. ETS chooses
 * its model automatically, or fits `model` (`ETS(M,Ad,M)`, `MAdM`) where one is given: a form chosen
 * on an earlier history, with its parameters estimated again (R's `ets(y, model = "MAM", damped =
 * TRUE)`). A history too short for the method or the form is a {@link DataError}; callers name the
 * series.
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
  model: string | null = null,
): BaselineForecast {
  // A fit is a pure function of its arguments: a forecaster's held-out phase, its forecast and a
  // backtest's table ask for the same ones (automatic ETS costs ~0.1 s a series), so recent fits are
  // kept, keyed by the arguments and the history's bytes, and handed out as copies.
  if (model !== null && name !== 'ets')
    throw new ShapeError(`a model form is ETS's only: ${BASELINE_LABELS[name] ?? JSON.stringify(name)} has none`);
  const fit: Fit = { name, history, horizon, season, levels, model };
  const key = fitKey(fit);
  const hit = recent.get(key) ?? ahead.get(key);
  if (hit) {
    // Asked for: from the fits made ahead to the recent ones.
    ahead.delete(key);
    recent.delete(key);
    recent.set(key, hit);
    return copy(hit);
  }
  const f = scaledForecast(fit);
  recent.set(key, copy(f));
  if (recent.size > RECENT_FITS) recent.delete(recent.keys().next().value!);
  return f;
}

/** Fits kept by {@link baselineForecast}: enough for every series of a large batch and its held-out twin. */
const RECENT_FITS = 1 << 15;
const recent = new Map<string, BaselineForecast>();

/** One fit's arguments, as {@link baselineForecast} takes them. */
interface Fit {
  name: BaselineName;
  history: ArrayLike<number>;
  horizon: number;
  season: number;
  levels: readonly number[];
  model: string | null;
}

function fitKey({ name, history, horizon, season, levels, model }: Fit): string {
  return `${name}|${model ?? ''}|${horizon}|${season}|${levels.join(',')}|${history.length}|${fingerprint(history)}`;
}

/** One fit of {@link baselineForecast}'s, by its arguments. */
export interface BaselineRequest {
  name: BaselineName;
  history: Float64Array;
  horizon: number;
  season: number;
  levels: readonly number[];
  /** ETS only: fit this model form (`ETS(M,Ad,M)`, `MAdM`) instead of choosing one; absent or null: automatic. */
  model?: string | null;
}

/**
 * Fits many requests at once (./pool.ts: on a pool of threads, Node's worker_threads or a browser's
 * Web Workers, each running {@link baselineForecast}), resolving to each one's forecast, or null
 * where the method cannot fit that history (the caller then fits it itself and reports the error as
 * usual).
 */
export type BaselineFitter = (requests: readonly BaselineRequest[]) => Promise<(BaselineForecast | null)[]>;

let fitter: BaselineFitter | null = null;
/**
 * The fits of {@link prefitBaselines} batches not asked for yet, which {@link baselineForecast}
 * hands out (and then keeps among the recent ones); the oldest dropped beyond {@link AHEAD_FITS}.
 */
let ahead = new Map<string, BaselineForecast>();
/** Fits kept ahead at most: every ETS and Theta fit of three passes over the app's 10,000 series, and more. */
const AHEAD_FITS = 1 << 17;
/** The batch under way or queued that fits each key: a later batch asking for it waits for that one. */
const pending = new Map<string, Promise<void>>();
/** The end of the last batch handed to the fitter (which fits one batch at a time). */
let lane: Promise<unknown> = Promise.resolve();

/**
 * Forgets every fit kept so far, so that the next ones are made from cold: for benchmarks that time
 * a job's fits (bench/forecast-job.ts) and tests that compare two ways of making them.
 * @internal
 */
export function forgetBaselineFits(): void {
  recent.clear();
  ahead = new Map();
  pending.clear();
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
 * fitter where one is set (nothing happens without one). They are kept until asked for, beside the
 * recent fits: a forecaster asks for a batch of series' fits, then one at a time. A batch may be
 * started early and left running (a backtest starts its baselines' fits before the networks train,
 * so the pool's threads work while the device does): batches reach the fitter one at a time, in
 * order, and a batch asking for fits an earlier one is making waits for those instead of fitting
 * them again. A fit is a pure function of its arguments, so where and when it ran changes nothing
 * in the result.
 */
export async function prefitBaselines(requests: readonly BaselineRequest[]): Promise<void> {
  const fitBatch = fitter;
  if (!fitBatch) return;
  const missing: BaselineRequest[] = [];
  const keys: string[] = [];
  const seen = new Set<string>();
  const others = new Set<Promise<void>>();
  for (const r of requests) {
    const key = fitKey({ ...r, model: r.model ?? null });
    if (seen.has(key)) continue;
    seen.add(key);
    if (ahead.has(key) || recent.has(key)) continue;
    const under = pending.get(key);
    if (under) others.add(under);
    else {
      missing.push(r);
      keys.push(key);
    }
  }
  let mine: Promise<void> | null = null;
  if (missing.length) {
    const batch: Promise<void> = lane.then(async () => {
      try {
        const fits = await fitBatch(missing);
        keys.forEach((key, i) => {
          const f = fits[i];
          if (!f) return;
          ahead.set(key, f);
          if (ahead.size > AHEAD_FITS) ahead.delete(ahead.keys().next().value!);
        });
      } finally {
        for (const key of keys) if (pending.get(key) === batch) pending.delete(key);
      }
    });
    lane = batch.catch(() => {});
    for (const key of keys) pending.set(key, batch);
    mine = batch;
  }
  // Another caller's batch that failed is that caller's error: those fits are then made in this thread.
  await Promise.all([...others].map((w) => w.catch(() => {})));
  await mine;
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

function scaledForecast(fit: Fit): BaselineForecast {
  const unit = magnitude(fit.history);
  if (unit === 1) return unitForecast(fit);
  const f = unitForecast({ ...fit, history: Float64Array.from(fit.history, (v) => v / unit) });
  const back = (a: Float64Array) => a.map((v) => v * unit);
  return { ...f, point: back(f.point), intervals: f.intervals.map((iv) => ({ level: iv.level, lo: back(iv.lo), hi: back(iv.hi) })) };
}

function unitForecast({ name, history, horizon, season, levels, model }: Fit): BaselineForecast {
  switch (name) {
    case 'snaive':
      if (history.length < season)
        return { point: seasonalNaive(history, horizon, 1), intervals: [], model: 'naive (shorter than one season)' };
      return { point: seasonalNaive(history, horizon, season), intervals: [], model: 'seasonal naive' };
    case 'naive2':
      return { point: naive2(history, horizon, season), intervals: [], model: 'Naive2' };
    case 'ets': {
      const f = autoEts(history, horizon, season, { levels: [...levels], ...(model === null ? {} : { models: [model] }) });
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
  model: string | null = null,
): BaselineForecast {
  try {
    return baselineForecast(name, history, horizon, season, levels, model);
  } catch (e) {
    if (e instanceof ShapeError || e instanceof DataError) throw new DataError(`series ${id}: ${BASELINE_LABELS[name]}: ${e.message}`);
    throw e;
  }
}
