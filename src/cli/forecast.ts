import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Backend } from '../backends/backend.ts';
import { cpuBackend } from '../backends/cpu.ts';
import { WebGPUBackend } from '../backends/webgpu.ts';
import { co2Monthly } from '../data/datasets.ts';
import { ConfigError } from '../errors.ts';
import { Forecaster, type BacktestReport, type Forecast, type ForecasterOptions } from '../forecast/forecaster.ts';
import { forecastsCsv } from '../forecast/output.ts';
import { parseLong, parseWide, readTable, type Series } from '../forecast/frame.ts';
import type { Metrics } from '../forecast/metrics.ts';
import type { EpochEvent } from '../train/trainer.ts';
import type { CliIO } from './main.ts';

/**
 * `webrnn forecast | fit | predict | backtest`: the forecaster (src/forecast/forecaster.ts) headless.
 *
 *   forecast [FILE]   backtest on the last --horizon points, then fit on everything and forecast
 *   fit FILE          fit and save the models (--model PATH)
 *   predict FILE      forecast with saved models (--model PATH)
 *   backtest [FILE]   only the backtest (--folds for rolling origins)
 *
 * FILE is a CSV in long format (columns unique_id, ds, y; other names with --id/--ds/--y) or wide
 * format (a date column then one column per series), detected from the header; without FILE, the
 * monthly CO2 series of vega-datasets.
 */
export const FORECAST_USAGE = `  forecast [FILE] --horizon N [options]
                  backtest on the last N points of each series, then fit on all of it and write the
                  next N points (FILE: CSV in long format unique_id,ds,y or wide format; default:
                  monthly CO2 from vega-datasets)
  fit FILE --horizon N --model PATH [options]    fit and save the models (safetensors)
  predict FILE --model PATH [--out PATH]         forecast with saved models
  backtest [FILE] --horizon N [--folds K] [options]
    options: --season S  --input-size L  --cell rnn|gru|lstm  --hidden H  --layers L
             --strategy recursive|direct  --scaling standard|minmax|robust|none  --per-series
             --epochs E  --lr X  --batch B  --seed S  --id COL --ds COL --y COL
             --out forecasts.csv  --metrics metrics.json  --cpu (float64 CPU instead of WebGPU)`;

const OPTIONS = {
  horizon: { type: 'string' },
  season: { type: 'string' },
  'input-size': { type: 'string' },
  cell: { type: 'string' },
  hidden: { type: 'string' },
  layers: { type: 'string' },
  strategy: { type: 'string' },
  scaling: { type: 'string' },
  'per-series': { type: 'boolean' },
  epochs: { type: 'string' },
  lr: { type: 'string' },
  batch: { type: 'string' },
  seed: { type: 'string' },
  folds: { type: 'string' },
  id: { type: 'string' },
  ds: { type: 'string' },
  y: { type: 'string' },
  out: { type: 'string' },
  metrics: { type: 'string' },
  model: { type: 'string' },
  cpu: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function int(values: Values, name: keyof Values, fallback?: number): number | undefined {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new ConfigError(`--${name} must be an integer, got ${String(v)}`);
  return n;
}

/** Series from a CSV file (long format when its header has the id, ds and y columns, else wide), or CO2. */
export function loadSeries(file: string | undefined, values: Pick<Values, 'id' | 'ds' | 'y'>): Series[] {
  if (!file) {
    const co2 = co2Monthly();
    return [{ id: 'co2', ds: co2.dates, y: Float64Array.from(co2.values), exog: {} }];
  }
  const text = readFileSync(file, 'utf8');
  const columns = { id: values.id ?? 'unique_id', ds: values.ds ?? 'ds', y: values.y ?? 'y' };
  const { header } = readTable(text.split(/\r?\n/, 1)[0] ?? '');
  const long = [columns.id, columns.ds, columns.y].every((c) => header.includes(c));
  return long ? parseLong(text, columns) : parseWide(text, { ds: values.ds });
}

function forecasterOptions(values: Values, backend: Backend): ForecasterOptions {
  const horizon = int(values, 'horizon');
  if (horizon === undefined) throw new ConfigError('--horizon N is required');
  return {
    backend,
    horizon,
    season: int(values, 'season'),
    inputSize: int(values, 'input-size'),
    cell: values.cell as ForecasterOptions['cell'],
    hiddenSize: int(values, 'hidden'),
    numLayers: int(values, 'layers'),
    strategy: values.strategy as ForecasterOptions['strategy'],
    scaling: values.scaling as ForecasterOptions['scaling'],
    perSeries: values['per-series'],
    seed: int(values, 'seed'),
    training: {
      batchSize: int(values, 'batch'),
      ...(values.lr !== undefined ? { optimizer: { kind: 'adam', lr: Number(values.lr) } } : {}),
    },
  };
}

/** One line per epoch: a bar, the loss, and the validation loss when there is one. */
function progress(io: CliIO, epochs: number, label: string): (e: EpochEvent) => void {
  return (e) => {
    const done = Math.round((20 * e.epoch) / epochs);
    io.err(`${label} [${'#'.repeat(done)}${'.'.repeat(20 - done)}] epoch ${e.epoch}/${epochs}  loss ${e.loss.toPrecision(4)}`);
  };
}

function formatMetrics(name: string, m: Metrics): string {
  return `${name.padEnd(15)} MAE ${m.mae.toPrecision(4).padStart(10)}  RMSE ${m.rmse.toPrecision(4).padStart(10)}  sMAPE ${m.smape.toFixed(2).padStart(7)}%  MASE ${m.mase.toFixed(3).padStart(7)}`;
}

function reportJson(r: BacktestReport) {
  return {
    overall: { model: r.model, seasonalNaive: r.baseline },
    series: r.rows.map((row) => ({
      id: row.id, fold: row.fold, metrics: row.metrics, seasonalNaive: row.baselineMetrics,
      actual: Array.from(row.actual), forecast: Array.from(row.forecast), baseline: Array.from(row.baseline),
    })),
  };
}

/** Runs one of the forecasting commands; resolves to the exit code. */
export async function forecastCommand(command: 'forecast' | 'fit' | 'predict' | 'backtest', args: string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    io.err(`webrnn ${command}: ${(e as Error).message}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    io.err(`webrnn ${command}: one FILE at most, got ${positionals.length}`);
    return 2;
  }
  if ((command === 'fit' || command === 'predict') && (!positionals[0] || !values.model)) {
    io.err(`webrnn ${command}: FILE and --model PATH are required`);
    return 2;
  }
  const series = loadSeries(positionals[0], values);
  io.err(`${series.length} series, ${series.reduce((n, s) => n + s.y.length, 0)} points${positionals[0] ? '' : ' (built-in: monthly CO2, vega-datasets)'}`);
  const backend: Backend = values.cpu ? cpuBackend : await WebGPUBackend.create({ log: (line) => io.err(line) });
  try {
    const epochs = int(values, 'epochs', 30)!;
    if (command === 'predict') {
      const f = Forecaster.fromSafetensors(readFileSync(values.model!), backend);
      writeForecasts(io, values.out, series, await f.predict(series));
      return 0;
    }
    const options = forecasterOptions(values, backend);
    if (command === 'backtest' || command === 'forecast') {
      const f = Forecaster.create(options);
      const report = await f.backtest(series, { epochs, onEpoch: progress(io, epochs, 'backtest') }, { folds: int(values, 'folds', 1) });
      io.out(`backtest over the last ${options.horizon} points (${report.rows.length} series × folds):`);
      io.out(formatMetrics('model', report.model));
      io.out(formatMetrics('seasonal naive', report.baseline));
      if (values.metrics) writeFileSync(values.metrics, JSON.stringify(reportJson(report), null, 2));
      if (command === 'backtest') return 0;
    }
    const f = Forecaster.create(options);
    await f.fit(series, { epochs, onEpoch: progress(io, epochs, 'fit') });
    if (command === 'fit') {
      writeFileSync(values.model!, f.toSafetensors());
      io.out(`saved ${f.models().length} model(s) to ${values.model}`);
      return 0;
    }
    if (values.model) writeFileSync(values.model, f.toSafetensors());
    writeForecasts(io, values.out, series, await f.predict(series));
    return 0;
  } finally {
    backend.dispose();
  }
}

/** The forecasts CSV (src/forecast/output.ts) to --out, or stdout. */
function writeForecasts(io: CliIO, out: string | undefined, series: readonly Series[], forecasts: Forecast[]): void {
  const csv = forecastsCsv(series, forecasts);
  if (out) {
    writeFileSync(out, csv);
    io.out(`wrote ${forecasts.length} forecast(s) of ${forecasts[0]?.values.length ?? 0} points to ${out}`);
  } else {
    csv.trimEnd().split('\n').forEach((l) => io.out(l));
  }
}
