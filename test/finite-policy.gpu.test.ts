import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backends/backend.ts';
import { cpuBackend } from '../src/backends/cpu.ts';
import { ConfigError, NumericError, ShapeError } from '../src/errors.ts';
import { ElmanRNN } from '../src/model/elman.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import { recurrentLayerSpec, type CellType } from '../src/rnn/spec.ts';
import { samples } from '../src/train/data.ts';
import { Trainer } from '../src/train/trainer.ts';
import { tensor } from '../src/tensor.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';
import { createGpuFixture, type GpuFixture } from './helpers/gpu.ts';
import { randomLayerCase } from './helpers/random.ts';

// One policy for values that are not finite float32 numbers, the same on the float64 CPU reference
// and on WebGPU (src/util/finite.ts): inputs holding NaN, ±Infinity or a finite value beyond float32
// are refused with a ShapeError naming the tensor and the index, before any GPU work; outputs that
// overflow are a NumericError. Before this, tanh-Elman, LSTM and GRU on the GPU returned finite
// numbers for NaN input (−1 for GRU) where the reference returned NaN, and ReLU-Elman turned NaN
// finite on both. Runs in Node and in Chromium.

let gpu: GpuFixture;
beforeAll(async () => {
  gpu = await createGpuFixture();
});
afterAll(() => gpu?.backend.dispose());

const backends = (): Array<[string, Backend]> => [
  ['cpu', cpuBackend],
  ['webgpu', gpu.backend],
];

const MODELS: Array<[string, { cell: CellType; nonlinearity?: 'tanh' | 'relu' }]> = [
  ['tanh Elman', { cell: 'rnn', nonlinearity: 'tanh' }],
  ['ReLU Elman', { cell: 'rnn', nonlinearity: 'relu' }],
  ['LSTM', { cell: 'lstm' }],
  ['GRU', { cell: 'gru' }],
];

/** A [B, T, I] input of seeded values with `bad` written at flat index `at`. */
function inputWith(bad: number, at: number, B = 3, T = 4, I = 2, Array: Float32ArrayConstructor | Float64ArrayConstructor = Float64Array) {
  const data = Array.from(uniformArray(mulberry32(7), B * T * I, -1, 1));
  data[at] = bad;
  return tensor(data, [B, T, I]);
}

describe('non-finite inputs, one policy for both backends', () => {
  for (const [label, cell] of MODELS) {
    for (const bad of [NaN, Infinity, -Infinity]) {
      it(`${label}: RecurrentNet.forward refuses ${bad} in the input on both backends, naming the index`, async () => {
        const net = RecurrentNet.create({ ...cell, inputSize: 2, hiddenSize: 5, outputSize: 1 }, { seed: 3 });
        for (const [name, backend] of backends()) {
          const buffers = gpu.backend.pool.liveBuffers;
          const call = net.forward(inputWith(bad, 13), { backend });
          await expect(call, name).rejects.toThrow(ShapeError);
          await expect(net.forward(inputWith(bad, 13), { backend }), name).rejects.toThrow(
            `input holds a non-finite value (${bad}) at index 13 [1, 2, 1]: inputs must be finite`,
          );
          expect(gpu.backend.pool.liveBuffers, `${name}: no GPU buffer was made`).toBe(buffers);
        }
      });
    }
  }

  it('refuses a finite value beyond float32 (1e39 in a Float64Array) on both backends, which the GPU would read as Infinity', async () => {
    const net = RecurrentNet.create({ cell: 'gru', inputSize: 2, hiddenSize: 4, outputSize: 1 }, { seed: 1 });
    for (const [name, backend] of backends()) {
      await expect(net.forward(inputWith(1e39, 5), { backend }), name).rejects.toThrow(
        /input holds 1e\+39 at index 5 \[0, 2, 1\], beyond float32's range/,
      );
    }
  });

  it('refuses NaN in initial states, in ElmanRNN inputs and h0, and in forecast covariates', async () => {
    const elman = new ElmanRNN({ inputSize: 2, hiddenSize: 4, outputSize: 1, nonlinearity: 'relu' }, { seed: 2 });
    const net = RecurrentNet.create({ cell: 'lstm', inputSize: 2, hiddenSize: 4, outputSize: 1 }, { seed: 2 });
    const h0 = tensor(new Float32Array(4 * 3).fill(0.1), [1, 3, 4]);
    const nanState = tensor(
      Float32Array.from({ length: 12 }, (_, i) => (i === 7 ? NaN : 0)),
      [1, 3, 4],
    );
    for (const [name, backend] of backends()) {
      await expect(elman.forward(inputWith(NaN, 0), { backend }), name).rejects.toThrow(
        /input holds a non-finite value \(NaN\) at index 0/,
      );
      await expect(elman.forward(inputWith(0, 0), { backend, h0: nanState }), name).rejects.toThrow(
        /h0 holds a non-finite value \(NaN\) at index 7 \[0, 1, 3\]/,
      );
      await expect(net.forward(inputWith(0, 0), { backend, h0, c0: nanState }), name).rejects.toThrow(
        /c0 holds a non-finite value \(NaN\) at index 7/,
      );
      // The backend entry points check too (the ONNX interpreter and per-series models call them directly).
      const c = randomLayerCase(41, { cell: 'gru', batch: 2, steps: 3, initialStates: true });
      const X = c.inputs.X.slice();
      X[4] = NaN;
      await expect(backend.recurrentLayer(c.spec, c.weights, { ...c.inputs, X }), name).rejects.toThrow(
        /X holds a non-finite value \(NaN\) at index 4/,
      );
      const initialH = c.inputs.initialH!.slice();
      initialH[1] = -Infinity;
      await expect(backend.recurrentLayer(c.spec, c.weights, { ...c.inputs, initialH }), name).rejects.toThrow(
        /initial_h holds a non-finite value \(-Infinity\) at index 1/,
      );
    }
    const withExog = RecurrentNet.create({ cell: 'gru', inputSize: 2, hiddenSize: 4, outputSize: 1 }, { seed: 4 });
    const history = uniformArray(mulberry32(3), 2 * 5 * 2, -1, 1);
    const futureExog = Float32Array.from([0, 0, 0, NaN, 0, 0]);
    for (const [name, backend] of backends()) {
      await expect(
        backend.recurrentForecast!(withExog.layers(), { history, batch: 2, steps: 5, horizon: 3, futureExog }),
        name,
      ).rejects.toThrow(/futureExog holds a non-finite value \(NaN\) at index 3 \[1, 0, 0\]/);
    }
    expect(gpu.uncaptured).toEqual([]);
  });
});

describe('outputs that overflow float32, one policy for both backends', () => {
  it('a ReLU Elman whose state grows past float32 is a NumericError on both backends, not Infinity', async () => {
    // Finite inputs and weights: h_t = relu(10·x + 10·h_{t−1}) grows tenfold a step, past 3.4e38 by
    // step 40, which float32 holds as Infinity and float64 as a value float32 cannot hold.
    const net = RecurrentNet.create({ cell: 'rnn', nonlinearity: 'relu', inputSize: 1, hiddenSize: 1, outputSize: 1 }, { seed: 0 });
    const sd = net.stateDict();
    const set = (name: string, v: number, shape: number[]) => (sd[name] = { data: Float32Array.of(v), shape });
    set('rnn.weight_ih_l0', 10, [1, 1]);
    set('rnn.weight_hh_l0', 10, [1, 1]);
    set('rnn.bias_ih_l0', 0, [1]);
    set('rnn.bias_hh_l0', 0, [1]);
    set('head.weight', 1, [1, 1]);
    set('head.bias', 0, [1]);
    const exploding = RecurrentNet.fromStateDict(sd, { nonlinearity: 'relu' });
    const x = tensor(new Float32Array(50).fill(1), [1, 50, 1]);
    for (const [name, backend] of backends()) {
      await expect(exploding.forward(x, { backend }), name).rejects.toThrow(NumericError);
      await expect(exploding.forward(x, { backend }), name).rejects.toThrow(/overflows float32/);
    }
    // The same network over 20 steps stays below 3.4e38 and both backends agree.
    const short = tensor(new Float32Array(20).fill(1), [1, 20, 1]);
    const cpu = (await exploding.forward(short, { backend: cpuBackend })).output.data;
    const gpuOut = (await exploding.forward(short, { backend: gpu.backend })).output.data;
    expect(Number.isFinite(gpuOut.at(-1))).toBe(true);
    expect(Math.abs(gpuOut.at(-1)! - cpu.at(-1)!) / cpu.at(-1)!).toBeLessThan(1e-5);
    expect(gpu.uncaptured).toEqual([]);
  });
});

describe('malformed arguments to the backends are typed errors (found by the fuzzing suite)', () => {
  it('X, states and covariates that are not float arrays, a bad activations list, a horizon too long to allocate', async () => {
    const stack = RecurrentNet.create({ cell: 'rnn', inputSize: 1, hiddenSize: 1, outputSize: 1 }).layers();
    const ok = { X: new Float32Array(1), batch: 1, steps: 1, sequenceLens: null, initialH: [null], initialC: [null] };
    for (const [name, backend] of backends()) {
      await expect(backend.recurrentStack(stack, { ...ok, X: null as never }), name).rejects.toThrow(
        new ShapeError('X must be a Float32Array or Float64Array, got null'),
      );
      await expect(backend.recurrentStack(stack, { ...ok, X: [0] as never }), name).rejects.toThrow(
        'X must be a Float32Array or Float64Array, got an array',
      );
      await expect(backend.recurrentStack(stack, { ...ok, initialH: [[0]] as never }), name).rejects.toThrow(
        'initial_h must be a Float32Array or Float64Array',
      );
      await expect(backend.recurrentStack(stack, { ...ok, initialH: null as never }), name).rejects.toThrow(
        /initial states must be arrays/,
      );
      await expect(backend.recurrentStack(null as never, ok), name).rejects.toThrow(/models must be a stack/);
      await expect(
        backend.recurrentStack([stack, stack], { ...ok, X: new Float32Array(2), batch: 2, sequenceLens: [1, 1] as never }),
        name,
      ).rejects.toThrow('sequence_lens must be an Int32Array or null');
      await expect(
        backend.recurrentForecast!(stack, { history: new Float32Array(1), batch: 1, steps: 1, horizon: 2 ** 33, futureExog: null }),
        name,
      ).rejects.toThrow(/the horizon must be a positive integer up to 1048576, got 8589934592/);
      await expect(
        backend.recurrentForecast!(stack, { history: new Float32Array(4096), batch: 4096, steps: 1, horizon: 2 ** 20, futureExog: null }),
        name,
      ).rejects.toThrow(/holds more than 1073741824 values: forecast fewer sequences at a time/);
      await expect(
        backend.recurrentForecast!(stack, { history: new Float32Array(1), batch: 1, steps: 1, horizon: 1, futureExog: [0] as never }),
        name,
      ).rejects.toThrow('futureExog must be a Float32Array or Float64Array, got an array');
    }
    expect(() => recurrentLayerSpec({ cell: 'rnn', inputSize: 1, hiddenSize: 1, activations: 'Tanh' as never })).toThrow(ConfigError);
    expect(() => recurrentLayerSpec({ cell: 'rnn', inputSize: 1, hiddenSize: 1, activations: [null] as never })).toThrow(
      /activations must be an array of names/,
    );
    expect(() => recurrentLayerSpec(null as never)).toThrow(ConfigError);
    expect(() => samples({ x: new Float32Array(1), y: null as never, count: 1, steps: 1, inputSize: 1, outputSize: 1 })).toThrow(
      new ShapeError('y must be a Float32Array or Float64Array, got null'),
    );
    expect(gpu.uncaptured).toEqual([]);
  });
});

describe('training that leaves float32, one policy for both engines', () => {
  it('stops at the first step whose loss float32 cannot hold, with a NumericError naming the step', async () => {
    // Targets of 1e38 are finite float32 values, but their squared error (1e76) is not: the float64
    // engine used to train on with losses of 1e76 and the GPU engine with Infinity, the error coming
    // only later as a WeightError from trainer.model().
    const data = samples({ x: Float32Array.of(0.5), y: Float32Array.of(1e38), count: 1, steps: 1, inputSize: 1, outputSize: 1 });
    for (const [name, backend] of backends()) {
      const net = RecurrentNet.create({ cell: 'rnn', inputSize: 1, hiddenSize: 1, outputSize: 1 }, { seed: 1 });
      const trainer = await Trainer.create(net, { backend, loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 1e-3 }, batchSize: 1 });
      try {
        await expect(trainer.fit(data, { epochs: 3 }), name).rejects.toThrow(NumericError);
        await expect(trainer.fit(data, { epochs: 3 }), name).rejects.toThrow(
          /^training step 1 \(epoch 1\): the loss is .*, beyond float32's range: the network diverged/,
        );
      } finally {
        trainer.dispose();
      }
    }
  });

  it('refuses thresholds the GPU would read as "none": clip, Adam ε and gradient clipping below float32\'s smallest normal', async () => {
    expect(() => recurrentLayerSpec({ cell: 'rnn', inputSize: 1, hiddenSize: 1, clip: 1e-300 })).toThrow(
      /clip must be a finite number ≥ 2⁻¹²⁶/,
    );
    expect(() => recurrentLayerSpec({ cell: 'rnn', inputSize: 1, hiddenSize: 1, clip: 2 ** -126 })).not.toThrow();
    const net = RecurrentNet.create({ cell: 'rnn', inputSize: 1, hiddenSize: 1, outputSize: 1 });
    const create = (o: Partial<Parameters<typeof Trainer.create>[1]>) =>
      Trainer.create(net, { backend: cpuBackend, loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 0.1 }, batchSize: 1, ...o });
    await expect(create({ optimizer: { kind: 'adam', lr: 0.01, eps: 0 } })).rejects.toThrow(
      /eps must be a finite number ≥ 1\.1754943508222875e-38, got 0/,
    );
    await expect(create({ clip: { kind: 'value', clipValue: 1e-320 } })).rejects.toThrow(/clipValue must be a finite number ≥/);
    await expect(create({ clip: { kind: 'value', clipValue: 1e-30 } })).resolves.toBeInstanceOf(Trainer);
    await expect(create({ clip: { kind: 'norm', maxNorm: 0 } })).rejects.toThrow(/maxNorm must be a finite number ≥/);
  });

  it("backend.recurrentLayer refuses X: null (only a stack's later layers are fed on the device)", async () => {
    const spec = recurrentLayerSpec({ cell: 'rnn', inputSize: 1, hiddenSize: 1 });
    const weights = { W: new Float32Array(1), R: new Float32Array(1), B: null, P: null };
    for (const [name, backend] of backends()) {
      await expect(
        backend.recurrentLayer(spec, weights, { X: null as never, batch: 1, steps: 1, sequenceLens: null, initialH: null, initialC: null }),
        name,
      ).rejects.toThrow(new ShapeError('X must be a Float32Array or Float64Array, got null'));
      await expect(
        backend.recurrentForecast!(RecurrentNet.create({ cell: 'rnn', inputSize: 1, hiddenSize: 1, outputSize: 1 }).layers(), {
          history: [0] as never,
          batch: 1,
          steps: 1,
          horizon: 1,
          futureExog: null,
        }),
        name,
      ).rejects.toThrow('history must be a Float32Array or Float64Array, got an array');
    }
  });
});
