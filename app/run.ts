import type { Backend } from '../src/backends/backend.ts';
import { Forecaster, type BacktestReport, type Forecast, type ForecasterOptions } from '../src/forecast/forecaster.ts';
import type { Series } from '../src/forecast/frame.ts';
import type { StepEvent } from '../src/train/trainer.ts';
import type { Phase, RunOptions } from './protocol.ts';

/**
 * One run of the app, in the worker: a backtest (fit on each series up to its last `horizon`
 * points, forecast them, score beside seasonal naive), then a fresh forecaster fitted on all of each
 * series and its forecast of the next `horizon` points, exactly as `webrnn forecast` does.
 */

/** The forecaster options of a run, mapped as the CLI maps its flags (src/cli/forecast.ts). */
export function forecasterOptions(o: RunOptions, backend: Backend): ForecasterOptions {
  return {
    backend,
    horizon: o.horizon,
    season: o.season,
    inputSize: o.inputSize,
    cell: o.cell,
    hiddenSize: o.hiddenSize,
    numLayers: o.numLayers,
    strategy: o.strategy,
    scaling: o.scaling,
    perSeries: o.perSeries,
    seed: o.seed,
    training: { batchSize: o.batchSize, optimizer: { kind: 'adam', lr: o.lr } },
  };
}

/**
 * Optimizer steps per epoch when each series is read up to `upTo` points: the forecaster's windows
 * (input size plus one target, or plus `horizon` for direct forecasts) in batches; in per-series
 * mode every model takes the same number of windows, the fewest any series has.
 */
export function stepsPerEpoch(series: readonly Series[], o: RunOptions, upTo: (s: Series) => number): number {
  const windows = series.map((s) => Math.max(0, upTo(s) - o.inputSize - (o.strategy === 'direct' ? o.horizon : 1) + 1));
  const per = o.perSeries ? Math.min(...windows) : windows.reduce((a, b) => a + b, 0);
  return Math.max(1, Math.ceil(per / o.batchSize));
}

/** A progress report: the steps since the last one, where the run stands. */
export interface Progress {
  phase: Phase;
  epoch: number;
  epochs: number;
  stepInEpoch: number;
  stepsPerEpoch: number;
  losses: { step: number; loss: number }[];
}

export interface RunHooks {
  /** Called at most every `intervalMs` during training and at the end of every epoch. */
  progress(p: Progress): void;
  backtest(report: BacktestReport): void;
  signal: AbortSignal;
  intervalMs?: number;
}

/** Lets the worker's message queue run (a cancel, a request for a series) while training. */
const yieldToEvents = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Fit options that report progress, throttled, and give other messages a turn at each report. */
function reporting(phase: Phase, o: RunOptions, steps: number, hooks: RunHooks) {
  let pending: { step: number; loss: number }[] = [];
  let last = performance.now();
  let lastStep = 0;
  const flush = (epoch: number, stepInEpoch: number) => {
    hooks.progress({ phase, epoch, epochs: o.epochs, stepInEpoch, stepsPerEpoch: steps, losses: pending });
    pending = [];
    last = performance.now();
  };
  return {
    epochs: o.epochs,
    signal: hooks.signal,
    onStep: async (e: StepEvent) => {
      pending.push({ step: e.step, loss: e.loss });
      lastStep = e.step;
      if (performance.now() - last < (hooks.intervalMs ?? 100)) return;
      flush(e.epoch, e.step - (e.epoch - 1) * steps);
      await yieldToEvents();
    },
    onEpoch: async (e: { epoch: number }) => {
      flush(e.epoch, Math.min(steps, lastStep - (e.epoch - 1) * steps));
      await yieldToEvents();
    },
  };
}

export interface RunResult {
  report: BacktestReport;
  forecasts: Forecast[];
}

/** The backtest, then the final fit and forecast; null when cancelled. */
export async function runForecast(series: readonly Series[], o: RunOptions, backend: Backend, hooks: RunHooks): Promise<RunResult | null> {
  const options = forecasterOptions(o, backend);
  const holdout = (s: Series) => s.y.length - o.horizon;
  const backtester = Forecaster.create(options);
  const report = await backtester.backtest(series, reporting('backtest', o, stepsPerEpoch(series, o, holdout), hooks));
  if (hooks.signal.aborted) return null;
  hooks.backtest(report);
  const final = Forecaster.create(options);
  await final.fit(series, reporting('final', o, stepsPerEpoch(series, o, (s) => s.y.length), hooks));
  if (hooks.signal.aborted) return null;
  return { report, forecasts: await final.predict(series) };
}
