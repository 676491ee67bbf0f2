/**
 * The raw float32 outputs of the WebGPU backend on fixed workloads, hashed: a refactoring of the GPU
 * code that must not change what it computes gives the same hashes before and after.
 *
 *   node scripts/vite-run.mjs bench/bit-identical.ts                 print the hashes (JSON)
 *   node scripts/vite-run.mjs bench/bit-identical.ts --write FILE    …and write them to FILE
 *   node scripts/vite-run.mjs bench/bit-identical.ts --check FILE    exit 1 on any hash that differs
 *
 * Workloads: bench/workloads.ts STANDARD through `RecurrentNet.forward` (the kernel picked by shape),
 * each again with the tiled and the sequential kernel forced; one layer in each layout with lengths,
 * initial states and two directions, split into time segments and batch chunks; per-series models;
 * a stack's backward pass; a recursive forecast; training steps (per-step and deferred loss
 * readback, Adam with norm clipping, then SGD with value clipping on per-series models); and
 * `ElmanRNN` (all outputs, the last only, with h0, two layers). Every hash is SHA-256 of the
 * little-endian float32 bytes of one output, in the order the API returns them.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { WebGPUBackend, type WebGPUBackendOptions } from '../src/backends/webgpu.ts';
import { acquireGpu, type GpuContext } from '../src/gpu/device.ts';
import { ElmanRNN } from '../src/model/elman.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import { recurrentLayerSpec, type RecurrentLayerWeights } from '../src/rnn/spec.ts';
import { tensor, type FloatArray } from '../src/tensor.ts';
import { seriesWindows } from '../src/train/data.ts';
import { flattenParams } from '../src/train/params.ts';
import { Trainer } from '../src/train/trainer.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';
import { setTuneDefaults } from '../src/tune/defaults.ts';
import { MemoryTuneStore } from '../src/tune/tuner.ts';
import { STANDARD } from './workloads.ts';

const hashes: Record<string, string> = {};

function record(name: string, data: FloatArray | null | undefined): void {
  if (!data) return;
  const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
  hashes[name] = createHash('sha256')
    .update(new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength))
    .digest('hex')
    .slice(0, 16);
}

const random = (seed: number, n: number, lo = -1, hi = 1) => uniformArray(mulberry32(seed), n, lo, hi);

async function withBackend(
  gpu: GpuContext,
  options: Omit<WebGPUBackendOptions, 'log'>,
  run: (b: WebGPUBackend) => Promise<void>,
): Promise<void> {
  const backend = WebGPUBackend.fromContext(gpu, options);
  try {
    await run(backend);
  } finally {
    backend.dispose();
  }
}

/** The standard workloads through RecurrentNet.forward, as the benchmark runs them. */
async function standard(gpu: GpuContext): Promise<void> {
  for (const kernel of ['auto', 'tile', 'sequential'] as const) {
    await withBackend(gpu, { recurrentKernel: kernel }, async (backend) => {
      for (const w of STANDARD) {
        if (kernel === 'sequential' && w.hiddenSize > 32) continue; // minutes on a software adapter
        const model = RecurrentNet.create(
          {
            cell: w.cell,
            inputSize: w.inputSize,
            hiddenSize: w.hiddenSize,
            outputSize: w.outputSize,
            numLayers: w.numLayers,
            ...(w.nonlinearity ? { nonlinearity: w.nonlinearity } : {}),
          },
          { seed: 1 },
        );
        const x = random(7, w.batch * w.steps * w.inputSize);
        const out = await model.forward(tensor(x, [w.batch, w.steps, w.inputSize]), { backend });
        record(`${w.name}/${kernel}/output`, out.output.data);
        record(`${w.name}/${kernel}/hn`, out.hn.data);
        record(`${w.name}/${kernel}/cn`, out.cn?.data);
      }
    });
  }
}

/** One bidirectional layer per cell and layout, with lengths and initial states, in segments and chunks. */
async function layers(gpu: GpuContext): Promise<void> {
  const B = 37;
  const T = 11;
  for (const options of [{}, { maxStepsPerDispatch: 4, maxBindingBytes: 4096 }]) {
    await withBackend(gpu, options, async (backend) => {
      for (const cell of ['rnn', 'gru', 'lstm'] as const) {
        for (const layout of [0, 1] as const) {
          const H = 5;
          const I = 3;
          const spec = recurrentLayerSpec({
            cell,
            inputSize: I,
            hiddenSize: H,
            direction: 'bidirectional',
            layout,
            ...(cell === 'gru' ? { linearBeforeReset: true } : {}),
          });
          const G = { rnn: 1, gru: 3, lstm: 4 }[cell];
          const weights: RecurrentLayerWeights = {
            W: random(1, 2 * G * H * I, -0.5, 0.5),
            R: random(2, 2 * G * H * H, -0.5, 0.5),
            B: random(3, 2 * 2 * G * H, -0.5, 0.5),
            P: cell === 'lstm' ? random(4, 2 * 3 * H, -0.5, 0.5) : null,
          };
          const lens = Int32Array.from({ length: B }, (_, b) => (b * 7) % (T + 1));
          const out = await backend.recurrentLayer(spec, weights, {
            X: random(5, B * T * I),
            batch: B,
            steps: T,
            sequenceLens: lens,
            initialH: random(6, 2 * B * H, -0.5, 0.5),
            initialC: cell === 'lstm' ? random(8, 2 * B * H, -0.5, 0.5) : null,
          });
          const name = `layer/${cell}/layout${layout}/${options.maxStepsPerDispatch ? 'split' : 'whole'}`;
          record(`${name}/Y`, out.Y);
          record(`${name}/Y_h`, out.Y_h);
          record(`${name}/Y_c`, out.Y_c);
        }
      }
    });
  }
}

/** Per-series models, a stack's backward pass and a forecast. */
async function stacks(gpu: GpuContext): Promise<void> {
  await withBackend(gpu, {}, async (backend) => {
    for (const cell of ['rnn', 'gru', 'lstm'] as const) {
      const net = (seed: number) => RecurrentNet.create({ cell, inputSize: 2, hiddenSize: 6, outputSize: 2, numLayers: 2 }, { seed });
      const models = [1, 2, 3].map((s) => net(s).layers());
      const B = 3 * 16;
      const T = 9;
      const out = await backend.recurrentStack(models, {
        X: random(9, B * T * 2),
        batch: B,
        steps: T,
        sequenceLens: null,
        initialH: [null, null],
        initialC: [null, null],
      });
      record(`per-series/${cell}/Y`, out.Y);
      out.Y_h.forEach((h, k) => record(`per-series/${cell}/Y_h${k}`, h));
      out.Y_c?.forEach((c, k) => record(`per-series/${cell}/Y_c${k}`, c));

      const stack = models[0]!;
      const inputs = { X: random(10, 16 * T * 2), batch: 16, steps: T, sequenceLens: null, initialH: [null, null], initialC: [null, null] };
      const back = await backend.recurrentStackBackward(stack, inputs, random(11, 16 * T * 2));
      record(`backward/${cell}/Y`, back.outputs.Y);
      record(`backward/${cell}/dX`, back.dX);
      back.grads.layers.forEach((g, k) => {
        record(`backward/${cell}/dW${k}`, g.dW);
        record(`backward/${cell}/dR${k}`, g.dR);
        record(`backward/${cell}/dB${k}`, g.dB);
        record(`backward/${cell}/dH0${k}`, g.dInitialH);
      });
      record(`backward/${cell}/dHead`, back.grads.head?.dWeight);
      record(`backward/${cell}/dHeadBias`, back.grads.head?.dBias);

      const forecast = await backend.recurrentForecast(models, {
        history: random(12, B * T * 2),
        batch: B,
        steps: T,
        horizon: 7,
        futureExog: null,
      });
      record(`forecast/${cell}`, forecast);
    }
  });
}

/** Training: the per-step and the deferred engine, then per-series models. */
async function training(gpu: GpuContext): Promise<void> {
  const series = Array.from({ length: 4 }, (_, s) => Float32Array.from({ length: 40 }, (_, t) => Math.sin(0.3 * t + s) + 0.1 * s));
  const data = seriesWindows(series, 8);
  for (const readbackEvery of [1, 4]) {
    await withBackend(gpu, {}, async (backend) => {
      const model = RecurrentNet.create({ cell: 'lstm', inputSize: 1, hiddenSize: 6, outputSize: 1 }, { seed: 3 });
      const trainer = await Trainer.create(model, {
        backend,
        loss: { kind: 'mse' },
        optimizer: { kind: 'adam', lr: 0.03 },
        clip: { kind: 'norm', maxNorm: 0.5 },
        batchSize: 8,
        seed: 2,
        readbackEvery,
      });
      const history = await trainer.fit(data, { epochs: 2, validationSplit: 0.2 });
      record(`train/lstm/readback${readbackEvery}/loss`, Float64Array.from(history.epochs.map((e) => e.loss)));
      record(`train/lstm/readback${readbackEvery}/params`, flattenParams((await trainer.allModels())[0]!.layers()));
      trainer.dispose();
    });
  }
  await withBackend(gpu, {}, async (backend) => {
    const model = RecurrentNet.create({ cell: 'gru', inputSize: 1, hiddenSize: 5, outputSize: 1, numLayers: 2 }, { seed: 4 });
    const perSeries = seriesWindows(series, 8, { perSeries: true });
    const trainer = await Trainer.create(model, {
      backend,
      loss: { kind: 'mae' },
      optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 },
      clip: { kind: 'value', clipValue: 0.2 },
      batchSize: 4,
      seed: 5,
      series: 4,
    });
    await trainer.fit(perSeries, { epochs: 2 });
    (await trainer.allModels()).forEach((m, s) => record(`train/gru-per-series/params${s}`, flattenParams(m.layers())));
    trainer.dispose();
  });
}

/** ElmanRNN: all outputs and the last only, with h0, one and two layers. */
async function elman(gpu: GpuContext): Promise<void> {
  await withBackend(gpu, {}, async (backend) => {
    for (const [L, nonlinearity] of [
      [1, 'relu'],
      [2, 'tanh'],
    ] as const) {
      const model = new ElmanRNN({ inputSize: 2, hiddenSize: 32, outputSize: 3, numLayers: L, nonlinearity }, { seed: 5 });
      const B = 300;
      const T = 20;
      const x = tensor(random(13, B * T * 2), [B, T, 2]);
      const h0 = tensor(random(14, L * B * 32, -0.5, 0.5), [L, B, 32]);
      for (const outputs of ['all', 'last'] as const) {
        const out = await model.forward(x, { backend, outputs, h0 });
        record(`elman/L${L}/${outputs}/output`, out.output.data);
        record(`elman/L${L}/${outputs}/hn`, out.hn.data);
      }
    }
  });
}

const args = process.argv.slice(2);
// `auto` is the cost model's pick: no tuning, no cached choice (src/tune/defaults.ts).
setTuneDefaults({ mode: 'off', store: () => new MemoryTuneStore() });
const gpu = await acquireGpu({ log: false });
try {
  console.error(`adapter: ${gpu.summary.description || gpu.summary.architecture}`);
  for (const part of [standard, layers, stacks, training, elman]) await part(gpu);
} finally {
  gpu.destroy();
}
const sorted = Object.fromEntries(Object.entries(hashes).sort(([a], [b]) => a.localeCompare(b)));
console.log(JSON.stringify(sorted, null, 2));
const at = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const write = at('--write');
if (write) writeFileSync(write, `${JSON.stringify(sorted, null, 2)}\n`);
const check = at('--check');
if (check) {
  const expected = JSON.parse(readFileSync(check, 'utf8')) as Record<string, string>;
  const names = [...new Set([...Object.keys(expected), ...Object.keys(sorted)])].sort();
  const differ = names.filter((n) => expected[n] !== sorted[n]);
  for (const n of differ) console.error(`differs: ${n} (expected ${expected[n] ?? 'absent'}, got ${sorted[n] ?? 'absent'})`);
  console.error(`${names.length - differ.length} of ${names.length} hashes identical`);
  if (differ.length) process.exitCode = 1;
}
