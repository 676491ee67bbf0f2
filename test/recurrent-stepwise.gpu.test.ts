import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backends/cpu.ts';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { DeviceError } from '../src/errors.ts';
import { planRecurrentLayer } from '../src/gpu/kernels/forward/plan.ts';
import { packLayerWeights, recurrentUniforms } from '../src/gpu/kernels/forward/recurrent-common.ts';
import { planStepwise } from '../src/gpu/kernels/forward/recurrent-stepwise.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import { forecastReference } from '../src/reference/forecast.ts';
import { GATES, numDirections } from '../src/rnn/spec.ts';
import { FLOAT32_TOLERANCE, expectClose } from '../src/util/compare.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';
import { createGpuFixture, withErrorScope, type GpuFixture } from './helpers/gpu.ts';
import { randomLayerCase, type LayerCaseOptions } from './helpers/random.ts';

// The step-wise layer (src/gpu/kernels/forward/recurrent-stepwise.ts: an input GEMM per time segment,
// then one dispatch per step) at the hidden sizes it is for (H ≥ 128, more than one 32-unit tile and
// 16-wide K tile, H not a multiple of them), kept small in B and T: layers, a stack, a forecast, time
// segments (h's parity carried across them), and its input GEMM alone against a CPU product. The
// randomized cases at small H: test/recurrent-layer.gpu.test.ts (its KERNELS). Node and Chromium.

let gpu: GpuFixture;
let stepwise: WebGPUBackend;
let segmented: WebGPUBackend;

beforeAll(async () => {
  gpu = await createGpuFixture();
  stepwise = WebGPUBackend.fromContext(gpu.backend.gpu, { poisonOutputs: true, recurrentKernel: 'stepwise' });
  // Segments of 2 steps: the state and h's parity carried from segment to segment, a short last one.
  segmented = WebGPUBackend.fromContext(gpu.backend.gpu, { poisonOutputs: true, recurrentKernel: 'stepwise', maxStepsPerDispatch: 2 });
});

afterAll(() => {
  for (const b of [stepwise, segmented]) b?.dispose();
  gpu?.backend.dispose();
});

describe('the step-wise recurrent layer', () => {
  const layers: LayerCaseOptions[] = [
    {
      cell: 'lstm',
      hiddenSize: 130,
      inputSize: 5,
      batch: 67,
      steps: 3,
      direction: 'bidirectional',
      peepholes: true,
      lengths: 'random',
      initialStates: true,
      layout: 0,
    },
    {
      cell: 'gru',
      hiddenSize: 128,
      inputSize: 3,
      batch: 4,
      steps: 5,
      direction: 'reverse',
      linearBeforeReset: false,
      lengths: 'random',
      initialStates: true,
      layout: 1,
    },
    {
      cell: 'gru',
      hiddenSize: 129,
      inputSize: 20,
      batch: 3,
      steps: 4,
      direction: 'bidirectional',
      linearBeforeReset: true,
      clip: 0.9,
      layout: 0,
    },
    { cell: 'rnn', hiddenSize: 160, inputSize: 2, batch: 5, steps: 5, activations: ['Relu'], lengths: 'random', layout: 1 },
    // The shared random generator's draws for the rest (cell, direction, layout, activations with
    // alpha/beta, clip, lengths, states, peepholes, bias), as test/recurrent-layer.gpu.test.ts's
    // randomized cases, at the hidden sizes this kernel takes.
    ...[0, 1, 2].map((i): LayerCaseOptions => ({ hiddenSize: 128 + 13 * i, batch: 3 + 4 * i, steps: 3 })),
  ];
  layers.forEach((options, i) => {
    const c = randomLayerCase(5000 + i, options);
    for (const [label, backend] of [
      ['one segment', () => stepwise],
      ['segments of 2 steps', () => segmented],
    ] as const) {
      it(`matches the float64 reference: ${c.name}, ${label}`, async () => {
        const want = await cpuBackend.recurrentLayer(c.spec, c.weights, c.inputs);
        const got = await withErrorScope(gpu.backend.device, () => backend().recurrentLayer(c.spec, c.weights, c.inputs));
        expectClose(got.Y, want.Y, FLOAT32_TOLERANCE, `${c.name}: Y`);
        expectClose(got.Y_h, want.Y_h, FLOAT32_TOLERANCE, `${c.name}: Y_h`);
        if (c.spec.cell === 'lstm') expectClose(got.Y_c!, want.Y_c!, FLOAT32_TOLERANCE, `${c.name}: Y_c`);
      });
    }
  });

  it('runs a stack with a head and a forecast (states carried between passes)', async () => {
    const options = { cell: 'lstm', inputSize: 2, hiddenSize: 128, numLayers: 2, bidirectional: false, outputSize: 1 } as const;
    const net = RecurrentNet.create(options, { seed: 7 });
    const rand = mulberry32(8);
    const [B, T] = [3, 4];
    const x = { data: uniformArray(rand, B * T * 2, -1, 1), shape: [B, T, 2] };
    const lengths = [4, 0, 2];
    const want = await net.forward(x, { backend: cpuBackend, lengths });
    const got = await withErrorScope(gpu.backend.device, () => net.forward(x, { backend: stepwise, lengths }));
    expectClose(got.output.data, want.output.data, FLOAT32_TOLERANCE, 'output');
    expectClose(got.hn.data, want.hn.data, FLOAT32_TOLERANCE, 'hn');
    expectClose(got.cn!.data, want.cn!.data, FLOAT32_TOLERANCE, 'cn');
    const stack = net.layers();
    const inputs = {
      history: uniformArray(rand, B * T * 2, -1, 1),
      batch: B,
      steps: T,
      horizon: 3,
      futureExog: uniformArray(rand, B * 3, -1, 1),
    };
    const forecast = await withErrorScope(gpu.backend.device, () => segmented.recurrentForecast(stack, inputs));
    expectClose(forecast, forecastReference(stack, inputs), FLOAT32_TOLERANCE, 'forecast');
  });

  it('computes a segment’s input part as one GEMM: XW = x·Wᵀ + biases, rows (t, b) whatever the layout', async () => {
    const c = randomLayerCase(5100, {
      cell: 'gru',
      hiddenSize: 70,
      inputSize: 37,
      batch: 5,
      steps: 6,
      direction: 'bidirectional',
      linearBeforeReset: true,
      layout: 1,
    });
    const { spec, weights } = c;
    const [B, T, I, H] = [5, 6, 37, 70];
    const D = numDirections(spec);
    const GH = GATES[spec.cell] * H;
    const plan = planStepwise(spec, B, gpu.backend.device.limits);
    if (typeof plan === 'string') throw new Error(plan);
    // One segment of 4 steps: forward steps 0–3, reverse steps 2–5 (rows past T are not read).
    const S = 4;
    const offsets: [number, number] = [0, 2];
    const out = await withErrorScope(gpu.backend.device, () =>
      stepwise.runProgram({
        what: 'the input GEMM',
        buffers: {
          x: { data: Float32Array.from(c.inputs.X) },
          weights: { data: packLayerWeights(spec, weights) },
          state: { bytes: plan.scratchBytes(S), read: true },
        },
        dispatches: [
          {
            ...plan.input,
            bind: { x: 'x', weights: 'weights', state: 'state' },
            uniforms: recurrentUniforms({ batch: B, steps: S, totalSteps: T, hasH0: false, hasC0: false, hasLens: false, offsets }),
            grid: plan.inputGrid(S),
          },
        ],
      }),
    );
    const base = 3 * D * B * H;
    const got = out.state!.subarray(base, base + D * S * B * GH);
    const want = new Float64Array(got.length);
    const bias = weights.B!;
    for (let d = 0; d < D; d++) {
      for (let s = 0; s < S; s++) {
        for (let b = 0; b < B; b++) {
          for (let n = 0; n < GH; n++) {
            let acc = bias[d * 2 * GH + n]! + (n >= 2 * H ? 0 : bias[d * 2 * GH + GH + n]!); // lbr: Rb_h stays inside r ⊙ (…)
            for (let i = 0; i < I; i++) acc += c.inputs.X[(b * T + offsets[d]! + s) * I + i]! * weights.W[(d * GH + n) * I + i]!;
            want[((d * S + s) * B + b) * GH + n] = acc;
          }
        }
      }
    }
    expectClose(got, want, FLOAT32_TOLERANCE, 'XW', [D, S, B, GH]);
  });

  it('refuses per-series models with a reason', () => {
    const c = randomLayerCase(5200, { cell: 'lstm', hiddenSize: 128 });
    expect(typeof planStepwise(c.spec, 4, gpu.backend.device.limits, 2)).toBe('string');
    expect(() => planRecurrentLayer(c.spec, 4, gpu.backend.device.limits, 'stepwise', 0, 2)).toThrow(DeviceError);
    expect(() => planRecurrentLayer(c.spec, 4, gpu.backend.device.limits, 'stepwise', 0, 2)).toThrow(/one model/);
  });
});
