import source from '../../../../shaders/training/optimizer.wgsl?raw';
import type { OptimizationSpec } from '../../../train/optim.ts';
import { workgroupGrid } from '../../grid.ts';
import { defineKernel } from '../../kernel.ts';
import { dispatch, type Dispatch } from '../../program.ts';
import { segmentSumPasses, TRAINING_WORKGROUP } from './segment-sum.ts';

/**
 * `optimizer` (shaders/training/optimizer.wgsl): one optimizer step over a parameter buffer of S
 * models, clipping first. A run's fixed hyper-parameters are override constants; the learning rate
 * and the step's corrections are uniforms.
 */
export const optimizer = defineKernel('optimizer', source, ['p', 'g', 'm', 'v', 'sumsq']);

/** The optimizer kernel's constants for a run's fixed hyper-parameters. */
export function optimizerConstants(spec: OptimizationSpec, normParts: number): Record<string, number> {
  const o = spec.optimizer;
  const constants: Record<string, number> = {
    WORKGROUP_SIZE: TRAINING_WORKGROUP,
    KIND: { sgd: 0, adam: 1, adamw: 2 }[o.kind],
    WEIGHT_DECAY: o.weightDecay,
    CLIP_VALUE: spec.clip?.kind === 'value' ? spec.clip.clipValue : 0,
    MAX_NORM: spec.clip?.kind === 'norm' ? spec.clip.maxNorm : 0,
    NORM_PARTS: normParts,
  };
  if (o.kind === 'sgd') Object.assign(constants, { MOMENTUM: o.momentum, DAMPENING: o.dampening, NESTEROV: o.nesterov ? 1 : 0 });
  else Object.assign(constants, { BETA1: o.betas[0], BETA2: o.betas[1], EPS: o.eps });
  return constants;
}

/**
 * The uniforms of step `step` (0-based: the steps taken before this one) at learning rate `lr`:
 * Adam's bias corrections in float64 on the host, rounded once.
 */
export function optimizerUniforms(
  spec: OptimizationSpec,
  models: number,
  trained: number,
  stride: number,
  step: number,
  lr: number,
): Record<string, number> {
  const o = spec.optimizer;
  const n = step + 1;
  return {
    count: models * trained,
    per_model: trained,
    first_step: step === 0 ? 1 : 0,
    stride,
    lr,
    step_size: o.kind === 'sgd' ? 0 : lr / (1 - o.betas[0] ** n),
    bc2_sqrt: o.kind === 'sgd' ? 1 : Math.sqrt(1 - o.betas[1] ** n),
  };
}

/**
 * One parameter buffer of the models: `models` blocks of `stride` floats, the first `trained` of
 * each trained, with its gradient `g` and optimizer buffers `m`, `v` (v: a placeholder for SGD) laid
 * out the same way.
 */
export interface ParamBuffer {
  p: string;
  g: string;
  m: string;
  v: string;
  trained: number;
  stride: number;
}

/**
 * One optimizer step over several parameter buffers of `models` models: with norm clipping first the
 * squared gradient norms of every buffer per model into `sumsq` ([buffers, models] floats, a
 * placeholder without), so each model's norm covers all its parameters; then each buffer's update.
 */
export function optimizerDispatches(
  spec: OptimizationSpec,
  buffers: readonly ParamBuffer[],
  sumsq: string,
  models: number,
  step: number,
  lr: number,
  maxPerDimension: number,
): { dispatches: Dispatch[]; scratch: Record<string, number> } {
  const dispatches: Dispatch[] = [];
  const scratch: Record<string, number> = {};
  if (spec.clip?.kind === 'norm') {
    buffers.forEach((b, k) => {
      const sums = segmentSumPasses(
        b.g,
        sumsq,
        { segments: models, length: b.trained, stride: b.stride },
        true,
        maxPerDimension,
        k * models,
      );
      dispatches.push(...sums.dispatches);
      // Buffers' passes run one after another, so they share scratch of the largest size.
      for (const [name, n] of Object.entries(sums.scratch)) scratch[name] = Math.max(scratch[name] ?? 0, n);
    });
  }
  const constants = optimizerConstants(spec, buffers.length);
  for (const b of buffers) {
    dispatches.push(
      dispatch(optimizer, {
        constants,
        uniforms: optimizerUniforms(spec, models, b.trained, b.stride, step, lr),
        bind: { p: b.p, g: b.g, m: b.m, v: b.v, sumsq },
        grid: workgroupGrid(models * b.trained, TRAINING_WORKGROUP, maxPerDimension),
      }),
    );
  }
  return { dispatches, scratch };
}
