import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecurrentLayerBackwardResult, RecurrentStackBackwardResult } from '../src/backends/backend.ts';
import { cpuBackend } from '../src/backends/cpu.ts';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { ShapeError, WeightError } from '../src/errors.ts';
import { contractionDispatch, ONES_BUFFER, ONES_DATA, rowReduction, type Contraction } from '../src/gpu/kernels/backward/grad-contract.ts';
import { planRecurrentBackward } from '../src/gpu/kernels/backward/plan.ts';
import type { RecurrentKernelChoice } from '../src/gpu/kernels/forward/plan.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import type { TorchRecurrentOptions } from '../src/model/torch-modules.ts';
import type { RecurrentLayerGrads, RecurrentLayerOutputGrads } from '../src/rnn/backward.ts';
import { numDirections, type CellType, type RecurrentLayerSpec } from '../src/rnn/spec.ts';
import type { RecurrentStackInputs } from '../src/rnn/stack.ts';
import type { FloatArray } from '../src/tensor.ts';
import { FLOAT32_TOLERANCE, expectClose } from '../src/util/compare.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';
import { createGpuFixture, withErrorScope, type GpuFixture } from './helpers/gpu.ts';
import { randomLayerCase, type LayerCaseOptions, type RandomLayerCase } from './helpers/random.ts';

// Backpropagation through time on the GPU (forward with saving, shaders/backward/recurrent_backward_*.wgsl,
// the reductions of shaders/backward/grad_contract.wgsl) against the float64 reference
// (src/reference/recurrent-layer-backward.ts, recurrent-stack-backward.ts), on seeded random
// configurations: every cell × direction, lengths including 0, initial states, gradients into the
// final states, activations with alpha/beta, clip, linear_before_reset both ways, input_forget,
// peepholes, both layouts, odd sizes; each case on the tiled and the sequential kernels, and split
// into batch chunks and time segments. Output buffers are filled with NaN before each dispatch.

let gpu: GpuFixture;
const kernels: Array<[RecurrentKernelChoice, WebGPUBackend]> = [];
const split: Array<[RecurrentKernelChoice, WebGPUBackend]> = [];

beforeAll(async () => {
  gpu = await createGpuFixture();
  for (const kernel of ['tile', 'sequential'] as const) {
    kernels.push([kernel, WebGPUBackend.fromContext(gpu.backend.gpu, { poisonOutputs: true, recurrentKernel: kernel })]);
    // 16 KiB bindings and 3 steps per dispatch: several chunks of several segments, the partial
    // sums of the reductions capped by the binding size too.
    split.push([
      kernel,
      WebGPUBackend.fromContext(gpu.backend.gpu, {
        poisonOutputs: true,
        recurrentKernel: kernel,
        maxBindingBytes: 16 * 1024,
        maxStepsPerDispatch: 3,
      }),
    ]);
  }
});

afterAll(() => {
  for (const [, backend] of [...kernels, ...split]) backend.dispose();
  gpu?.backend.dispose();
});

/** Seeded gradients of a loss with respect to Y and, when asked, the final states. */
function outputGrads(c: RandomLayerCase, seed: number, states: boolean): RecurrentLayerOutputGrads {
  const r = mulberry32(seed);
  const n = numDirections(c.spec) * c.inputs.batch * c.spec.hiddenSize;
  return {
    dY: uniformArray(r, c.inputs.steps * n, -1, 1),
    dY_h: states ? uniformArray(r, n, -1, 1) : null,
    dY_c: states && c.spec.cell === 'lstm' ? uniformArray(r, n, -1, 1) : null,
  };
}

const GRAD_NAMES = ['dW', 'dR', 'dB', 'dP', 'dX', 'dInitialH', 'dInitialC'] as const;

function expectGradsClose(got: RecurrentLayerGrads, want: RecurrentLayerGrads, label: string): void {
  for (const name of GRAD_NAMES) {
    const [g, w] = [got[name], want[name]];
    if (w === null) expect(g, `${label}: ${name}`).toBeNull();
    else expectClose(g!, w, FLOAT32_TOLERANCE, `${label}: ${name}`);
  }
}

function expectLayerClose(got: RecurrentLayerBackwardResult, want: RecurrentLayerBackwardResult, label: string): void {
  expect(got.grads.dW).toBeInstanceOf(Float32Array);
  expectClose(got.outputs.Y, want.outputs.Y, FLOAT32_TOLERANCE, `${label}: Y`);
  expectClose(got.outputs.Y_h, want.outputs.Y_h, FLOAT32_TOLERANCE, `${label}: Y_h`);
  if (want.outputs.Y_c) expectClose(got.outputs.Y_c!, want.outputs.Y_c, FLOAT32_TOLERANCE, `${label}: Y_c`);
  expectGradsClose(got.grads, want.grads, label);
}

async function checkLayer(c: RandomLayerCase, og: RecurrentLayerOutputGrads, backends = kernels): Promise<void> {
  const want = await cpuBackend.recurrentLayerBackward(c.spec, c.weights, c.inputs, og);
  for (const [kernel, backend] of backends) {
    const got = await withErrorScope(backend.device, () => backend.recurrentLayerBackward(c.spec, c.weights, c.inputs, og));
    expectLayerClose(got, want, `${c.name} (${kernel} kernel)`);
  }
}

describe('GPU backpropagation through time of one recurrent layer', () => {
  // Every cell × direction with lengths (0 and T among them), initial states and final-state
  // gradients; odd B and H.
  const grid: LayerCaseOptions[] = [];
  for (const cell of ['rnn', 'gru', 'lstm'] as const) {
    for (const direction of ['forward', 'reverse', 'bidirectional'] as const) {
      grid.push({ cell, direction, layout: 1, lengths: 'random', initialStates: true, batch: 5, steps: 6, hiddenSize: 5 });
    }
  }
  grid.forEach((options, i) => {
    const c = randomLayerCase(8000 + i, options);
    it(`matches the float64 reference: ${c.name}`, () => checkLayer(c, outputGrads(c, 8100 + i, true)));
  });

  // Options the grid leaves to chance, each forced once; dY only, or dY with the final states.
  const forced: LayerCaseOptions[] = [
    { cell: 'gru', linearBeforeReset: false, direction: 'reverse', activations: ['HardSigmoid', 'Softsign'], clip: 0.9 },
    { cell: 'gru', linearBeforeReset: true, direction: 'bidirectional', activations: ['Sigmoid', 'Elu', 'ScaledTanh', 'Softplus'] },
    { cell: 'lstm', inputForget: true, peepholes: true, direction: 'bidirectional', lengths: 'random' },
    { cell: 'lstm', peepholes: true, clip: 1.2, initialStates: true, lengths: 'random', batch: 7 },
    { cell: 'lstm', bias: false, activations: ['Sigmoid', 'Affine', 'Softsign'], layout: 0, direction: 'bidirectional' },
    { cell: 'rnn', activations: ['Relu'], bias: false, layout: 0, lengths: 'random' },
    { cell: 'rnn', direction: 'bidirectional', activations: ['LeakyRelu', 'Tanh'], initialStates: false },
  ];
  forced.forEach((options, i) => {
    const c = randomLayerCase(8200 + i, options);
    it(`forced option: ${c.name}`, () => checkLayer(c, outputGrads(c, 8300 + i, i % 2 === 0)));
  });

  // Sizes: one sequence of one step and one unit, a batch of 1, a long sequence, H past a multiple of 4.
  const sizes: LayerCaseOptions[] = [
    { cell: 'lstm', batch: 1, steps: 1, hiddenSize: 1, inputSize: 1, direction: 'reverse', initialStates: true },
    { cell: 'gru', batch: 1, steps: 9, hiddenSize: 7, inputSize: 2, linearBeforeReset: true, initialStates: true },
    {
      cell: 'gru',
      batch: 3,
      steps: 100,
      hiddenSize: 9,
      inputSize: 2,
      direction: 'bidirectional',
      lengths: 'random',
      activations: ['Sigmoid', 'Tanh'],
    },
    { cell: 'rnn', batch: 33, steps: 12, hiddenSize: 13, inputSize: 6, activations: ['Tanh'], lengths: 'random' },
  ];
  sizes.forEach((options, i) => {
    const c = randomLayerCase(8400 + i, options);
    it(`size: ${c.name}`, () => checkLayer(c, outputGrads(c, 8500 + i, true)));
  });

  // Split: batches in chunks whose parameter gradients are summed across programs; time segments
  // with dh, dc carried backwards between submissions.
  const splitCases: LayerCaseOptions[] = [
    {
      cell: 'lstm',
      direction: 'bidirectional',
      batch: 40,
      steps: 10,
      hiddenSize: 6,
      inputSize: 3,
      lengths: 'random',
      initialStates: true,
      peepholes: true,
    },
    {
      cell: 'gru',
      direction: 'reverse',
      batch: 37,
      steps: 11,
      hiddenSize: 5,
      lengths: 'random',
      linearBeforeReset: false,
      initialStates: true,
    },
    { cell: 'rnn', direction: 'forward', batch: 40, steps: 7, hiddenSize: 6, layout: 0, lengths: 'random' },
  ];
  splitCases.forEach((options, i) => {
    const c = randomLayerCase(8600 + i, options);
    it(`split into chunks and segments: ${c.name}`, () => checkLayer(c, outputGrads(c, 8700 + i, true), split));
  });

  it('runs the sequential kernels when H exceeds a workgroup', async () => {
    const limits = gpu.backend.device.limits;
    const c = randomLayerCase(8800, {
      cell: 'rnn',
      batch: 2,
      steps: 2,
      inputSize: 2,
      hiddenSize: limits.maxComputeInvocationsPerWorkgroup + 1,
      activations: ['Tanh'],
      lengths: 'none',
      initialStates: true,
    });
    expect(planRecurrentBackward(c.spec, false, 2, limits).kernel).toBe('sequential');
    await checkLayer(c, outputGrads(c, 8801, true), [['auto', gpu.backend]]);
  });
});

interface StackCase {
  options: TorchRecurrentOptions & { cell: CellType; inputSize: number; hiddenSize: number };
  B: number;
  T: number;
  states: boolean;
  lengths: boolean;
  stateGrads: boolean;
}

const STACKS: StackCase[] = [
  {
    options: { cell: 'lstm', inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, outputSize: 2 },
    B: 5,
    T: 7,
    states: true,
    lengths: true,
    stateGrads: true,
  },
  {
    options: { cell: 'gru', inputSize: 2, hiddenSize: 6, numLayers: 2, outputSize: 1 },
    B: 9,
    T: 5,
    states: false,
    lengths: true,
    stateGrads: false,
  },
  {
    options: { cell: 'rnn', nonlinearity: 'relu', inputSize: 1, hiddenSize: 3, numLayers: 2, bidirectional: true },
    B: 6,
    T: 8,
    states: true,
    lengths: false,
    stateGrads: true,
  },
];

function stackCase(c: StackCase, seed: number) {
  const stack = RecurrentNet.create(c.options, { seed }).layers();
  const r = mulberry32(seed + 1);
  const width = (spec: RecurrentLayerSpec) => c.B * numDirections(spec) * spec.hiddenSize;
  const lstm = c.options.cell === 'lstm';
  const inputs: RecurrentStackInputs = {
    X: uniformArray(r, c.B * c.T * c.options.inputSize, -1, 1),
    batch: c.B,
    steps: c.T,
    sequenceLens: c.lengths
      ? Int32Array.from({ length: c.B }, (_, b) => (b === 0 ? 0 : b === 1 ? c.T : Math.floor(r() * (c.T + 1))))
      : null,
    initialH: stack.layers.map(({ spec }) => (c.states ? uniformArray(r, width(spec), -0.5, 0.5) : null)),
    initialC: stack.layers.map(({ spec }) => (c.states && lstm ? uniformArray(r, width(spec), -0.5, 0.5) : null)),
  };
  const last = stack.layers.at(-1)!.spec;
  const outFeatures = stack.head ? stack.head.outputSize : numDirections(last) * last.hiddenSize;
  const dY = uniformArray(r, c.B * c.T * outFeatures, -1, 1);
  const stateGrads = c.stateGrads
    ? {
        dY_h: stack.layers.map(({ spec }) => uniformArray(r, width(spec), -1, 1)),
        dY_c: stack.layers.map(({ spec }) => (lstm ? uniformArray(r, width(spec), -1, 1) : null)),
      }
    : {};
  return { stack, inputs, dY, stateGrads, name: RecurrentNet.create(c.options, { seed }).description };
}

function expectStackClose(got: RecurrentStackBackwardResult, want: RecurrentStackBackwardResult, label: string): void {
  expectClose(got.outputs.Y, want.outputs.Y, FLOAT32_TOLERANCE, `${label}: Y`);
  got.outputs.Y_h.forEach((y, k) => expectClose(y, want.outputs.Y_h[k]!, FLOAT32_TOLERANCE, `${label}: Y_h[${k}]`));
  want.grads.layers.forEach((w, k) => expectGradsClose(got.grads.layers[k]!, w, `${label}: layer ${k}`));
  if (want.grads.head) {
    expectClose(got.grads.head!.dWeight, want.grads.head.dWeight, FLOAT32_TOLERANCE, `${label}: head dWeight`);
    expectClose(got.grads.head!.dBias!, want.grads.head.dBias!, FLOAT32_TOLERANCE, `${label}: head dBias`);
  } else {
    expect(got.grads.head).toBeNull();
  }
  expect(got.dX).toBe(got.grads.layers[0]!.dX);
}

describe('GPU backpropagation through time of a stack and its head (one program)', () => {
  STACKS.forEach((c, i) => {
    const { name } = stackCase(c, 9000 + i);
    const label = `${name} B=${c.B} T=${c.T}${c.states ? ' h0' : ''}${c.lengths ? ' lengths' : ''}${c.stateGrads ? ' dY_h' : ''}`;
    for (const [how, backends] of [
      ['one program', () => kernels],
      ['split', () => split],
    ] as const) {
      it(`${label}: ${how}`, async () => {
        const { stack, inputs, dY, stateGrads } = stackCase(c, 9000 + i);
        const want = await cpuBackend.recurrentStackBackward(stack, inputs, dY, stateGrads);
        for (const [kernel, backend] of backends()) {
          const got = await withErrorScope(backend.device, () => backend.recurrentStackBackward(stack, inputs, dY, stateGrads));
          expectStackClose(got, want, `${label} (${kernel} kernel)`);
        }
      });
    }
  });

  it('gives bit-identical gradients every run (no atomics), allocates nothing new and releases every buffer', async () => {
    const { stack, inputs, dY, stateGrads } = stackCase(STACKS[0]!, 9000);
    const backend = split[0]![1];
    const first = await backend.recurrentStackBackward(stack, inputs, dY, stateGrads);
    const buffers = backend.pool.liveBuffers;
    for (let i = 0; i < 2; i++) {
      const again = await backend.recurrentStackBackward(stack, inputs, dY, stateGrads);
      again.grads.layers.forEach((g, k) => {
        for (const name of GRAD_NAMES)
          expect(Array.from(g[name] ?? []), `layer ${k} ${name}`).toEqual(Array.from(first.grads.layers[k]![name] ?? []));
      });
      expect(Array.from(again.grads.head!.dWeight)).toEqual(Array.from(first.grads.head!.dWeight));
    }
    expect(backend.pool.liveBuffers).toBe(buffers);
    // Every buffer went back: trimming the free list destroys them all.
    backend.pool.trim();
    expect(backend.pool.liveBuffers).toBe(0);
  });

  it('rejects bad gradients, inputs and weights with typed errors before any GPU work', async () => {
    const { stack, inputs, dY } = stackCase(STACKS[1]!, 9001);
    const backend = gpu.backend;
    const buffers = backend.pool.liveBuffers;
    await expect(backend.recurrentStackBackward(stack, inputs, dY.subarray(1))).rejects.toThrow(
      new ShapeError(`dY has ${dY.length - 1} values but the output [9, 5, 1] has ${dY.length}`),
    );
    await expect(backend.recurrentStackBackward(stack, inputs, dY, { dY_h: [null] })).rejects.toThrow(
      /dY_h must be given per layer \(2\), got 1/,
    );
    await expect(backend.recurrentStackBackward(stack, { ...inputs, X: new Float32Array(3) }, dY)).rejects.toThrow(ShapeError);
    const c = randomLayerCase(9100, { cell: 'gru', batch: 2, steps: 3, hiddenSize: 3 });
    const og = outputGrads(c, 9101, false);
    await expect(backend.recurrentLayerBackward(c.spec, c.weights, c.inputs, { ...og, dY_c: new Float32Array(6) })).rejects.toThrow(
      new ShapeError('dY_c applies to LSTM only'),
    );
    await expect(
      backend.recurrentLayerBackward(c.spec, c.weights, c.inputs, { ...og, dY: new Float32Array(2) as FloatArray }),
    ).rejects.toThrow(ShapeError);
    await expect(backend.recurrentLayerBackward(c.spec, { ...c.weights, R: new Float32Array(1) }, c.inputs, og)).rejects.toThrow(
      WeightError,
    );
    expect(backend.pool.liveBuffers).toBe(buffers);
    expect(gpu.uncaptured).toEqual([]);
  });
});

describe('the gradient contraction (shaders/backward/grad_contract.wgsl)', () => {
  // out[p, q] = Σ_rows A[row, p]·B[row, q] over S sequences of T rows, A and B strided inside wider
  // rows: summed over everything (partial sums per chunk of 3 sequences, then their sum), and per
  // sequence (a chunk of one sequence each, no final sum: the per-series mode).
  const [S, T, P, width, bOffset] = [7, 5, 9, 13, 2];
  for (const Q of [1, 3, 5]) {
    it(`sums over all rows and per sequence, P = ${P}, Q = ${Q}`, async () => {
      const r = mulberry32(9500 + Q);
      const A = uniformArray(r, S * T * width, -1, 1);
      const B = uniformArray(r, S * T * (Q + bOffset), -1, 1);
      const want = new Float64Array(S * P * Q);
      for (let s = 0; s < S; s++) {
        for (let t = 0; t < T; t++) {
          const row = s * T + t;
          for (let p = 0; p < P; p++) {
            for (let q = 0; q < Q; q++) want[(s * P + p) * Q + q]! += A[row * width + 1 + p]! * B[row * (Q + bOffset) + bOffset + q]!;
          }
        }
      }
      const total = new Float64Array(P * Q).map((_, i) =>
        Array.from({ length: S }, (_, s) => want[s * P * Q + i]!).reduce((x, y) => x + y, 0),
      );
      const c: Contraction = {
        a: { buffer: 'a', offset: 1, row: width, col: 1 },
        b: { buffer: 'b', offset: bOffset, row: Q + bOffset, col: 1 },
        out: { buffer: 'total', p: Q, q: 1 },
        p: P,
        q: Q,
        rows: S * T,
      };
      const maxGrid = gpu.backend.device.limits.maxComputeWorkgroupsPerDimension;
      const summed = rowReduction(c, T, 3, 'partials', maxGrid);
      expect(summed.dispatches).toHaveLength(2);
      const perSeries = contractionDispatch({ ...c, rowsPerChunk: T, out: { buffer: 'series', chunk: P * Q, p: Q, q: 1 } }, maxGrid);
      const out = await withErrorScope(gpu.backend.device, () =>
        gpu.backend.runProgram({
          what: 'contractions',
          buffers: {
            a: { data: A },
            b: { data: B },
            [ONES_BUFFER]: { data: ONES_DATA },
            partials: { bytes: 4 * summed.partialFloats },
            total: { bytes: 4 * P * Q, read: true },
            series: { bytes: 4 * S * P * Q, read: true },
          },
          dispatches: [...summed.dispatches, perSeries],
        }),
      );
      expectClose(out.total!, total, FLOAT32_TOLERANCE, 'summed over every row');
      expectClose(out.series!, want, FLOAT32_TOLERANCE, 'per sequence');
    });
  }
});
