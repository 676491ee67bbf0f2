// `node scripts/vite-run.mjs bench/app-job.ts [--series N] [--epochs N]`: the app's whole job at its defaults, as
// its worker runs it (app/run.ts runForecast: the backtest, then the forecast), on the app's default
// dataset (app/sources.ts: 10,000 synthetic series × 96 points, season 12, seed 1) and options
// (index.html's form: horizon 6, season 12, LSTM, one layer, direct, window scaling, calendar inputs,
// combined with ETS, Theta and Naive2, intervals 80 and 95, one global model, seed 0; the rest "auto"), on
// Node's WebGPU (Dawn) with the baselines on the library's thread pool, as the CLI fits them. Prints
// each epoch's end, the backtest's and the forecast's wall and CPU time (this process and its
// threads), the load average, and the backtest's metrics beside the baselines'.
import { loadavg } from 'node:os';
import { runForecast } from '../app/run.ts';
import { loadSource } from '../app/sources.ts';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { useBaselinePool } from '../src/forecast/baselines/node-pool.ts';

const flag = (name: string) => {
  const at = process.argv.indexOf(name);
  return at < 0 ? undefined : Number(process.argv[at + 1]);
};
const count = flag('--series') ?? 10000;
// --epochs N: at most N epochs (the app's form's "epochs"; default: the forecaster's, early stopping's)
const epochs = flag('--epochs');
const { series } = await loadSource({ kind: 'synthetic', count, length: 96, season: 12, seed: 1 });
const backend = await WebGPUBackend.create();
const pool = await useBaselinePool(series.length);
const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
console.log(`${series.length} series; load average ${load()}`);
const t0 = performance.now();
const c0 = cpu();
let backtestAt = { t: t0, c: c0 };
const stamp = () => `${((performance.now() - t0) / 1000).toFixed(1)} s (CPU ${(cpu() - c0).toFixed(1)} s, load ${load()})`;
const result = await runForecast(
  series,
  {
    horizon: 6,
    season: 12,
    cell: 'lstm',
    numLayers: 1,
    strategy: 'direct',
    scaling: 'window',
    transform: 'none',
    calendar: true,
    combine: ['ets', 'theta', 'naive2'],
    levels: [80, 95],
    perSeries: false,
    seed: 0,
    device: 'auto',
    ...(epochs === undefined ? {} : { epochs }),
  },
  backend,
  {
    intervalMs: 1e9,
    signal: new AbortController().signal,
    progress: (p) => {
      if (p.stepsPerEpoch !== null && p.stepInEpoch === p.stepsPerEpoch)
        console.log(
          `  ${p.phase} epoch ${p.epoch} (${p.stepsPerEpoch} steps${p.heldOutLoss === null ? '' : `, held-out loss ${p.heldOutLoss.toFixed(5)}`}) ended at ${stamp()}`,
        );
    },
    status: (text) => console.log(`  ${text} (at ${stamp()})`),
    backtest: (r) => {
      backtestAt = { t: performance.now(), c: cpu() };
      console.log(`backtest done at ${stamp()}`);
      const m = (x: { mase: number | null; smape: number }) => `MASE ${x.mase?.toFixed(3)} sMAPE ${x.smape.toFixed(2)}`;
      console.log(`  webrnn ${m(r.model)}; OWA ${r.owa?.toFixed(3)}; coverage ${JSON.stringify(r.coverage)}`);
      const net = r.rows.filter((row) => row.network);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b / xs.length, 0);
      console.log(`  network alone MASE ${mean(net.map((row) => row.network!.metrics.mase ?? 0)).toFixed(3)}`);
      for (const [name, b] of Object.entries(r.baselines)) console.log(`  ${name} ${m(b)}`);
    },
  },
);
const t1 = performance.now();
const c1 = cpu();
console.log(
  `job: backtest ${((backtestAt.t - t0) / 1000).toFixed(1)} s (CPU ${(backtestAt.c - c0).toFixed(1)} s), forecast ${((t1 - backtestAt.t) / 1000).toFixed(1)} s (CPU ${(c1 - backtestAt.c).toFixed(1)} s), total ${((t1 - t0) / 1000).toFixed(1)} s = ${((t1 - t0) / 60000).toFixed(2)} min (CPU ${(c1 - c0).toFixed(1)} s); ${result?.forecasts.length} forecasts; load ${load()}`,
);
await pool?.close();
backend.dispose();
