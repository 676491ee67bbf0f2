// `node scripts/vite-run.mjs bench/app-scale-parts.ts [horizon]`: the app's 10,000 × 96 scale set
// (syntheticSeries, season 12, seed 1) with the forecaster's defaults, timed in parts, because the
// whole app job (bench/app-scale.ts --job) would run for about an hour on a software adapter by these
// parts: automatic
// ETS's fit and forecast per series (on 100 series) and Theta's on all, then the network alone
// (combine none) fitted for at most 3 epochs, each epoch's end stamped, and its forecast.
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { syntheticSeries, toSeries } from '../src/data/datasets.ts';
import { baselineForecast } from '../src/forecast/baselines/index.ts';
import { Forecaster } from '../src/forecast/forecaster.ts';

const series = syntheticSeries({ count: 10000, length: 96, season: 12, seed: 1 }).map(toSeries);
const H = Number(process.argv[2] ?? 12);
const t0 = performance.now();
for (const s of series.slice(0, 100)) baselineForecast('ets', s.y.subarray(0, 96 - 2 * H), H, 12);
const etsMs = (performance.now() - t0) / 100;
let t = performance.now();
for (const s of series) baselineForecast('theta', s.y.subarray(0, 96 - 2 * H), H, 12);
const thetaS = (performance.now() - t) / 1000;
console.log(
  `ETS ${etsMs.toFixed(1)} ms a series: ${((etsMs * 10000) / 60000).toFixed(1)} min for 10,000; Theta ${thetaS.toFixed(1)} s for 10,000`,
);
const backend = await WebGPUBackend.create();
const f = Forecaster.create({ backend, horizon: H, season: 12, combine: [] });
const epochs: number[] = [];
t = performance.now();
const cpu0 = process.cpuUsage();
await f.fit(series, { epochs: 3, onEpoch: () => void epochs.push(performance.now()) });
const fitS = (performance.now() - t) / 1000;
const cpu = process.cpuUsage(cpu0);
t = performance.now();
await f.predict(series);
const predictS = (performance.now() - t) / 1000;
console.log(
  `network (combine none), 3 epochs at most: fit ${fitS.toFixed(1)} s (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s), epochs ended at ${epochs.map((e) => ((e - t0) / 1000).toFixed(1)).join(', ')} s; predict ${predictS.toFixed(1)} s`,
);
backend.dispose();
