import type { Backend } from '../backends/backend.ts';
import { ConfigError, DataError, ModelError, ShapeError } from '../errors.ts';
import { firstOutside } from '../util/finite.ts';
import { floatTensors, readSafetensors, writeSafetensors } from '../io/safetensors.ts';
import { RecurrentNet } from '../model/recurrent.ts';
import { torchToLayers } from '../model/torch-lowering.ts';
import { checkTorchStateDict } from '../model/torch-modules.ts';
import type { FloatArray, Tensor } from '../tensor.ts';
import type { CellType } from '../rnn/spec.ts';
import { MAX_HORIZON } from '../rnn/forecast.ts';
import type { StackModels } from '../rnn/stack.ts';
import { samples, type Samples } from '../train/data.ts';
import type { LossKind } from '../train/loss.ts';
import type { GradClipOptions, OptimizerOptions, ScheduleOptions } from '../train/optim.ts';
import { Trainer, type FitHistory, type FitOptions } from '../train/trainer.ts';
import { checkSeries, type Series } from './frame.ts';
import { metrics, nonFiniteMetric, overall, seasonalNaive, type Metrics } from './metrics.ts';
import { fitScaler, scale, unscale, type Scaler, type ScalingKind } from './scaling.ts';

/**
 * A forecaster over many series: windows of each (scaled per series), a recurrent model trained on
 * them (one global model, or one per series), and forecasts of the next `horizon` points, either
 * recursively (a one-step model whose predictions are fed back, on the backend in one go) or
 * directly (a model whose head gives all `horizon` points at once).
 *
 * ```ts
 * const f = await Forecaster.create({ backend: gpu, horizon: 12, season: 12, cell: 'lstm', hiddenSize: 32 });
 * await f.fit(series, { epochs: 30, onStep: (e) => chart.push(e.loss) });
 * const forecasts = await f.predict(series);          // [{ id, values }]
 * const report = await f.backtest(series);            // metrics beside the seasonal-naive baseline
 * ```
 */
export interface ForecasterOptions {
  backend: Backend;
  /** Points to forecast. */
  horizon: number;
  /** Steps of history the model reads per window (default: max(2·season, 2·horizon, 8)). */
  inputSize?: number;
  /** Seasonal period, for the seasonal-naive baseline and MASE (default 1: naive). */
  season?: number;
  cell?: CellType;
  hiddenSize?: number;
  numLayers?: number;
  nonlinearity?: 'tanh' | 'relu';
  /** Per-series scaling, fitted on each series' history (default standard). */
  scaling?: ScalingKind;
  /** 'recursive' (default): a one-step model, predictions fed back; 'direct': all points at once. */
  strategy?: 'recursive' | 'direct';
  /** One model per series instead of one shared by all (every series then needs the same length). */
  perSeries?: boolean;
  /** Exogenous columns of each series (Series.exog) read as extra inputs. */
  exog?: string[];
  /** Model initialisation and shuffles. */
  seed?: number;
  training?: {
    loss?: LossKind;
    optimizer?: OptimizerOptions;
    schedule?: ScheduleOptions;
    clip?: GradClipOptions | null;
    batchSize?: number;
  };
}

/** One series' forecast, in the series' own units. */
export interface Forecast {
  id: string;
  values: Float64Array;
}

/** One series and fold of a backtest. */
export interface BacktestRow {
  id: string;
  fold: number;
  actual: Float64Array;
  forecast: Float64Array;
  baseline: Float64Array;
  metrics: Metrics;
  baselineMetrics: Metrics;
}

export interface BacktestReport {
  rows: BacktestRow[];
  /** Means over series and folds (src/forecast/metrics.ts `overall`). */
  model: Metrics;
  baseline: Metrics;
}

interface Resolved {
  horizon: number;
  inputSize: number;
  season: number;
  scaling: ScalingKind;
  strategy: 'recursive' | 'direct';
  perSeries: boolean;
  exog: string[];
  seed: number;
}

/** The largest horizon, input size and season a forecaster takes: the longest horizon the backends forecast (2²⁰ steps). */
const MAX_STEPS = MAX_HORIZON;

function positive(name: string, v: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new ConfigError(`${name} must be a positive integer${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}, got ${String(v)}`);
  }
  return v;
}

/** Distinct non-empty names ({@link ConfigError} naming `what` otherwise). */
function names(what: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.some((n) => typeof n !== 'string' || n === '')) throw new ConfigError(`${what} must be an array of names, got ${JSON.stringify(v)}`);
  const repeated = v.find((n, i) => v.indexOf(n) !== i);
  if (repeated !== undefined) throw new ConfigError(`${what} names ${repeated} twice`);
  return v as string[];
}

/** A series scaled: its target and exogenous columns each with its own scaler fitted on `fitOn` points. */
interface Scaled {
  id: string;
  z: Float64Array;
  exog: Float64Array[];
  scaler: Scaler;
  exogScalers: Scaler[];
}

export class Forecaster {
  private readonly o: Resolved;
  private nets: RecurrentNet[] = [];
  /** The ids the models were fitted on, in order (per-series mode: model k is series k's). */
  private ids: string[] = [];

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
    const strategy = options.strategy ?? 'recursive';
    if (strategy !== 'recursive' && strategy !== 'direct') throw new ConfigError(`strategy must be recursive or direct, got ${String(strategy)}`);
    const seed = options.seed ?? 0;
    if (!Number.isInteger(seed)) throw new ConfigError(`seed must be an integer, got ${String(seed)}`);
    const perSeries = options.perSeries ?? false;
    if (typeof perSeries !== 'boolean') throw new ConfigError(`perSeries must be true or false, got ${JSON.stringify(perSeries)}`);
    fitScaler(options.scaling ?? 'standard', [0]); // validates the kind
    return new Forecaster(options, {
      horizon,
      inputSize: positive('inputSize', options.inputSize ?? Math.max(2 * season, 2 * horizon, 8), MAX_STEPS),
      season,
      scaling: options.scaling ?? 'standard',
      strategy,
      perSeries,
      exog: names('exog', options.exog ?? []),
      seed,
    });
  }

  /** Models fitted so far: one, or one per series. */
  models(): readonly RecurrentNet[] {
    return this.nets;
  }

  /** The options that define what a saved forecaster is (everything but the backend and training). */
  private savedOptions(): Omit<ForecasterOptions, 'backend' | 'training'> {
    const { backend: _backend, training: _training, ...rest } = this.options;
    return { ...rest, ...this.o };
  }

  /**
   * The fitted models as one safetensors file: model k's state dict under `k.` (PyTorch names, e.g.
   * `0.lstm.weight_ih_l0`), the forecaster's options and the series ids in the metadata.
   * {@link Forecaster.fromSafetensors} reads it back.
   */
  toSafetensors(): Uint8Array {
    if (this.nets.length === 0) throw new ConfigError('fit the forecaster before saving it');
    const tensors: Record<string, Tensor> = {};
    this.nets.forEach((net, k) => {
      for (const [name, t] of Object.entries(net.stateDict())) tensors[`${k}.${name}`] = t;
    });
    return writeSafetensors(tensors, { webrnn: 'forecaster', options: JSON.stringify(this.savedOptions()), ids: JSON.stringify(this.ids) });
  }

  /** A forecaster saved by {@link toSafetensors}, ready to predict on `backend` ({@link ModelError} for another file). */
  static fromSafetensors(bytes: Uint8Array | ArrayBuffer, backend: Backend, training?: ForecasterOptions['training']): Forecaster {
    const file = readSafetensors(bytes);
    if (file.metadata?.webrnn !== 'forecaster') throw new ModelError('this safetensors file is not a saved webrnn forecaster (no webrnn=forecaster metadata)');
    let options: Omit<ForecasterOptions, 'backend'>;
    let ids: string[];
    try {
      options = JSON.parse(file.metadata.options ?? '');
      ids = JSON.parse(file.metadata.ids ?? '');
    } catch {
      throw new ModelError('the forecaster file has unreadable options or ids in its metadata');
    }
    if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new ModelError('the forecaster file\'s options are not an object');
    let f: Forecaster;
    let template: RecurrentNet;
    try {
      names('ids', ids);
      f = Forecaster.create({ ...options, backend, training });
      template = f.newModel();
    } catch (e) {
      if (e instanceof ConfigError) throw new ModelError(`the forecaster file's metadata is invalid: ${e.message}`, { cause: e });
      throw e;
    }
    const tensors = floatTensors(file);
    const count = f.o.perSeries ? ids.length : 1;
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
    return f;
  }

  /**
   * A series scaled by scalers fitted on its first `upTo` points. A scaling that cannot be fitted
   * (a spread beyond float64) or that leaves a value the model reads outside float32's range is a
   * {@link DataError} naming the series, never an Infinity in the model's inputs.
   */
  private scaleSeries(s: Series, upTo = s.y.length): Scaled {
    const fitted = (column: string, values: Float64Array) => {
      let scaler: Scaler;
      try {
        scaler = fitScaler(this.o.scaling, values.subarray(0, upTo));
      } catch (e) {
        if (e instanceof ShapeError) throw new DataError(`series ${s.id}${column}: ${e.message}`);
        throw e;
      }
      const z = scale(scaler, values);
      const bad = firstOutside(z.subarray(0, upTo));
      if (bad >= 0) {
        throw new DataError(
          `series ${s.id}${column}: the value ${values[bad]} at index ${bad} scales (${this.o.scaling}) to ${z[bad]}, beyond float32's range (±3.4e38) that the model computes in: use ${this.o.scaling === 'standard' ? 'smaller units' : 'standard scaling'}`,
        );
      }
      return { scaler, z };
    };
    const exog = this.o.exog.map((name) => {
      const col = s.exog[name];
      if (!col) throw new DataError(`series ${s.id} has no exogenous column ${name}`);
      return fitted(` (exogenous ${name})`, col);
    });
    const { scaler, z } = fitted('', s.y);
    return { id: s.id, z, exog: exog.map((e) => e.z), scaler, exogScalers: exog.map((e) => e.scaler) };
  }

  /** The model's input at step t of a scaled series: [z_t, exog_t…]. */
  private inputAt(s: Scaled, t: number, into: Float32Array, at: number): void {
    into[at] = s.z[t]!;
    s.exog.forEach((e, k) => (into[at + 1 + k] = e[t]!));
  }

  /** Training windows of each series (up to `upTo` points), the last `count` of each when given. */
  private windows(series: Scaled[], upTo: (s: Scaled) => number, count?: number): Samples {
    const T = this.o.inputSize;
    const H = this.o.horizon;
    const I = 1 + this.o.exog.length;
    const direct = this.o.strategy === 'direct';
    const O = direct ? H : 1;
    const available = series.map((s) => upTo(s) - T - (direct ? H : 1) + 1);
    series.forEach((s, k) => {
      if (available[k]! < 1) throw new DataError(`series ${s.id} has ${upTo(s)} points; a window needs ${T + (direct ? H : 1)}`);
    });
    const per = available.map((a) => Math.min(a, count ?? a));
    const N = per.reduce((a, b) => a + b, 0);
    const x = new Float32Array(N * T * I);
    const y = new Float32Array(N * T * O);
    let n = 0;
    series.forEach((s, k) => {
      for (let w = available[k]! - per[k]!; w < available[k]!; w++, n++) {
        for (let t = 0; t < T; t++) {
          this.inputAt(s, w + t, x, (n * T + t) * I);
          if (!direct) y[n * T + t] = s.z[w + t + 1]!;
        }
        if (direct) for (let h = 0; h < H; h++) y[(n * T + T - 1) * O + h] = s.z[w + T + h]!;
      }
    });
    return samples({ x, y, count: N, steps: T, inputSize: I, outputSize: O, series: this.o.perSeries ? series.length : 1 });
  }

  private newModel(): RecurrentNet {
    const o = this.options;
    return RecurrentNet.create(
      {
        cell: o.cell ?? 'lstm',
        inputSize: 1 + this.o.exog.length,
        hiddenSize: o.hiddenSize ?? 32,
        numLayers: o.numLayers ?? 1,
        outputSize: this.o.strategy === 'direct' ? this.o.horizon : 1,
        ...(o.cell === 'rnn' ? { nonlinearity: o.nonlinearity ?? 'tanh' } : {}),
      },
      { seed: this.o.seed },
    );
  }

  /**
   * Trains on every series (up to `upTo` points of each, default all). Per-series mode trains one
   * model per series on the same number of windows from each (the latest ones).
   */
  async fit(series: readonly Series[], options: Omit<FitOptions, 'validation'> & { epochs: number }, upTo?: (s: Series) => number): Promise<FitHistory> {
    checkSeries(series);
    return this.train(series, options, upTo);
  }

  /** {@link fit} on series already checked. */
  private async train(series: readonly Series[], options: Omit<FitOptions, 'validation'> & { epochs: number }, upTo?: (s: Series) => number): Promise<FitHistory> {
    const ends = series.map((s) => upTo?.(s) ?? s.y.length);
    const scaled = series.map((s, k) => this.scaleSeries(s, ends[k]));
    const at = new Map(scaled.map((s, k) => [s, ends[k]!]));
    const length = (s: Scaled) => at.get(s)!;
    const count = this.o.perSeries ? Math.min(...ends.map((n) => n - this.o.inputSize - (this.o.strategy === 'direct' ? this.o.horizon : 1) + 1)) : undefined;
    const data = this.windows(scaled, length, count);
    const t = this.options.training ?? {};
    const trainer = await Trainer.create(this.newModel(), {
      backend: this.options.backend,
      loss: { kind: t.loss ?? 'mse', steps: this.o.strategy === 'direct' ? { last: 1 } : 'all' },
      optimizer: t.optimizer ?? { kind: 'adam', lr: 1e-2 },
      schedule: t.schedule,
      clip: t.clip === undefined ? { kind: 'norm', maxNorm: 1 } : t.clip,
      batchSize: t.batchSize ?? 64,
      seed: this.o.seed,
      series: this.o.perSeries ? series.length : 1,
    });
    try {
      const history = await trainer.fit(data, options);
      this.nets = await trainer.allModels();
      this.ids = series.map((s) => s.id);
      return history;
    } finally {
      trainer.dispose();
    }
  }

  /**
   * Forecasts `horizon` points after each series (after its first `upTo` points when given), in the
   * series' units. Exogenous inputs need their future values: `futureExog[id][name]`, `horizon` each.
   */
  async predict(series: readonly Series[], futureExog: Record<string, Record<string, ArrayLike<number>>> = {}, upTo?: (s: Series) => number): Promise<Forecast[]> {
    if (this.nets.length === 0) throw new ConfigError('fit the forecaster before predicting');
    checkSeries(series);
    return this.forecast(series, futureExog, upTo);
  }

  /** {@link predict} of series already checked. */
  private async forecast(series: readonly Series[], futureExog: Record<string, Record<string, ArrayLike<number>>>, upTo?: (s: Series) => number): Promise<Forecast[]> {
    const T = this.o.inputSize;
    const H = this.o.horizon;
    const I = 1 + this.o.exog.length;
    const ends = series.map((s) => upTo?.(s) ?? s.y.length);
    const scaled = series.map((s, k) => this.scaleSeries(s, ends[k]));
    const modelOf = new Map(this.ids.map((id, k) => [id, k]));
    // Every series in one call: the global model for all, or per series its own model (the
    // backend runs per-series models in the same dispatches).
    const nets = this.o.perSeries
      ? scaled.map((s) => {
          const k = modelOf.get(s.id) ?? -1;
          if (k < 0) throw new DataError(`series ${s.id} has no model of its own (per-series mode fits one per series)`);
          return this.nets[k]!;
        })
      : [this.nets[0]!];
    const B = scaled.length;
    const history = new Float32Array(B * T * I);
    const exogFuture = I > 1 ? new Float32Array(B * H * (I - 1)) : null;
    scaled.forEach((s, b) => {
      const end = ends[b]!;
      if (end < T) throw new DataError(`series ${s.id} has ${end} points; the model reads ${T}`);
      for (let t = 0; t < T; t++) this.inputAt(s, end - T + t, history, (b * T + t) * I);
      this.o.exog.forEach((name, k) => {
        const future = futureExog[s.id]?.[name];
        if (!future || future.length < H) throw new DataError(`series ${s.id} needs ${H} future values of ${name}`);
        const z = scale(s.exogScalers[k]!, Array.from({ length: H }, (_, h) => future[h]!));
        const bad = firstOutside(z);
        if (bad >= 0) throw new DataError(`series ${s.id}: the future value ${future[bad]} of ${name} at ${bad} is not finite or scales beyond float32's range`);
        z.forEach((v, h) => (exogFuture![(b * H + h) * (I - 1) + k] = v));
      });
    });
    const lowered = nets.map((n) => n.layers());
    const stacks: StackModels = lowered.length === 1 ? lowered[0]! : lowered;
    let z: Float32Array | Float64Array;
    if (this.o.strategy === 'recursive') {
      z = await this.recursive(stacks, { history, batch: B, steps: T, horizon: H, futureExog: exogFuture });
    } else {
      const none = lowered[0]!.layers.map(() => null);
      const y = (await this.options.backend.recurrentStack(stacks, { X: history, batch: B, steps: T, sequenceLens: null, initialH: none, initialC: none })).Y;
      z = Float64Array.from({ length: B * H }, (_, i) => y[(Math.floor(i / H) * T + T - 1) * H + (i % H)]!);
    }
    return scaled.map((s, b) => {
      const values = unscale(s.scaler, z.subarray(b * H, (b + 1) * H));
      const bad = firstOutside(values, Number.MAX_VALUE);
      if (bad >= 0) throw new DataError(`series ${s.id}: forecast ${bad + 1} is ${values[bad]} in the series' units (beyond float64's range); the model's output was ${z[b * H + bad]}`);
      return { id: s.id, values };
    });
  }

  private async recursive(stacks: StackModels, inputs: Parameters<NonNullable<Backend['recurrentForecast']>>[1]): Promise<FloatArray> {
    const backend = this.options.backend;
    if (!backend.recurrentForecast) throw new ConfigError(`the ${backend.name} backend cannot forecast`);
    return backend.recurrentForecast(stacks, inputs);
  }

  /**
   * Backtests: for each of `folds` origins (the last at n − horizon, earlier ones `step` points apart,
   * default horizon), fits on the points before the origin, forecasts the next `horizon` and scores
   * them beside the seasonal-naive forecast from the same history. Refits per fold.
   */
  async backtest(series: readonly Series[], fit: Omit<FitOptions, 'validation'> & { epochs: number }, options: { folds?: number; step?: number } = {}): Promise<BacktestReport> {
    const folds = positive('folds', options.folds ?? 1);
    const step = positive('step', options.step ?? this.o.horizon);
    const H = this.o.horizon;
    checkSeries(series);
    const rows: BacktestRow[] = [];
    for (let f = 0; f < folds; f++) {
      const back = H + (folds - 1 - f) * step;
      const origin = (s: Series) => s.y.length - back;
      for (const s of series) {
        if (origin(s) < 1) throw new DataError(`series ${s.id} has ${s.y.length} points, too few for ${folds} fold(s) of ${H}`);
      }
      await this.train(series, fit, origin);
      const futureExog = Object.fromEntries(series.map((s) => [s.id, Object.fromEntries(this.o.exog.map((n) => [n, s.exog[n]!.subarray(origin(s), origin(s) + H)]))]));
      const forecasts = await this.forecast(series, futureExog, origin);
      series.forEach((s, k) => {
        const history = s.y.subarray(0, origin(s));
        const actual = s.y.slice(origin(s), origin(s) + H);
        const baseline = seasonalNaive(history, H, Math.min(this.o.season, history.length));
        rows.push({
          id: s.id,
          fold: f,
          actual,
          forecast: forecasts[k]!.values,
          baseline,
          metrics: this.score(s.id, actual, forecasts[k]!.values, history),
          baselineMetrics: this.score(s.id, actual, baseline, history),
        });
      });
    }
    return { rows, model: overall(rows.map((r) => r.metrics)), baseline: overall(rows.map((r) => r.baselineMetrics)) };
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
