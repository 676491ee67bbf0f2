import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backends/cpu.ts';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { DeviceError } from '../src/errors.ts';
import { planRecurrentLayer, type KernelTraits } from '../src/gpu/kernels/forward/plan.ts';
import { packLayerWeights } from '../src/gpu/kernels/forward/recurrent-common.ts';
import { WIDE_FILL_WORKGROUPS, wideShape, wideVariants, type WidePlacement } from '../src/gpu/kernels/forward/recurrent-wide.ts';
import { layerInputRows, layerProgram } from '../src/gpu/programs/layer.ts';
import { numDirections, type RecurrentLayerWeights } from '../src/rnn/spec.ts';
import { FLOAT32_TOLERANCE, expectClose } from '../src/util/compare.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';
import { withErrorScope } from './helpers/gpu.ts';
import { randomLayerCase, type LayerCaseOptions, type RandomLayerCase } from './helpers/random.ts';

// The wide tiled kernel's own edges (shaders/forward/recurrent_wide.wgsl, planned by
// src/gpu/kernels/forward/recurrent-wide.ts): each sequences-per-invocation value and each place for
// R forced, on batches that leave tiles partly filled, per-sequence lengths, time segments and
// per-series models, against the float64 reference. test/recurrent-layer.gpu.test.ts runs its
// default shapes on the shared randomized cases.

let backend: WebGPUBackend;

beforeAll(async () => {
  backend = await WebGPUBackend.create({ poisonOutputs: true, log: false });
});

afterAll(() => backend?.dispose());

/**
 * Runs `models` per-series models (case m's weights for sequences m·per … (m+1)·per − 1 of `c`'s
 * inputs) on the wide kernel with `traits`, `maxSteps` steps per dispatch, and checks Y and the final
 * states against each model's float64 reference. Layout 1, so each model's rows are contiguous.
 */
async function checkWide(c: RandomLayerCase, traits: KernelTraits, maxSteps = 64, extra: RecurrentLayerWeights[] = []): Promise<void> {
  const models = [c.weights, ...extra];
  const { spec, inputs } = c;
  const B = inputs.batch;
  const per = B / models.length;
  const plan = planRecurrentLayer(spec, B, backend.device.limits, 'wide', 0, models.length, traits);
  const packed = models.map((w) => packLayerWeights(spec, w));
  const all = new Float32Array(packed.length * packed[0]!.length);
  packed.forEach((p, m) => all.set(p, m * p.length));
  const program = layerProgram(plan, spec, all, inputs, maxSteps, { count: models.length, weightStride: packed[0]!.length });
  const got = await withErrorScope(backend.device, () => backend.executor.runProgram(program));
  const D = numDirections(spec);
  const H = spec.hiddenSize;
  const name = `${c.name} ${JSON.stringify(traits)} constants ${JSON.stringify(plan.pipeline.constants)}`;
  for (let m = 0; m < models.length; m++) {
    const want = await cpuBackend.recurrentLayer(spec, models[m]!, layerInputRows(spec, inputs, m * per, (m + 1) * per));
    const rows = (a: Float32Array, perRow: number) => a.subarray(m * per * perRow, (m + 1) * per * perRow);
    const final = got['Y_h|Y_c']!;
    expectClose(rows(got.Y!, inputs.steps * D * H), want.Y, FLOAT32_TOLERANCE, `${name} model ${m}: Y`);
    expectClose(rows(final, D * H), want.Y_h, FLOAT32_TOLERANCE, `${name} model ${m}: Y_h`);
    if (want.Y_c) expectClose(rows(final.subarray(D * B * H), D * H), want.Y_c, FLOAT32_TOLERANCE, `${name} model ${m}: Y_c`);
  }
}

const PLACEMENTS: WidePlacement[] = ['registers', 'workgroup', 'storage'];
const VECTORS = [1, 2, 4] as const;

describe('the wide tiled recurrent kernel', () => {
  // Every sequences-per-invocation value with every place for R, each cell under each placement;
  // batches that leave the last tile partly filled, random lengths, initial states.
  PLACEMENTS.forEach((wideR, ri) => {
    VECTORS.forEach((wideVectors, vi) => {
      const cell = (['lstm', 'gru', 'rnn'] as const)[(ri + vi) % 3];
      const options: LayerCaseOptions = {
        cell,
        hiddenSize: [5, 12, 7][vi],
        inputSize: 1 + vi,
        batch: 23 + 11 * ri,
        steps: 6,
        lengths: 'random',
        initialStates: true,
        direction: (['forward', 'reverse', 'bidirectional'] as const)[(ri + 2 * vi) % 3],
        layout: ((ri + vi) % 2) as 0 | 1,
        ...(cell === 'gru' ? { linearBeforeReset: ri % 2 === 1 } : {}),
        ...(cell === 'lstm' ? { peepholes: true, inputForget: ri === 2 } : {}),
      };
      const c = randomLayerCase(8100 + 10 * ri + vi, options);
      it(`${wideVectors} vector(s), R in ${wideR}: ${c.name}`, () => checkWide(c, { wideVectors, wideR, tileInvocations: 64 }, 4));
    });
  });

  // Per-series models: tiles never mix two models, the last tile of each partly filled.
  const perSeries: Array<[KernelTraits, LayerCaseOptions]> = [
    [
      { wideVectors: 1, wideR: 'registers', tileInvocations: 32 },
      { cell: 'gru', linearBeforeReset: false, hiddenSize: 6 },
    ],
    [
      { wideVectors: 2, wideR: 'workgroup' },
      { cell: 'lstm', hiddenSize: 9, direction: 'bidirectional' },
    ],
    [
      { wideVectors: 4, wideR: 'storage' },
      { cell: 'rnn', hiddenSize: 4, activations: ['Tanh'] },
    ],
  ];
  perSeries.forEach(([traits, options], i) => {
    it(`per-series models: ${JSON.stringify(traits)}`, async () => {
      const S = 3;
      const c = randomLayerCase(8200 + i, { ...options, batch: S * 5, steps: 5, layout: 1, lengths: 'random', initialStates: true });
      // The other models: weights of the same shapes, drawn afresh.
      const rand = mulberry32(8250 + i);
      const scale = 1 / Math.sqrt(c.spec.hiddenSize);
      const draw = (a: Float32Array | null) => a && uniformArray(rand, a.length, -scale, scale);
      const extra = Array.from({ length: S - 1 }, () => ({
        W: draw(c.weights.W)!,
        R: draw(c.weights.R)!,
        B: draw(c.weights.B),
        P: draw(c.weights.P),
      }));
      await checkWide(c, traits, 2, extra);
    });
  });

  it('fills the GPU: more sequences per invocation only when the batch leaves enough workgroups, smaller tiles when it does not', () => {
    const h200 = {
      maxComputeInvocationsPerWorkgroup: 1024,
      maxComputeWorkgroupSizeX: 1024,
      maxComputeWorkgroupsPerDimension: 65535,
      maxComputeWorkgroupStorageSize: 49152,
    };
    const lstm32 = randomLayerCase(8300, { cell: 'lstm', hiddenSize: 32, direction: 'forward' }).spec;
    // B = 4,096, H = 32: 16 sequences an invocation would leave 8,192 invocations (< 264 warps), 8 leave 16,384.
    const small = wideShape(lstm32, 4096, 1, h200);
    expect(small).toMatchObject({ vectors: 2, groups: 1, r: 'registers' });
    const big = wideShape(lstm32, 65536, 1, h200);
    // 16 sequences an invocation; R (128 registers) and 4·4·6 accumulators pass the budget no more.
    expect(big).toMatchObject({ vectors: 4, r: 'workgroup' });
    expect(typeof big !== 'string' && big.grid[0]).toBeGreaterThanOrEqual(WIDE_FILL_WORKGROUPS);
    const lstm128 = randomLayerCase(8301, { cell: 'lstm', hiddenSize: 128, direction: 'forward' }).spec;
    expect(wideShape(lstm128, 65536, 1, h200)).toMatchObject({ vectors: 4, r: 'storage' });
    // Given invocations per workgroup are taken as given.
    expect(wideShape(lstm32, 4096, 1, h200, { tileInvocations: 256 })).toMatchObject({ groups: 8 });
    // The tuner's variants: every vectors × placement that fits (registers only for H ≤ 32).
    expect(wideVariants(lstm32, 4096, h200)).toHaveLength(9);
    expect(wideVariants(lstm128, 4096, h200)).toEqual([1, 2, 4].map((wideVectors) => ({ wideVectors, wideR: 'storage' })));
    // With tile sizes: the same shape twice is timed once (B = 64 fills one row of 16 sequences at most 4 times).
    const few = wideVariants(lstm128, 64, h200, 1, [128, 256, 512]);
    expect(few.length).toBeLessThan(3 * 3);
    expect(new Set(few.map((t) => JSON.stringify(wideShape(lstm128, 64, 1, h200, t)))).size).toBe(few.length);
  });

  it('refuses a forced variant that cannot run, with a DeviceError before any GPU work', () => {
    const limits = backend.device.limits;
    const wide = randomLayerCase(8400, { cell: 'gru', hiddenSize: 40 }).spec;
    expect(() => planRecurrentLayer(wide, 64, limits, 'wide', 0, 1, { wideR: 'registers' })).toThrow(
      /keeps R in registers for hidden_size ≤ 32, got 40/,
    );
    const tiny = {
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxComputeWorkgroupStorageSize: 4096,
    };
    expect(() => planRecurrentLayer(wide, 64, tiny, 'wide', 0, 1, { wideR: 'workgroup' })).toThrow(DeviceError);
    expect(planRecurrentLayer(wide, 64, tiny, 'wide').pipeline.constants.R_MODE).toBe(0);
  });
});
