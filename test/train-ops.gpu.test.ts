import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inverseCounts, lossDispatch } from '../src/gpu/kernels/training/loss.ts';
import { optimizerDispatches, type ParamBuffer } from '../src/gpu/kernels/training/optimizer.ts';
import { segmentSumPasses } from '../src/gpu/kernels/training/segment-sum.ts';
import type { Dispatch, ProgramBuffer } from '../src/gpu/program.ts';
import { optimizerStepReference } from '../src/reference/optim.ts';
import { lossReference, lossSpec, firstLossStep, type LossOptions } from '../src/train/loss.ts';
import { createOptimizerState, learningRateAt, optimizationSpec, type OptimizationOptions } from '../src/train/optim.ts';
import { expectClose, FLOAT32_TOLERANCE } from '../src/util/compare.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';
import { createGpuFixture, withErrorScope, type GpuFixture } from './helpers/gpu.ts';

// The training step's loss, per-model sums and optimizer kernels (src/gpu/kernels/training/)
// against the float64 references of src/train/loss.ts and src/reference/optim.ts, on one global
// model and on many models at once (per-series mode: every model its own loss mean, its own
// gradient norm, its own optimizer state). Runs in Node and in Chromium.

let gpu: GpuFixture;
beforeAll(async () => {
  gpu = await createGpuFixture();
});
afterAll(() => gpu?.backend.dispose());

/**
 * Runs dispatches on named buffers (uploaded from `inputs`, or zero-filled `sizes` in floats) through
 * the backend's program executor and reads `read` back; the executor gives every buffer back.
 */
async function runDispatches(
  dispatches: Dispatch[],
  inputs: Record<string, Float32Array>,
  sizes: Record<string, number>,
  read: string[],
): Promise<Record<string, Float32Array>> {
  const buffers: Record<string, ProgramBuffer> = {};
  for (const [name, data] of Object.entries(inputs)) buffers[name] = { data, read: read.includes(name) };
  for (const [name, n] of Object.entries(sizes)) buffers[name] = { data: new Float32Array(Math.max(1, n)), read: read.includes(name) };
  return withErrorScope(gpu.backend.device, () => gpu.backend.runProgram({ what: 'the training kernels', buffers, dispatches }));
}

const maxPerDimension = () => gpu.backend.device.limits.maxComputeWorkgroupsPerDimension;

describe('segment sums (loss per model, gradient norms)', () => {
  // Up to 2048 values a workgroup; beyond, further passes over the partial sums. A stride past the
  // length sums a prefix of each block; the result lands at an offset of the destination.
  const cases: Array<[segments: number, length: number, stride: number, square: boolean, offset: number]> = [
    [1, 5, 5, false, 0],
    [1, 100_000, 100_000, true, 0],
    [7, 3000, 3100, true, 3],
    [300, 33, 40, false, 0],
    [2, 2048 * 9 + 5, 2048 * 9 + 5, true, 1],
  ];
  for (const [segments, length, stride, square, offset] of cases) {
    it(`${segments} segment(s) of ${length} every ${stride}${square ? ', squared' : ''}, at ${offset}`, async () => {
      const src = uniformArray(mulberry32(segments * 31 + length), segments * stride, -1, 1);
      const { dispatches, scratch } = segmentSumPasses('src', 'dst', { segments, length, stride }, square, maxPerDimension(), offset);
      const got = await runDispatches(dispatches, { src, dst: new Float32Array(offset + segments).fill(-7) }, scratch, ['dst']);
      const want = new Float64Array(offset + segments).fill(-7);
      for (let s = 0; s < segments; s++) {
        want[offset + s] = 0;
        for (let i = 0; i < length; i++) want[offset + s]! += square ? src[s * stride + i]! ** 2 : src[s * stride + i]!;
      }
      // A float32 sum of n terms in a tree of depth log2(n): relative error about log2(n)·2⁻²⁴.
      expectClose(got.dst!, want, { atol: 1e-5 * Math.sqrt(length), rtol: 1e-5 }, 'sums', [offset + segments]);
    });
  }
});

describe('losses on the GPU against the float64 reference', () => {
  const cases: Array<{ loss: LossOptions; B: number; T: number; O: number; mask: boolean; models: number }> = [
    { loss: { kind: 'mse' }, B: 5, T: 7, O: 1, mask: false, models: 1 },
    { loss: { kind: 'mae', steps: { last: 3 } }, B: 6, T: 9, O: 2, mask: true, models: 1 },
    { loss: { kind: 'mse', steps: { last: 4 } }, B: 12, T: 6, O: 3, mask: true, models: 4 },
    { loss: { kind: 'mae' }, B: 300, T: 20, O: 1, mask: false, models: 100 },
  ];
  for (const c of cases) {
    it(`${c.loss.kind} ${JSON.stringify(c.loss.steps ?? 'all')} B=${c.B} T=${c.T} O=${c.O}${c.mask ? ' masked' : ''}, ${c.models} model(s)`, async () => {
      const rand = mulberry32(c.B * 7 + c.T);
      const spec = lossSpec(c.loss);
      const n = c.B * c.T * c.O;
      const Y = uniformArray(rand, n, -1, 1);
      const target = uniformArray(rand, n, -1, 1);
      // One exact tie, where sign(0) = 0 matters for MAE.
      target[n - 1] = Y[n - 1]!;
      const mask = c.mask ? Float32Array.from({ length: c.B * c.T }, (_, i) => (i % 5 === 2 ? 0 : 1)) : null;
      const first = firstLossStep(spec, c.T);
      const per = c.B / c.models;
      const invN = inverseCounts(c.B, c.T, c.O, first, c.models, mask);
      const sum = segmentSumPasses('term', 'loss', { segments: c.models, length: per * c.T * c.O }, false, maxPerDimension());
      const got = await runDispatches(
        [
          lossDispatch(
            spec,
            { y: 'y', target: 'target', mask: 'mask', invN: 'invN', dy: 'dy', term: 'term' },
            { batch: c.B, steps: c.T, outputs: c.O, first, perModel: per, hasMask: !!mask },
            maxPerDimension(),
          ),
          ...sum.dispatches,
        ],
        { y: Y, target, mask: mask ?? new Float32Array(1), invN },
        { dy: n, term: n, loss: c.models, ...sum.scratch },
        ['dy', 'loss'],
      );
      // Each model's loss and gradient are its own sequences' reference loss (not divided by the number of models).
      for (let g = 0; g < c.models; g++) {
        const rows = (a: Float32Array, w: number) => a.subarray(g * per * w, (g + 1) * per * w);
        const want = lossReference(spec, {
          Y: rows(Y, c.T * c.O),
          target: rows(target, c.T * c.O),
          mask: mask && rows(mask, c.T),
          batch: per,
          steps: c.T,
          outputSize: c.O,
        });
        expectClose(rows(got.dy!, c.T * c.O), want.dY, FLOAT32_TOLERANCE, `model ${g}: dY`, [per, c.T, c.O]);
        expectClose(got.loss!.subarray(g, g + 1), [want.loss], FLOAT32_TOLERANCE, `model ${g}: loss`);
      }
    });
  }
});

describe('optimizer steps on the GPU against the float64 reference', () => {
  const setups: Array<[string, OptimizationOptions]> = [
    ['SGD', { optimizer: { kind: 'sgd', lr: 0.1 } }],
    [
      'SGD momentum + weight decay, step schedule',
      {
        optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 },
        schedule: { kind: 'step', stepSize: 2, gamma: 0.5 },
      },
    ],
    [
      'SGD Nesterov, clip by value',
      { optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.8, nesterov: true }, clip: { kind: 'value', clipValue: 0.3 } },
    ],
    ['Adam, clip by norm', { optimizer: { kind: 'adam', lr: 0.01, weightDecay: 0.001 }, clip: { kind: 'norm', maxNorm: 0.5 } }],
    [
      'AdamW, cosine schedule',
      { optimizer: { kind: 'adamw', lr: 0.02, betas: [0.8, 0.99], eps: 1e-6 }, schedule: { kind: 'cosine', tMax: 4, etaMin: 0.001 } },
    ],
  ];
  for (const models of [1, 37]) {
    for (const [label, options] of setups) {
      it(`${label}: 4 steps, ${models} model(s), two parameter buffers`, async () => {
        const spec = optimizationSpec(options);
        // Two buffers per model, as a layer's packed weights and the head: the first trains 53 of
        // every 60 floats (the rest, say absent biases, must stay as they are), the second all 7.
        const parts = [
          { trained: 53, stride: 60 },
          { trained: 7, stride: 7 },
        ];
        const rand = mulberry32(models * 100 + label.length);
        const state = parts.map(({ stride }) => ({
          p: uniformArray(rand, models * stride, -1, 1) as Float32Array,
          m: new Float32Array(models * stride) as Float32Array,
          v: new Float32Array(models * stride) as Float32Array,
        }));
        const untouched = state.map(({ p }) => p.slice());
        // The reference: per model one float64 parameter vector of both buffers' trained values.
        const trainedOf = (s: number, arrays: Float32Array[]) =>
          Float64Array.from(parts.flatMap(({ trained, stride }, k) => Array.from(arrays[k]!.subarray(s * stride, s * stride + trained))));
        const refParams = Array.from({ length: models }, (_, s) => ({
          w: trainedOf(
            s,
            state.map((b) => b.p),
          ),
        }));
        const refState = refParams.map((r) => createOptimizerState(spec.optimizer, { w: r.w.length }, Float64Array));
        const buffers: ParamBuffer[] = parts.map((part, k) => ({ p: `p${k}`, g: `g${k}`, m: `m${k}`, v: `v${k}`, ...part }));
        for (let step = 0; step < 4; step++) {
          // Gradients large enough that clipping acts on some models and not on others.
          const g = parts.map(({ stride }) =>
            uniformArray(rand, models * stride, -1, 1).map((x, i) => x * (1 + (Math.floor(i / stride) % 3))),
          );
          const lr = learningRateAt(spec.schedule, spec.optimizer.lr, step);
          const { dispatches, scratch } = optimizerDispatches(spec, buffers, 'sumsq', models, step, lr, maxPerDimension());
          const inputs: Record<string, Float32Array> = {};
          state.forEach((b, k) => Object.assign(inputs, { [`p${k}`]: b.p, [`m${k}`]: b.m, [`v${k}`]: b.v, [`g${k}`]: g[k]! }));
          const got = await runDispatches(dispatches, inputs, { sumsq: 2 * models, ...scratch }, ['p0', 'm0', 'v0', 'p1', 'm1', 'v1']);
          state.forEach((b, k) => Object.assign(b, { p: got[`p${k}`]!, m: got[`m${k}`]!, v: got[`v${k}`]! }));
          for (let s = 0; s < models; s++) {
            const report = optimizerStepReference(spec, refParams[s]!, { w: trainedOf(s, g) }, refState[s]!);
            expect(report.lr).toBeCloseTo(lr, 12);
            expectClose(
              trainedOf(
                s,
                state.map((b) => b.p),
              ),
              refParams[s]!.w,
              FLOAT32_TOLERANCE,
              `step ${step} model ${s}: p`,
            );
            expect(state[0]!.p.subarray(s * 60 + 53, s * 60 + 60)).toEqual(untouched[0]!.subarray(s * 60 + 53, s * 60 + 60));
          }
        }
        expect(gpu.uncaptured).toEqual([]);
      });
    }
  }
});
