import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backends/cpu.ts';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { DeviceError, NumericError } from '../src/errors.ts';
import { packLayerWeights } from '../src/gpu/kernels/forward/recurrent-common.ts';
import { planRecurrentLayer } from '../src/gpu/kernels/forward/plan.ts';
import { planSubgroup, SUBGROUP_UNITS_MAX, subgroupSizes, type SubgroupSizes } from '../src/gpu/kernels/forward/recurrent-subgroup.ts';
import { layerProgram } from '../src/gpu/programs/layer.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import { stackInputRows } from '../src/rnn/stack.ts';
import { FLOAT32_TOLERANCE, expectClose } from '../src/util/compare.ts';
import { checkedOutputs } from '../src/util/finite.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';
import { createGpuFixture, withErrorScope, type GpuFixture } from './helpers/gpu.ts';
import { randomLayerCase, type LayerCaseOptions } from './helpers/random.ts';

// The subgroup kernel's own edges (shaders/forward/recurrent_subgroup.wgsl): hidden sizes at and
// around the smallest subgroup the adapter runs (one unit a lane, several, lanes left idle), odd
// batches that fill teams and tiles partly, per-series models, and the typed refusals. The same
// randomized cases as every kernel's are in test/recurrent-layer.gpu.test.ts. Node and Chromium.

let gpu: GpuFixture;
let subgroup: WebGPUBackend;
/** The device's subgroup sizes, or null where it was not granted `subgroups`. */
let sizes: SubgroupSizes | null = null;
const NO_SUBGROUPS = "the adapter does not grant 'subgroups' here: nothing to run the subgroup kernel on";

beforeAll(async () => {
  gpu = await createGpuFixture();
  subgroup = WebGPUBackend.fromContext(gpu.backend.gpu, { poisonOutputs: true, recurrentKernel: 'subgroup' });
  if (gpu.backend.gpu.features.includes('subgroups')) sizes = subgroupSizes(gpu.backend.gpu.adapter.info);
});

afterAll(() => {
  subgroup?.dispose();
  gpu?.backend.dispose();
});

describe('WebGPU subgroup recurrent kernel', () => {
  it("refuses, with a DeviceError, a device without 'subgroups' and a hidden size past its lanes", () => {
    const limits = gpu.backend.device.limits;
    const c = randomLayerCase(9000, { cell: 'gru', hiddenSize: 8 });
    expect(() => planRecurrentLayer(c.spec, 64, limits, 'subgroup')).toThrow(
      /the subgroup recurrent kernel needs the 'subgroups' feature, which this device was not granted/,
    );
    const narrow = { subgroups: { minSize: 4, maxSize: 4 } };
    const wide = randomLayerCase(9001, { cell: 'lstm', hiddenSize: 4 * SUBGROUP_UNITS_MAX + 1 });
    expect(() => planRecurrentLayer(wide.spec, 64, limits, 'subgroup', 0, 1, narrow)).toThrow(DeviceError);
    expect(() => planRecurrentLayer(wide.spec, 64, limits, 'subgroup', 0, 1, narrow)).toThrow(
      /takes hidden_size ≤ 16 on this adapter \(4 units a lane, subgroups of at least 4\), got 17/,
    );
    // `auto` never picks it.
    expect(planRecurrentLayer(c.spec, 64, limits, 'auto', 0, 1, narrow).kernel).toBe('tile');
  });

  it('plans teams that fit the smallest subgroup and workgroups that are a multiple of the largest', () => {
    const limits = gpu.backend.device.limits;
    const plan = (H: number, batch: number, s: SubgroupSizes) => {
      const p = planSubgroup(randomLayerCase(9002, { hiddenSize: H }).spec, batch, limits, 1, s);
      if (typeof p === 'string') throw new Error(p);
      const { TEAM, UNITS, TEAMS, WORKGROUP_SIZE } = p.constants;
      return [TEAM, UNITS, TEAMS, WORKGROUP_SIZE];
    };
    // NVIDIA's 32: H = 64 takes two units a lane; H = 16 two teams a subgroup.
    expect(plan(64, 4096, { minSize: 32, maxSize: 32 })).toEqual([32, 2, 4, 128]);
    expect(plan(16, 4096, { minSize: 32, maxSize: 32 })).toEqual([16, 1, 8, 128]);
    // Sizes from 8 to 64 (Intel, AMD): the team fits 8, the workgroup is a multiple of 64.
    expect(plan(20, 8, { minSize: 8, maxSize: 64 })).toEqual([8, 3, 8, 64]);
    expect(plan(3, 4096, { minSize: 4, maxSize: 4 })).toEqual([4, 1, 32, 128]);
  });

  // Hidden sizes around the smallest subgroup S: fewer units than lanes, exactly S, one past it (a
  // second unit on lane 0 only), 2S, and the most the kernel takes.
  it('matches the float64 reference for H at and around the subgroup size', async (ctx) => {
    if (!sizes) return ctx.skip(NO_SUBGROUPS);
    const S = sizes.minSize;
    const hidden = [1, S - 1, S, S + 1, 2 * S, SUBGROUP_UNITS_MAX * S];
    const cells = ['rnn', 'gru', 'lstm'] as const;
    const directions = ['forward', 'reverse', 'bidirectional'] as const;
    for (const [i, H] of hidden.entries()) {
      const cell = cells[i % 3]!;
      const options: LayerCaseOptions = {
        cell,
        hiddenSize: H,
        inputSize: 1 + (i % 4),
        batch: [1, 5, 37][i % 3],
        steps: 6,
        lengths: 'random',
        initialStates: i % 2 === 0,
        direction: directions[(i + (i >> 1)) % 3],
        layout: (i % 2) as 0 | 1,
        ...(cell === 'gru' ? { linearBeforeReset: i < 3 } : {}),
        ...(cell === 'lstm' ? { peepholes: true, inputForget: i > 3 } : {}),
      };
      const c = randomLayerCase(9100 + i, options);
      const want = await cpuBackend.recurrentLayer(c.spec, c.weights, c.inputs);
      const got = await withErrorScope(subgroup.device, () => subgroup.recurrentLayer(c.spec, c.weights, c.inputs));
      expectClose(got.Y, want.Y, FLOAT32_TOLERANCE, `${c.name}: Y`);
      expectClose(got.Y_h, want.Y_h, FLOAT32_TOLERANCE, `${c.name}: Y_h`);
      if (cell === 'lstm') expectClose(got.Y_c!, want.Y_c!, FLOAT32_TOLERANCE, `${c.name}: Y_c`);
    }
  });

  it('runs per-series models, each tile on its own weights', async (ctx) => {
    if (!sizes) return ctx.skip(NO_SUBGROUPS);
    const S = 5;
    const per = 3;
    const options = { cell: 'lstm' as const, inputSize: 2, hiddenSize: sizes.minSize + 1, bidirectional: true };
    const stacks = Array.from({ length: S }, (_, m) => RecurrentNet.create(options, { seed: 9200 + m }).layers());
    const rand = mulberry32(9210);
    const B = S * per;
    const T = 5;
    const inputs = {
      X: uniformArray(rand, B * T * options.inputSize, -1, 1),
      batch: B,
      steps: T,
      sequenceLens: Int32Array.from({ length: B }, () => Math.floor(rand() * (T + 1))),
      initialH: [uniformArray(rand, B * 2 * options.hiddenSize, -0.5, 0.5)],
      initialC: [null],
    };
    const got = await withErrorScope(subgroup.device, () => subgroup.recurrentStack(stacks, inputs));
    for (let m = 0; m < S; m++) {
      const want = await cpuBackend.recurrentStack(stacks[m]!, stackInputRows(inputs, m * per, (m + 1) * per));
      const rows = want.Y.length;
      expectClose(got.Y.subarray(m * rows, (m + 1) * rows), want.Y, FLOAT32_TOLERANCE, `Y of model ${m}`);
    }
  });

  it('writes NaN rather than a wrong result when the subgroups are smaller than planned, and the backend says so', async (ctx) => {
    if (!sizes) return ctx.skip(NO_SUBGROUPS);
    // Plan as if the adapter ran subgroups twice as wide as it does: every team would lack lanes.
    const claimed = { minSize: 2 * sizes.maxSize, maxSize: 2 * sizes.maxSize };
    const c = randomLayerCase(9300, { cell: 'gru', hiddenSize: 2 * sizes.maxSize, batch: 9, steps: 3, direction: 'bidirectional' });
    const plan = planRecurrentLayer(c.spec, 9, gpu.backend.device.limits, 'subgroup', 0, 1, { subgroups: claimed });
    const out = await subgroup.executor.runProgram(layerProgram(plan, c.spec, packLayerWeights(c.spec, c.weights), c.inputs, 3));
    expect(out.Y!.every(Number.isNaN)).toBe(true);
    expect(out['Y_h|Y_c']!.every(Number.isNaN)).toBe(true);
    // What the backend does with such an output: a NumericError, never the values.
    expect(() => checkedOutputs('the GRU layer', { Y: out.Y! })).toThrow(NumericError);
  });
});
