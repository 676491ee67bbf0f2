/// <reference lib="webworker" />
import { DataError } from '../src/errors.ts';
import { BASELINES, type BaselineName, type Interval } from '../src/forecast/baselines/index.ts';
import type { Series } from '../src/forecast/frame.ts';
import { useBaselinePool } from './baseline-pool.ts';
import { chooseBackend, CPU_CHOICE, type BackendChoice } from './backend-choice.ts';
import { forecastsCsv, nextStamps } from '../src/forecast/output.ts';
import type { ErrorInfo, IntervalView, Reply, Request, RunOptions, SeriesRow } from './protocol.ts';
import { runForecast, type RunResult } from './run.ts';
import { guessMapping, loadSource } from './sources.ts';

/**
 * The forecasting app's worker: it holds the series, the backend and the results, parses files,
 * generates data and trains, and sends the page summaries, progress and one series at a time.
 */

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (reply: Reply) => scope.postMessage(reply);

let series: Series[] = [];
let result: { options: RunOptions; run: RunResult } | null = null;
let running: AbortController | null = null;
const auto: Promise<BackendChoice> = chooseBackend();

function errorInfo(e: unknown): ErrorInfo {
  if (e instanceof DataError) return { message: e.message, row: e.row, column: e.column };
  return { message: e instanceof Error ? e.message : String(e), row: null, column: null };
}

/** Each baseline's `pick` of a backtest row (its metrics, its forecast as an array…). */
function perBaseline<T>(pick: (b: BaselineName) => T): Record<BaselineName, T> {
  return Object.fromEntries(BASELINES.map((b) => [b, pick(b)])) as Record<BaselineName, T>;
}

const intervalViews = (intervals: readonly Interval[]): IntervalView[] =>
  intervals.map(({ level, lo, hi }) => ({ level, lo: Array.from(lo), hi: Array.from(hi) }));

/** The table's rows: each series with its first fold's backtest (the hold-out the chart shows), if any. */
function rows(withMetrics: RunResult['report'] | null): SeriesRow[] {
  const scores = new Map(withMetrics?.rows.filter((r) => r.fold === 0).map((r) => [r.id, r]));
  return series.map((s) => {
    const r = scores.get(s.id);
    return {
      id: s.id,
      points: s.y.length,
      first: s.ds[0] ?? '',
      last: s.ds.at(-1) ?? '',
      model: r?.metrics ?? null,
      baselines: r ? perBaseline((b) => r.baselines[b].metrics) : null,
      coverage: r?.coverage ?? null,
      method: r?.method ?? null,
      note: r?.note ?? null,
    };
  });
}

async function inspect(file: File) {
  try {
    post({ type: 'header', fileName: file.name, ...guessMapping(await file.text()) });
  } catch (e) {
    post({ type: 'load-error', error: errorInfo(e) });
  }
}

async function load(request: Extract<Request, { type: 'load' }>) {
  running?.abort();
  try {
    const loaded = await loadSource(request.source);
    series = loaded.series;
    result = null;
    post({
      type: 'loaded',
      label: loaded.label,
      rows: rows(null),
      points: series.reduce((n, s) => n + s.y.length, 0),
      season: loaded.season,
    });
  } catch (e) {
    post({ type: 'load-error', error: errorInfo(e) });
  }
}

async function run(options: RunOptions) {
  running = new AbortController();
  const t0 = performance.now();
  // The statistical baselines on a Web Worker per core when the run is large enough (the same fits).
  const pool = useBaselinePool(series.length);
  try {
    const choice = options.device === 'cpu' ? CPU_CHOICE : await auto;
    post({ type: 'backend', name: choice.name, detail: choice.detail, software: choice.software });
    const data = series;
    const outcome = await runForecast(data, options, choice.backend, {
      signal: running.signal,
      progress: (p) => post({ type: 'progress', ...p }),
      status: (text) => post({ type: 'status', text }),
      backtest: (report) => {
        result = { options, run: { report, forecasts: [] } };
        const { model, baselines, owa, coverage, msis, notes } = report;
        post({ type: 'backtest', rows: rows(report), summary: { model, baselines, owa, coverage, msis, notes }, horizon: options.horizon });
      },
    });
    if (!outcome) {
      post({ type: 'cancelled' });
      return;
    }
    result = { options, run: outcome };
    const notes = outcome.forecasts.flatMap((f) => (f.note ? [f.note] : []));
    post({ type: 'forecast', series: data.length, horizon: options.horizon, seconds: (performance.now() - t0) / 1000, notes });
  } catch (e) {
    post({ type: 'run-error', error: errorInfo(e) });
  } finally {
    running = null;
    await pool?.close();
  }
}

function view(id: string) {
  const k = series.findIndex((s) => s.id === id);
  if (k < 0) return;
  const s = series[k]!;
  const row = result?.run.report.rows.find((r) => r.id === id && r.fold === 0);
  const forecast = result?.run.forecasts[k];
  post({
    type: 'series',
    view: {
      id,
      ds: s.ds,
      y: Array.from(s.y),
      holdout: row
        ? {
            forecast: Array.from(row.forecast),
            intervals: intervalViews(row.intervals),
            baselines: perBaseline((b) => Array.from(row.baselines[b].forecast)),
          }
        : null,
      future: forecast
        ? {
            ds: nextStamps(s.ds, forecast.values.length, { dsFormat: s.dsFormat, freq: s.freq }),
            values: Array.from(forecast.values),
            intervals: intervalViews(forecast.intervals),
          }
        : null,
    },
  });
}

scope.onmessage = (e: MessageEvent<Request>) => {
  const request = e.data;
  switch (request.type) {
    case 'inspect':
      void inspect(request.file);
      break;
    case 'load':
      void load(request);
      break;
    case 'run':
      void run(request.options);
      break;
    case 'cancel':
      running?.abort();
      break;
    case 'series':
      view(request.id);
      break;
    case 'download':
      if (result?.run.forecasts.length) post({ type: 'csv', text: forecastsCsv(series, result.run.forecasts), name: 'forecasts.csv' });
      break;
  }
};

void auto.then((choice) => post({ type: 'backend', name: choice.name, detail: choice.detail, software: choice.software }));
