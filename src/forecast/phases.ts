/**
 * Where a forecasting job spends its time, for benchmarks (bench/forecast-job.ts): the forecaster
 * runs its steps through {@link timed}, which tells a clock when a phase starts and ends. Without a
 * clock (the default) it only calls the step. Phases nest (a baseline fitted while forecasting): a
 * clock that wants each phase's own time subtracts the phases inside it.
 *
 *   scale      each series transformed, scaled and checked for the network (src/forecast/windows.ts prepare)
 *   windows    the training and validation windows written into float32 samples
 *   train      the networks' training (trainer set-up, epochs, early stopping), windows excluded
 *   forecast   the networks' forecasts of every series, in series units
 *   baselines  the statistical baselines' fits and forecasts (ETS, Theta, Naive2, seasonal naive)
 *   metrics    the combination's weights, the interval calibration and a backtest's scores
 */
export type ForecastPhase = 'scale' | 'windows' | 'train' | 'forecast' | 'baselines' | 'metrics';

/** Told when each phase starts and ends (in order, nested phases inside their parents). */
export interface PhaseClock {
  enter(phase: ForecastPhase): void;
  exit(phase: ForecastPhase): void;
}

let clock: PhaseClock | null = null;

/** Sets the clock the forecaster's phases report to (null: none); returns the one it replaces. */
export function setPhaseClock(next: PhaseClock | null): PhaseClock | null {
  const previous = clock;
  clock = next;
  return previous;
}

/** Runs `step` as `phase`: its end is when it returns, or when the promise it returns settles. */
export function timed<T>(phase: ForecastPhase, step: () => T): T {
  const c = clock;
  if (!c) return step();
  c.enter(phase);
  let result: T;
  try {
    result = step();
  } catch (e) {
    c.exit(phase);
    throw e;
  }
  if (result instanceof Promise) return result.finally(() => c.exit(phase)) as T;
  c.exit(phase);
  return result;
}
