import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backends/cpu.ts';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { ShapeError } from '../src/errors.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import type { TorchRecurrentOptions } from '../src/model/torch-modules.ts';
import type { CellType } from '../src/rnn/spec.ts';
import { stackInputRows } from '../src/rnn/stack.ts';
import { tensor } from '../src/tensor.ts';
import { FLOAT32_TOLERANCE, expectClose } from '../src/util/compare.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';
import { createGpuFixture, withErrorScope, type GpuFixture } from './helpers/gpu.ts';

// Whole modules (layer stacks with an optional nn.Linear head) on the GPU in one program — layer k's
// output feeding layer k+1 on the device, the head as a kernel — against the float64 reference,
// directly and split (3000-byte bindings: every case runs as 2–3 batch chunks; 2 steps per
// dispatch), each also with the lanes kernel forced (it packs every layer's weights, of every
// model, into one scratch buffer before the layer runs: shaders/forward/recurrent_lanes.wgsl). Runs in
// Node and in Chromium.

let gpu: GpuFixture;
let split: WebGPUBackend;
let lanes: WebGPUBackend;
let lanesSplit: WebGPUBackend;

beforeAll(async () => {
  gpu = await createGpuFixture();
  split = WebGPUBackend.fromContext(gpu.backend.gpu, { poisonOutputs: true, maxBindingBytes: 3000, maxStepsPerDispatch: 2 });
  lanes = WebGPUBackend.fromContext(gpu.backend.gpu, { poisonOutputs: true, recurrentKernel: 'lanes' });
  // 8 KiB: the packed copy of the widest layer here (5 KiB) must fit one binding; per-series models
  // then run one or two models a chunk.
  lanesSplit = WebGPUBackend.fromContext(gpu.backend.gpu, {
    poisonOutputs: true,
    recurrentKernel: 'lanes',
    maxBindingBytes: 8192,
    maxStepsPerDispatch: 2,
  });
});

afterAll(() => {
  for (const b of [split, lanes, lanesSplit]) b?.dispose();
  gpu?.backend.dispose();
});

const BACKENDS = [
  ['one program', () => gpu.backend],
  ['split into chunks and segments', () => split],
  ['lanes kernel', () => lanes],
  ['lanes kernel, split', () => lanesSplit],
] as const;

interface Case {
  options: TorchRecurrentOptions & { cell: CellType; inputSize: number; hiddenSize: number };
  B: number;
  T: number;
  states?: boolean;
  lengths?: boolean;
}

const CASES: Case[] = [
  {
    options: { cell: 'lstm', inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, outputSize: 2 },
    B: 20,
    T: 7,
    states: true,
    lengths: true,
  },
  { options: { cell: 'gru', inputSize: 2, hiddenSize: 6, numLayers: 3, outputSize: 1 }, B: 33, T: 5, lengths: true },
  {
    options: { cell: 'rnn', nonlinearity: 'relu', inputSize: 1, hiddenSize: 4, numLayers: 2, bidirectional: true },
    B: 17,
    T: 9,
    states: true,
  },
  { options: { cell: 'rnn', inputSize: 4, hiddenSize: 3, outputSize: 3, batchFirst: false }, B: 70, T: 6, lengths: true },
  { options: { cell: 'lstm', inputSize: 2, hiddenSize: 8, bias: false, outputSize: 1, headBias: false }, B: 40, T: 4 },
  // H ≤ 4: the small kernel, with the head fused into the last layer (one direction) or not (two);
  // O > 4 takes the fused head's extra output chunks.
  { options: { cell: 'lstm', inputSize: 5, hiddenSize: 2, numLayers: 2, outputSize: 6 }, B: 45, T: 6, states: true, lengths: true },
  { options: { cell: 'gru', inputSize: 1, hiddenSize: 1, outputSize: 1 }, B: 130, T: 5, lengths: true },
  { options: { cell: 'rnn', nonlinearity: 'relu', inputSize: 1, hiddenSize: 1, outputSize: 1, headBias: false }, B: 9, T: 8 },
  { options: { cell: 'gru', inputSize: 3, hiddenSize: 3, bidirectional: true, outputSize: 2 }, B: 21, T: 5, states: true, lengths: true },
];

function build(c: Case, seed: number) {
  const model = RecurrentNet.create(c.options, { seed });
  const rand = mulberry32(seed + 1);
  const { inputSize: I, hiddenSize: H } = c.options;
  const L = c.options.numLayers ?? 1;
  const D = c.options.bidirectional ? 2 : 1;
  const shape = c.options.batchFirst === false ? [c.T, c.B, I] : [c.B, c.T, I];
  const x = tensor(uniformArray(rand, c.B * c.T * I, -1, 1), shape);
  const state = () => tensor(uniformArray(rand, L * D * c.B * H, -0.5, 0.5), [L * D, c.B, H]);
  const options = {
    ...(c.states ? { h0: state(), ...(c.options.cell === 'lstm' ? { c0: state() } : {}) } : {}),
    ...(c.lengths
      ? { lengths: Array.from({ length: c.B }, (_, b) => (b === 0 ? 0 : b === 1 ? c.T : Math.floor(rand() * (c.T + 1)))) }
      : {}),
  };
  return { model, x, options };
}

describe('WebGPU recurrent stacks (whole modules in one program)', () => {
  CASES.forEach((c, i) => {
    const { model } = build(c, 100 + i);
    for (const [label, backend] of BACKENDS) {
      it(`${model.description} B=${c.B} T=${c.T}${c.states ? ' h0' : ''}${c.lengths ? ' lengths' : ''}: ${label}`, async () => {
        const { x, options } = build(c, 100 + i);
        const want = await model.forward(x, { backend: cpuBackend, ...options });
        const got = await withErrorScope(gpu.backend.device, () => model.forward(x, { backend: backend(), ...options }));
        expect(got.output.shape).toEqual(want.output.shape);
        expect(got.output.data).toBeInstanceOf(Float32Array);
        expectClose(got.output.data, want.output.data, FLOAT32_TOLERANCE, 'output', want.output.shape);
        expectClose(got.hn.data, want.hn.data, FLOAT32_TOLERANCE, 'hn', want.hn.shape);
        if (want.cn) expectClose(got.cn!.data, want.cn.data, FLOAT32_TOLERANCE, 'cn', want.cn.shape);
        else expect(got.cn).toBeNull();
      });
    }
  });

  // Per-series models: S stacks of one architecture, each running its own group of sequences, in
  // the same dispatches; against each model's float64 reference on its rows.
  const PER_SERIES = [0, 1, 2, 5, 6, 7].map((i) => CASES[i]!).filter((c) => c.options.batchFirst !== false);
  PER_SERIES.forEach((c, i) => {
    const S = 3 + i;
    const per = 1 + (i % 3) * 2;
    const B = S * per;
    const { model } = build(c, 200 + i);
    for (const [label, backend] of BACKENDS) {
      it(`per-series models: ${S} × ${model.description}, ${per} sequence(s) each, T=${c.T}: ${label}`, async () => {
        const stacks = Array.from({ length: S }, (_, m) => RecurrentNet.create(c.options, { seed: 300 + 10 * i + m }).layers());
        const rand = mulberry32(400 + i);
        const { inputSize: I, hiddenSize: H } = c.options;
        const D = c.options.bidirectional ? 2 : 1;
        const inputs = {
          X: uniformArray(rand, B * c.T * I, -1, 1),
          batch: B,
          steps: c.T,
          sequenceLens: c.lengths ? Int32Array.from({ length: B }, (_, b) => (b === 0 ? 0 : Math.floor(rand() * (c.T + 1)))) : null,
          initialH: stacks[0]!.layers.map(() => (c.states ? uniformArray(rand, B * D * H, -0.5, 0.5) : null)),
          initialC: stacks[0]!.layers.map(() => (c.states && c.options.cell === 'lstm' ? uniformArray(rand, B * D * H, -0.5, 0.5) : null)),
        };
        const got = await withErrorScope(gpu.backend.device, () => backend().recurrentStack(stacks, inputs));
        const want = await Promise.all(
          stacks.map((stack, m) => cpuBackend.recurrentStack(stack, stackInputRows(inputs, m * per, (m + 1) * per))),
        );
        const joined = await cpuBackend.recurrentStack(stacks, inputs);
        const Y = new Float64Array(want.reduce((n, w) => n + w.Y.length, 0));
        want.forEach((w, m) => Y.set(w.Y, m * w.Y.length));
        expect(Array.from(joined.Y)).toEqual(Array.from(Y));
        expectClose(got.Y, Y, FLOAT32_TOLERANCE, 'Y');
        got.Y_h.forEach((h, k) => expectClose(h, joined.Y_h[k]!, FLOAT32_TOLERANCE, `Y_h of layer ${k}`));
        got.Y_c?.forEach((cc, k) => expectClose(cc, joined.Y_c![k]!, FLOAT32_TOLERANCE, `Y_c of layer ${k}`));
      });
    }
  });

  it('refuses the lanes kernel, before any GPU work, when its packed weights exceed a binding', async () => {
    const narrow = WebGPUBackend.fromContext(gpu.backend.gpu, { recurrentKernel: 'lanes', maxBindingBytes: 3000 });
    try {
      const { model, x, options } = build(CASES[0]!, 100);
      const before = narrow.pool.liveBuffers;
      await expect(model.forward(x, { backend: narrow, ...options })).rejects.toThrow(
        /the lanes recurrent kernel's packed weights need 3328 bytes, more than this device binds at once \(3000\)/,
      );
      expect(narrow.pool.liveBuffers).toBe(before);
    } finally {
      narrow.dispose();
    }
  });

  it('times its GPU work when asked: timestamps where the device has them, else submit to completion', async () => {
    const timed = WebGPUBackend.fromContext(gpu.backend.gpu, { timing: true });
    try {
      const { model, x, options } = build(CASES[1]!, 101);
      expect(timed.lastTiming).toBeNull();
      await model.forward(x, { backend: timed, ...options });
      const t = timed.lastTiming!;
      expect(t.method).toBe(gpu.backend.device.features.has('timestamp-query') ? 'timestamp' : 'wall');
      expect(t.ms).toBeGreaterThan(0);
      expect(t.ms).toBeLessThan(60_000);
      timed.lastTiming = null;
      await model.forward(x, { backend: timed, ...options });
      expect(timed.lastTiming!.ms).toBeGreaterThan(0);
    } finally {
      timed.dispose();
    }
  });

  it('allocates nothing new when a module runs again', async () => {
    const { model, x, options } = build(CASES[0]!, 100);
    await model.forward(x, { backend: gpu.backend, ...options });
    const buffers = gpu.backend.pool.liveBuffers;
    await model.forward(x, { backend: gpu.backend, ...options });
    expect(gpu.backend.pool.liveBuffers).toBe(buffers);
  });

  it('rejects a stack whose layers do not chain, before any GPU work', async () => {
    const a = RecurrentNet.create({ cell: 'gru', inputSize: 2, hiddenSize: 3 }).layers().layers[0]!;
    const b = RecurrentNet.create({ cell: 'gru', inputSize: 4, hiddenSize: 3 }).layers().layers[0]!;
    const inputs = {
      X: new Float32Array(2 * 3 * 2),
      batch: 2,
      steps: 3,
      sequenceLens: null,
      initialH: [null, null],
      initialC: [null, null],
    };
    await expect(gpu.backend.recurrentStack({ layers: [a, b], head: null }, inputs)).rejects.toThrow(
      new ShapeError('layer 1 reads 4 features but layer 0 gives 3'),
    );
    expect(gpu.uncaptured).toEqual([]);
  });
});
