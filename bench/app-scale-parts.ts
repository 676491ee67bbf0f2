// `node scripts/vite-run.mjs bench/app-scale-parts.ts [horizon] [--baselines-only]`: the app's
// 10,000 × 96 scale set (syntheticSeries, season 12, seed 1) with the forecaster's defaults, timed in
// parts, because the whole app job (bench/app-scale.ts --job) runs far longer than its parts on a
// software adapter: automatic ETS's fit and forecast per series on one thread (on 100 series), then
// one pass of it over all 10,000 on the library's baseline pool (a thread per core, as the CLI and
// the app run it), Theta's on all, then (unless --baselines-only) the network alone (combine none)
// fitted for at most 3 epochs, each epoch's end stamped, and its forecast. Each time is wall and CPU
// (this process and its threads): on a shared machine the wall time counts other processes' turns.
import { availableParallelism } from 'node:os';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { syntheticSeries, toSeries } from '../src/data/datasets.ts';
import { baselineForecast, type BaselineRequest } from '../src/forecast/baselines/index.ts';
import { startBaselinePool } from '../src/forecast/baselines/node-pool.ts';
import { Forecaster } from '../src/forecast/forecaster.ts';

const series = syntheticSeries({ count: 10000, length: 96, season: 12, seed: 1 }).map(toSeries);
const H = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 12);
const history = (y: Float64Array) => y.subarray(0, 96 - 2 * H);

/** Runs `part`, resolving to its wall and CPU seconds. */
async function timed(part: () => unknown): Promise<{ wall: number; cpu: number }> {
  const t = performance.now();
  const c = process.cpuUsage();
  await part();
  const cpu = process.cpuUsage(c);
  return { wall: (performance.now() - t) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
}

const one = await timed(() => {
  for (const s of series.slice(0, 100)) baselineForecast('ets', history(s.y), H, 12);
});
console.log(
  `ETS, one thread: ${(one.wall * 10).toFixed(1)} ms a series (CPU ${(one.cpu * 10).toFixed(1)} ms): ${((one.wall * 100) / 60).toFixed(1)} min for 10,000`,
);
const threads = availableParallelism();
const pool = await startBaselinePool({ threads });
const requests: BaselineRequest[] = series.map((s) => ({
  name: 'ets',
  history: Float64Array.from(history(s.y)),
  horizon: H,
  season: 12,
  levels: [],
}));
const pass = await timed(() => pool.fitter(requests));
await pool.close();
console.log(`ETS on the pool (${threads} threads), all 10,000: ${(pass.wall / 60).toFixed(2)} min (CPU ${(pass.cpu / 60).toFixed(2)} min)`);
const theta = await timed(() => {
  for (const s of series) baselineForecast('theta', history(s.y), H, 12);
});
console.log(`Theta, one thread, all 10,000: ${theta.wall.toFixed(1)} s`);
if (!process.argv.includes('--baselines-only')) {
  const backend = await WebGPUBackend.create();
  const f = Forecaster.create({ backend, horizon: H, season: 12, combine: [] });
  const epochs: number[] = [];
  const t0 = performance.now();
  const fit = await timed(() => f.fit(series, { epochs: 3, onEpoch: () => void epochs.push(performance.now()) }));
  const predict = await timed(() => f.predict(series));
  console.log(
    `network (combine none), 3 epochs at most: fit ${fit.wall.toFixed(1)} s (CPU ${fit.cpu.toFixed(1)} s), epochs ended at ${epochs.map((e) => ((e - t0) / 1000).toFixed(1)).join(', ')} s; predict ${predict.wall.toFixed(1)} s`,
  );
  backend.dispose();
}
