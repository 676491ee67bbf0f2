import type { Backend } from '../backends/backend.ts';
import { ConfigError, DataError, ModelError } from '../errors.ts';
import { floatTensors, readSafetensors, writeSafetensors } from '../io/safetensors.ts';
import { RecurrentNet } from '../model/recurrent.ts';
import { torchToLayers } from '../model/torch-lowering.ts';
import { checkTorchStateDict } from '../model/torch-modules.ts';
import type { Tensor } from '../tensor.ts';
import type { CellType } from '../rnn/spec.ts';
import { MAX_HORIZON } from '../rnn/forecast.ts';
import type { StackModels } from '../rnn/stack.ts';
import { autoBatchSize, BASE_BATCH, scaledLearningRate } from '../train/batching.ts';
import { samples, type Samples } from '../train/data.ts';
import type { LossKind } from '../train/loss.ts';
import type { GradClipOptions, OptimizerOptions, ScheduleOptions } from '../train/optim.ts';
import { Trainer, type FitHistory, type FitOptions } from '../train/trainer.ts';
import { mulberry32 } from '../util/rng.ts';
import { firstOutside } from '../util/finite.ts';
import {
  BASELINE_LABELS,
  BASELINES,
  prefitBaselines,
  seriesBaseline as fitBaseline,
  type BaselineForecast,
  type BaselineName,
  type BaselineRequest,
  type Interval,
} from './baselines/index.ts';
import { checkSeries, firstPoints, type Series } from './frame.ts';
import { calibrate, checkLevels, conformalIntervals, type Calibration, type HeldOut } from './intervals.ts';
import { coverage, mase, metrics, msis, nonFiniteMetric, overall, owa, type Metrics } from './metrics.ts';
import { fitScaler, quantile } from './scaling.ts';
import { timed } from './phases.ts';
import {
  inputWidth,
  prepare as prepareSeries,
  seriesScale,
  toSeriesUnits,
  windowLevel,
  writeFutureExtra,
  writeInputs,
  type Prepared,
  type Transform,
  type WindowOptions,
  type WindowScaling,
} from './windows.ts';

// The forecaster's steps report to a phase clock where a benchmark set one (./phases.ts).
const prepare: typeof prepareSeries = (...a) => timed('scale', () => prepareSeries(...a));
const seriesBaseline: typeof fitBaseline = (...a) => timed('baselines', () => fitBaseline(...a));

/**
 * A forecaster over many series: a recurrent network (an ensemble of them) trained on windows of
 * every series, combined with statistical baselines, with prediction intervals calibrated on a
 * window the training held out.
 *
 * ```ts
 * const f = Forecaster.create({ backend: gpu, horizon: 12, season: 12 });
 * await f.fit(series);                                // early stopping picks the epochs
 * const forecasts = await f.predict(series);          // [{ id, values, intervals: [{ level: 80, lo, hi }, …] }]
 * const report = await f.backtest(series);            // metrics beside seasonal naive, Naive2, ETS and Theta
 * ```
 *
 * What fit does (the default recipe; README "Forecasting" gives the benchmark behind each choice):
 * 1. Each series' last `horizon` points are held out. K networks (`ensemble`, different seeds)
 *    are trained side by side, in the same dispatches, on windows of the rest, normalised per
 *    window (src/forecast/windows.ts), until their loss on the held-out windows stops improving.
 * 2. Their forecasts of the held-out points and those of the `combine` baselines fitted on the
 *    same history weigh the members (`weighting`), and the combination's errors there, with
 *    those of Theta and Naive2 on earlier windows, calibrate the intervals
 *    (src/forecast/intervals.ts).
 * 3. With `refit`, the networks are trained again on all of each series, for the epochs step 1
 *    chose (off by default: the networks forecast from each series' end with the weights of step 1;
 *    their inputs, normalised by each window's last value, carry the latest points).
 * A forecast is the median of the K networks' forecasts, then combined with the baselines' (ETS,
 * Theta and Naive2 by default) by their median weighted by those weights (the M4 competition's
 * lessons: combinations beat single methods, robust ones most).
 * A series too short for the network's windows is forecast by a baseline instead, and the
 * forecast says which and why ({@link Forecast.note}); nothing is dropped.
 */
export interface ForecasterOptions {
  backend: Backend;
  /** Points to forecast. */
  horizon: number;
  /** Steps of history the model reads per window (default: max(2·season, 2·horizon, 8)). */
  inputSize?: number;
  /** Seasonal period: calendar inputs, the baselines and MASE (default 1: none). */
  season?: number;
  cell?: CellType;
  hiddenSize?: number;
  numLayers?: number;
  nonlinearity?: 'tanh' | 'relu';
  /** `window` (default): each window by its level and each series by its scale; or one scaler per series. */
  scaling?: WindowScaling;
  /** `log` for multiplicative series (applied to series whose history is positive), or `none`. */
  transform?: Transform;
  /** Sine and cosine of each step's position in the season, read from `ds`, as inputs (default true). */
  calendar?: boolean;
  /** Divide seasonal series by their multiplicative seasonal indices before the network (as Naive2 does). */
  deseasonalize?: boolean;
  /** Each window's level: its last (adjusted) value, so that 0 is the Naive2 forecast, or the mean of its last season. */
  level?: 'last' | 'season';
  /** 'direct' (default): all points at once from the model's head; 'recursive': one step, fed back. */
  strategy?: 'recursive' | 'direct';
  /** One model per series instead of one shared by all (every series then needs the same length). */
  perSeries?: boolean;
  /** Exogenous columns of each series (Series.exog) read as extra inputs. */
  exog?: string[];
  /** Model initialisation and shuffles. */
  seed?: number;
  /** Networks in the ensemble, trained side by side from different seeds and combined by the median. */
  ensemble?: number;
  /** Statistical baselines combined with the networks; [] for the networks alone. */
  combine?: BaselineName[];
  /**
   * How the members are combined: `equal` weights, weights ∝ 1/MASE (`inverse-error`) or
   * 1/MASE² (`inverse-squared-error`) of each member on the held-out horizon, over all series
   * (Bates & Granger 1969), each step's `median` of the members (robust to one member far off, as
   * in Petropoulos & Svetunkov's M4 combination, SCUM), or each step's median weighted by
   * 1/MASE (`weighted-median`, the default: the member where the members' weights, in the order
   * of their values, first add up to ½).
   */
  weighting?: Weighting;
  /** Prediction interval levels in percent (default [80, 95]). */
  levels?: number[];
  /**
   * Windows before the held-out one (each a horizon earlier) whose statistical forecasts add
   * interval calibration scores, while the history before the window holds at least half the
   * held-out window's (src/forecast/intervals.ts). Default 5; 0: the held-out window's scores only.
   */
  calibrationWindows?: number;
  /** Train again on all of each series after early stopping chose the epochs (default false: twice the training for no gain on the accuracy benchmark's validation windows). */
  refit?: boolean;
  training?: {
    loss?: LossKind;
    optimizer?: OptimizerOptions;
    schedule?: ScheduleOptions;
    clip?: GradClipOptions | null;
    batchSize?: number;
    /**
     * Most epochs (default 30; 10 at large data, where each epoch is a fresh sample of 4,096
     * windows per member); early stopping on the held-out window usually ends sooner.
     */
    epochs?: number;
    /** Epochs without improvement on the held-out window before stopping (default 3). */
    patience?: number;
  };
}

/** One series' forecast, in the series' own units. */
export interface Forecast {
  id: string;
  values: Float64Array;
  /** Prediction intervals at the forecaster's levels, ascending. */
  intervals: Interval[];
  /** What made it: `webrnn`, `webrnn + ETS + Theta + Naive2`, or a baseline standing in (`ETS (fallback)`). */
  method: string;
  /** Why a baseline stood in for the network on this series, naming it; null otherwise. */
  note: string | null;
  /** The networks' own forecast (the ensemble's median) before the combination; null for a fallback. */
  network: Float64Array | null;
}

/** One series and fold of a backtest. */
export interface BacktestRow {
  id: string;
  fold: number;
  actual: Float64Array;
  forecast: Float64Array;
  intervals: Interval[];
  metrics: Metrics;
  baselines: Record<BaselineName, { forecast: Float64Array; metrics: Metrics }>;
  /** Per level, the share of actual points inside the interval. */
  coverage: Record<number, number>;
  /** The mean scaled interval score of the 95 % interval (M4); null without one or when MASE's scale is 0. */
  msis: number | null;
  method: string;
  note: string | null;
  /** The networks' own forecast and its metrics, before the combination; null for a fallback. */
  network: { forecast: Float64Array; metrics: Metrics } | null;
}

export interface BacktestReport {
  rows: BacktestRow[];
  /** Means over series and folds (src/forecast/metrics.ts `overall`). */
  model: Metrics;
  baselines: Record<BaselineName, Metrics>;
  /** The M4's overall weighted average: ½(sMAPE/sMAPE_Naive2 + MASE/MASE_Naive2) of the means; null when undefined. */
  owa: number | null;
  /** Per level, the share of all actual points inside the intervals. */
  coverage: Record<number, number>;
  /** The mean MSIS of the 95 % intervals over the rows where it is defined. */
  msis: number | null;
  /** One line per series a baseline stood in for (or a naive forecast for a baseline that could not fit it), naming it and why. */
  notes: string[];
}

/** Fit settings: everything of the trainer's but the validation, which the forecaster holds out itself. */
export type ForecastFitOptions = Omit<FitOptions, 'validation' | 'validationSplit' | 'earlyStopping' | 'epochs'> & {
  epochs?: number;
  patience?: number;
  /**
   * Called when the networks have trained and the fit moves on to the statistical baselines it
   * combines (and a backtest to those it scores): a phase no step or epoch reports, minutes long at
   * thousands of series on a software adapter, where they fit only now (on a GPU they fit beside the
   * training, and are mostly done).
   */
  onBaselines?: () => void | Promise<void>;
};

interface Resolved extends WindowOptions {
  strategy: 'recursive' | 'direct';
  perSeries: boolean;
  seed: number;
  ensemble: number;
  combine: BaselineName[];
  weighting: Weighting;
  levels: number[];
  calibrationWindows: number;
  refit: boolean;
}

/** The largest horizon, input size and season a forecaster takes: the longest horizon the backends forecast (2²⁰ steps). */
const MAX_STEPS = MAX_HORIZON;
/**
 * Windows one ensemble member trains on per epoch at most: beyond, each member draws its own sample
 * of them afresh every epoch, so an epoch's cost stops growing with the data while the epochs
 * together still read much of it. 4,096 windows is 2.6 times what the accuracy benchmark's largest
 * dataset has (monthly: 1,570; it never binds there); the app's 10,000 × 96 set has 660,000, of
 * which each of 5 members reads a new 4,096 every epoch (after 4 epochs as many distinct windows as
 * the fixed sample of 16,384 it read before, at a quarter of the cost per held-out check).
 */
const MAX_WINDOWS_PER_MEMBER = 1 << 12;
/**
 * Series whose held-out window a global model's fit reads at most: beyond, an evenly spaced
 * selection of them ({@link heldOutSample}) for the early stopping, the combination's weights and
 * the interval calibration. Each is a mean or a quantile over the series (one weight per member, one
 * bound per level and step) that moves little with more than 2,048 of them; its cost does: every
 * member's forecast of every series for the held-out loss each epoch (the app's 10,000 series cost
 * as much as 60 % of an epoch's training), and for the weights an automatic-ETS and a Theta fit per
 * series (a third of the app's ETS work) and their earlier windows.
 */
const MAX_VALIDATION_SERIES = 1 << 11;
/** Most epochs by default; early stopping on the held-out window usually ends sooner. */
export const DEFAULT_EPOCHS = 30;
/**
 * Most epochs by default where each is a fresh sample of the windows ({@link MAX_WINDOWS_PER_MEMBER}):
 * 40,960 windows per member in all, a budget for large data. On the app's 10,000 × 96 set the
 * held-out loss was within 1.6 % of its best (epoch 15 of 18) after 10, and each epoch costs the
 * same whatever the data's size (bench/RESULTS.md, the app's set).
 */
export const SAMPLED_EPOCHS = 10;
/** Windows one series contributes at most (see {@link Forecaster.windowsOf}). */
const MAX_WINDOWS_PER_SERIES = 256;
/** A network ensemble larger than this gains little (and costs K times the compute). */
const MAX_ENSEMBLE = 64;

function positive(name: string, v: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new ConfigError(`${name} must be a positive integer${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}, got ${String(v)}`);
  }
  return v;
}

/** A whole number ≥ 0 ({@link ConfigError} otherwise). */
function count(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ConfigError(`${name} must be a whole number ≥ 0, got ${String(v)}`);
  return v;
}

/** Distinct non-empty names ({@link ConfigError} naming `what` otherwise). */
function names(what: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.some((n) => typeof n !== 'string' || n === ''))
    throw new ConfigError(`${what} must be an array of names, got ${JSON.stringify(v)}`);
  const repeated = v.find((n, i) => v.indexOf(n) !== i);
  if (repeated !== undefined) throw new ConfigError(`${what} names ${repeated} twice`);
  return v as string[];
}

function oneOf<T extends string>(name: string, v: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) throw new ConfigError(`${name} must be ${allowed.join(' or ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function boolean(name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** How a forecast's members are weighed ({@link ForecasterOptions.weighting}). */
export type Weighting = 'equal' | 'inverse-error' | 'inverse-squared-error' | 'median' | 'weighted-median';

/**
 * The statistical methods whose mean forecasts the windows before the held-out one for the
 * interval calibration: Theta and Naive2, robust and cheap (a fraction of a millisecond a series;
 * automatic ETS costs ~20 ms, and there are up to `calibrationWindows` windows a series).
 */
const PROXY_MEMBERS: readonly BaselineName[] = ['theta', 'naive2'];

/** A window of the network: series `p`, inputs the T steps before `end`. */
interface WindowRef {
  p: Prepared;
  end: number;
}

/** The network's part of a fit: its models and the epochs early stopping chose. */
interface NetworkFit {
  nets: RecurrentNet[];
  history: FitHistory;
}

export class Forecaster {
  private readonly o: Resolved;
  /** Models fitted so far: `ensemble` × (1, or one per series), member-major. */
  private nets: RecurrentNet[] = [];
  /** The ids the models were fitted on, in order (per-series mode: model g of each member is series g's). */
  private ids: string[] = [];
  private calibration: Calibration | null = null;
  /** The combination's weights: the network's, then each `combine` baseline's (summing to 1). */
  private weights: number[] | null = null;
  /** Whether fit ran (or a saved forecaster was read): a fit where every series fell back to a baseline has no networks. */
  private fitted = false;
  /**
   * The last backtest's last fold: each series' ids, its history, its members' forecasts of the last
   * horizon, and the model form automatic ETS chose there ({@link fitFromBacktest}).
   */
  private lastFold: { ids: string[]; cut: Series[]; members: (Float64Array[] | null)[]; etsForms: Map<string, string> } | null = null;
  /**
   * After {@link fitFromBacktest}: per series, the ETS form its weights and calibration were measured
   * with (the last fold's), which predict's ETS member fits again on the whole series instead of
   * choosing one anew; null after {@link fit} (automatic ETS).
   */
  private etsForms: ReadonlyMap<string, string> | null = null;

  private constructor(
    private readonly options: ForecasterOptions,
    resolved: Resolved,
  ) {
    this.o = resolved;
  }

  static create(options: ForecasterOptions): Forecaster {
    if (!options || typeof options !== 'object') throw new ConfigError('forecaster options must be an object { backend, horizon, … }');
    if (!options.backend) throw new ConfigError('a forecaster needs { backend }: cpuBackend or a WebGPUBackend');
    const horizon = positive('horizon', options.horizon, MAX_STEPS);
    const season = positive('season', options.season ?? 1, MAX_STEPS);
    const strategy = options.strategy ?? 'direct';
    if (strategy !== 'recursive' && strategy !== 'direct')
      throw new ConfigError(`strategy must be recursive or direct, got ${String(strategy)}`);
    const seed = options.seed ?? 0;
    if (!Number.isInteger(seed)) throw new ConfigError(`seed must be an integer, got ${String(seed)}`);
    const scaling = options.scaling ?? 'window';
    if (scaling !== 'window') fitScaler(scaling, [0]); // validates the kind
    const transform = options.transform ?? 'none';
    if (transform !== 'none' && transform !== 'log')
      throw new ConfigError(`transform must be none or log, got ${JSON.stringify(transform)}`);
    const combine = names('combine', options.combine ?? ['ets', 'theta', 'naive2']);
    const unknown = combine.find((n) => !(BASELINES as readonly string[]).includes(n));
    if (unknown !== undefined) throw new ConfigError(`combine names ${unknown}, not a baseline (${BASELINES.join(', ')})`);
    return new Forecaster(options, {
      horizon,
      inputSize: positive('inputSize', options.inputSize ?? Math.max(2 * season, 2 * horizon, 8), MAX_STEPS),
      season,
      scaling,
      transform,
      calendar: boolean('calendar', options.calendar, true),
      deseasonalize: boolean('deseasonalize', options.deseasonalize, true),
      level: oneOf('level', options.level ?? 'last', ['last', 'season'] as const),
      strategy,
      perSeries: boolean('perSeries', options.perSeries, false),
      exog: names('exog', options.exog ?? []),
      seed,
      ensemble: positive('ensemble', options.ensemble ?? 5, MAX_ENSEMBLE),
      combine: combine as BaselineName[],
      weighting: oneOf('weighting', options.weighting ?? 'weighted-median', [
        'equal',
        'inverse-error',
        'inverse-squared-error',
        'median',
        'weighted-median',
      ] as const),
      levels: checkLevels(options.levels ?? [80, 95]),
      calibrationWindows: count('calibrationWindows', options.calibrationWindows ?? 5),
      refit: boolean('refit', options.refit, false),
    });
  }

  /** Models fitted so far: `ensemble` of them, or `ensemble` per series in per-series mode. */
  models(): readonly RecurrentNet[] {
    return this.nets;
  }

  /** The options that define what a saved forecaster is (everything but the backend and training). */
  private savedOptions(): Omit<ForecasterOptions, 'backend' | 'training'> {
    const { backend: _backend, training: _training, ...rest } = this.options;
    const { exog, combine, levels, ...resolved } = this.o;
    return { ...rest, ...resolved, exog: [...exog], combine: [...combine], levels: [...levels] };
  }

  /**
   * The fitted models as one safetensors file: model k's state dict under `k.` (PyTorch names, e.g.
   * `0.lstm.weight_ih_l0`), the forecaster's options, the series ids and the interval calibration in
   * the metadata. {@link Forecaster.fromSafetensors} reads it back.
   */
  toSafetensors(): Uint8Array {
    if (this.nets.length === 0) throw new ConfigError('fit the forecaster before saving it');
    const tensors: Record<string, Tensor> = {};
    this.nets.forEach((net, k) => {
      for (const [name, t] of Object.entries(net.stateDict())) tensors[`${k}.${name}`] = t;
    });
    const calibration = this.calibration && { levels: this.calibration.levels, q: this.calibration.q.map((q) => Array.from(q)) };
    return writeSafetensors(tensors, {
      webrnn: 'forecaster',
      options: JSON.stringify(this.savedOptions()),
      ids: JSON.stringify(this.ids),
      calibration: JSON.stringify(calibration),
      weights: JSON.stringify(this.weights),
    });
  }

  /** A forecaster saved by {@link toSafetensors}, ready to predict on `backend` ({@link ModelError} for another file). */
  static fromSafetensors(bytes: Uint8Array | ArrayBuffer, backend: Backend, training?: ForecasterOptions['training']): Forecaster {
    const file = readSafetensors(bytes);
    if (file.metadata?.webrnn !== 'forecaster')
      throw new ModelError('this safetensors file is not a saved webrnn forecaster (no webrnn=forecaster metadata)');
    let options: Omit<ForecasterOptions, 'backend'>;
    let ids: string[];
    let calibration: { levels: number[]; q: number[][] } | null;
    let weights: number[] | null;
    try {
      options = JSON.parse(file.metadata.options ?? '');
      ids = JSON.parse(file.metadata.ids ?? '');
      calibration = JSON.parse(file.metadata.calibration ?? 'null');
      weights = JSON.parse(file.metadata.weights ?? 'null');
    } catch {
      throw new ModelError('the forecaster file has unreadable options, ids, calibration or weights in its metadata');
    }
    if (options === null || typeof options !== 'object' || Array.isArray(options))
      throw new ModelError("the forecaster file's options are not an object");
    let f: Forecaster;
    let template: RecurrentNet;
    try {
      names('ids', ids);
      f = Forecaster.create({ ...options, backend, training });
      template = f.newModel(0);
    } catch (e) {
      if (e instanceof ConfigError) throw new ModelError(`the forecaster file's metadata is invalid: ${e.message}`, { cause: e });
      throw e;
    }
    if (calibration !== null) {
      const ok =
        typeof calibration === 'object' &&
        Array.isArray(calibration.levels) &&
        Array.isArray(calibration.q) &&
        calibration.levels.length === calibration.q.length &&
        calibration.q.every(
          (q) => Array.isArray(q) && q.length === f.o.horizon && q.every((v) => typeof v === 'number' && v >= 0 && Number.isFinite(v)),
        );
      if (!ok) throw new ModelError("the forecaster file's interval calibration is malformed");
      f.calibration = { levels: calibration.levels, q: calibration.q.map((q) => Float64Array.from(q)) };
    }
    if (weights !== null) {
      const ok =
        Array.isArray(weights) &&
        weights.length === 1 + f.o.combine.length &&
        weights.every((w) => typeof w === 'number' && w >= 0 && w <= 1);
      if (!ok)
        throw new ModelError(
          `the forecaster file's combination weights are malformed (${1 + f.o.combine.length} numbers in [0, 1] expected)`,
        );
      f.weights = weights;
    }
    const tensors = floatTensors(file);
    const count = f.o.ensemble * (f.o.perSeries ? ids.length : 1);
    f.nets = Array.from({ length: count }, (_, k) => {
      const sd: Record<string, Tensor> = {};
      for (const name of Object.keys(template.stateDict())) {
        const t = tensors[`${k}.${name}`];
        if (!t) throw new ModelError(`the forecaster file has no ${k}.${name}`);
        sd[name] = t;
      }
      return template.withLayers(torchToLayers(template.config, checkTorchStateDict(template.config, sd)));
    });
    f.ids = ids;
    f.fitted = true;
    return f;
  }

  private newModel(member: number): RecurrentNet {
    const o = this.options;
    return RecurrentNet.create(
      {
        cell: o.cell ?? 'lstm',
        inputSize: inputWidth(this.o),
        hiddenSize: o.hiddenSize ?? 32,
        numLayers: o.numLayers ?? 1,
        outputSize: this.o.strategy === 'direct' ? this.o.horizon : 1,
        ...(o.cell === 'rnn' ? { nonlinearity: o.nonlinearity ?? 'tanh' } : {}),
      },
      // Members start from different weights: seeds far apart in the generator's input.
      { seed: this.o.seed + member * 7919 },
    );
  }

  /** Points a series needs for the network: a training window before the held-out `horizon`, and that window. */
  private networkMinimum(): number {
    return this.o.inputSize + (this.o.strategy === 'direct' ? this.o.horizon : 1) + this.o.horizon;
  }

  /** Why the network cannot take series `s` (a too-short history), or null. */
  private tooShort(s: Series): string | null {
    const need = this.networkMinimum();
    if (s.y.length >= need) return null;
    return `series ${s.id} has ${s.y.length} points; the network needs ${need} (input ${this.o.inputSize} + ${this.o.strategy === 'direct' ? `horizon ${this.o.horizon}` : '1'} + a held-out horizon of ${this.o.horizon})`;
  }

  /**
   * Trains on every series: the last `horizon` points of each held out for early stopping and the
   * interval calibration, then (with `refit`) again on all points. Per-series mode trains one model
   * per series on the same number of windows from each (the latest ones). Series too short for the
   * network are forecast by a baseline ({@link Forecast.note}).
   */
  async fit(series: readonly Series[], options: ForecastFitOptions = {}): Promise<FitHistory> {
    checkSeries(series);
    return this.train(series, options);
  }

  private windowsOf(p: Prepared, limit: number): number[] {
    const T = this.o.inputSize;
    const direct = this.o.strategy === 'direct';
    // Direct: inputs [e−T, e), targets [e, e+H) before `limit`; recursive: targets [e−T+1, e].
    const last = direct ? limit - this.o.horizon : limit - 1;
    const count = last - T + 1;
    if (count <= 0) return [];
    // A long series gives at most MAX_WINDOWS_PER_SERIES windows, evenly spaced and ending with its
    // latest: consecutive windows share all but one point, so a daily series of four years keeps
    // its information at a fifth of the training cost.
    const n = Math.min(count, MAX_WINDOWS_PER_SERIES);
    return Array.from({ length: n }, (_, k) => last - Math.round(((n - 1 - k) * (count - 1)) / Math.max(1, n - 1)));
  }

  /**
   * Calibration windows before the held-out one: for k = 1 … `calibrationWindows`, the horizon that
   * starts k horizons before it, forecast by {@link PROXY_MEMBERS}' mean from the history before it,
   * while that history holds at least half the held-out window's history (and two seasons): the
   * statistical forecasts from much shorter histories err more than the forecast will (on the
   * accuracy benchmark's monthly series, windows from 30 months of history doubled MSIS against 66).
   * The network trained on these windows, so it is not scored there; the statistical methods,
   * fitted only on the history before each window, stand in for the combination
   * (src/forecast/intervals.ts).
   */
  private earlierWindows(series: readonly Series[]): HeldOut[] {
    const H = this.o.horizon;
    const out: HeldOut[] = [];
    for (const s of series) {
      const held = s.y.length - H;
      const least = Math.max(2 * this.o.season, 8, held / 2);
      for (let k = 1; k <= this.o.calibrationWindows; k++) {
        const origin = held - k * H;
        if (origin < least) break;
        const history = s.y.subarray(0, origin);
        let forecasts: Float64Array[];
        try {
          forecasts = PROXY_MEMBERS.map((name) => fitBaseline(s.id, name, history, H, this.o.season).point);
        } catch (e) {
          if (e instanceof DataError) break; // a history this method cannot fit: no earlier window from it
          throw e;
        }
        out.push({
          actual: s.y.subarray(origin, origin + H),
          forecast: Float64Array.from({ length: H }, (_, h) => mean(forecasts.map((f) => f[h]!))),
          scale: seriesScale(history, this.o.season),
        });
      }
    }
    return out;
  }

  /** Samples of windows, `groups` of equal size (one per model). */
  private samplesOf(groups: WindowRef[][]): Samples {
    const T = this.o.inputSize;
    const H = this.o.horizon;
    const I = inputWidth(this.o);
    const direct = this.o.strategy === 'direct';
    const O = direct ? H : 1;
    const N = groups.reduce((a, g) => a + g.length, 0);
    const x = new Float32Array(N * T * I);
    const y = new Float32Array(N * T * O);
    let n = 0;
    for (const group of groups) {
      for (const { p, end } of group) {
        const level = windowLevel(p, end, this.o);
        writeInputs(p, end, level, this.o, x, n * T * I);
        if (direct) for (let h = 0; h < H; h++) y[(n * T + T - 1) * O + h] = (p.v[end + h]! - level) / p.scale;
        else for (let t = 0; t < T; t++) y[n * T + t] = (p.v[end - T + t + 1]! - level) / p.scale;
        n++;
      }
    }
    return samples({ x, y, count: N, steps: T, inputSize: I, outputSize: O, series: groups.length });
  }

  /**
   * The training windows of each model: member-major, then (per-series mode) series; the same in
   * every epoch, or where a member's windows exceed {@link MAX_WINDOWS_PER_MEMBER}, each epoch's
   * own sample of them per member.
   */
  private trainingGroups(prepared: Prepared[], limits: number[]): WindowRef[][] | ((epoch: number) => WindowRef[][]) {
    const all = prepared.map((p, k) => this.windowsOf(p, limits[k]!).map((end) => ({ p, end })));
    const K = this.o.ensemble;
    if (this.o.perSeries) {
      const count = Math.min(...all.map((w) => w.length));
      const latest = all.map((w) => w.slice(w.length - count));
      return Array.from({ length: K }, () => latest).flat();
    }
    const pool = all.flat();
    if (pool.length <= MAX_WINDOWS_PER_MEMBER) return Array.from({ length: K }, () => pool);
    return (epoch) =>
      Array.from({ length: K }, (_, k) => {
        const rand = mulberry32(this.o.seed * 31 + k + 1 + (epoch - 1) * MAX_ENSEMBLE);
        return Array.from({ length: MAX_WINDOWS_PER_MEMBER }, () => pool[Math.floor(rand() * pool.length)]!);
      });
  }

  /**
   * The series a global model's held-out phase reads: all, or beyond {@link MAX_VALIDATION_SERIES}
   * of them an evenly spaced selection (the same one for the same list). Per-series models read all.
   */
  private heldOutSample<T>(xs: T[]): T[] {
    const n = xs.length;
    if (this.o.perSeries || n <= MAX_VALIDATION_SERIES) return xs;
    return Array.from({ length: MAX_VALIDATION_SERIES }, (_, k) => xs[Math.floor((k * n) / MAX_VALIDATION_SERIES)]!);
  }

  /**
   * The held-out windows: per model, one per series whose targets are the last `horizon` points (a
   * global model's: of at most {@link MAX_VALIDATION_SERIES} series, evenly spaced).
   */
  private validationGroups(prepared: Prepared[]): WindowRef[][] {
    const direct = this.o.strategy === 'direct';
    const refs = prepared.map((p) => ({ p, end: direct ? p.v.length - this.o.horizon : p.v.length - 1 }));
    const K = this.o.ensemble;
    if (this.o.perSeries) return Array.from({ length: K }, () => refs.map((r) => [r])).flat();
    const read = this.heldOutSample(refs);
    return Array.from({ length: K }, () => read);
  }

  private async trainNetworks(
    groups: WindowRef[][] | ((epoch: number) => WindowRef[][]),
    validation: WindowRef[][] | null,
    options: ForecastFitOptions,
    epochs: number,
  ): Promise<NetworkFit> {
    const t = this.options.training ?? {};
    const drawn = typeof groups === 'function' ? groups : null;
    const first = drawn ? drawn(1) : (groups as WindowRef[][]);
    const models = first.length;
    const G = models / this.o.ensemble;
    const samples = timed('windows', () => this.samplesOf(first));
    const data = drawn ? (epoch: number) => (epoch === 1 ? samples : timed('windows', () => this.samplesOf(drawn(epoch)))) : samples;
    const backend = this.options.backend;
    const model = this.newModel(0);
    // Windows per step sized to the data and the device (all models of a step share the device's
    // limit), with Adam's rate grown as √batch (src/train/batching.ts).
    const limits = backend.trainingBatchLimits?.(model.layers(), this.o.inputSize) ?? { maxBatch: BASE_BATCH };
    const batchSize =
      t.batchSize ?? autoBatchSize(first[0]!.length, { ...limits, maxBatch: Math.max(1, Math.floor(limits.maxBatch / models)) });
    const trainer = await Trainer.create(model, {
      backend,
      loss: { kind: t.loss ?? 'mae', steps: this.o.strategy === 'direct' ? { last: 1 } : 'all' },
      optimizer: t.optimizer ?? { kind: 'adam', lr: scaledLearningRate(1e-2, batchSize) },
      schedule: t.schedule,
      clip: t.clip === undefined ? { kind: 'norm', maxNorm: 1 } : t.clip,
      batchSize,
      seed: this.o.seed,
      series: models,
      initial: Array.from({ length: models }, (_, m) => this.newModel(Math.floor(m / G))),
    });
    try {
      const { epochs: _e, patience: _p, onBaselines: _b, ...rest } = options;
      const history = await trainer.fit(data, {
        ...rest,
        epochs,
        ...(validation
          ? {
              validation: timed('windows', () => this.samplesOf(validation)),
              earlyStopping: { patience: options.patience ?? t.patience ?? 3 },
            }
          : {}),
      });
      return { nets: await trainer.allModels(), history };
    } finally {
      trainer.dispose();
    }
  }

  /** {@link fit} on series already checked: the held-out phase, the calibration, the refit. */
  private async train(series: readonly Series[], options: ForecastFitOptions): Promise<FitHistory> {
    const H = this.o.horizon;
    const asked = options.epochs ?? this.options.training?.epochs;
    if (asked !== undefined) positive('epochs', asked);
    const network = series.filter((s) => !this.tooShort(s));
    if (this.o.perSeries && network.length !== series.length) throw new DataError(this.tooShort(series.find((s) => this.tooShort(s))!)!);
    this.calibration = null;
    this.weights = null;
    this.nets = [];
    this.ids = network.map((s) => s.id);
    this.fitted = true;
    this.lastFold = null;
    this.etsForms = null;
    const empty: FitHistory = { steps: [], epochs: [], bestEpoch: 0, stoppedEarly: false };
    if (network.length === 0) return empty;
    // 1. Hold out the last horizon: train until the held-out loss stops improving.
    const held = network.map((s) => prepare(s, s.y.length - H, this.o));
    const groups = timed('windows', () =>
      this.trainingGroups(
        held,
        held.map((p) => p.v.length - H),
      ),
    );
    const maxEpochs = asked ?? (typeof groups === 'function' ? SAMPLED_EPOCHS : DEFAULT_EPOCHS);
    const first = await timed('train', () =>
      this.trainNetworks(
        groups,
        timed('windows', () => this.validationGroups(held)),
        options,
        maxEpochs,
      ),
    );
    // 2. Weigh the members and calibrate the intervals on the held-out forecasts (of a sample of
    // the series at large data).
    this.nets = first.nets;
    if (this.o.combine.length) await options.onBaselines?.();
    const weighed = this.heldOutSample(network);
    const cut = weighed.map((s) => firstPoints(s, s.y.length - H));
    // Every series here was fitted on: each has its members.
    this.weigh(weighed, cut, (await this.memberForecasts(cut, knownFuture(weighed, cut, this.o.exog, H))).members as Float64Array[][]);
    if (!this.o.refit) return first.history;
    // 3. Train again on everything, for the epochs the held-out window chose.
    const all = network.map((s) => prepare(s, s.y.length, this.o));
    const second = await timed('train', () =>
      this.trainNetworks(
        timed('windows', () =>
          this.trainingGroups(
            all,
            all.map((p) => p.v.length),
          ),
        ),
        null,
        options,
        Math.max(1, first.history.bestEpoch),
      ),
    );
    this.nets = second.nets;
    return { ...first.history, steps: [...first.history.steps, ...second.history.steps] };
  }

  /**
   * The combination's weights and the interval calibration from each series' members' forecasts of
   * its last `horizon` points (`cut`: each series without them; every member list non-null).
   */
  private weigh(network: readonly Series[], cut: readonly Series[], members: Float64Array[][]): void {
    const H = this.o.horizon;
    const actual = network.map((s) => s.y.subarray(s.y.length - H));
    timed('metrics', () => {
      this.weights =
        this.o.weighting === 'equal' || this.o.weighting === 'median'
          ? null
          : inverseErrorWeights(members, actual, cut, this.o.season, this.o.weighting === 'inverse-squared-error' ? 2 : 1);
      this.calibration = calibrate(
        [
          ...actual.map((a, k) => ({ actual: a, forecast: this.combine(members[k]!), scale: seriesScale(cut[k]!.y, this.o.season) })),
          ...this.earlierWindows(network),
        ],
        H,
        this.o.levels,
      );
    });
  }

  /**
   * After a {@link backtest} of `series`, makes this forecaster ready to {@link predict} them without
   * training again: the backtest's networks (trained on each series up to two horizons before its
   * end), weighed and calibrated, as {@link fit} weighs and calibrates its own, on their forecasts of
   * each series' last horizon, which are the backtest's last fold (no network or baseline runs here).
   * Half the training of a backtest followed by a fresh fit (the app's job), at the price of
   * networks one horizon older (`fit` trains on all but the last horizon; the forecasts still start
   * from each series' end, with its latest points as inputs). The ETS member keeps the model form
   * automatic ETS chose on that fold (its weight and the intervals were measured with it) and
   * estimates its parameters again on the whole series: one model's fit instead of the fifteen an
   * automatic choice tries (predict falls back to choosing where that form cannot fit the series).
   * {@link ConfigError} when the last backtest was of other series, or had no networks (every series
   * fell back to a baseline).
   */
  fitFromBacktest(series: readonly Series[]): void {
    const last = this.lastFold;
    if (!last || last.ids.length !== series.length || last.ids.some((id, k) => id !== series[k]!.id))
      throw new ConfigError('fitFromBacktest needs a backtest of the same series (in the same order) first');
    if (this.nets.length === 0)
      throw new ConfigError('the backtest trained no network (every series fell back to a baseline): fit instead');
    const kept = this.heldOutSample(series.flatMap((_, k) => (last.members[k] ? [k] : [])));
    this.weigh(
      kept.map((k) => series[k]!),
      kept.map((k) => last.cut[k]!),
      kept.map((k) => last.members[k]!),
    );
    this.etsForms = last.etsForms;
    this.fitted = true;
    // Those forms' fits on the whole series start now (not awaited: predict's request waits for
    // them), on the baseline pool beside predict's network forecasts.
    if (this.o.combine.includes('ets') && this.besideDevice) {
      const fitted = series.filter((s) => last.etsForms.has(s.id));
      prefitBaselines(
        this.fitRequests(
          ['ets'],
          fitted.map((s) => s.y),
          fitted.map((s) => last.etsForms.get(s.id)!),
        ),
      ).catch(() => {});
    }
  }

  /**
   * Forecasts `horizon` points after each series, in the series' units, with intervals. Exogenous
   * inputs need their future values: `futureExog[id][name]`, `horizon` each.
   */
  async predict(series: readonly Series[], futureExog: Record<string, Record<string, ArrayLike<number>>> = {}): Promise<Forecast[]> {
    if (!this.fitted) throw new ConfigError('fit the forecaster before predicting');
    checkSeries(series);
    return this.combined(series, futureExog);
  }

  /** The networks' forecasts of the series in `net` (the median of the ensemble's), in series units. */
  private async networkForecasts(
    series: readonly Series[],
    futureExog: Record<string, Record<string, ArrayLike<number>>>,
  ): Promise<Float64Array[]> {
    const T = this.o.inputSize;
    const H = this.o.horizon;
    const I = inputWidth(this.o);
    const E = I - 1;
    const K = this.o.ensemble;
    const prepared = series.map((s) => {
      const p = prepare(s, s.y.length, this.o);
      const offset = p.extra.length - this.o.exog.length;
      this.o.exog.forEach((name, k) => {
        const future = futureExog[s.id]?.[name];
        if (!future || future.length < H) throw new DataError(`series ${s.id} needs ${H} future values of ${name}`);
        const col = p.extra[offset + k]!;
        const sc = p.exogScalers[k]!;
        for (let h = 0; h < H; h++) col[s.y.length + h] = (future[h]! - sc.shift) / sc.scale;
        const bad = firstOutside(col.subarray(s.y.length));
        if (bad >= 0)
          throw new DataError(
            `series ${s.id}: the future value ${future[bad]} of ${name} at ${bad} is not finite or scales beyond float32's range`,
          );
      });
      return p;
    });
    const modelOf = new Map(this.ids.map((id, k) => [id, k]));
    const G = this.o.perSeries ? this.ids.length : 1;
    // Every member and series in one call: member k's copy of the batch runs its model(s).
    const stacks: StackModels = this.o.perSeries
      ? Array.from({ length: K }, (_, k) =>
          prepared.map((p) => {
            const g = modelOf.get(p.id) ?? -1;
            if (g < 0) throw new DataError(`series ${p.id} has no model of its own (per-series mode fits one per series)`);
            return this.nets[k * G + g]!.layers();
          }),
        ).flat()
      : this.nets.map((n) => n.layers());
    const B = prepared.length;
    const history = new Float32Array(K * B * T * I);
    const exogFuture = E > 0 ? new Float32Array(K * B * H * E) : null;
    const levels = prepared.map((p) => windowLevel(p, p.v.length, this.o));
    for (let k = 0; k < K; k++) {
      prepared.forEach((p, b) => {
        if (p.v.length < T) throw new DataError(`series ${p.id} has ${p.v.length} points; the model reads ${T}`);
        writeInputs(p, p.v.length, levels[b]!, this.o, history, (k * B + b) * T * I);
        if (exogFuture) writeFutureExtra(p, p.v.length, this.o, exogFuture, (k * B + b) * H * E);
      });
    }
    const backend = this.options.backend;
    let z: ArrayLike<number>;
    if (this.o.strategy === 'recursive') {
      if (!backend.recurrentForecast) throw new ConfigError(`the ${backend.name} backend cannot forecast`);
      z = await backend.recurrentForecast(stacks, { history, batch: K * B, steps: T, horizon: H, futureExog: exogFuture });
    } else {
      const none = this.nets[0]!.layers().layers.map(() => null);
      const y = (
        await backend.recurrentStack(stacks, { X: history, batch: K * B, steps: T, sequenceLens: null, initialH: none, initialC: none })
      ).Y;
      z = Float64Array.from({ length: K * B * H }, (_, i) => y[(Math.floor(i / H) * T + T - 1) * H + (i % H)]!);
    }
    return prepared.map((p, b) => {
      const members = Array.from({ length: K }, (_, k) =>
        toSeriesUnits(
          p,
          levels[b]!,
          Array.from({ length: H }, (_, h) => z[(k * B + b) * H + h]!),
        ),
      );
      const values = Float64Array.from({ length: H }, (_, h) => quantile(Float64Array.from(members, (m) => m[h]!).sort(), 0.5));
      const bad = firstOutside(values, Number.MAX_VALUE);
      if (bad >= 0)
        throw new DataError(`series ${p.id}: forecast ${bad + 1} is ${values[bad]} in the series' units (beyond float64's range)`);
      return values;
    });
  }

  /**
   * Each series' members: the networks' forecast, then each `combine` baseline's; null for a series
   * the network cannot take (too short, or not fitted on). ETS fits the form `etsForms` names for a
   * series (where that form fits its history), else chooses one; `etsForms` of the result: the form
   * each series' ETS member has.
   */
  private async memberForecasts(
    series: readonly Series[],
    futureExog: Record<string, Record<string, ArrayLike<number>>>,
    etsForms: ReadonlyMap<string, string> | null = null,
  ): Promise<{ members: (Float64Array[] | null)[]; etsForms: Map<string, string> }> {
    const known = new Set(this.ids);
    if (this.o.perSeries) {
      const other = series.find((s) => !known.has(s.id));
      if (other) throw new DataError(`series ${other.id} has no model of its own (per-series mode fits one per series)`);
    }
    const byNetwork = series.filter((s) => known.has(s.id) || (this.nets.length > 0 && !this.tooShort(s)));
    const netValues = byNetwork.length ? await timed('forecast', () => this.networkForecasts(byNetwork, futureExog)) : [];
    const netOf = new Map(byNetwork.map((s, k) => [s.id, netValues[k]!]));
    const form = (name: BaselineName, s: Series) => (name === 'ets' ? (etsForms?.get(s.id) ?? null) : null);
    if (this.o.combine.length)
      await timed('baselines', () =>
        prefitBaselines(
          this.fitRequests(
            this.o.combine,
            byNetwork.map((s) => s.y),
            byNetwork.map((s) => form('ets', s)),
          ),
        ),
      );
    const forms = new Map<string, string>();
    const members = series.map((s) => {
      const net = netOf.get(s.id);
      if (!net) return null;
      return [
        net,
        ...this.o.combine.map((name) => {
          const f = this.member(s, name, form(name, s));
          if (name === 'ets') forms.set(s.id, f.model);
          return f.point;
        }),
      ];
    });
    return { members, etsForms: forms };
  }

  /** Baseline `name`'s forecast of `s` as a member: ETS of the form given where it fits, else chosen automatically. */
  private member(s: Series, name: BaselineName, form: string | null): BaselineForecast {
    const { horizon, season } = this.o;
    if (form !== null) {
      try {
        return seriesBaseline(s.id, name, s.y, horizon, season, [], form);
      } catch (e) {
        if (!(e instanceof DataError)) throw e;
      }
    }
    return seriesBaseline(s.id, name, s.y, horizon, season);
  }

  /** The combination of one series' members: weighted ({@link weights}) or equal. */
  private combine(members: Float64Array[]): Float64Array {
    const H = members[0]!.length;
    if (this.o.weighting === 'median')
      return Float64Array.from({ length: H }, (_, h) => quantile(Float64Array.from(members, (m) => m[h]!).sort(), 0.5));
    const w = this.weights ?? members.map(() => 1 / members.length);
    if (this.o.weighting === 'weighted-median')
      return Float64Array.from({ length: H }, (_, h) => weightedMedian(members.map((m, j) => [m[h]!, w[j]!])));
    return Float64Array.from({ length: H }, (_, h) => members.reduce((a, m, j) => a + w[j]! * m[h]!, 0));
  }

  /**
   * Each series' forecast: the networks' combined with the `combine` baselines, or a baseline alone
   * for a series too short for the network; with intervals when calibrated.
   */
  private async combined(series: readonly Series[], futureExog: Record<string, Record<string, ArrayLike<number>>>): Promise<Forecast[]> {
    return this.combinedFrom(series, (await this.memberForecasts(series, futureExog, this.etsForms)).members);
  }

  /** {@link combined} from the series' members (null: a baseline stands in). */
  private combinedFrom(series: readonly Series[], members: (Float64Array[] | null)[]): Forecast[] {
    const method = ['webrnn', ...this.o.combine.map((n) => BASELINE_LABELS[n])].join(' + ');
    return series.map((s, k) => {
      const m = members[k];
      if (!m) return this.fallback(s, this.o.levels);
      const values = this.combine(m);
      const intervals = this.calibration ? conformalIntervals(values, seriesScale(s.y, this.o.season), this.calibration) : [];
      return { id: s.id, values, intervals, method, note: null, network: m[0]! };
    });
  }

  /** A baseline's forecast for a series the network cannot take: ETS, else Theta, else seasonal naive. */
  private fallback(s: Series, levels: number[]): Forecast {
    const why = this.tooShort(s) ?? `series ${s.id} was not among the series the network was fitted on`;
    let last: unknown;
    for (const name of ['ets', 'theta', 'snaive'] as BaselineName[]) {
      let f: BaselineForecast;
      try {
        f = seriesBaseline(s.id, name, s.y, this.o.horizon, this.o.season, levels);
      } catch (e) {
        if (!(e instanceof DataError)) throw e;
        last = e;
        continue;
      }
      return {
        id: s.id,
        values: f.point,
        intervals: f.intervals,
        method: `${BASELINE_LABELS[name]} (fallback)`,
        note: `${why}: forecast by ${BASELINE_LABELS[name]}`,
        network: null,
      };
    }
    throw new DataError(`${why}, and no baseline could forecast it either (${(last as Error).message})`);
  }

  /**
   * Backtests: for each of `folds` origins (the last at n − horizon, earlier ones `step` points apart,
   * default horizon), fits on the points before the origin, forecasts the next `horizon` and scores
   * them beside seasonal naive, Naive2, ETS and Theta from the same history. Refits per fold.
   */
  async backtest(
    series: readonly Series[],
    fit: ForecastFitOptions = {},
    options: {
      folds?: number;
      step?: number;
      /** The series will be forecast next ({@link fitFromBacktest}): their baselines' fits start with the last fold's, beside its training. */
      forecast?: boolean;
    } = {},
  ): Promise<BacktestReport> {
    const folds = positive('folds', options.folds ?? 1);
    const step = positive('step', options.step ?? this.o.horizon);
    const H = this.o.horizon;
    const m = this.o.season;
    checkSeries(series);
    const rows: BacktestRow[] = [];
    const standIns: string[] = [];
    for (let f = 0; f < folds; f++) {
      const back = H + (folds - 1 - f) * step;
      for (const s of series) {
        if (s.y.length - back < 1) throw new DataError(`series ${s.id} has ${s.y.length} points, too few for ${folds} fold(s) of ${H}`);
      }
      const cut = series.map((s) => firstPoints(s, s.y.length - back));
      // On a GPU the fold's baselines fit on the pool while its networks train; on a software
      // adapter after (each is asked for once the networks are done, in one batch per phase).
      const early = this.besideDevice ? this.startBaselines(cut) : [];
      if (options.forecast && f === folds - 1 && this.besideDevice) {
        const next = series.filter((s) => !this.tooShort(s)).map((s) => s.y);
        // predict's own request for these fits waits for them. Not ETS's: predict fits the forms
        // this fold's ETS chooses (fitFromBacktest), a fraction of choosing again.
        early.push(
          prefitBaselines(
            this.fitRequests(
              this.o.combine.filter((name) => name !== 'ets'),
              next,
            ),
          ).catch(() => {}),
        );
      }
      // The baselines' phase is announced once: where the combination has some, after the training;
      // else before the table's.
      let announced = false;
      const announce = async () => {
        if (announced) return;
        announced = true;
        await fit.onBaselines?.();
      };
      await this.train(cut, { ...fit, onBaselines: announce });
      await announce();
      const { members, etsForms } = await this.memberForecasts(cut, knownFuture(series, cut, this.o.exog, H));
      const forecasts = this.combinedFrom(cut, members);
      if (f === folds - 1) this.lastFold = { ids: series.map((s) => s.id), cut, members, etsForms };
      await timed('baselines', () => Promise.all([...early, prefitBaselines(this.tableRequests(cut))]));
      // The scores beside every baseline's (whose fits are their own phase, inside this one).
      timed('metrics', () =>
        series.forEach((s, k) => {
          const history = cut[k]!.y;
          const actual = s.y.slice(history.length, history.length + H);
          const fc = forecasts[k]!;
          const baselines = Object.fromEntries(
            BASELINES.map((name) => {
              const b = baselineOrNaive(s.id, name, history, H, m);
              if (b.note) standIns.push(b.note);
              return [name, { forecast: b.forecast, metrics: this.score(s.id, actual, b.forecast, history) }];
            }),
          ) as BacktestRow['baselines'];
          const ninetyFive = fc.intervals.find((iv) => iv.level === 95);
          rows.push({
            id: s.id,
            fold: f,
            actual,
            forecast: fc.values,
            intervals: fc.intervals,
            metrics: this.score(s.id, actual, fc.values, history),
            baselines,
            coverage: Object.fromEntries(fc.intervals.map((iv) => [iv.level, coverage(actual, iv.lo, iv.hi)])),
            msis: ninetyFive ? msis(actual, ninetyFive.lo, ninetyFive.hi, history, m, 95) : null,
            method: fc.method,
            note: fc.note,
            network: fc.network && { forecast: fc.network, metrics: this.score(s.id, actual, fc.network, history) },
          });
        }),
      );
    }
    return timed('metrics', () => this.summary(rows, standIns));
  }

  /**
   * The fits of the `names` baselines on each of `histories`, at this forecaster's horizon and season,
   * without intervals; ETS's of the form `etsForms` gives for that history (null: automatic).
   */
  private fitRequests(
    names: readonly BaselineName[],
    histories: readonly Float64Array[],
    etsForms: readonly (string | null)[] = [],
  ): BaselineRequest[] {
    const { horizon, season } = this.o;
    return histories.flatMap((history, k) =>
      names.map((name) => ({ name, history, horizon, season, levels: [], model: name === 'ets' ? (etsForms[k] ?? null) : null })),
    );
  }

  /** The baseline fits a backtest's table shows for each history of `cut`: every baseline's. */
  private tableRequests(cut: readonly Series[]): BaselineRequest[] {
    return this.fitRequests(
      BASELINES,
      cut.map((c) => c.y),
    );
  }

  /**
   * Whether the baseline pool's fits run while the device works. Not on a software adapter: its
   * shaders run on the same cores, and side by side the two slowed each other more than taking turns
   * costs. On the app's 10,000-series set (2 cores, SwiftShader) a training epoch took 40–45 s while
   * the pool fitted the backtest's baselines and 20 s once it had finished (bench/RESULTS.md). There
   * the fits wait for the training's end, and the phases ask for them in one batch each.
   */
  private get besideDevice(): boolean {
    return this.options.backend.software !== true;
  }

  /**
   * Starts the baseline fits a backtest fold on `cut` will ask for — the held-out members' (each
   * network series without its last horizon), then its table's — on the baseline pool (where one is
   * set, src/forecast/baselines/pool.ts), without waiting: they run on the CPU's threads while the
   * networks train on a GPU (not on a software adapter: {@link besideDevice}), and the fold's own
   * requests wait for them instead of fitting again
   * (the same fits, wherever and whenever made). The promises are the two batches', caught here (a
   * failed batch's fits are made again when asked for) and awaited by the fold.
   */
  private startBaselines(cut: readonly Series[]): Promise<void>[] {
    const H = this.o.horizon;
    const heldOut = this.fitRequests(
      this.o.combine,
      this.heldOutSample(cut.filter((c) => !this.tooShort(c))).map((c) => c.y.subarray(0, c.y.length - H)),
    );
    return [prefitBaselines(heldOut), prefitBaselines(this.tableRequests(cut))].map((p) => p.catch(() => {}));
  }

  /** A backtest's means over its rows, OWA, coverage and MSIS, and its notes. */
  private summary(rows: BacktestRow[], standIns: string[]): BacktestReport {
    const model = overall(rows.map((r) => r.metrics));
    const baselines = Object.fromEntries(
      BASELINES.map((name) => [name, overall(rows.map((r) => r.baselines[name].metrics))]),
    ) as BacktestReport['baselines'];
    const levels = [...new Set(rows.flatMap((r) => r.intervals.map((iv) => iv.level)))];
    const intervalCoverage = Object.fromEntries(
      levels.map((l) => [l, mean(rows.flatMap((r) => (r.coverage[l] === undefined ? [] : [r.coverage[l]!])))]),
    );
    const msisValues = rows.flatMap((r) => (r.msis === null ? [] : [r.msis]));
    return {
      rows,
      model,
      baselines,
      owa: owa(model, baselines.naive2),
      coverage: intervalCoverage,
      msis: msisValues.length ? mean(msisValues) : null,
      notes: [...new Set([...rows.flatMap((r) => (r.note ? [r.note] : [])), ...standIns])],
    };
  }

  /**
   * The metrics of one forecast; an error beyond float64's range is a {@link DataError} naming the
   * series (MASE may be null: undefined when the history's naive error is 0).
   */
  private score(id: string, actual: Float64Array, forecast: Float64Array, history: Float64Array): Metrics {
    const m = metrics(actual, forecast, history, this.o.season);
    const bad = nonFiniteMetric(m);
    if (bad) throw new DataError(`series ${id}: the forecast's ${bad[0].toUpperCase()} is ${bad[1]}, beyond float64's range`);
    return m;
  }
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b / xs.length, 0);
}

/** The weighted median of (value, weight) pairs whose weights sum to 1: the value where the weights, in the values' order, first reach ½. */
function weightedMedian(pairs: [number, number][]): number {
  pairs.sort((a, b) => a[0] - b[0]);
  let total = 0;
  for (const [v, w] of pairs) {
    total += w;
    if (total >= 0.5 - 1e-12) return v;
  }
  return pairs[pairs.length - 1]![0];
}

/**
 * Combination weights ∝ MASE^−power of each member on the held-out horizon, the mean over the series
 * whose MASE is defined (all members equal when none is, or a member's error is 0).
 */
function inverseErrorWeights(
  members: readonly (Float64Array[] | null)[],
  actual: readonly Float64Array[],
  history: readonly Series[],
  season: number,
  power: number,
): number[] | null {
  const J = members.find((m) => m)?.length ?? 0;
  if (J === 0) return null;
  const errors = Array.from({ length: J }, (_, j) => {
    const values = members.flatMap((m, k) => {
      if (!m) return [];
      const e = mase(actual[k]!, m[j]!, history[k]!.y, season);
      return e === null ? [] : [e];
    });
    return values.length ? mean(values) : NaN;
  });
  if (errors.some((e) => !(e > 0) || !Number.isFinite(e))) return null;
  const inverse = errors.map((e) => e ** -power);
  const total = inverse.reduce((a, b) => a + b, 0);
  return inverse.map((v) => v / total);
}

/** The exogenous values of the `horizon` points after each cut series, from the whole series. */
function knownFuture(
  series: readonly Series[],
  cut: readonly Series[],
  exog: readonly string[],
  horizon: number,
): Record<string, Record<string, Float64Array>> {
  return Object.fromEntries(
    series.map((s, k) => [
      s.id,
      Object.fromEntries(exog.map((n) => [n, s.exog[n]!.subarray(cut[k]!.y.length, cut[k]!.y.length + horizon)])),
    ]),
  );
}

/**
 * A baseline's forecast for the backtest table; where the method cannot fit this history (too short
 * for ETS's parameters, say) the naive forecast stands in, and the note says so.
 */
function baselineOrNaive(
  id: string,
  name: BaselineName,
  history: Float64Array,
  horizon: number,
  season: number,
): { forecast: Float64Array; note: string | null } {
  try {
    return { forecast: seriesBaseline(id, name, history, horizon, season).point, note: null };
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    return {
      forecast: seriesBaseline(id, 'snaive', history, horizon, 1).point,
      note: `${e.message}: the ${BASELINE_LABELS[name]} column shows the naive forecast for it`,
    };
  }
}
