import type { Metrics } from '../src/forecast/metrics.ts';

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

/** What the options form gives: the forecaster's options, the training loop's and where to run. */
export interface RunOptions {
  horizon: number;
  season: number;
  inputSize: number;
  cell: 'lstm' | 'gru' | 'rnn';
  hiddenSize: number;
  numLayers: number;
  epochs: number;
  lr: number;
  batchSize: number;
  strategy: 'recursive' | 'direct';
  scaling: 'standard' | 'minmax' | 'robust' | 'none';
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

/** One series in the table: its size and, after a backtest, its metrics beside seasonal naive. */
export interface SeriesRow {
  id: string;
  points: number;
  first: string;
  last: string;
  model: Metrics | null;
  baseline: Metrics | null;
}

/** The two trainings of a run: the backtest's (history before the hold-out) and the final one (all). */
export type Phase = 'backtest' | 'final';

/** Everything the chart of one series shows. */
export interface SeriesView {
  id: string;
  ds: string[];
  y: number[];
  /** The backtest: the model's and seasonal naive's forecasts of the last `horizon` points. */
  holdout: { forecast: number[]; baseline: number[] } | null;
  /** The forecast after the last point, with its time stamps when they can be extended. */
  future: { ds: string[] | null; values: number[] } | null;
}

export interface ErrorInfo {
  message: string;
  /** DataError's position in the file: row (1-based, the header is row 1) and column. */
  row: number | null;
  column: string | null;
}

/** Worker → page. */
export type Reply =
  | { type: 'backend'; name: 'webgpu' | 'cpu'; detail: string }
  | { type: 'header'; fileName: string; header: string[]; mapping: ColumnMapping }
  | { type: 'loaded'; label: string; rows: SeriesRow[]; points: number; season: number | null }
  | { type: 'load-error'; error: ErrorInfo }
  | { type: 'progress'; phase: Phase; epoch: number; epochs: number; stepInEpoch: number; stepsPerEpoch: number; losses: { step: number; loss: number }[] }
  | { type: 'backtest'; rows: SeriesRow[]; model: Metrics; baseline: Metrics; horizon: number }
  | { type: 'forecast'; series: number; horizon: number; seconds: number }
  | { type: 'run-error'; error: ErrorInfo }
  | { type: 'cancelled' }
  | { type: 'series'; view: SeriesView }
  | { type: 'csv'; text: string; name: string };
