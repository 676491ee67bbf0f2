// `node scripts/vite-run.mjs bench/ets-speed.ts [count] [horizon]`: automatic ETS's time per series on
// the app's scale set (syntheticSeries, season 12, seed 1, 96 points), on the history a backtest's
// held-out phase fits (96 − 2·horizon points), the first `count` series (default 100), one thread.
import { syntheticSeries } from '../src/data/datasets.ts';
import { autoEts } from '../src/forecast/baselines/ets.ts';

const count = Number(process.argv[2] ?? 100);
const H = Number(process.argv[3] ?? 12);
const series = syntheticSeries({ count, length: 96, season: 12, seed: 1 }).map((d) => Float64Array.from(d.values.slice(0, 96 - 2 * H)));
autoEts(series[0]!, H, 12); // warm the JIT
const t0 = performance.now();
const cpu0 = process.cpuUsage();
let check = 0;
for (const y of series) check += autoEts(y, H, 12).aicc;
const ms = (performance.now() - t0) / count;
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000 / count;
// CPU time as well as wall time: on a shared machine the wall time counts other processes' turns.
console.log(`automatic ETS: ${ms.toFixed(1)} ms a series (${cpuMs.toFixed(1)} ms CPU) over ${count} series (checksum of AICc ${check})`);
