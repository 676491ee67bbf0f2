import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cpuBackend } from '../src/backends/cpu.ts';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import type { TorchRecurrentOptions } from '../src/model/torch-modules.ts';
import type { CellType } from '../src/rnn/spec.ts';
import { seriesWindows, type Samples } from '../src/train/data.ts';
import { flattenParams } from '../src/train/params.ts';
import { Trainer, type TrainerOptions } from '../src/train/trainer.ts';
import { expectClose } from '../src/util/compare.ts';
import { sines } from './helpers/random.ts';
import { createGpuFixture, withErrorScope, type GpuFixture } from './helpers/gpu.ts';

// The WebGPU training engine (src/train/gpu-engine.ts: parameters and optimizer state on the
// device, one program per step) against the float64 engine on the same seeds: step losses and
// trained weights, for every cell, several layers and directions, every optimizer, schedules,
// clipping, truncated BPTT, masked last-h losses, per-series models, early stopping, saved optimizer
// state; and no buffer left behind. Runs in Node and in Chromium.

let gpu: GpuFixture;
beforeAll(async () => {
  gpu = await createGpuFixture();
});
afterAll(() => gpu?.backend.dispose());

type Options = Omit<TrainerOptions, 'backend'>;

/**
 * Trains the same model on both engines and compares every step's loss and the final weights. A
 * float32 engine drifts from the float64 one step by step; over these few steps the weights stay
 * within 2e-5 (atol) + 2e-4 (rtol), the loss within 1e-5 relative.
 */
async function sameAsCpu(model: RecurrentNet, options: Options, data: Samples, epochs: number, backend: WebGPUBackend = gpu.backend) {
  const cpu = await Trainer.create(model, { ...options, backend: cpuBackend });
  const dev = await Trainer.create(model, { ...options, backend });
  const lossCpu: Float64Array[] = [];
  const lossGpu: Float64Array[] = [];
  await cpu.fit(data, { epochs, onStep: (e) => void lossCpu.push(e.losses) });
  await withErrorScope(backend.device, () => dev.fit(data, { epochs, onStep: (e) => void lossGpu.push(e.losses) }));
  expect(lossGpu.length).toBe(lossCpu.length);
  lossGpu.forEach((losses, k) => expectClose(losses, lossCpu[k]!, { atol: 1e-6, rtol: 1e-5 }, `step ${k + 1}: each model's loss`));
  const models = await dev.allModels();
  for (const [s, m] of models.entries()) {
    expectClose(flattenParams(m.layers()), flattenParams((await cpu.model(s)).layers()), { atol: 2e-5, rtol: 2e-4 }, `model ${s}: weights`);
  }
  return { cpu, dev };
}

const net = (cell: CellType, o: Partial<TorchRecurrentOptions> = {}) =>
  RecurrentNet.create({ cell, inputSize: 1, hiddenSize: 5, outputSize: 1, ...o }, { seed: 7 });

describe('the WebGPU training engine against the float64 one', () => {
  const data = seriesWindows(sines(3, 26), 8);

  for (const cell of ['rnn', 'gru', 'lstm'] as const) {
    it(`${cell}, 2 layers, Adam with norm clipping`, async () => {
      const { dev } = await sameAsCpu(
        net(cell, { numLayers: 2 }),
        {
          loss: { kind: 'mse' },
          optimizer: { kind: 'adam', lr: 0.02 },
          clip: { kind: 'norm', maxNorm: 0.3 },
          batchSize: 16,
          seed: 1,
        },
        data,
        2,
      );
      dev.dispose();
    });
  }

  it('bidirectional GRU, SGD with Nesterov momentum, a step schedule and value clipping', async () => {
    const { dev } = await sameAsCpu(
      net('gru', { bidirectional: true, hiddenSize: 3 }),
      {
        loss: { kind: 'mse' },
        optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 },
        schedule: { kind: 'step', stepSize: 3, gamma: 0.5 },
        clip: { kind: 'value', clipValue: 0.05 },
        batchSize: 20,
        seed: 2,
      },
      data,
      2,
    );
    dev.dispose();
  });

  it('LSTM without biases, AdamW with a cosine schedule, MAE over the last 3 steps', async () => {
    const { dev } = await sameAsCpu(
      net('lstm', { bias: false, headBias: false, hiddenSize: 4 }),
      {
        loss: { kind: 'mae', steps: { last: 3 } },
        optimizer: { kind: 'adamw', lr: 0.03 },
        schedule: { kind: 'cosine', tMax: 5 },
        batchSize: 16,
        seed: 3,
      },
      data,
      2,
    );
    dev.dispose();
  });

  it('Elman ReLU with two inputs and two outputs, truncated BPTT over windows of 3 steps', async () => {
    const two = seriesWindows(sines(4, 20), 7);
    const x = new Float32Array(two.count * 7 * 2).map((_, i) => two.x[Math.floor(i / 2)]! * (i % 2 ? -1 : 1));
    const y = new Float32Array(two.count * 7 * 2).map((_, i) => two.y[Math.floor(i / 2)]! * (i % 2 ? 0.5 : 1));
    const samples2 = { ...two, x, y, inputSize: 2, outputSize: 2 };
    const { dev } = await sameAsCpu(
      net('rnn', { nonlinearity: 'relu', inputSize: 2, outputSize: 2, hiddenSize: 6 }),
      {
        loss: { kind: 'mse' },
        optimizer: { kind: 'adam', lr: 0.01 },
        batchSize: 12,
        seed: 4,
        truncate: 3,
      },
      samples2,
      1,
    );
    dev.dispose();
  });

  it('per-series models: each its own weights and optimizer state', async () => {
    const per = seriesWindows(sines(3, 20), 6, { perSeries: true });
    const { dev } = await sameAsCpu(
      net('gru'),
      {
        loss: { kind: 'mse' },
        optimizer: { kind: 'adam', lr: 0.02 },
        clip: { kind: 'norm', maxNorm: 0.5 },
        batchSize: 5,
        seed: 5,
        series: 3,
      },
      per,
      2,
    );
    expect(dev.models).toBe(3);
    dev.dispose();
  });

  it('stops early with the best weights, and its optimizer state round-trips', async () => {
    const trainer = await Trainer.create(net('lstm'), {
      backend: gpu.backend,
      loss: { kind: 'mse' },
      optimizer: { kind: 'sgd', lr: 2, momentum: 0.9 },
      batchSize: 8,
      seed: 6,
    });
    const history = await trainer.fit(data, { epochs: 30, validationSplit: 0.25, earlyStopping: { patience: 2 } });
    expect(history.stoppedEarly).toBe(true);
    const best = Math.min(...history.epochs.map((e) => e.validationLoss!));
    expect(history.epochs[history.bestEpoch - 1]!.validationLoss).toBe(best);
    const bytes = await trainer.optimizerStateSafetensors();
    const state = trainer.loadOptimizerState(bytes);
    const direct = (await trainer.optimizerState())[0]!;
    expect(state.step).toBe(direct.step);
    expect(Array.from(state.buffers.params!.momentum_buffer!)).toEqual(Array.from(direct.buffers.params!.momentum_buffer!));
    trainer.dispose();
  });

  it('evaluates sets larger than one program in chunks, as the float64 engine does', async () => {
    const big = seriesWindows(sines(3, 210), 4); // 618 windows: two chunks of at most 512
    const options = { loss: { kind: 'mae' as const, steps: { last: 2 } }, optimizer: { kind: 'adam' as const, lr: 0.01 }, batchSize: 64 };
    const cpu = await Trainer.create(net('gru'), { ...options, backend: cpuBackend });
    const dev = await Trainer.create(net('gru'), { ...options, backend: gpu.backend });
    expectClose(await dev.evaluate(big), await cpu.evaluate(big), { atol: 1e-6, rtol: 1e-5 }, 'validation loss');
    dev.dispose();
  });

  it('trains per-series models in the same dispatches: one program per step for 37 models', async () => {
    // 37 series of 14 values: 9 windows of 5 steps each, batches of 3 per series (tiles of 4
    // sequences hold 3 and a padding lane), 3 steps an epoch.
    const per = seriesWindows(sines(37, 14), 5, { perSeries: true });
    const options: Options = {
      loss: { kind: 'mse' },
      optimizer: { kind: 'adam', lr: 0.02 },
      clip: { kind: 'norm', maxNorm: 0.3 },
      batchSize: 3,
      seed: 8,
      series: 37,
    };
    const runs = vi.spyOn(gpu.backend, 'runProgram');
    try {
      const { cpu, dev } = await sameAsCpu(net('lstm', { numLayers: 2, hiddenSize: 6 }), options, per, 2);
      const steps = runs.mock.calls.filter(([p]) => p.what === 'a training step').length;
      expect(steps).toBe(2 * 3);
      expectClose(await dev.evaluate(per), await cpu.evaluate(per), { atol: 1e-6, rtol: 1e-5 }, 'per-series validation losses');
      dev.dispose();
    } finally {
      runs.mockRestore();
    }
  });

  for (const kernel of ['tile', 'sequential'] as const) {
    it(`per-series bidirectional GRU and truncated BPTT of a tanh RNN on the ${kernel} kernels`, async () => {
      const forced = WebGPUBackend.fromContext(gpu.backend.gpu, { poisonOutputs: true, recurrentKernel: kernel });
      const sgd: Options = {
        loss: { kind: 'mae', steps: { last: 2 } },
        optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9 },
        clip: { kind: 'value', clipValue: 0.05 },
        batchSize: 5,
        seed: 9,
        series: 11,
      };
      const gru = await sameAsCpu(
        net('gru', { bidirectional: true, hiddenSize: 7 }),
        sgd,
        seriesWindows(sines(11, 16), 6, { perSeries: true }),
        2,
        forced,
      );
      gru.dev.dispose();
      const adam: Options = {
        loss: { kind: 'mse' },
        optimizer: { kind: 'adamw', lr: 0.01 },
        batchSize: 2,
        seed: 10,
        series: 6,
        truncate: 3,
      };
      const rnn = await sameAsCpu(net('rnn', { hiddenSize: 3 }), adam, seriesWindows(sines(6, 12), 7, { perSeries: true }), 1, forced);
      rnn.dev.dispose();
      forced.dispose();
    });
  }

  it('splits per-series models into programs and pages when one binding cannot hold them all', async () => {
    // LSTM H=5, I=1 + Linear(5, 1): a model's packed layer is 175 floats, 192 (768 bytes) with the
    // per-model alignment, so a 3500-byte binding holds pages of 4 models. A sequence of 5 steps keeps
    // 175 floats in the forward's binding (Y and 6 saved values of 5 units), 700 bytes: with 2 per
    // model, 2 models per program. 10 models: pages of 4, 4, 2, programs of 2 models, 5 a step.
    const small = WebGPUBackend.fromContext(gpu.backend.gpu, { poisonOutputs: true, maxBindingBytes: 3500 });
    const runs = vi.spyOn(small, 'runProgram');
    const options: Options = {
      loss: { kind: 'mse' },
      optimizer: { kind: 'adam', lr: 0.02 },
      clip: { kind: 'norm', maxNorm: 0.5 },
      batchSize: 2,
      seed: 11,
      series: 10,
    };
    // 9 values: 4 windows of 5 steps per series, 2 batches of 2.
    const { cpu, dev } = await sameAsCpu(net('lstm'), options, seriesWindows(sines(10, 9), 5, { perSeries: true }), 1, small);
    const steps = runs.mock.calls.filter(([p]) => p.what === 'a training step').length;
    expect(steps).toBe(2 * 5);
    const state = await dev.optimizerState();
    const want = await cpu.optimizerState();
    for (let s = 0; s < 10; s++) {
      expectClose(
        state[s]!.buffers.params!.exp_avg_sq!,
        want[s]!.buffers.params!.exp_avg_sq!,
        { atol: 1e-7, rtol: 2e-4 },
        `model ${s}: Adam's second moments`,
      );
    }
    dev.dispose();
    small.dispose();
  });

  it('frees its buffers on dispose and leaves the backend pool as it found it', async () => {
    const before = gpu.backend.pool.liveBuffers;
    const trainer = await Trainer.create(net('gru'), {
      backend: gpu.backend,
      loss: { kind: 'mse' },
      optimizer: { kind: 'adam', lr: 0.01 },
      batchSize: 16,
    });
    await trainer.fit(data, { epochs: 1 });
    const after = gpu.backend.pool.liveBuffers;
    await trainer.fit(data, { epochs: 1 });
    expect(gpu.backend.pool.liveBuffers).toBe(after); // a second epoch reuses the pooled buffers
    trainer.dispose();
    expect(after).toBeGreaterThanOrEqual(before);
    expect(gpu.uncaptured).toEqual([]);
  });
});
