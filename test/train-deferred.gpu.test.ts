import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cpuBackend } from '../src/backends/cpu.ts';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { NumericError } from '../src/errors.ts';
import { contractionDispatch } from '../src/gpu/kernels/backward/grad-contract.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import { autoBatchSize, BASE_BATCH, SOFTWARE_MAX_BATCH } from '../src/train/batching.ts';
import { seriesWindows, type Samples } from '../src/train/data.ts';
import { flattenParams } from '../src/train/params.ts';
import { Trainer, type TrainerOptions } from '../src/train/trainer.ts';
import { expectClose } from '../src/util/compare.ts';
import { sines } from './helpers/random.ts';
import { createGpuFixture, withErrorScope, type GpuFixture } from './helpers/gpu.ts';

// Training without a readback per step (issue 13, item 5): the WebGPU engine queues steps and keeps
// their losses on the device; the trainer reads them every `readbackEvery` steps and reports them in
// order. The deferred run must give the per-step run's losses and weights bit for bit (the same
// programs), the float64 engine's within float32's drift, and stop a diverging run with the same
// NumericError. Also here: the contraction layouts this work changed, and the backend's batch limits.

let gpu: GpuFixture;
beforeAll(async () => {
  gpu = await createGpuFixture();
});
afterAll(() => gpu?.backend.dispose());

const net = (o: { cell?: 'lstm' | 'gru' | 'rnn'; hiddenSize?: number; outputSize?: number } = {}) =>
  RecurrentNet.create({ cell: o.cell ?? 'lstm', inputSize: 1, hiddenSize: o.hiddenSize ?? 6, outputSize: o.outputSize ?? 1 }, { seed: 3 });

type Options = Omit<TrainerOptions, 'backend'>;

/** Every step's per-model losses and learning rates, the history and the final weights of a fit. */
async function run(model: RecurrentNet, options: TrainerOptions, data: Samples, epochs: number) {
  const trainer = await Trainer.create(model, options);
  const steps: { epoch: number; step: number; losses: number[]; lr: number }[] = [];
  const history = await withErrorScope(gpu.backend.device, () =>
    trainer.fit(data, {
      epochs,
      validationSplit: 0.2,
      onStep: (e) => void steps.push({ epoch: e.epoch, step: e.step, losses: Array.from(e.losses), lr: e.lr }),
    }),
  );
  const weights = (await trainer.allModels()).map((m) => Array.from(flattenParams(m.layers())));
  trainer.dispose();
  return { steps, history, weights };
}

describe('deferred loss readback on the WebGPU engine', () => {
  const data = seriesWindows(sines(4, 30), 8); // 88 windows: 70 train, batches of 8 → 9 steps an epoch

  it('gives the per-step losses, in order, and the same weights, reading back once per block of steps', async () => {
    const options: Options = {
      loss: { kind: 'mse' },
      optimizer: { kind: 'adam', lr: 0.03 },
      schedule: { kind: 'cosine', tMax: 20 },
      clip: { kind: 'norm', maxNorm: 0.5 },
      batchSize: 8,
      seed: 2,
    };
    const perStep = await run(net(), { ...options, backend: gpu.backend, readbackEvery: 1 }, data, 3);
    const runs = vi.spyOn(gpu.backend, 'runProgram');
    let deferred: Awaited<ReturnType<typeof run>>;
    try {
      deferred = await run(net(), { ...options, backend: gpu.backend, readbackEvery: 4 }, data, 3);
      const whats = runs.mock.calls.map(([p]) => p.what);
      expect(whats.filter((w) => w === 'a training step').length).toBe(27);
      // 9 steps an epoch in blocks of 4: 3 readbacks an epoch; no step waited for its own loss.
      expect(whats.filter((w) => w === 'reading the training losses').length).toBe(9);
      expect(runs.mock.calls.filter(([p, o]) => p.what === 'a training step' && !o?.deferred).length).toBe(0);
    } finally {
      runs.mockRestore();
    }
    expect(deferred.steps).toEqual(perStep.steps); // epochs, step numbers, losses and rates, bit for bit
    expect(deferred.history).toEqual(perStep.history);
    expect(deferred.weights).toEqual(perStep.weights);
    expect(perStep.steps.map((s) => s.step)).toEqual(Array.from({ length: 27 }, (_, k) => k + 1));
  });

  it('matches the float64 engine step by step, per-series models included', async () => {
    const per = seriesWindows(sines(5, 20), 6, { perSeries: true }); // 13 windows per series, batches of 3: 5 steps an epoch
    const options: Options = {
      loss: { kind: 'mse' },
      optimizer: { kind: 'adam', lr: 0.02 },
      clip: { kind: 'norm', maxNorm: 0.5 },
      batchSize: 3,
      seed: 5,
      series: 5,
      readbackEvery: 2,
    };
    const cpu = await Trainer.create(net({ cell: 'gru' }), { ...options, backend: cpuBackend });
    const dev = await Trainer.create(net({ cell: 'gru' }), { ...options, backend: gpu.backend });
    const lossCpu: Float64Array[] = [];
    const lossGpu: Float64Array[] = [];
    // One epoch, 5 steps in 3 readbacks: float32 drifts from float64 step by step (the other GPU
    // training tests keep to a few steps too).
    await cpu.fit(per, { epochs: 1, onStep: (e) => void lossCpu.push(e.losses) });
    await withErrorScope(gpu.backend.device, () => dev.fit(per, { epochs: 1, onStep: (e) => void lossGpu.push(e.losses) }));
    expect(lossGpu.length).toBe(5);
    expect(lossGpu.length).toBe(lossCpu.length);
    lossGpu.forEach((l, k) => expectClose(l, lossCpu[k]!, { atol: 1e-6, rtol: 1e-5 }, `step ${k + 1}: each model's loss`));
    const models = await dev.allModels();
    for (const [s, m] of models.entries()) {
      expectClose(
        flattenParams(m.layers()),
        flattenParams((await cpu.model(s)).layers()),
        { atol: 2e-5, rtol: 2e-4 },
        `model ${s}: weights`,
      );
    }
    dev.dispose();
  });

  it('stops a diverging run with the NumericError of per-step readback, and the engine trains on after it', async () => {
    const options: Options = { loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 1e25 }, batchSize: 8, seed: 1 };
    const fail = async (readbackEvery: number) => {
      const trainer = await Trainer.create(net({ cell: 'rnn' }), { ...options, backend: gpu.backend, readbackEvery });
      const seen: number[] = [];
      const err = await trainer.fit(data, { epochs: 2, onStep: (e) => void seen.push(e.step) }).catch((e: unknown) => e);
      // The engine is left clean: a second fit's first readback holds only its own steps.
      const again = await trainer.fit(data, { epochs: 1 }).catch((e: unknown) => e);
      trainer.dispose();
      return { err, seen, again };
    };
    const perStep = await fail(1);
    const deferred = await fail(5);
    expect(perStep.err).toBeInstanceOf(NumericError);
    expect(deferred.err).toBeInstanceOf(NumericError);
    expect((deferred.err as Error).message).toBe((perStep.err as Error).message);
    expect((perStep.err as Error).message).toMatch(/^training step \d+ \(epoch 1\): the loss is/);
    // onStep saw the same finite steps before the one that diverged.
    expect(deferred.seen).toEqual(perStep.seen);
    expect(deferred.again).toBeInstanceOf(NumericError);
    expect((deferred.again as Error).message).toMatch(/^training step \d+ \(epoch 1\)/);
  });

  it('stops queueing when aborted and reports every step it took', async () => {
    const trainer = await Trainer.create(net(), {
      backend: gpu.backend,
      loss: { kind: 'mse' },
      optimizer: { kind: 'adam', lr: 0.01 },
      batchSize: 8,
      readbackEvery: 3,
    });
    const stop = new AbortController();
    const steps: number[] = [];
    const history = await trainer.fit(data, {
      epochs: 5,
      signal: stop.signal,
      onStep: (e) => {
        steps.push(e.step);
        if (e.step === 2) stop.abort();
      },
    });
    // Blocks of 3: the abort in step 2's report comes while steps 4–6 are queued; they complete.
    expect(steps).toEqual([1, 2, 3, 4, 5, 6]);
    expect(history.steps.length).toBe(6);
    expect(history.epochs.length).toBe(1);
    expect((await trainer.optimizerState())[0]!.step).toBe(6);
    trainer.dispose();
  });
});

describe('contraction layouts', () => {
  const grid = 65535;
  it('runs a product with few p and many q transposed on the direct entry point', () => {
    // The head's dWeight [O = 1, H = 8] over 98,304 rows: out[p, q] at p·8 + q.
    const d = contractionDispatch(
      {
        a: { buffer: 'dout', row: 1, col: 1 },
        b: { buffer: 'h', row: 8, col: 1 },
        out: { buffer: 'g', p: 8, q: 1 },
        p: 1,
        q: 8,
        rows: 98304,
      },
      grid,
    );
    expect(d.kernel.entryPoint).toBe('main_direct');
    expect(d.bind).toEqual({ a: 'h', b: 'dout', out: 'g' }); // operands swapped
    expect([d.uniforms.p_size, d.uniforms.q_size]).toEqual([8, 1]); // P and Q swapped
    expect([d.uniforms.o_p, d.uniforms.o_q]).toEqual([1, 8]); // and the output's strides
  });

  it('keeps the staged workgroup no larger than the output needs', () => {
    // dR of an LSTM H = 8: P = 32, Q = 8 → 8 × 2 invocations of 4 × 4 outputs, not 8 × 8.
    const d = contractionDispatch(
      {
        a: { buffer: 'dg', row: 32, col: 1 },
        b: { buffer: 'h', row: 8, col: 1 },
        out: { buffer: 'g', p: 8, q: 1 },
        p: 32,
        q: 8,
        rows: 4096,
      },
      grid,
    );
    expect(d.kernel.entryPoint).toBe('main');
    expect(d.constants).toMatchObject({ WORKGROUP_SIZE: 16, WG_Q: 2 });
  });

  it('sums chunks of a few rows directly', () => {
    const d = contractionDispatch(
      {
        a: { buffer: 'dout', row: 1, col: 1 },
        b: { buffer: 'w', row: 8, col: 1 },
        out: { buffer: 'dy', p: 8, q: 1 },
        p: 98304,
        q: 8,
        rows: 1,
      },
      grid,
    );
    expect(d.kernel.entryPoint).toBe('main_direct');
  });
});

describe("the backends' batch limits", () => {
  it('cap the auto batch by the adapter kind and by what one binding holds', () => {
    const stack = net({ hiddenSize: 8 }).layers();
    const limits = gpu.backend.trainingBatchLimits(stack, 24);
    expect(limits.maxBatch).toBe(gpu.backend.software ? SOFTWARE_MAX_BATCH : 16384);
    expect(autoBatchSize(660_000, limits)).toBe(gpu.backend.software ? 4096 : 4096);
    // A 1 MiB binding: the LSTM's forward keeps 24 steps × 6 saved values × 8 units per window.
    const small = WebGPUBackend.fromContext(gpu.backend.gpu, { maxBindingBytes: 2 ** 20 });
    expect(small.trainingBatchLimits(stack, 24).maxBatch).toBe(128);
    small.dispose();
    expect(cpuBackend.trainingBatchLimits(stack, 24)).toEqual({ maxBatch: BASE_BATCH });
  });
});
