// `npm run bench:accuracy [-- flags]`: forecast accuracy on real series that ship inside npm packages
// (bench/accuracy/data.ts), webrnn's defaults beside the statistical baselines people compare with:
// seasonal naive, Naive2, automatic ETS and Theta. Metrics as the M4 competition defines them:
// sMAPE (0–200), MASE (scaled by the in-sample seasonal naive error), OWA against Naive2, and for the
// intervals coverage and MSIS (95 %).
//
// Splits. Each series' last horizon (M4's for its frequency) is the test split. Nothing is ever chosen
// on it: every default of the forecaster (recipe, hyperparameters) was chosen with `--split
// validation`, which drops the test split and scores the horizon before it instead. The forecaster
// holds out a further horizon inside what it is given, for its own early stopping and intervals.
//
//   --split test|validation      which window to score (default test)
//   --backend webgpu|cpu         the forecaster's backend (default webgpu; cpu: the float64 reference)
//   --only monthly,daily         frequencies or dataset names to run (default all)
//   --set key=value              a forecaster option other than its default (repeatable; JSON values),
//                                e.g. --set ensemble=1 --set combine=[] --set strategy='"recursive"'
//   --json bench/out/accuracy.json
//   --merge a.json,b.json        print and write the tables of earlier runs together (e.g. frequencies
//                                run in two processes at once), running nothing
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import type { Backend } from '../src/backends/backend.ts';
import { cpuBackend } from '../src/backends/cpu.ts';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { BASELINES, BASELINE_LABELS, baselineForecast, type BaselineName } from '../src/forecast/baselines/index.ts';
import { Forecaster, type BacktestReport, type ForecasterOptions } from '../src/forecast/forecaster.ts';
import { firstPoints, type Series } from '../src/forecast/frame.ts';
import type { Metrics } from '../src/forecast/metrics.ts';
import { accuracyDatasets, type AccuracyDataset } from './accuracy/data.ts';

const { values: args } = parseArgs({
  options: {
    split: { type: 'string', default: 'test' },
    backend: { type: 'string', default: 'webgpu' },
    only: { type: 'string' },
    set: { type: 'string', multiple: true, default: [] },
    json: { type: 'string', default: 'bench/out/accuracy.json' },
    merge: { type: 'string' },
  },
});

function fail(message: string): never {
  console.error(`bench:accuracy: ${message}`);
  process.exit(2);
}
if (args.split !== 'test' && args.split !== 'validation') fail(`--split must be test or validation, got ${args.split}`);
if (args.backend !== 'webgpu' && args.backend !== 'cpu') fail(`--backend must be webgpu or cpu, got ${args.backend}`);
const overrides: Record<string, unknown> = {};
for (const kv of args.set) {
  const at = kv.indexOf('=');
  if (at < 1) fail(`--set takes key=value, got ${kv}`);
  try {
    overrides[kv.slice(0, at)] = JSON.parse(kv.slice(at + 1));
  } catch {
    fail(`--set ${kv}: the value is not JSON`);
  }
}

/** The series as the split sees them: all of each (test), or all but the test horizon (validation). */
function splitSeries(d: AccuracyDataset): Series[] {
  if (args.split === 'test') return d.series;
  return d.series.map((s) => firstPoints(s, s.y.length - d.horizon));
}

/** One method's scores on one series. */
interface Score {
  smape: number;
  mase: number | null;
}
const pick = (m: Metrics): Score => ({ smape: m.smape, mase: m.mase });

interface DatasetResult {
  name: string;
  frequency: string;
  horizon: number;
  season: number;
  series: number;
  /** Seconds: the forecaster's backtest (held-out fit, calibration, refit, forecast, and the baselines it combines), and each baseline's fit + forecast of every series. */
  seconds: Record<string, number>;
  rows: {
    id: string;
    method: string;
    note: string | null;
    scores: Record<string, Score>;
    coverage: Record<number, number>;
    msis: number | null;
  }[];
}

const METHODS = ['webrnn', 'network', ...BASELINES] as const;
type Method = (typeof METHODS)[number];
const LABEL: Record<Method, string> = { webrnn: 'webrnn (default)', network: 'network alone', ...BASELINE_LABELS };

async function runDataset(d: AccuracyDataset, backend: Backend): Promise<DatasetResult> {
  const series = splitSeries(d);
  const options: ForecasterOptions = { backend, horizon: d.horizon, season: d.season, ...(overrides as Partial<ForecasterOptions>) };
  const t0 = performance.now();
  const report: BacktestReport = await Forecaster.create(options).backtest(series);
  const seconds: Record<string, number> = { webrnn: (performance.now() - t0) / 1000 };
  // Each baseline timed on its own: fit on every series' history and forecast the horizon.
  for (const name of ['naive2', 'ets', 'theta'] as BaselineName[]) {
    const t = performance.now();
    for (const s of series) {
      try {
        baselineForecast(name, s.y.subarray(0, s.y.length - d.horizon), d.horizon, d.season, [80, 95]);
      } catch {
        // The backtest's table shows what stood in; the time still counts the attempt.
      }
    }
    seconds[name] = (performance.now() - t) / 1000;
  }
  return {
    name: d.name,
    frequency: d.frequency,
    horizon: d.horizon,
    season: d.season,
    series: series.length,
    seconds,
    rows: report.rows.map((r) => ({
      id: r.id,
      method: r.method,
      note: r.note,
      scores: {
        webrnn: pick(r.metrics),
        ...(r.network ? { network: pick(r.network.metrics) } : {}),
        ...Object.fromEntries(BASELINES.map((b) => [b, pick(r.baselines[b].metrics)])),
      },
      coverage: r.coverage,
      msis: r.msis,
    })),
  };
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b / xs.length, 0) : NaN);

/** The table of one group of rows: per method sMAPE, MASE, OWA, share better than seasonal naive; then intervals. */
function summary(rows: DatasetResult['rows']) {
  const of = (m: Method) => rows.filter((r) => r.scores[m]);
  const smape = (m: Method) => mean(of(m).map((r) => r.scores[m]!.smape));
  const mase = (m: Method) => mean(of(m).flatMap((r) => (r.scores[m]!.mase === null ? [] : [r.scores[m]!.mase!])));
  const methods = METHODS.filter((m) => of(m).length > 0);
  const table = methods.map((m) => {
    const owa = (smape(m) / smape('naive2') + mase(m) / mase('naive2')) / 2;
    const comparable = of(m).filter((r) => r.scores[m]!.mase !== null && r.scores.snaive!.mase !== null);
    const better = comparable.filter((r) => r.scores[m]!.mase! < r.scores.snaive!.mase!).length;
    return {
      method: m,
      series: of(m).length,
      smape: smape(m),
      mase: mase(m),
      owa,
      betterThanSnaive: comparable.length ? better / comparable.length : NaN,
    };
  });
  const coverage = Object.fromEntries(
    [80, 95].map((l) => [l, mean(rows.flatMap((r) => (r.coverage[l] === undefined ? [] : [r.coverage[l]!])))]),
  );
  const msis = mean(rows.flatMap((r) => (r.msis === null ? [] : [r.msis])));
  return { table, coverage, msis };
}

function print(title: string, rows: DatasetResult['rows'], seconds: Record<string, number>) {
  const s = summary(rows);
  console.log(`\n${title} (${rows.length} series)`);
  const head = ['method', 'sMAPE', 'MASE', 'OWA', 'better than snaive', 'seconds'];
  const body = s.table.map((t) => [
    LABEL[t.method],
    t.smape.toFixed(2),
    t.mase.toFixed(3),
    t.owa.toFixed(3),
    `${(100 * t.betterThanSnaive).toFixed(0)} %`,
    seconds[t.method] === undefined ? '' : seconds[t.method]!.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  for (const r of [head, ...body]) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  console.log(
    `intervals: 80 % cover ${(100 * s.coverage[80]!).toFixed(1)} %, 95 % cover ${(100 * s.coverage[95]!).toFixed(1)} %, MSIS (95 %) ${s.msis.toFixed(2)}`,
  );
  return s;
}

/** Runs the datasets `--only` names, or reads the results of earlier runs (`--merge`). */
async function collect(): Promise<{ adapter: string; results: DatasetResult[] }> {
  if (args.merge) {
    const runs = args.merge
      .split(',')
      .map(
        (f) => JSON.parse(readFileSync(f.trim(), 'utf8')) as { split: string; adapter: string; options: unknown; results: DatasetResult[] },
      );
    if (runs.some((r) => r.split !== args.split || JSON.stringify(r.options) !== JSON.stringify(overrides)))
      fail("--merge: the runs differ in split or options from this command's");
    console.log(
      `webrnn accuracy benchmark: split ${args.split}, merged from ${args.merge} (${runs[0]!.adapter}), options ${JSON.stringify(overrides)}`,
    );
    return { adapter: runs[0]!.adapter, results: runs.flatMap((r) => r.results) };
  }
  const datasets = accuracyDatasets().filter((d) => !args.only || args.only.split(',').some((o) => o === d.frequency || o === d.name));
  if (datasets.length === 0) fail(`--only ${args.only} matches no dataset`);
  const backend: Backend = args.backend === 'cpu' ? cpuBackend : await WebGPUBackend.create();
  const adapter = backend instanceof WebGPUBackend ? await adapterName(backend) : 'float64 CPU reference';
  console.log(`webrnn accuracy benchmark: split ${args.split}, backend ${args.backend} (${adapter}), options ${JSON.stringify(overrides)}`);
  const results: DatasetResult[] = [];
  try {
    for (const d of datasets) {
      const r = await runDataset(d, backend);
      results.push(r);
      console.log(
        `${d.name}: ${r.series} ${d.frequency} series, h=${d.horizon}: webrnn backtest (fit, forecast, the baselines it combines and scores) ${r.seconds.webrnn!.toFixed(1)} s; fit + forecast of Naive2 ${r.seconds.naive2!.toFixed(2)} s, ETS ${r.seconds.ets!.toFixed(2)} s, Theta ${r.seconds.theta!.toFixed(2)} s`,
      );
    }
  } finally {
    backend.dispose();
  }
  return { adapter, results };
}

const { adapter, results } = await collect();
const sum = (rs: DatasetResult[]) =>
  Object.fromEntries(Object.keys(rs[0]!.seconds).map((k) => [k, rs.reduce((a, r) => a + r.seconds[k]!, 0)]));
const frequencies = [...new Set(results.map((r) => r.frequency))];
const summaries: Record<string, ReturnType<typeof summary>> = {};
for (const f of frequencies) {
  const rs = results.filter((r) => r.frequency === f);
  summaries[f] = print(
    `${f} (h=${rs[0]!.horizon}, season ${rs[0]!.season})`,
    rs.flatMap((r) => r.rows),
    sum(rs),
  );
}
summaries.overall = print(
  'overall',
  results.flatMap((r) => r.rows),
  sum(results),
);
const notes = results.flatMap((r) => r.rows.flatMap((row) => (row.note ? [row.note] : [])));
if (notes.length) console.log(`\nnotes:\n${notes.map((n) => `  ${n}`).join('\n')}`);
mkdirSync(dirname(args.json), { recursive: true });
writeFileSync(
  args.json,
  JSON.stringify(
    {
      split: args.split,
      backend: args.backend,
      adapter,
      options: overrides,
      machine: { platform: platform(), arch: arch(), cpu: cpus()[0]?.model, cores: cpus().length },
      date: new Date().toISOString(),
      summaries,
      results,
    },
    null,
    1,
  ),
);
console.log(`\nwrote ${args.json}`);

async function adapterName(b: WebGPUBackend): Promise<string> {
  const info = (b as unknown as { gpu?: { adapter?: GPUAdapter } }).gpu?.adapter?.info;
  return info
    ? [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unknown adapter'
    : 'unknown adapter';
}
