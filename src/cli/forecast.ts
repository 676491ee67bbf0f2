import type { Backend } from '../backends/backend.ts';
import { cpuBackend } from '../backends/cpu.ts';
import { WebGPUBackend } from '../backends/webgpu.ts';
import { co2Monthly } from '../data/datasets.ts';
import { ConfigError, DataError, ModelError } from '../errors.ts';
import { BASELINE_LABELS, BASELINES, type BaselineName, type Interval } from '../forecast/baselines/index.ts';
import { useBaselinePool } from '../forecast/baselines/node-pool.ts';
import { Forecaster, type BacktestReport, type Forecast, type ForecastFitOptions, type ForecasterOptions } from '../forecast/forecaster.ts';
import { forecastsCsv } from '../forecast/output.ts';
import { parseLong, parseWide, readTable, type Series } from '../forecast/frame.ts';
import { nonFiniteMetric, type Metrics } from '../forecast/metrics.ts';
import { stampFormat } from '../forecast/timestamps.ts';
import type { Transform, WindowScaling } from '../forecast/windows.ts';
import type { CellType } from '../rnn/spec.ts';
import { integer, namesOf, oneOf, percentLevels, positiveInt, positiveNumber, UsageError } from './args.ts';
import { COMMANDS, DEFAULT_EPOCHS, FORECAST_OPTIONS, forecastUsage, type ForecastCommand, type ForecastFlag } from './forecast-options.ts';
import { parseOptions } from './options.ts';
import { checkOutput, readInput, writeOutput } from './files.ts';
import type { CliIO } from './io.ts';
import { TrainingProgress } from './progress.ts';

/**
 * `webrnn forecast | fit | predict | backtest`: the forecaster (src/forecast/forecaster.ts) headless.
 *
 *   forecast [FILE]   backtest on the last --horizon points, then forecast with the backtest's
 *                     networks, weighed and calibrated on the last --horizon points (no second training)
 *   fit FILE          fit and save the models (--model PATH)
 *   predict FILE      forecast with saved models (--model PATH)
 *   backtest [FILE]   only the backtest (--folds for rolling origins)
 *
 * FILE is a CSV in long format (columns unique_id, ds, y; other names with --id/--ds/--y) or wide
 * format (a date column then one column per series), detected from the header; without FILE, the
 * monthly CO2 series of vega-datasets.
 *
 * Order of work, so that nothing is lost to a mistake found late: the flags are read and checked
 * (UsageError, exit 2), the output paths checked (FileError), the inputs read and parsed, and only
 * then a backend made and a model trained.
 */

type Values = ReturnType<typeof parseOptions<typeof FORECAST_OPTIONS>>['values'];

const CELLS = ['rnn', 'gru', 'lstm'] as const satisfies readonly CellType[];
const STRATEGIES = ['recursive', 'direct'] as const;
const SCALINGS = ['window', 'standard', 'minmax', 'robust', 'none'] as const satisfies readonly WindowScaling[];
const TRANSFORMS = ['none', 'log'] as const satisfies readonly Transform[];

/** The flags and FILE of `args`, checked against what `command` takes; {@link UsageError} when they do not fit. */
export function parseCommand(command: ForecastCommand, args: string[]): { values: Values; file: string | undefined } {
  const { values, positionals } = parseOptions(args, FORECAST_OPTIONS);
  if (values.help) return { values, file: undefined };
  const extra = (Object.keys(values) as ForecastFlag[]).find((f) => !COMMANDS[command].flags.includes(f));
  if (extra) throw new UsageError(`${command} does not take --${extra}`);
  if (positionals.length > 1) throw new UsageError(`one FILE at most, got ${positionals.length}: ${positionals.join(' ')}`);
  const file = positionals[0];
  if ((command === 'fit' || command === 'predict') && !file) throw new UsageError(`${command} needs a FILE`);
  // What the help marks (required), from the same list.
  const { required } = COMMANDS[command];
  if (required.includes('model') && !values.model) throw new UsageError(`${command} needs --model PATH`);
  if (required.includes('horizon') && values.horizon === undefined) throw new UsageError('--horizon N is required');
  return { values, file };
}

/** Everything a training command reads from its flags, checked. */
interface Training {
  options: Omit<ForecasterOptions, 'backend'>;
  /** Most epochs (`--epochs`; undefined: the forecaster's default); early stopping usually ends sooner. */
  epochs: number | undefined;
  folds: number;
}

/**
 * `o` without its undefined members: an option the person did not give is left out, so the
 * forecaster applies its own default (and a saved forecaster records that default, not `undefined`).
 */
function given<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function trainingFlags(values: Values): Training {
  const count = (flag: ForecastFlag & keyof Values) => {
    const v = values[flag];
    return typeof v === 'string' ? positiveInt(flag, v) : undefined;
  };
  const training = given({
    batchSize: count('batch'),
    optimizer: values.lr === undefined ? undefined : ({ kind: 'adam', lr: positiveNumber('lr', values.lr) } as const),
  });
  return {
    options: given({
      horizon: positiveInt('horizon', values.horizon!),
      season: count('season'),
      inputSize: count('input-size'),
      cell: values.cell === undefined ? undefined : oneOf('cell', values.cell, CELLS),
      hiddenSize: count('hidden'),
      numLayers: count('layers'),
      strategy: values.strategy === undefined ? undefined : oneOf('strategy', values.strategy, STRATEGIES),
      scaling: values.scaling === undefined ? undefined : oneOf('scaling', values.scaling, SCALINGS),
      transform: values.transform === undefined ? undefined : oneOf('transform', values.transform, TRANSFORMS),
      calendar: values['no-calendar'] ? false : undefined,
      perSeries: values['per-series'],
      ensemble: count('ensemble'),
      combine: values.combine === undefined ? undefined : namesOf('combine', values.combine, BASELINES),
      levels: values.levels === undefined ? undefined : percentLevels('levels', values.levels),
      seed: values.seed === undefined ? undefined : integer('seed', values.seed),
      training: Object.keys(training).length ? training : undefined,
    }),
    epochs: count('epochs'),
    folds: count('folds') ?? 1,
  };
}

/** `--ds-format FMT`, checked as a pattern before any file is read (whether it fits the file is the reader's to say). */
function checkDsFormat(text: string): void {
  try {
    stampFormat(text);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`--ds-format: ${e.message}`);
    throw e;
  }
}

/** Series from a CSV file (long format when its header has the id, ds and y columns, else wide), or CO2. */
export function loadSeries(file: string | undefined, values: Pick<Values, 'id' | 'ds' | 'y' | 'ds-format'>): Series[] {
  if (!file) {
    const co2 = co2Monthly();
    return [{ id: 'co2', ds: co2.dates, y: Float64Array.from(co2.values), exog: {} }];
  }
  const text = readInput(file).toString('utf8');
  const dsFormat = values['ds-format'];
  try {
    const columns = { id: values.id ?? 'unique_id', ds: values.ds ?? 'ds', y: values.y ?? 'y' };
    const { header } = readTable(text.split(/\r?\n/, 1)[0] ?? '');
    const long = [columns.id, columns.ds, columns.y].every((c) => header.includes(c));
    return long ? parseLong(text, { ...columns, dsFormat }) : parseWide(text, { ds: values.ds, dsFormat });
  } catch (e) {
    // The row and column are in the message already; the file name makes it a complete sentence.
    if (e instanceof DataError) throw new DataError(`${file}: ${e.message}`);
    throw e;
  }
}

/** The saved forecaster of `predict --model PATH`; a ModelError names the file. */
function loadForecaster(path: string, bytes: Uint8Array, backend: Backend): Forecaster {
  try {
    return Forecaster.fromSafetensors(bytes, backend);
  } catch (e) {
    if (e instanceof ModelError) throw new ModelError(`--model ${path}: ${e.message}`, { cause: e });
    throw e;
  }
}

const LABEL_WIDTH = 16;

function formatMetrics(name: string, m: Metrics): string {
  return `${name.padEnd(LABEL_WIDTH)} MAE ${m.mae.toPrecision(4).padStart(10)}  RMSE ${m.rmse.toPrecision(4).padStart(10)}  sMAPE ${m.smape.toFixed(2).padStart(7)}%  MASE ${(m.mase === null ? 'n/a' : m.mase.toFixed(3)).padStart(7)}`;
}

/** A share (0–1) as a percentage, `78.5%`. */
const percent = (share: number) => `${(100 * share).toFixed(1)}%`;

/**
 * The backtest as the terminal shows it: the model's metrics, one line per baseline, OWA against
 * Naive2 (the M4 competition's score: below 1 beats Naive2), and the prediction intervals'
 * coverage per level with MSIS (the M4 interval score at 95 %, lower is better).
 */
export function backtestLines(r: ReturnType<typeof backtestJson>, horizon: number): string[] {
  const folds = new Set(r.series.map((s) => s.fold)).size;
  const ids = new Set(r.series.map((s) => s.id)).size;
  const methods = new Map<string, number>();
  for (const row of r.series) methods.set(row.method, (methods.get(row.method) ?? 0) + 1);
  const coverage = Object.entries(r.overall.coverage)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([level, share]) => `${level}%: ${percent(share)} inside`);
  return [
    `backtest over the last ${horizon} points (${ids} series × ${folds} fold${folds === 1 ? '' : 's'}):`,
    formatMetrics('model', r.overall.model),
    ...BASELINES.map((b) => formatMetrics(BASELINE_LABELS[b], r.overall.baselines[b])),
    `${'OWA vs Naive2'.padEnd(LABEL_WIDTH)} ${r.overall.owa === null ? 'n/a' : r.overall.owa.toFixed(3)}`,
    `${'intervals'.padEnd(LABEL_WIDTH)} ${coverage.length ? coverage.join(', ') : 'none'}; MSIS ${r.overall.msis === null ? 'n/a' : r.overall.msis.toFixed(3)}`,
    `${'method'.padEnd(LABEL_WIDTH)} ${[...methods].map(([m, n]) => (methods.size === 1 ? m : `${m} (${n})`)).join(', ')}`,
  ];
}

// A safety net under the forecaster's own checks: the files refuse a value that is not finite, since
// JSON would turn it into `null` and a CSV into `Infinity`, both of which read as an answer.

function assertFinite(what: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new DataError(`${what} holds ${values[i]} at step ${i + 1}; nothing was written`);
  }
}

/** A score that may be null (undefined where it divides by 0) but never a non-finite number. */
function assertFiniteScore(what: string, v: number | null): void {
  if (v !== null && !Number.isFinite(v)) throw new DataError(`${what} is ${v}; nothing was written`);
}

/** MASE alone may be null: it is undefined when the seasonal naive error it divides by is 0. */
function assertFiniteMetrics(what: string, m: Metrics): void {
  const bad = nonFiniteMetric(m);
  if (bad) throw new DataError(`${what}: ${bad[0].toUpperCase()} is ${bad[1]}; nothing was written`);
}

function assertFiniteIntervals(what: string, intervals: readonly Interval[]): void {
  for (const { level, lo, hi } of intervals) {
    assertFinite(`${what}'s ${level}% interval's lower bound`, lo);
    assertFinite(`${what}'s ${level}% interval's upper bound`, hi);
  }
}

function assertFiniteCoverage(what: string, coverage: Record<number, number>): void {
  for (const [level, share] of Object.entries(coverage)) assertFiniteScore(`${what}: the ${level}% coverage`, share);
}

/** The forecasts CSV of `--out` (src/forecast/output.ts); a {@link DataError} naming the series if a value is not finite. */
export function checkedForecastsCsv(series: readonly Series[], forecasts: readonly Forecast[]): string {
  for (const f of forecasts) {
    assertFinite(`the forecast of series ${f.id}`, f.values);
    assertFiniteIntervals(`the forecast of series ${f.id}`, f.intervals);
  }
  return forecastsCsv(series, forecasts);
}

const intervalsJson = (intervals: readonly Interval[]) =>
  intervals.map(({ level, lo, hi }) => ({ level, lo: Array.from(lo), hi: Array.from(hi) }));

/**
 * The backtest as `--metrics` writes it (JSON): overall and per series and fold, the model's
 * metrics and each baseline's (by the names of src/forecast/baselines: snaive, naive2, ets,
 * theta), OWA, the intervals' coverage per level (share of points inside, keyed by the level in
 * percent) and MSIS, and the notes of series that fell back to a baseline. A {@link DataError}
 * naming the series if a value is not finite.
 */
export function backtestJson(r: BacktestReport) {
  assertFiniteMetrics('the overall metrics', r.model);
  for (const b of BASELINES) assertFiniteMetrics(`the overall ${BASELINE_LABELS[b]} metrics`, r.baselines[b]);
  assertFiniteScore('the overall OWA', r.owa);
  assertFiniteScore('the overall MSIS', r.msis);
  assertFiniteCoverage('overall', r.coverage);
  for (const row of r.rows) {
    const name = `series ${row.id}, fold ${row.fold}:`;
    assertFinite(`${name} the actual values`, row.actual);
    assertFinite(`${name} the forecast`, row.forecast);
    assertFiniteIntervals(`${name} the forecast`, row.intervals);
    assertFiniteMetrics(`${name} the metrics`, row.metrics);
    for (const b of BASELINES) {
      assertFinite(`${name} the ${BASELINE_LABELS[b]} forecast`, row.baselines[b].forecast);
      assertFiniteMetrics(`${name} the ${BASELINE_LABELS[b]} metrics`, row.baselines[b].metrics);
    }
    if (row.network) {
      assertFinite(`${name} the networks' own forecast`, row.network.forecast);
      assertFiniteMetrics(`${name} the networks' own metrics`, row.network.metrics);
    }
    assertFiniteCoverage(name, row.coverage);
    assertFiniteScore(`${name} the MSIS`, row.msis);
  }
  const baselines = <T>(f: (b: BaselineName) => T) => Object.fromEntries(BASELINES.map((b) => [b, f(b)])) as Record<BaselineName, T>;
  return {
    overall: { model: r.model, baselines: baselines((b) => r.baselines[b]), owa: r.owa, coverage: r.coverage, msis: r.msis },
    notes: r.notes,
    series: r.rows.map((row) => ({
      id: row.id,
      fold: row.fold,
      method: row.method,
      note: row.note,
      metrics: row.metrics,
      coverage: row.coverage,
      msis: row.msis,
      actual: Array.from(row.actual),
      forecast: Array.from(row.forecast),
      intervals: intervalsJson(row.intervals),
      baselines: baselines((b) => ({ metrics: row.baselines[b].metrics, forecast: Array.from(row.baselines[b].forecast) })),
      network: row.network && { metrics: row.network.metrics, forecast: Array.from(row.network.forecast) },
    })),
  };
}

/** Why a series' forecast is a baseline's, on stderr: `webrnn: note: series x: …`. */
function printNotes(io: CliIO, notes: readonly (string | null)[]): void {
  for (const note of notes) if (note) io.err(`webrnn: note: ${note}`);
}

/** The forecasts CSV to --out, or stdout; the notes of series that fell back to a baseline on stderr. */
function writeForecasts(io: CliIO, out: string | undefined, series: readonly Series[], forecasts: Forecast[]): void {
  const csv = checkedForecastsCsv(series, forecasts);
  printNotes(
    io,
    forecasts.map((f) => f.note),
  );
  if (out) {
    writeOutput('--out', out, csv);
    io.out(`wrote ${forecasts.length} forecast(s) of ${forecasts[0]?.values.length ?? 0} points to ${out}`);
  } else {
    csv
      .trimEnd()
      .split('\n')
      .forEach((l) => io.out(l));
  }
}

/**
 * Runs one of the forecasting commands; resolves to the exit code. Bad usage throws a
 * {@link UsageError}, bad files and data a WebRNNError; main() turns either into one line.
 */
export async function forecastCommand(command: ForecastCommand, args: string[], io: CliIO): Promise<number> {
  const { values, file } = parseCommand(command, args);
  if (values.help) {
    io.out(forecastUsage(command));
    return 0;
  }
  const training = command === 'predict' ? undefined : trainingFlags(values);
  if (values['ds-format'] !== undefined) checkDsFormat(values['ds-format']);
  const outputs = { '--out': values.out, '--metrics': values.metrics, '--model': command === 'predict' ? undefined : values.model };
  for (const [flag, path] of Object.entries(outputs)) if (path !== undefined) checkOutput(flag, path);

  const modelBytes = command === 'predict' ? readInput(values.model!, `--model ${values.model}`) : undefined;
  const series = loadSeries(file, values);
  // --quiet: what is only progress (the data read, the adapter, the bars) is not printed.
  const info = values.quiet ? () => {} : io.err;
  info(
    `${series.length} series, ${series.reduce((n, s) => n + s.y.length, 0)} points${file ? '' : ' (built-in: monthly CO2, vega-datasets)'}`,
  );
  const backend: Backend = values.cpu ? cpuBackend : await WebGPUBackend.create({ log: values.quiet ? false : info });
  if (backend instanceof WebGPUBackend && backend.gpu.summary.isSoftware) {
    info('webrnn: note: this WebGPU adapter is a software one: its shaders run on the CPU, much slower than on a GPU');
  }
  // The statistical baselines on a thread per core when the job is large enough (the same fits).
  const pool = await useBaselinePool(series.length);
  try {
    if (!training) {
      const f = loadForecaster(values.model!, modelBytes!, backend);
      writeForecasts(io, values.out, series, await f.predict(series));
      return 0;
    }
    const { options, epochs, folds } = training;
    /** Runs a training (fit or backtest) with its progress shown, unless --quiet. */
    const train = async <T>(label: string, run: (fit: ForecastFitOptions) => Promise<T>): Promise<T> => {
      // Without --epochs the forecaster's default (fewer at large data); the bar reads each run's from its events.
      const asked = epochs === undefined ? {} : { epochs };
      if (values.quiet) return run(asked);
      const bar = new TrainingProgress({
        label,
        epochs: epochs ?? DEFAULT_EPOCHS,
        stream: io.stderr,
        line: io.err,
        now: io.now ?? (() => performance.now()),
      });
      try {
        return await run({
          ...asked,
          onStep: bar.onStep,
          onEpoch: bar.onEpoch,
          onBaselines: () => bar.note(`${label}: the networks have trained; fitting the statistical baselines`),
        });
      } finally {
        bar.end();
      }
    };
    if (command === 'backtest' || command === 'forecast') {
      const f = Forecaster.create({ ...options, backend });
      const report = backtestJson(await train('backtest', (fit) => f.backtest(series, fit, { folds, forecast: command === 'forecast' })));
      printNotes(io, report.notes);
      for (const line of backtestLines(report, options.horizon)) io.out(line);
      if (values.metrics) writeOutput('--metrics', values.metrics, JSON.stringify(report, null, 2));
      if (command === 'backtest') return 0;
      // The backtest's networks forecast (weighed and calibrated on its last fold): one training, not two.
      f.fitFromBacktest(series);
      writeForecasts(io, values.out, series, await f.predict(series));
      if (values.model) writeOutput('--model', values.model, f.toSafetensors());
      return 0;
    }
    const f = Forecaster.create({ ...options, backend });
    await train('fit', (fit) => f.fit(series, fit));
    if (command === 'fit') {
      writeOutput('--model', values.model!, f.toSafetensors());
      io.out(`saved ${f.models().length} model(s) to ${values.model}`);
      return 0;
    }
    // The forecasts first: a model whose forecasts are refused as non-finite is not saved either.
    writeForecasts(io, values.out, series, await f.predict(series));
    if (values.model) writeOutput('--model', values.model, f.toSafetensors());
    return 0;
  } finally {
    await pool?.close();
    backend.dispose();
  }
}
