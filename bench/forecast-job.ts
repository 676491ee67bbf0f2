import type { Backend } from '../src/backends/backend.ts';
import { syntheticSeries, type DatedSeries } from '../src/data/datasets.ts';
import { Forecaster, type ForecasterOptions, type ForecastFitOptions } from '../src/forecast/forecaster.ts';
import { parseWide, type Series } from '../src/forecast/frame.ts';
import { forgetBaselineFits, setBaselineFitter } from '../src/forecast/baselines/index.ts';
import { forecastsCsv } from '../src/forecast/output.ts';
import { setPhaseClock, type ForecastPhase, type PhaseClock } from '../src/forecast/phases.ts';
import { accuracyDatasets } from './accuracy/data.ts';
import type { BaselinePool } from './baseline-pool.ts';

/**
 * The forecasting job at scale (issue 18), as the app and `webrnn forecast` run it: the series read
 * from a CSV file, a backtest (fit on each series up to its last `horizon` points, forecast them,
 * score them beside the statistical baselines), then a fresh forecaster fitted on all of each series
 * and its forecast written out as CSV. Timed per phase:
 *
 *   parse      the CSV text read into series (src/forecast/frame.ts parseWide, or the accuracy
 *              benchmark's file readers)
 *   scale … metrics   the forecaster's own phases (src/forecast/phases.ts: scale, windows, train,
 *              forecast, baselines, metrics), each without the phases inside it
 *   output     the forecasts written as CSV (src/forecast/output.ts)
 *   other      the rest of the wall time (combining members, intervals, bookkeeping)
 *
 * and, beside the phases, the time the host spent inside the backend's calls (the union of the
 * intervals during which a backend or training-engine call was pending: encoding, uploads, the GPU
 * work waited on, readbacks): the share of the wall time the job was bound by the device.
 *
 * Every job starts with no baseline fit remembered from an earlier one. With a pool
 * (bench/baseline-pool.ts) the forecaster's baselines are fitted on its threads, batch by batch.
 */

/** The job's phases: the forecaster's and the bench's own (parse, output). */
export const JOB_PHASES = ['parse', 'scale', 'windows', 'train', 'forecast', 'baselines', 'metrics', 'output'] as const;
export type JobPhase = (typeof JOB_PHASES)[number];

/** What a job runs: a backtest then fit and forecast, or fit and forecast only. */
export type JobSteps = 'backtest+fit+forecast' | 'fit+forecast';

/** One dataset of a job: its series and the forecaster's horizon and season for them. */
export interface JobDataset {
  name: string;
  horizon: number;
  season: number;
  series: Series[];
}

export interface ForecastJob {
  name: string;
  /**
   * Makes the job's input (untimed: a synthetic job writes its CSV text) and returns its reader,
   * timed as `parse`; each dataset it reads is fitted with its own forecasters.
   */
  input: () => () => JobDataset[];
  steps: JobSteps;
  /** Forecaster options other than the backend, horizon and season (default: the forecaster's defaults). */
  options?: Partial<Omit<ForecasterOptions, 'backend' | 'horizon' | 'season'>>;
  /** Fit options (epochs, patience); default the forecaster's. */
  fit?: ForecastFitOptions;
}

/** One dataset's part of a job record. */
export interface JobDatasetRecord {
  name: string;
  series: number;
  points: number;
  horizon: number;
  season: number;
  seconds: number;
  /** Epochs the networks trained in the backtest and in the final fit (early stopping's choice). */
  epochs: { backtest: number | null; fit: number };
  /** The backtest's means: the model's and each baseline's MASE, and OWA against Naive2; null without a backtest. */
  accuracy: { mase: number | null; owa: number | null; baselines: Record<string, number | null> } | null;
}

export interface ForecastJobRecord {
  job: string;
  steps: JobSteps;
  status: 'ok' | 'failed';
  message: string | null;
  series: number;
  points: number;
  /** The options given beside the forecaster's defaults, and the fit options. */
  options: Record<string, unknown>;
  /** Wall seconds of the whole job (parse to output). */
  seconds: number;
  /** Seconds per phase, each without the phases inside it; `other` is the rest of the wall time. */
  phases: Record<JobPhase | 'other', number>;
  /** Seconds during which a backend call was pending, and their share of the wall time. */
  backendSeconds: number;
  backendShare: number;
  /** The process's CPU seconds (user + system, all threads) over the job. */
  cpuSeconds: number;
  /** Threads the baselines were fitted on (1: the main thread). */
  baselineThreads: number;
  datasets: JobDatasetRecord[];
}

/**
 * A phase clock that keeps each phase's own time: entering a phase pauses the one it is inside,
 * leaving it resumes that one.
 */
export class PhaseTimer implements PhaseClock {
  readonly seconds: Record<JobPhase, number> = Object.fromEntries(JOB_PHASES.map((p) => [p, 0])) as Record<JobPhase, number>;
  private readonly open: { phase: JobPhase; since: number }[] = [];

  enter(phase: ForecastPhase | JobPhase): void {
    const now = performance.now();
    const top = this.open.at(-1);
    if (top) this.seconds[top.phase] += (now - top.since) / 1000;
    this.open.push({ phase, since: now });
  }

  exit(phase: ForecastPhase | JobPhase): void {
    const now = performance.now();
    const top = this.open.pop();
    if (!top || top.phase !== phase) throw new Error(`phase ${phase} ended while ${top?.phase ?? 'none'} was open`);
    this.seconds[phase] += (now - top.since) / 1000;
    const parent = this.open.at(-1);
    if (parent) parent.since = now;
  }

  /** `step` as `phase`. */
  async time<T>(phase: JobPhase, step: () => T | Promise<T>): Promise<T> {
    this.enter(phase);
    try {
      return await step();
    } finally {
      this.exit(phase);
    }
  }
}

/**
 * `backend` with every call measured: the union of the intervals during which at least one of its
 * calls (or of the training engines it creates) was pending, in seconds so far.
 */
export function meteredBackend(backend: Backend): { backend: Backend; seconds: () => number } {
  let pending = 0;
  let since = 0;
  let total = 0;
  const begin = () => {
    if (pending++ === 0) since = performance.now();
  };
  const end = () => {
    if (--pending === 0) total += performance.now() - since;
  };
  const meter = <T extends object>(target: T, wrapResult: (name: PropertyKey, value: unknown) => unknown = (_, v) => v): T =>
    new Proxy(target, {
      get(t, name) {
        const v = Reflect.get(t, name, t);
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          const result = v.apply(t, args);
          if (!(result instanceof Promise)) return result;
          begin();
          return result.then(
            (value) => (end(), wrapResult(name, value)),
            (e) => {
              end();
              throw e;
            },
          );
        };
      },
    });
  const metered = meter(backend, (name, value) => (name === 'createTrainEngine' ? meter(value as object) : value));
  return { backend: metered, seconds: () => (total + (pending > 0 ? performance.now() - since : 0)) / 1000 };
}

/** Runs the job on `backend`; a failure is recorded with what was measured until then. */
export async function runForecastJob(
  job: ForecastJob,
  backend: Backend,
  log: (line: string) => void = () => {},
  pool: BaselinePool | null = null,
): Promise<ForecastJobRecord> {
  const timer = new PhaseTimer();
  const metered = meteredBackend(backend);
  const record: ForecastJobRecord = {
    job: job.name,
    steps: job.steps,
    status: 'ok',
    message: null,
    series: 0,
    points: 0,
    options: { ...job.options, ...(job.fit ? { fit: job.fit } : {}) },
    seconds: 0,
    phases: { ...timer.seconds, other: 0 },
    backendSeconds: 0,
    backendShare: 0,
    cpuSeconds: 0,
    baselineThreads: pool?.threads ?? 1,
    datasets: [],
  };
  const read = job.input();
  forgetBaselineFits();
  const previousFitter = setBaselineFitter(pool?.fitter ?? null);
  const previous = setPhaseClock(timer);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    const datasets = await timer.time('parse', read);
    for (const d of datasets) {
      const d0 = performance.now();
      const series = d.series;
      const options: ForecasterOptions = { ...job.options, backend: metered.backend, horizon: d.horizon, season: d.season };
      const points = series.reduce((n, s) => n + s.y.length, 0);
      log(`${job.name}: ${d.name}, ${series.length.toLocaleString('en-US')} series of ${points.toLocaleString('en-US')} points…`);
      let backtestEpochs: number | null = null;
      let accuracy: JobDatasetRecord['accuracy'] = null;
      if (job.steps === 'backtest+fit+forecast') {
        let epochs = 0;
        const report = await Forecaster.create(options).backtest(series, { ...job.fit, onEpoch: () => void epochs++ });
        backtestEpochs = epochs;
        accuracy = {
          mase: report.model.mase,
          owa: report.owa,
          baselines: Object.fromEntries(Object.entries(report.baselines).map(([k, m]) => [k, m.mase])),
        };
      }
      let fitEpochs = 0;
      const final = Forecaster.create(options);
      await final.fit(series, { ...job.fit, onEpoch: () => void fitEpochs++ });
      const forecasts = await final.predict(series);
      await timer.time('output', () => forecastsCsv(series, forecasts));
      record.series += series.length;
      record.points += points;
      const seconds = (performance.now() - d0) / 1000;
      record.datasets.push({
        name: d.name,
        series: series.length,
        points,
        horizon: d.horizon,
        season: d.season,
        seconds,
        epochs: { backtest: backtestEpochs, fit: fitEpochs },
        accuracy,
      });
      log(
        `${job.name}: ${d.name} done in ${seconds.toFixed(1)} s${accuracy ? ` (MASE ${accuracy.mase?.toFixed(3)}, OWA ${accuracy.owa?.toFixed(3)})` : ''}`,
      );
    }
  } catch (e) {
    record.status = 'failed';
    record.message = (e as Error).message;
    log(`${job.name}: FAILED ${record.message}`);
  } finally {
    setPhaseClock(previous);
    setBaselineFitter(previousFitter);
    record.seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    record.cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const own = JOB_PHASES.reduce((a, p) => a + timer.seconds[p], 0);
    record.phases = { ...timer.seconds, other: Math.max(0, record.seconds - own) };
    record.backendSeconds = metered.seconds();
    record.backendShare = record.seconds > 0 ? record.backendSeconds / record.seconds : 0;
  }
  return record;
}

/** Values with 7 significant digits, as a CSV file would hold them. */
const cell = (v: number) => String(Number(v.toPrecision(7)));

/** Dated series of one frequency (shared stamps) as a wide CSV: `ds` and one column per series. */
export function wideCsv(series: readonly DatedSeries[]): string {
  const dates = series[0]!.dates;
  const lines = [['ds', ...series.map((s) => s.id)].join(',')];
  for (let t = 0; t < dates.length; t++) lines.push([dates[t], ...series.map((s) => cell(s.values[t]!))].join(','));
  return `${lines.join('\n')}\n`;
}

/**
 * The app's generator's series (src/data/datasets.ts syntheticSeries, season 12, seed 1) as a job's
 * input: written as one wide CSV file, read back with parseWide (the parse phase times what reading
 * such a file costs).
 */
export function syntheticInput(count: number, length: number, horizon: number, season = 12): ForecastJob['input'] {
  return () => {
    const text = wideCsv(syntheticSeries({ count, length, season, seed: 1 }));
    return () => [{ name: `synthetic ${count.toLocaleString('en-US')} × ${length}`, horizon, season, series: parseWide(text) }];
  };
}

/**
 * The accuracy benchmark's real datasets (bench/accuracy/data.ts: the raw files, bundled as text,
 * parsed by the read), `only` those named (default all), each forecast at its M4 horizon and season.
 */
export function accuracyInput(only?: readonly string[]): ForecastJob['input'] {
  return () => () =>
    accuracyDatasets()
      .filter((d) => !only || only.includes(d.name))
      .map((d) => ({ name: d.name, horizon: d.horizon, season: d.season, series: d.series }));
}

/** Jobs as table rows: a header, then seconds per phase, the backend's time and share, CPU seconds, baseline threads. */
export function forecastRows(records: readonly ForecastJobRecord[]): string[][] {
  const header = ['job', 'series', 'steps', 'seconds', ...JOB_PHASES, 'other', 'backend', 'share', 'CPU s', 'threads', 'status'];
  return [
    header,
    ...records.map((r) => [
      r.job,
      r.series.toLocaleString('en-US'),
      r.steps,
      r.seconds.toFixed(1),
      ...[...JOB_PHASES, 'other' as const].map((p) => r.phases[p].toFixed(r.phases[p] < 10 ? 2 : 1)),
      r.backendSeconds.toFixed(1),
      `${(100 * r.backendShare).toFixed(0)} %`,
      r.cpuSeconds.toFixed(0),
      String(r.baselineThreads),
      r.status === 'ok' ? 'ok' : `failed: ${r.message}`,
    ]),
  ];
}
