// `node scripts/vite-run.mjs bench/app-epoch-profile.ts [--epochs N] [--series N] [--batch B] [--steps N]`: where one training epoch of
// the app's 10,000 × 96 set goes (issue 13, item 5): the network alone (combine none), the app's
// defaults (horizon 6, season 12), fitted for `epochs` (default 1) epochs; each forecaster phase
// (src/forecast/phases.ts) and the trainer's step blocks and held-out loss stamped, wall and CPU.
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { syntheticSeries, toSeries } from '../src/data/datasets.ts';
import { Forecaster } from '../src/forecast/forecaster.ts';
import { setPhaseClock, type ForecastPhase } from '../src/forecast/phases.ts';

const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : Number(process.argv[i + 1]);
};
const batchSize = flag('--batch');
const maxSteps = flag('--steps');
const stop = new AbortController();
const epochs = flag('--epochs') ?? 1;
const count = flag('--series') ?? 10000;
const series = syntheticSeries({ count, length: 96, season: 12, seed: 1 }).map(toSeries);
const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};
const own = new Map<ForecastPhase, { wall: number; cpu: number }>();
const stack: { phase: ForecastPhase; wall: number; cpu: number; inner: { wall: number; cpu: number } }[] = [];
setPhaseClock({
  enter: (phase) => stack.push({ phase, wall: performance.now(), cpu: cpu(), inner: { wall: 0, cpu: 0 } }),
  exit: () => {
    const top = stack.pop()!;
    const wall = (performance.now() - top.wall) / 1000;
    const c = cpu() - top.cpu;
    const acc = own.get(top.phase) ?? { wall: 0, cpu: 0 };
    own.set(top.phase, { wall: acc.wall + wall - top.inner.wall, cpu: acc.cpu + c - top.inner.cpu });
    const parent = stack.at(-1);
    if (parent) {
      parent.inner.wall += wall;
      parent.inner.cpu += c;
    }
  },
});
const backend = await WebGPUBackend.create();
const f = Forecaster.create({ backend, horizon: 6, season: 12, combine: [], ...(batchSize ? { training: { batchSize } } : {}) });
const t0 = performance.now();
const c0 = cpu();
let last = { t: t0, c: c0, step: 0 };
const fit = await f.fit(series, {
  epochs,
  signal: stop.signal,
  onStep: (e) => {
    if (maxSteps && e.step >= maxSteps) {
      if (process.argv.includes('--exit')) {
        const c = cpu();
        console.log(
          `steps ${last.step + 1}–${e.step}: ${((performance.now() - last.t) / 1000 / (e.step - last.step)).toFixed(3)} s/step wall, ${((c - last.c) / (e.step - last.step)).toFixed(3)} CPU s/step`,
        );
        process.exit(0);
      }
      stop.abort();
    }
    if (e.step % 32 === 0) {
      const t = performance.now();
      const c = cpu();
      console.log(
        `  step ${e.step}: ${((t - last.t) / 1000 / (e.step - last.step)).toFixed(3)} s/step wall, ${((c - last.c) / (e.step - last.step)).toFixed(3)} CPU s/step`,
      );
      last = { t, c, step: e.step };
    }
  },
  onEpoch: (e) => {
    const t = performance.now();
    const c = cpu();
    console.log(
      `epoch ${e.epoch} ended at ${((t - t0) / 1000).toFixed(1)} s wall, ${(c - c0).toFixed(1)} CPU s; loss ${e.loss.toFixed(4)}, held-out ${e.validationLoss?.toFixed(4)}`,
    );
    last = { t, c, step: last.step };
  },
});
const t1 = performance.now();
const c1 = cpu();
await f.predict(series);
console.log(
  `fit ${((t1 - t0) / 1000).toFixed(1)} s wall (${(c1 - c0).toFixed(1)} CPU s), ${fit.steps.length} steps; predict ${((performance.now() - t1) / 1000).toFixed(1)} s (${(cpu() - c1).toFixed(1)} CPU s)`,
);
for (const [phase, t] of own) console.log(`  ${phase.padEnd(10)} ${t.wall.toFixed(1)} s wall, ${t.cpu.toFixed(1)} CPU s (own time)`);
backend.dispose();
