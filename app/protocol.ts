import type { BaselineName } from '../src/forecast/baselines/index.ts';
import type { Metrics } from '../src/forecast/metrics.ts';
import type { BacktestReport } from '../src/forecast/forecaster.ts';

/**
 * Messages between the forecasting page (main.ts) and its worker (worker.ts). The worker owns the
 * data and the backend: the page sends what the person chose and receives summaries, progress and
 * one series at a time, so neither tens of thousands of series nor training ever block the page.
 */

/** The datasets the app ships (vega-datasets) besides uploads and the generator. */
export type BuiltinName = 'unemployment' | 'us-employment' | 'co2';

/** How a CSV's columns are read: long (`id`, `ds`, `y`) or wide (`ds`, then a column per series). */
export interface ColumnMapping {
  format: 'long' | 'wide';
  id: string;
  ds: string;
  y: string;
  /** How the time stamps are written (e.g. `D/M/YYYY`) when detection finds them ambiguous; absent: detected. */
  dsFormat?: string;
}

export type Source =
  | { kind: 'builtin'; name: BuiltinName }
  | { kind: 'synthetic'; count: number; length: number; season: number; seed: number }
  | { kind: 'file'; file: File; mapping: ColumnMapping };

/**
 * What the options form gives: the forecaster's options, the training loop's and where to run.
 * An optional member left out (its field left empty, shown as "auto") is the forecaster's own
 * default: the input size from the season and horizon, the batch size and learning rate from the
 * data and the device, the epochs by early stopping on a validation window, the hidden size and
 * the ensemble's size from the recipe.
 */
export interface RunOptions {
  horizon: number;
  season: number;
  inputSize?: number;
  cell: 'lstm' | 'gru' | 'rnn';
  hiddenSize?: number;
  numLayers: number;
  epochs?: number;
  lr?: number;
  batchSize?: number;
  strategy: 'recursive' | 'direct';
  scaling: 'window' | 'standard' | 'minmax' | 'robust' | 'none';
  transform: 'none' | 'log';
  /** Season-position inputs from the time stamps (month of year, day of week…). */
  calendar: boolean;
  /** Networks trained together and combined by the median. */
  ensemble?: number;
  /** Statistical baselines the network's forecast is combined with (none: the network alone). */
  combine: BaselineName[];
  /** Prediction interval levels in percent, ascending. */
  levels: number[];
  perSeries: boolean;
  seed: number;
  /** 'auto': WebGPU when its backend can train and forecast, else the CPU; 'cpu': always the CPU. */
  device: 'auto' | 'cpu';
}

/** Page → worker. */
export type Request =
  | { type: 'inspect'; file: File }
  | { type: 'load'; source: Source }
  | { type: 'run'; options: RunOptions }
  | { type: 'cancel' }
  | { type: 'series'; id: string }
  | { type: 'download' };

/** One series in the table: its size and, after a backtest, its metrics beside the baselines'. */
export interface SeriesRow {
  id: string;
  points: number;
  first: string;
  last: string;
  model: Metrics | null;
  /** Each baseline's metrics on the same hold-out (src/forecast/baselines: snaive, naive2, ets, theta). */
  baselines: Record<BaselineName, Metrics> | null;
  /** Share of the hold-out's points inside the model's interval, per level in percent. */
  coverage: Record<number, number> | null;
  /** What forecast the series: `webrnn`, `webrnn + ETS + Theta + Naive2`, or a baseline it fell back to. */
  method: string | null;
  /** Why the series fell back to a baseline, or null. */
  note: string | null;
}

/** A prediction interval as the chart draws it: bounds per step, level in percent. */
export interface IntervalView {
  level: number;
  lo: number[];
  hi: number[];
}

/** The backtest over all series (folds) as the verdict and the table's overall row show it: the report without its rows. */
export type BacktestSummary = Omit<BacktestReport, 'rows'>;

/** The two trainings of a run: the backtest's (history before the hold-out) and the final one (all). */
export type Phase = 'backtest' | 'final';

/** A progress report: the steps since the last one, where the run stands. */
export interface Progress {
  phase: Phase;
  epoch: number;
  /** The most epochs: those asked for, else the forecaster's default for the data (early stopping may end sooner); null when unknown. */
  epochs: number | null;
  stepInEpoch: number;
  /** Optimizer steps per epoch, once the first epoch has ended (the batch size may be the forecaster's choice). */
  stepsPerEpoch: number | null;
  losses: { step: number; loss: number }[];
  /** At an epoch's end, the mean loss of the held-out windows early stopping reads (null elsewhere or without them). */
  heldOutLoss: number | null;
}

/** Everything the chart of one series shows. */
export interface SeriesView {
  id: string;
  ds: string[];
  y: number[];
  /** The backtest: the model's forecast of the last `horizon` points with its intervals, and the baselines'. */
  holdout: { forecast: number[]; intervals: IntervalView[]; baselines: Record<BaselineName, number[]> } | null;
  /** The forecast after the last point with its intervals and, when they can be extended, its time stamps. */
  future: { ds: string[] | null; values: number[]; intervals: IntervalView[] } | null;
}

export interface ErrorInfo {
  message: string;
  /** DataError's position in the file: row (1-based, the header is row 1) and column. */
  row: number | null;
  column: string | null;
}

/** Worker → page. */
export type Reply =
  | {
      type: 'backend';
      name: 'webgpu' | 'cpu';
      detail: string /** A software adapter: WebGPU computed on the CPU (SwiftShader, lavapipe…). */;
      software: boolean;
    }
  | { type: 'header'; fileName: string; header: string[]; mapping: ColumnMapping }
  | { type: 'loaded'; label: string; rows: SeriesRow[]; points: number; season: number | null }
  | { type: 'load-error'; error: ErrorInfo }
  | ({ type: 'progress' } & Progress)
  /** What the run is doing where no step reports it (the statistical baselines' fits, once the networks have trained). */
  | { type: 'status'; text: string }
  | { type: 'backtest'; rows: SeriesRow[]; summary: BacktestSummary; horizon: number }
  | {
      type: 'forecast';
      series: number;
      horizon: number;
      seconds: number /** Why series fell back to a baseline in the final forecast. */;
      notes: string[];
    }
  | { type: 'run-error'; error: ErrorInfo }
  | { type: 'cancelled' }
  | { type: 'series'; view: SeriesView }
  | { type: 'csv'; text: string; name: string };
