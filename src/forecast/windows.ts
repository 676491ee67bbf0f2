import { DataError, ShapeError } from '../errors.ts';
import { firstOutside } from '../util/finite.ts';
import type { Series } from './frame.ts';
import { seasonalNaiveScale } from './metrics.ts';
import { fitScaler, magnitude, scale, type Scaler, type ScalingKind } from './scaling.ts';
import { seasonalAdjustment } from './baselines/decompose.ts';
import { frequencyOfStamps, readStamps } from './timestamps.ts';

/**
 * What the network reads and predicts, per window of a series: the model's inputs at each of T
 * steps and its targets, in units where one window of one series looks like another's.
 *
 * Scaling `window` (the default) normalises each window by its own level, as ES-RNN, N-BEATS and
 * DeepAR do, and each series by its scale:
 *
 *   z_t = (v_t − L_w) / c_s,   L_w = mean of the window's last min(season, T) values,
 *                              c_s = mean |v_t − v_{t−m}| over the series' history (m = season,
 *                                    or 1 when the history is shorter than two seasons)
 *
 * so a window's targets are its future relative to its recent level, in units of the series'
 * typical seasonal change: the units MASE measures errors in, which puts every series on one footing
 * whatever its size. v is the series itself, or its logarithm with the `log` transform (for
 * multiplicative series: a percentage change is then the same at every level).
 *
 * With `deseasonalize`, a series the M4 seasonality test finds seasonal is first divided by its
 * classical multiplicative seasonal indices (fitted on the history, continued over the horizon, as
 * Naive2 and Theta do: src/forecast/baselines/decompose.ts), and the forecasts multiplied back.
 * With level `last`, L_w is the window's last (adjusted) value: a model output of 0 is then
 * exactly the Naive2 forecast, and the network learns what to add to it (the trend, a return
 * towards the mean), the hybrid that made ES-RNN win the M4.
 *
 * The per-series scalings (`standard`, `minmax`, `robust`, `none`, src/forecast/scaling.ts) fit one
 * scaler per series on its history instead, with L_w = 0 and c_s = 1.
 *
 * Calendar inputs: with `calendar` and a season above 1, two more inputs per step, sin and cos of
 * 2π·p_t/season, where p_t is the step's position in the season read from its time stamp (month of
 * the year for monthly data and season 12, quarter for quarterly and 4, day of the week for daily
 * data and 7, hour of the day for hourly data and 24; otherwise the step's index from the first
 * stamp), so that every series agrees on what January is. They are known for the future.
 */
export type WindowScaling = 'window' | ScalingKind;
export type Transform = 'none' | 'log';

export interface WindowOptions {
  scaling: WindowScaling;
  transform: Transform;
  season: number;
  /** Steps the model reads per window (T). */
  inputSize: number;
  horizon: number;
  calendar: boolean;
  exog: readonly string[];
  /** Divide seasonal series by their multiplicative seasonal indices first (window scaling). */
  deseasonalize: boolean;
  /** L_w: the mean of the window's last season (`season`) or its last value (`last`). */
  level: 'season' | 'last';
}

/** One series made ready for windows: its values in model units before the window level, and its extra inputs. */
export interface Prepared {
  id: string;
  /** The values the windows are cut from: the series, its log, or its per-series scaling; history only. */
  v: Float64Array;
  /** Whether v is the log of the series. */
  log: boolean;
  /** The per-series scaling applied to v (per-series kinds), or null (window scaling). */
  scaler: Scaler | null;
  /** c_s: the series' scale (1 for per-series kinds). */
  scale: number;
  /**
   * A power of two the series was divided by before anything else (window scaling without a log):
   * its largest magnitude, so that levels and differences of values near ±1.8e308 cannot overflow.
   * Exact, and undone on the way back.
   */
  unit: number;
  /** The seasonal index of each point and of the `horizon` steps after the series (deseasonalize), or null. */
  seasonal: Float64Array | null;
  /** Extra inputs per step, history and the `horizon` steps after it: calendar columns, then exogenous ones. */
  extra: Float64Array[];
  exogScalers: Scaler[];
}

/** The model's inputs per step: the value, then the calendar and exogenous columns. */
export function inputWidth(o: WindowOptions): number {
  return 1 + (o.calendar && o.season > 1 ? 2 : 0) + o.exog.length;
}

/** The in-sample mean absolute m-step change of `v` (m = season when the history holds two seasons, else 1). */
export function seriesScale(v: ArrayLike<number>, season: number): number {
  // MASE's own scale (src/forecast/metrics.ts), NaN for a history of one step.
  let c = seasonalNaiveScale(v, v.length >= 2 * season ? season : 1);
  if (!(c > 0) || !Number.isFinite(c)) {
    // A constant (or periodic) history: fall back to its size, then to 1.
    let a = 0;
    for (let t = 0; t < v.length; t++) a += Math.abs(v[t]!) / v.length;
    c = a > 0 && Number.isFinite(a) ? a * 1e-2 : 1;
  }
  return c;
}

/** Each step's position in the season (0 … season−1), for `count` steps from the series' first stamp. */
export function seasonPositions(s: Pick<Series, 'ds' | 'dsFormat' | 'freq'>, season: number, count: number): Float64Array {
  const read = s.ds.length >= 2 ? stampsOf(s) : null;
  let first = 0;
  if (read && read.format.kind === 'calendar') {
    const t0 = read.times[0]!;
    const day = Math.floor(t0 / 86_400_000);
    const date = new Date(t0);
    const { unit, step } = read.freq;
    if (step === 1 && unit === 'month' && season === 12) first = date.getUTCMonth();
    else if (step === 1 && unit === 'quarter' && season === 4) first = Math.floor(date.getUTCMonth() / 3);
    else if (step === 1 && unit === 'day' && season === 7)
      first = (((day + 3) % 7) + 7) % 7; // 1970-01-01 was a Thursday: Monday = 0
    else if (step === 1 && unit === 'hour' && season === 24) first = date.getUTCHours();
  } else if (read && read.format.kind === 'integer') {
    first = (((read.times[0]! / read.freq.step) % season) + season) % season;
  }
  return Float64Array.from({ length: count }, (_, t) => (first + t) % season);
}

/**
 * The series' stamp format, first time and frequency (frequencyOfStamps). A series read from a file
 * (parseLong, parseWide) carries the file's format and frequency, which the reader checked all its
 * stamps against: only its first stamp is read again. Reading every stamp was half of `prepare`'s
 * time, and a forecaster prepares each series up to three times (100,000 series: 30 s here).
 */
function stampsOf(s: Pick<Series, 'ds' | 'dsFormat' | 'freq'>): ReturnType<typeof frequencyOfStamps> {
  if (!s.freq || s.dsFormat === undefined) return frequencyOfStamps(s.ds, s.dsFormat);
  try {
    const { format, times } = readStamps(s.ds.slice(0, 1), { column: 'ds' }, s.dsFormat);
    return { format, times, freq: s.freq };
  } catch {
    return frequencyOfStamps(s.ds, s.dsFormat);
  }
}

/**
 * A series made ready for windows: every point of `s` (the caller cuts off what must not be seen),
 * with the scale and scalers fitted on its first `upTo` points, and extra inputs for `horizon`
 * steps beyond its end. A log transform of a series with a value ≤ 0 falls back to no transform
 * (the caller can tell from `log`). Values that would leave float32 once scaled are a
 * {@link DataError} naming the series.
 */
export function prepare(s: Series, upTo: number, o: WindowOptions): Prepared {
  const history = s.y.subarray(0, upTo);
  const log = o.transform === 'log' && s.y.every((v) => v > 0);
  const adjustment =
    o.scaling === 'window' && o.deseasonalize && o.season > 1
      ? seasonalAdjustment(history, s.y.length - upTo + o.horizon, o.season, 'm4')
      : null;
  const seasonal = adjustment && Float64Array.of(...adjustment.history, ...adjustment.horizon);
  const y = seasonal ? s.y.map((x, t) => x / seasonal[t]!) : s.y;
  const unit = o.scaling === 'window' && !log ? magnitude(y.subarray(0, upTo)) : 1;
  let v: Float64Array = log ? Float64Array.from(y, Math.log) : Float64Array.from(y, (x) => x / unit);
  let scaler: Scaler | null = null;
  let c = 1;
  if (o.scaling === 'window') {
    c = seriesScale(v.subarray(0, upTo), o.season);
  } else {
    try {
      scaler = fitScaler(o.scaling, v.subarray(0, upTo));
    } catch (e) {
      if (e instanceof ShapeError) throw new DataError(`series ${s.id}: ${e.message}`);
      throw e;
    }
    v = scale(scaler, v);
  }
  const bad = firstOutside(Float64Array.from(v, (x) => x / c));
  if (bad >= 0) {
    throw new DataError(
      `series ${s.id}: the value ${s.y[bad]} at index ${bad} scales (${o.scaling}) to ${v[bad]! / c}, beyond float32's range (±3.4e38) that the model computes in: use ${o.scaling === 'standard' ? 'smaller units' : 'window scaling'}`,
    );
  }
  const extra: Float64Array[] = [];
  const steps = s.y.length + o.horizon;
  if (o.calendar && o.season > 1) {
    const p = seasonPositions(s, o.season, steps);
    extra.push(p.map((q) => Math.sin((2 * Math.PI * q) / o.season)));
    extra.push(p.map((q) => Math.cos((2 * Math.PI * q) / o.season)));
  }
  const exogScalers: Scaler[] = [];
  for (const name of o.exog) {
    const col = s.exog[name];
    if (!col) throw new DataError(`series ${s.id} has no exogenous column ${name}`);
    let sc: Scaler;
    try {
      sc = fitScaler('standard', col.subarray(0, upTo));
    } catch (e) {
      if (e instanceof ShapeError) throw new DataError(`series ${s.id} (exogenous ${name}): ${e.message}`);
      throw e;
    }
    exogScalers.push(sc);
    const z = new Float64Array(steps);
    z.set(scale(sc, col.subarray(0, Math.min(col.length, steps))));
    const zbad = firstOutside(z.subarray(0, s.y.length));
    if (zbad >= 0)
      throw new DataError(
        `series ${s.id} (exogenous ${name}): the value ${col[zbad]} at index ${zbad} scales to ${z[zbad]}, beyond float32's range`,
      );
    extra.push(z);
  }
  return { id: s.id, v, log, scaler, scale: c, unit, seasonal, extra, exogScalers };
}

/** L_w: the level a window ending before `end` is measured from (0 for per-series scalings). */
export function windowLevel(p: Prepared, end: number, o: WindowOptions): number {
  if (o.scaling !== 'window') return 0;
  if (o.level === 'last') return p.v[end - 1]!;
  const k = Math.min(o.season, o.inputSize, end);
  let s = 0;
  for (let t = end - k; t < end; t++) s += p.v[t]!;
  return s / k;
}

/** Writes the model's inputs for the T steps before `end` (level `level`) at `into[at…]`. */
export function writeInputs(p: Prepared, end: number, level: number, o: WindowOptions, into: Float32Array, at: number): void {
  const T = o.inputSize;
  const I = 1 + p.extra.length;
  for (let t = 0; t < T; t++) {
    const i = end - T + t;
    into[at + t * I] = (p.v[i]! - level) / p.scale;
    for (let k = 0; k < p.extra.length; k++) into[at + t * I + 1 + k] = p.extra[k]![i]!;
  }
}

/** The extra inputs of the `horizon` steps after `end` (calendar, exogenous), `[H, I − 1]`, at `into[at…]`. */
export function writeFutureExtra(p: Prepared, end: number, o: WindowOptions, into: Float32Array, at: number): void {
  const E = p.extra.length;
  for (let h = 0; h < o.horizon; h++) for (let k = 0; k < E; k++) into[at + h * E + k] = p.extra[k]![end + h]!;
}

/**
 * Model outputs (window units) for the steps from `end` back to the series' units: v = L + c·z,
 * undoing the per-series scaling, the log and the seasonal adjustment.
 */
export function toSeriesUnits(p: Prepared, level: number, z: ArrayLike<number>, end = p.v.length): Float64Array {
  return Float64Array.from({ length: z.length }, (_, h) => {
    let v = level + p.scale * z[h]!;
    if (p.scaler) v = v * p.scaler.scale + p.scaler.shift;
    v = p.log ? Math.exp(v) : v * p.unit;
    return p.seasonal ? v * p.seasonal[end + h]! : v;
  });
}
