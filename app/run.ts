import type { Backend } from '../src/backends/backend.ts';
import { BASELINE_LABELS } from '../src/forecast/baselines/index.ts';
import { Forecaster, type BacktestReport, type Forecast, type ForecasterOptions } from '../src/forecast/forecaster.ts';
import type { Series } from '../src/forecast/frame.ts';
import type { EpochEvent, StepEvent } from '../src/train/trainer.ts';
import type { Phase, Progress, RunOptions } from './protocol.ts';

/**
 * One run of the app, in the worker: a backtest (fit on each series up to its last `horizon`
 * points, forecast them, score beside the statistical baselines), then the forecast of the next
 * `horizon` points of each series by the backtest's networks, weighed and calibrated on the last
 * `horizon` points as `webrnn forecast`'s fit weighs and calibrates its own.
 */

/**
 * The forecaster options of a run, mapped as the CLI maps its flags (src/cli/forecast.ts): an
 * option left to the forecaster ("auto" in the form) is left out, so the forecaster's own default
 * applies, exactly as when `webrnn forecast` is run without that flag.
 */
export function forecasterOptions(o: RunOptions, backend: Backend): ForecasterOptions {
  const training = given({ batchSize: o.batchSize, optimizer: o.lr === undefined ? undefined : ({ kind: 'adam', lr: o.lr } as const) });
  return given({
    backend,
    horizon: o.horizon,
    season: o.season,
    inputSize: o.inputSize,
    cell: o.cell,
    hiddenSize: o.hiddenSize,
    numLayers: o.numLayers,
    strategy: o.strategy,
    scaling: o.scaling,
    transform: o.transform,
    calendar: o.calendar,
    ensemble: o.ensemble,
    combine: o.combine,
    levels: o.levels,
    perSeries: o.perSeries,
    seed: o.seed,
    training: Object.keys(training).length ? training : undefined,
  });
}

/** `o` without its undefined members, so that the forecaster applies its defaults there. */
function given<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export type { Progress };

export interface RunHooks {
  /** Called at most every `intervalMs` during training and at the end of every epoch. */
  progress(p: Progress): void;
  /** What the run is doing where no step reports it, in words. */
  status?(text: string): void;
  backtest(report: BacktestReport): void;
  signal: AbortSignal;
  intervalMs?: number;
}

/** Lets the worker's message queue run (a cancel, a request for a series) while training. */
const yieldToEvents = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Fit options that report progress, throttled, and give other messages a turn at each report.
 * The steps per epoch are measured (the batch size may be the forecaster's choice, sized to the
 * data and the device): unknown until the first epoch ends.
 */
function reporting(phase: Phase, o: RunOptions, hooks: RunHooks) {
  let pending: { step: number; loss: number }[] = [];
  let last = performance.now();
  let lastStep = 0;
  let epochStart = 0;
  let steps: number | null = null;
  // The most epochs: the form's, else the forecaster's default for this data, which its events carry.
  let most: number | null = o.epochs ?? null;
  const flush = (epoch: number, stepInEpoch: number, heldOutLoss: number | null = null) => {
    hooks.progress({ phase, epoch, epochs: most, stepInEpoch, stepsPerEpoch: steps, losses: pending, heldOutLoss });
    pending = [];
    last = performance.now();
  };
  return {
    ...(o.epochs === undefined ? {} : { epochs: o.epochs }),
    signal: hooks.signal,
    onStep: async (e: StepEvent) => {
      most = e.epochs ?? most;
      pending.push({ step: e.step, loss: e.loss });
      // A fit that starts again (another network of the ensemble, another fold) counts from 0.
      if (e.step < lastStep) epochStart = 0;
      lastStep = e.step;
      if (performance.now() - last < (hooks.intervalMs ?? 100)) return;
      flush(e.epoch, e.step - epochStart);
      await yieldToEvents();
    },
    onBaselines: async () => {
      hooks.status?.(
        `${phase}: the networks have trained; fitting the statistical baselines (${Object.values(BASELINE_LABELS).join(', ')})`,
      );
      await yieldToEvents();
    },
    onEpoch: async (e: EpochEvent) => {
      most = e.epochs ?? most;
      steps = lastStep - epochStart;
      flush(e.epoch, steps, e.validationLoss);
      epochStart = lastStep;
      await yieldToEvents();
    },
  };
}

export interface RunResult {
  report: BacktestReport;
  forecasts: Forecast[];
}

/**
 * The backtest, then the forecast; null when cancelled. The forecast reuses the backtest's networks
 * (Forecaster.fitFromBacktest: weighed and calibrated on the backtest's forecasts of the last
 * horizon) instead of training a fresh forecaster on all points: one training instead of two.
 */
export async function runForecast(series: readonly Series[], o: RunOptions, backend: Backend, hooks: RunHooks): Promise<RunResult | null> {
  const forecaster = Forecaster.create(forecasterOptions(o, backend));
  const report = await forecaster.backtest(series, reporting('backtest', o, hooks), { forecast: true });
  if (hooks.signal.aborted) return null;
  hooks.backtest(report);
  forecaster.fitFromBacktest(series);
  return { report, forecasts: await forecaster.predict(series) };
}
