import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backends/cpu.ts';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { ConfigError, DeviceError, ShapeError, WeightError } from '../src/errors.ts';
import {
  adapterTraits,
  planRecurrentLayer,
  SMALL_HIDDEN_MAX,
  STEPWISE_HIDDEN_MIN,
  type RecurrentKernelChoice,
} from '../src/gpu/kernels/forward/plan.ts';
import { planSubgroup, subgroupSizes } from '../src/gpu/kernels/forward/recurrent-subgroup.ts';
import { timeSegments } from '../src/gpu/programs/segments.ts';
import { cachedPipelineCount } from '../src/gpu/pipelines.ts';
import { numDirections, type RecurrentLayerSpec } from '../src/rnn/spec.ts';
import { FLOAT32_TOLERANCE, expectClose } from '../src/util/compare.ts';
import { createGpuFixture, withErrorScope, type GpuFixture } from './helpers/gpu.ts';
import { randomLayerCase, type LayerCaseOptions, type RandomLayerCase } from './helpers/random.ts';

// The ONNX-semantics recurrent layer kernels (shaders/forward/recurrent_{small,tile,sequential,lanes,subgroup,wide,step}.wgsl) against the float64
// reference (src/reference/recurrent-layer.ts), on seeded random configurations covering every
// option: cell, direction, layout, lengths (including 0 and T), initial states, activations with
// alpha/beta, clip, linear_before_reset, input_forget, peepholes, absent bias. Runs in Node (Dawn)
// and in Chromium.

let gpu: GpuFixture;
// The same device with each kernel forced, so every kernel that takes a case is checked on it
// whatever `auto` picks (the small kernel takes H ≤ SMALL_HIDDEN_MAX, the step-wise one H ≥
// STEPWISE_HIDDEN_MIN, the subgroup kernel runs where the device has `subgroups`, for H up to a few
// times its smallest subgroup: see `takes`).
const kernels: Array<[RecurrentKernelChoice, WebGPUBackend]> = [];
const KERNELS = ['small', 'tile', 'sequential', 'lanes', 'subgroup', 'wide', 'stepwise'] as const;
const NO_SUBGROUPS = "the adapter does not grant 'subgroups' here: the subgroup kernel cannot run";

function hasSubgroups(): boolean {
  return gpu.backend.gpu.features.includes('subgroups');
}

/** Whether a forced kernel takes a layer of this spec on this device (it refuses the others with a DeviceError). */
function takes(kernel: RecurrentKernelChoice, spec: RecurrentLayerSpec): boolean {
  if (kernel === 'small') return spec.hiddenSize <= SMALL_HIDDEN_MAX;
  if (kernel === 'stepwise') return spec.hiddenSize >= STEPWISE_HIDDEN_MIN;
  if (kernel === 'subgroup') {
    const { device, gpu: context } = gpu.backend;
    return hasSubgroups() && typeof planSubgroup(spec, 1, device.limits, 1, subgroupSizes(context.adapter.info)) !== 'string';
  }
  return true;
}

beforeAll(async () => {
  gpu = await createGpuFixture();
  for (const kernel of KERNELS) {
    if (kernel === 'subgroup' && !hasSubgroups()) continue;
    kernels.push([kernel, WebGPUBackend.fromContext(gpu.backend.gpu, { poisonOutputs: true, recurrentKernel: kernel })]);
  }
});

afterAll(() => {
  for (const [, backend] of kernels) backend.dispose();
  gpu?.backend.dispose();
});

function shapes(s: RecurrentLayerSpec, B: number, T: number) {
  const D = numDirections(s);
  const H = s.hiddenSize;
  return {
    Y: s.layout === 0 ? [T, D, B, H] : [B, T, D, H],
    state: s.layout === 0 ? [D, B, H] : [B, D, H],
  };
}

async function checkAgainstReference(c: RandomLayerCase, backends: Array<[RecurrentKernelChoice, WebGPUBackend]> = kernels): Promise<void> {
  const want = await cpuBackend.recurrentLayer(c.spec, c.weights, c.inputs);
  const shape = shapes(c.spec, c.inputs.batch, c.inputs.steps);
  for (const [kernel, backend] of backends) {
    if (!takes(kernel, c.spec)) continue;
    const got = await withErrorScope(backend.device, () => backend.recurrentLayer(c.spec, c.weights, c.inputs));
    const name = `${c.name} (${kernel} kernel)`;
    expect(got.Y).toBeInstanceOf(Float32Array);
    expectClose(got.Y, want.Y, FLOAT32_TOLERANCE, `${name}: Y`, shape.Y);
    expectClose(got.Y_h, want.Y_h, FLOAT32_TOLERANCE, `${name}: Y_h`, shape.state);
    if (c.spec.cell === 'lstm') expectClose(got.Y_c!, want.Y_c!, FLOAT32_TOLERANCE, `${name}: Y_c`, shape.state);
    else expect(got.Y_c).toBeNull();
  }
}

describe('WebGPU recurrent layer (ONNX RNN / GRU / LSTM semantics)', () => {
  it("checks the subgroup kernel too where the device has 'subgroups'", (ctx) => {
    if (!hasSubgroups()) return ctx.skip(NO_SUBGROUPS);
    expect(kernels.map(([kernel]) => kernel)).toContain('subgroup');
  });

  // Every cell × direction × layout once with lengths and initial states, so each combination is
  // covered whatever the random draws below do.
  const grid: LayerCaseOptions[] = [];
  for (const cell of ['rnn', 'gru', 'lstm'] as const) {
    for (const direction of ['forward', 'reverse', 'bidirectional'] as const) {
      for (const layout of [0, 1] as const) {
        grid.push({ cell, direction, layout, lengths: 'random', initialStates: true, batch: 6, steps: 9 });
      }
    }
  }
  grid.forEach((options, i) => {
    const c = randomLayerCase(1000 + i, options);
    it(`matches the float64 reference: ${c.name}`, () => checkAgainstReference(c));
  });

  // Seeded random configurations: every option drawn independently.
  for (let seed = 1; seed <= 48; seed++) {
    const c = randomLayerCase(seed);
    it(`random case ${seed}: ${c.name}`, () => checkAgainstReference(c));
  }

  // Options the random draw may miss, each forced once.
  const forced: LayerCaseOptions[] = [
    { cell: 'gru', linearBeforeReset: false, activations: ['HardSigmoid', 'Softsign'] },
    { cell: 'gru', linearBeforeReset: true, direction: 'bidirectional', clip: 0.7 },
    { cell: 'lstm', inputForget: true, peepholes: true, direction: 'bidirectional' },
    { cell: 'lstm', peepholes: true, clip: 1.5, initialStates: true, lengths: 'random', batch: 8 },
    { cell: 'lstm', bias: false, activations: ['Sigmoid', 'Elu', 'Softplus'] },
    { cell: 'rnn', activations: ['Relu'], bias: false },
    { cell: 'rnn', direction: 'bidirectional', activations: ['LeakyRelu', 'ScaledTanh'] },
  ];
  forced.forEach((options, i) => {
    const c = randomLayerCase(2000 + i, options);
    it(`forced option: ${c.name}`, () => checkAgainstReference(c));
  });

  // Sizes: many sequences, long sequences, a wide hidden state.
  const sizes: LayerCaseOptions[] = [
    { cell: 'lstm', direction: 'bidirectional', batch: 4097, steps: 5, hiddenSize: 4, inputSize: 3, lengths: 'random' },
    { cell: 'gru', batch: 3, steps: 300, hiddenSize: 16, inputSize: 2, linearBeforeReset: true },
    { cell: 'rnn', batch: 65, steps: 20, hiddenSize: 64, inputSize: 8, activations: ['Tanh'] },
    { cell: 'lstm', batch: 1, steps: 1, hiddenSize: 1, inputSize: 1, direction: 'reverse' },
    { cell: 'gru', batch: 130, steps: 4, hiddenSize: 40, inputSize: 3, linearBeforeReset: false, lengths: 'random' },
  ];
  sizes.forEach((options, i) => {
    const c = randomLayerCase(3000 + i, options);
    it(`size: ${c.name}`, () => checkAgainstReference(c));
  });

  // The small kernel's own edges: every H it takes, inputs past the four it keeps in registers.
  const smallCases: LayerCaseOptions[] = [];
  for (const cell of ['rnn', 'gru', 'lstm'] as const) {
    for (let H = 1; H <= SMALL_HIDDEN_MAX; H++) {
      smallCases.push({
        cell,
        hiddenSize: H,
        inputSize: [1, 4, 5, 9][H - 1],
        batch: 33,
        steps: 7,
        lengths: 'random',
        initialStates: H % 2 === 0,
        direction: (['forward', 'reverse', 'bidirectional'] as const)[H % 3],
        layout: (H % 2) as 0 | 1,
        ...(cell === 'lstm' ? { peepholes: H > 2 } : {}),
        ...(cell === 'gru' ? { linearBeforeReset: H % 2 === 1 } : {}),
      });
    }
  }
  smallCases.forEach((options, i) => {
    const c = randomLayerCase(3100 + i, options);
    it(`small H: ${c.name}`, () => checkAgainstReference(c));
  });

  // Tile shapes (invocations per workgroup), as the GPU kit's sweep runs them: from one group of four
  // sequences a workgroup to the largest that fits, on cases whose batch fills some tiles partly.
  for (const tileInvocations of [16, 64, 256, 1024]) {
    it(`tile shape of ${tileInvocations} invocations matches the reference`, async () => {
      const backend = WebGPUBackend.fromContext(gpu.backend.gpu, { poisonOutputs: true, recurrentKernel: 'tile', tileInvocations });
      try {
        for (const [i, options] of (
          [
            { cell: 'lstm', hiddenSize: 16, inputSize: 3, batch: 75, steps: 4, lengths: 'random', initialStates: true },
            { cell: 'gru', hiddenSize: 8, inputSize: 2, batch: 131, steps: 3, direction: 'bidirectional' },
          ] as LayerCaseOptions[]
        ).entries()) {
          const c = randomLayerCase(3600 + 10 * i + Math.log2(tileInvocations), options);
          await checkAgainstReference(c, [['tile', backend]]);
        }
      } finally {
        backend.dispose();
      }
    });
  }

  it('rejects a tile shape that is not a power of two before acquiring a device', async () => {
    await expect(WebGPUBackend.create({ tileInvocations: 48, log: false })).rejects.toThrow(
      /tileInvocations must be a power of two, got 48/,
    );
    expect(() => WebGPUBackend.fromContext(gpu.backend.gpu, { tileInvocations: 0 })).toThrow(ConfigError);
  });

  it('sizes the tile by tileInvocations: groups of four sequences = tileInvocations / H', () => {
    const limits = gpu.backend.device.limits;
    const c = randomLayerCase(3650, { cell: 'lstm', hiddenSize: 16 });
    const groups = (t: number) => planRecurrentLayer(c.spec, 4096, limits, 'tile', 0, 1, { tileInvocations: t }).pipeline.constants.GROUPS;
    expect(groups(16)).toBe(1);
    expect(groups(64)).toBe(4);
    expect(groups(256)).toBe(16);
    expect(planRecurrentLayer(c.spec, 4096, limits).pipeline.constants.GROUPS).toBe(8);
  });

  it('picks the small kernel for H ≤ 4, the tiled one while H fits a workgroup, the sequential one beyond', async () => {
    const limits = gpu.backend.device.limits;
    const tiny = randomLayerCase(3502, { cell: 'gru', hiddenSize: SMALL_HIDDEN_MAX });
    expect(planRecurrentLayer(tiny.spec, 1024, limits).kernel).toBe('small');
    const small = randomLayerCase(3500, { cell: 'lstm', hiddenSize: 32 });
    expect(planRecurrentLayer(small.spec, 1024, limits).kernel).toBe('tile');
    expect(() => planRecurrentLayer(small.spec, 1024, limits, 'small')).toThrow(/takes hidden_size ≤ 4, got 32/);
    const wide = randomLayerCase(3501, {
      cell: 'rnn',
      batch: 5,
      steps: 3,
      inputSize: 2,
      hiddenSize: limits.maxComputeInvocationsPerWorkgroup + 1,
      activations: ['Tanh'],
    });
    expect(planRecurrentLayer(wide.spec, 5, limits).kernel).toBe('sequential');
    expect(() => planRecurrentLayer(wide.spec, 5, limits, 'tile')).toThrow(DeviceError);
    await checkAgainstReference(wide, [['auto', gpu.backend]]);
  });

  it('picks the lanes kernel for H ≥ 32 on a SIMD-lanes adapter (llvmpipe) only, and refuses it where its state does not fit', () => {
    const limits = gpu.backend.device.limits;
    const lanes = { simdLanes: true };
    expect(
      adapterTraits({ vendor: 'mesa', architecture: 'software', description: 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)', device: '' }),
    ).toEqual(lanes);
    expect(adapterTraits({ vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader Device', device: '' })).toEqual({
      simdLanes: false,
    });
    const mid = randomLayerCase(3503, { cell: 'lstm', hiddenSize: 32, inputSize: 4, direction: 'forward' });
    expect(planRecurrentLayer(mid.spec, 1024, limits, 'auto', 0, 1, lanes).kernel).toBe('lanes');
    expect(planRecurrentLayer(mid.spec, 1024, limits).kernel).toBe('tile');
    const narrow = randomLayerCase(3504, { cell: 'gru', hiddenSize: 16 });
    expect(planRecurrentLayer(narrow.spec, 1024, limits, 'auto', 0, 1, lanes).kernel).toBe('tile');
    const plan = planRecurrentLayer(mid.spec, 1024, limits, 'lanes');
    expect(plan.pack?.kernel.entryPoint).toBe('pack');
    expect(plan.pipeline.kernel.bindings).toContain('packed');
    const tiny = {
      maxComputeInvocationsPerWorkgroup: 256,
      maxComputeWorkgroupSizeX: 256,
      maxComputeWorkgroupsPerDimension: 65535,
      maxComputeWorkgroupStorageSize: 1024,
    };
    expect(() => planRecurrentLayer(mid.spec, 1024, tiny, 'lanes')).toThrow(
      /the lanes recurrent kernel needs 1536 bytes of workgroup memory for hidden_size 32; this device allows 1024/,
    );
    expect(planRecurrentLayer(mid.spec, 1024, tiny, 'auto', 0, 1, lanes).kernel).toBe('sequential');
    // Its packed weights must fit one binding: LSTM H=32 I=4 packs 8·(4·32 + 4·4 + 4 + 4) vec4s.
    const packed = 16 * 8 * (4 * 32 + 4 * 4 + 4 + 4);
    expect(plan.scratchBytes).toBe(packed);
    expect(planRecurrentLayer(mid.spec, 1024, limits, 'auto', 0, 1, { simdLanes: true, maxBindingBytes: packed }).kernel).toBe('lanes');
    expect(planRecurrentLayer(mid.spec, 1024, limits, 'auto', 0, 1, { simdLanes: true, maxBindingBytes: packed - 1 }).kernel).toBe('tile');
    expect(() => planRecurrentLayer(mid.spec, 1024, limits, 'lanes', 0, 1, { maxBindingBytes: packed - 1 })).toThrow(
      /packed weights need \d+ bytes, more than this device binds at once/,
    );
    expect(planRecurrentLayer(mid.spec, 1024, limits, 'lanes', 0, 3).scratchBytes).toBe(3 * packed);
    // The backend says which kernel it runs: by its adapter under auto, the forced one otherwise.
    expect(gpu.backend.recurrentKernelFor(mid.spec, 1024)).toBe(adapterTraits(gpu.backend.gpu.summary).simdLanes ? 'lanes' : 'tile');
    for (const [kernel, backend] of kernels) {
      if (takes(kernel, mid.spec)) expect(backend.recurrentKernelFor(mid.spec, 1024)).toBe(kernel);
    }
  });

  it('splits T into time segments of about equal length', () => {
    expect(timeSegments(64, 31)).toEqual({ segment: 22, segments: 3 });
    expect(timeSegments(64, 64)).toEqual({ segment: 64, segments: 1 });
    expect(timeSegments(64, 1000)).toEqual({ segment: 64, segments: 1 });
    expect(timeSegments(10, 3)).toEqual({ segment: 3, segments: 4 });
    expect(timeSegments(7, 1)).toEqual({ segment: 1, segments: 7 });
    expect(timeSegments(1, 0)).toEqual({ segment: 1, segments: 1 });
  });

  // Batches beyond one binding are split into chunks, and long sequences into time segments with the
  // state carried on the device; forced small here (16 KiB bindings, 3 steps per dispatch) so that
  // every case runs as several chunks of several segments, on both kernels.
  describe('split into batch chunks and time segments', () => {
    const split: Array<[RecurrentKernelChoice, WebGPUBackend]> = [];
    beforeAll(() => {
      for (const kernel of KERNELS) {
        if (kernel === 'subgroup' && !hasSubgroups()) continue;
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
    afterAll(() => split.forEach(([, b]) => b.dispose()));
    const cases: LayerCaseOptions[] = [];
    for (const cell of ['rnn', 'gru', 'lstm'] as const) {
      for (const direction of ['forward', 'reverse', 'bidirectional'] as const) {
        cases.push({ cell, direction, batch: 40, steps: 10, hiddenSize: 6, inputSize: 3, lengths: 'random', initialStates: true });
      }
    }
    cases.push({
      cell: 'lstm',
      direction: 'bidirectional',
      batch: 40,
      steps: 7,
      hiddenSize: 8,
      lengths: 'none',
      initialStates: false,
      layout: 0,
    });
    cases.push({
      cell: 'gru',
      direction: 'bidirectional',
      batch: 37,
      steps: 11,
      hiddenSize: 5,
      lengths: 'random',
      layout: 1,
      linearBeforeReset: false,
    });
    for (const cell of ['rnn', 'gru', 'lstm'] as const) {
      cases.push({
        cell,
        direction: 'bidirectional',
        batch: 150,
        steps: 10,
        hiddenSize: 3,
        inputSize: 6,
        lengths: 'random',
        initialStates: true,
      });
    }
    cases.forEach((options, i) => {
      const c = randomLayerCase(7000 + i, options);
      it(`matches the reference: ${c.name}`, () => checkAgainstReference(c, split));
    });

    it('refuses a single sequence larger than a binding, before any GPU work', async () => {
      const c = randomLayerCase(7100, { cell: 'rnn', batch: 2, steps: 2000, hiddenSize: 8, inputSize: 1 });
      // The sequential kernel takes any hidden size (the forced small kernel would refuse H = 8 first).
      const sequential = split.find(([kernel]) => kernel === 'sequential')![1];
      const live = sequential.pool.liveBuffers;
      await expect(sequential.recurrentLayer(c.spec, c.weights, c.inputs)).rejects.toThrow(
        /the RNN layer cannot run on one sequence: its Y buffer needs 64000 bytes, more than this device binds at once \(16384\)/,
      );
      expect(sequential.pool.liveBuffers).toBe(live);
    });
  });

  it('writes zeros past each length and keeps the initial state for a length of 0', async () => {
    const c = randomLayerCase(4000, {
      cell: 'lstm',
      direction: 'bidirectional',
      layout: 1,
      batch: 3,
      steps: 4,
      hiddenSize: 2,
      lengths: 'none',
      initialStates: true,
    });
    c.inputs.sequenceLens = Int32Array.from([0, 2, 4]);
    const got = await gpu.backend.recurrentLayer(c.spec, c.weights, c.inputs);
    const [B, T, D, H] = [3, 4, 2, 2];
    for (let b = 0; b < B; b++) {
      for (let t = c.inputs.sequenceLens[b]!; t < T; t++) {
        for (let k = 0; k < D * H; k++) expect(got.Y[(b * T + t) * D * H + k]).toBe(0);
      }
    }
    // b = 0 ran no step: Y_h and Y_c are its initial states ([B, D, H] in layout 1).
    expect(Array.from(got.Y_h.subarray(0, D * H))).toEqual(Array.from(c.inputs.initialH!.subarray(0, D * H)));
    expect(Array.from(got.Y_c!.subarray(0, D * H))).toEqual(Array.from(c.inputs.initialC!.subarray(0, D * H)));
  });

  it('reuses its pipeline and buffers across calls of one shape class', async () => {
    const run = async (steps: number) => {
      const c = randomLayerCase(5000, { cell: 'gru', batch: 17, steps });
      await gpu.backend.recurrentLayer(c.spec, c.weights, c.inputs);
    };
    await run(6);
    const pipelines = cachedPipelineCount(gpu.backend.device);
    // Other step counts are the same shape class: no new pipeline. Buffers come in power-of-two
    // buckets, so a first pass may add smaller ones; repeating the calls must add nothing.
    for (const steps of [6, 3, 5]) await run(steps);
    expect(cachedPipelineCount(gpu.backend.device)).toBe(pipelines);
    const buffers = gpu.backend.pool.liveBuffers;
    for (const steps of [6, 3, 5, 6]) await run(steps);
    expect(gpu.backend.pool.liveBuffers).toBe(buffers);
  });

  it('rejects bad weights and inputs with typed errors before any GPU work', async () => {
    const c = randomLayerCase(6000, { cell: 'lstm', batch: 2, steps: 3, hiddenSize: 3 });
    const buffers = gpu.backend.pool.liveBuffers;
    await expect(gpu.backend.recurrentLayer(c.spec, { ...c.weights, R: new Float32Array(5) }, c.inputs)).rejects.toThrow(WeightError);
    await expect(gpu.backend.recurrentLayer(c.spec, c.weights, { ...c.inputs, X: new Float32Array(1) })).rejects.toThrow(
      /X has 1 values but shape \[3, 2, \d+\] needs/,
    );
    await expect(gpu.backend.recurrentLayer(c.spec, c.weights, { ...c.inputs, sequenceLens: Int32Array.from([1, 4]) })).rejects.toThrow(
      ShapeError,
    );
    const nan = c.weights.W.slice();
    nan[2] = NaN;
    await expect(gpu.backend.recurrentLayer(c.spec, { ...c.weights, W: nan }, c.inputs)).rejects.toThrow(
      /W holds a non-finite value \(NaN\) at index 2/,
    );
    expect(gpu.backend.pool.liveBuffers).toBe(buffers);
    expect(gpu.uncaptured).toEqual([]);
  });
});
