// `node scripts/vite-run.mjs bench/app-scale.ts [flags]`: the app's scale set (issue 13, item 5) —
// syntheticSeries(10,000 × 96, season 12, seed 1), the app's default options (app/index.html,
// app/run.ts: horizon 6, input size 24, LSTM H = 8, one layer, recursive, standard scaling, one
// global model, Adam lr 0.02, clip norm 1, 8 epochs, batch 64) — trained on the WebGPU backend.
//
// Part 1 (always): steps/s and the epoch time each batch size gives, from `--steps` optimizer steps of
// the backtest's training set (each series up to its last `horizon` points, windows built as
// src/forecast/forecaster.ts builds them), the epoch time extrapolated from the steps/s. Each batch
// size runs `deferred` (the trainer's default on WebGPU: losses read back every `readbackEvery`
// steps) and, with --per-step, also `per-step` (readbackEvery 1: one readback per step, as before).
// Times are wall clock and the process's CPU time (user + system, all threads): on a software
// adapter the shaders run on this process's threads, so CPU time counts the work done even while
// other processes share the cores and stretch the wall clock (as bench/big-batch.ts reports).
//
// Part 2 (--job): the whole app job as app/run.ts runs it — Forecaster.backtest then a fresh
// Forecaster.fit + predict — at the batch size --job-batch (default: the auto batch), timed, each
// epoch's end stamped (the rest of a phase is forecasting and the statistical baselines, fitted on a
// thread per core by the library's pool as the CLI and the app fit them). The
// forecaster's own recipe decides its windows, epochs and baselines: this times whatever it does.
// Scaling the learning rate with the batch here is the bench's choice (src/train/batching.ts).
// Part 1 builds the windows as the one-scaler-per-series recipe did; it measures the trainer.
//
//   --series N --length N    default 10000, 96 (the app's generator defaults)
//   --batches a,b,…|auto|none  batch sizes for part 1 (default 64,auto; none: only the job)
//   --steps N                timed optimizer steps per measurement (default 60)
//   --epochs N               epochs of the job (default 8, the app's)
//   --json PATH              default bench/out/app-scale.json
//
// Software adapters: absolute times say little about GPUs (docs: ENVIRONMENT.md); the ratios
// between rows of one run are what this measures.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { syntheticSeries, toSeries } from '../src/data/datasets.ts';
import { useBaselinePool } from '../src/forecast/baselines/node-pool.ts';
import { Forecaster } from '../src/forecast/forecaster.ts';
import { fitScaler, scale } from '../src/forecast/scaling.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import { autoBatchSize, scaledLearningRate } from '../src/train/batching.ts';
import { gatherSamples, samples, type Samples } from '../src/train/data.ts';
import { Trainer } from '../src/train/trainer.ts';

const { values: args } = parseArgs({
  options: {
    series: { type: 'string', default: '10000' },
    length: { type: 'string', default: '96' },
    batches: { type: 'string', default: '64,auto' },
    steps: { type: 'string', default: '60' },
    epochs: { type: 'string', default: '8' },
    job: { type: 'boolean', default: false },
    'job-batch': { type: 'string', default: 'auto' },
    'per-step': { type: 'boolean', default: false },
    json: { type: 'string', default: 'bench/out/app-scale.json' },
  },
});

// The app's defaults (app/index.html's form values, app/run.ts forecasterOptions).
const APP = {
  horizon: 6,
  season: 12,
  inputSize: 24,
  cell: 'lstm' as const,
  hiddenSize: 8,
  numLayers: 1,
  epochs: Number(args.epochs),
  lr: 0.02,
  batchSize: 64,
};
const count = Number(args.series);
const length = Number(args.length);
const timedSteps = Number(args.steps);

const series = syntheticSeries({ count, length, season: APP.season, seed: 1 }).map(toSeries);

/** The backtest's training windows, as the forecaster builds them (standard scaling per series, next-value targets). */
function backtestWindows(): Samples {
  const T = APP.inputSize;
  const upTo = length - APP.horizon;
  const per = upTo - T;
  const N = count * per;
  const x = new Float32Array(N * T);
  const y = new Float32Array(N * T);
  let n = 0;
  for (const s of series) {
    const z = scale(fitScaler('standard', s.y.subarray(0, upTo)), s.y.subarray(0, upTo));
    for (let w = 0; w < per; w++, n++) {
      for (let t = 0; t < T; t++) {
        x[n * T + t] = z[w + t]!;
        y[n * T + t] = z[w + t + 1]!;
      }
    }
  }
  return samples({ x, y, count: N, steps: T, inputSize: 1, outputSize: 1 });
}

const gpu = await WebGPUBackend.create();
const software = gpu.software;
const data = backtestWindows();
const limits = gpu.trainingBatchLimits(
  RecurrentNet.create({ cell: APP.cell, inputSize: 1, hiddenSize: APP.hiddenSize, numLayers: APP.numLayers, outputSize: 1 }).layers(),
  APP.inputSize,
);
const auto = autoBatchSize(data.count, limits);
console.log(
  `${count} series × ${length} points: ${data.count.toLocaleString('en-US')} training windows of ${APP.inputSize} steps; ` +
    `adapter ${gpu.gpu.summary.vendor} ${gpu.gpu.summary.architecture} (${software ? 'software' : 'hardware'}); auto batch ${auto}, lr ${scaledLearningRate(APP.lr, auto).toPrecision(3)}`,
);

interface Row {
  batch: number;
  readback: 'deferred' | 'per-step';
  steps: number;
  stepsPerSecond: number;
  stepsPerEpoch: number;
  epochSeconds: number;
  /** Process CPU seconds per epoch (see the header). */
  epochCpuSeconds: number;
  firstLoss: number;
  lastLoss: number;
}
const rows: Row[] = [];

async function measure(batch: number, readbackEvery: number | undefined): Promise<Row> {
  const model = RecurrentNet.create(
    { cell: APP.cell, inputSize: 1, hiddenSize: APP.hiddenSize, numLayers: APP.numLayers, outputSize: 1 },
    { seed: 0 },
  );
  const trainer = await Trainer.create(model, {
    backend: gpu,
    loss: { kind: 'mse' },
    optimizer: { kind: 'adam', lr: scaledLearningRate(APP.lr, batch) },
    clip: { kind: 'norm', maxNorm: 1 },
    batchSize: batch,
    seed: 0,
    ...(readbackEvery ? { readbackEvery } : {}),
  });
  try {
    // Warm-up: two steps on a slice of the data build the pipelines and fill the pool outside the timed steps.
    await trainer.fit(
      gatherSamples(
        data,
        Array.from({ length: Math.min(data.count, 2 * batch) }, (_, i) => i),
      ),
      { epochs: 1 },
    );
    const stop = new AbortController();
    const losses: number[] = [];
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await trainer.fit(data, {
      epochs: 1,
      signal: stop.signal,
      onStep: (e) => {
        losses.push(e.loss);
        if (losses.length >= timedSteps) stop.abort();
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const steps = losses.length;
    const stepsPerEpoch = Math.ceil(data.count / batch);
    return {
      batch,
      readback: readbackEvery === 1 ? 'per-step' : 'deferred',
      steps,
      stepsPerSecond: steps / seconds,
      stepsPerEpoch,
      epochSeconds: (stepsPerEpoch * seconds) / steps,
      epochCpuSeconds: (stepsPerEpoch * cpuSeconds) / steps,
      firstLoss: losses[0]!,
      lastLoss: losses.at(-1)!,
    };
  } finally {
    trainer.dispose();
  }
}

const batches = args.batches === 'none' ? [] : args.batches.split(',').map((b) => (b === 'auto' ? auto : Number(b)));
try {
  for (const batch of batches) {
    for (const every of args['per-step'] ? [undefined, 1] : [undefined]) {
      const row = await measure(batch, every);
      rows.push(row);
      console.log(
        `batch ${String(batch).padStart(6)} ${row.readback.padEnd(8)}: ${row.stepsPerSecond.toFixed(2)} steps/s over ${row.steps} steps → ${row.stepsPerEpoch} steps/epoch, ${row.epochSeconds.toFixed(1)} s/epoch wall, ${row.epochCpuSeconds.toFixed(1)} CPU s/epoch (loss ${row.firstLoss.toFixed(4)} → ${row.lastLoss.toFixed(4)})`,
      );
    }
  }
  let job: {
    batch: number;
    backtestSeconds: number;
    finalSeconds: number;
    totalSeconds: number;
    cpuSeconds: number;
    mase: number | null;
    baselineMase: number | null;
  } | null = null;
  if (args.job) {
    const batch = args['job-batch'] === 'auto' ? auto : Number(args['job-batch']);
    const options = {
      backend: gpu,
      horizon: APP.horizon,
      season: APP.season,
      inputSize: APP.inputSize,
      cell: APP.cell,
      hiddenSize: APP.hiddenSize,
      numLayers: APP.numLayers,
      strategy: 'recursive' as const,
      scaling: 'standard' as const,
      perSeries: false,
      seed: 0,
      training: { batchSize: batch, optimizer: { kind: 'adam' as const, lr: scaledLearningRate(APP.lr, batch) } },
    };
    // The baselines on a thread per core, as `webrnn forecast` fits them (the library's pool).
    const pool = await useBaselinePool(series.length);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const report = await Forecaster.create(options).backtest(series, {
      epochs: APP.epochs,
      onEpoch: (e) =>
        console.log(`  backtest epoch ${e.epoch}: loss ${e.loss.toFixed(4)} at ${((performance.now() - t0) / 1000).toFixed(1)} s`),
    });
    const t1 = performance.now();
    const final = Forecaster.create(options);
    await final.fit(series, {
      epochs: APP.epochs,
      onEpoch: (e) =>
        console.log(`  final epoch ${e.epoch}: loss ${e.loss.toFixed(4)} at ${((performance.now() - t0) / 1000).toFixed(1)} s`),
    });
    await final.predict(series);
    const t2 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    await pool?.close();
    job = {
      batch,
      backtestSeconds: (t1 - t0) / 1000,
      finalSeconds: (t2 - t1) / 1000,
      totalSeconds: (t2 - t0) / 1000,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      mase: report.model.mase,
      baselineMase: report.baselines.snaive.mase,
    };
    console.log(
      `job at batch ${batch}: backtest ${job.backtestSeconds.toFixed(1)} s, fit + forecast ${job.finalSeconds.toFixed(1)} s, total ${job.totalSeconds.toFixed(1)} s (${job.cpuSeconds.toFixed(1)} CPU s); MASE ${job.mase?.toFixed(3)} (seasonal naive ${job.baselineMase?.toFixed(3)})`,
    );
  }
  mkdirSync(dirname(args.json), { recursive: true });
  writeFileSync(
    args.json,
    JSON.stringify({ series: count, length, windows: data.count, adapter: gpu.gpu.summary, autoBatch: auto, limits, rows, job }, null, 2),
  );
} finally {
  gpu.dispose();
}
