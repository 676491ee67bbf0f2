import source from '../../../../shaders/training/loss.wgsl?raw';
import type { LossSpec } from '../../../train/loss.ts';
import { workgroupGrid } from '../../grid.ts';
import { defineKernel } from '../../kernel.ts';
import { dispatch, type Dispatch } from '../../program.ts';
import { TRAINING_WORKGROUP } from './segment-sum.ts';

/**
 * `loss` (shaders/training/loss.wgsl): d loss / d Y and each element's share of its model's loss
 * (summed per model by src/gpu/kernels/training/segment-sum.ts).
 */
export const loss = defineKernel('loss', source, ['y', 'truth', 'mask', 'inv_n', 'dy', 'term']);

/** The loss kernel's dispatch over a batch of `shape.batch` sequences, `perModel` per model. */
export function lossDispatch(
  spec: LossSpec,
  names: { y: string; target: string; mask: string; invN: string; dy: string; term: string },
  shape: { batch: number; steps: number; outputs: number; first: number; perModel: number; hasMask: boolean },
  maxPerDimension: number,
): Dispatch {
  const { batch: B, steps: T, outputs: O } = shape;
  return dispatch(loss, {
    constants: { WORKGROUP_SIZE: TRAINING_WORKGROUP, OUTPUTS: O, MAE: spec.kind === 'mae' ? 1 : 0, HAS_MASK: shape.hasMask ? 1 : 0 },
    uniforms: { batch: B, steps: T, first: shape.first, per_group: shape.perModel },
    bind: { y: names.y, truth: names.target, mask: names.mask, inv_n: names.invN, dy: names.dy, term: names.term },
    grid: workgroupGrid(B * T * O, TRAINING_WORKGROUP, maxPerDimension),
  });
}

/**
 * 1 / N_g for each of `models` groups of B / models consecutive sequences: N_g = O · the unmasked
 * steps t ≥ first of the group (0 when none, so that group's loss and gradient are 0).
 */
export function inverseCounts(
  batch: number,
  steps: number,
  outputs: number,
  first: number,
  models: number,
  mask: ArrayLike<number> | null,
): Float32Array {
  const per = batch / models;
  const out = new Float32Array(models);
  for (let g = 0; g < models; g++) {
    let n = 0;
    for (let b = g * per; b < (g + 1) * per; b++) for (let t = first; t < steps; t++) n += mask ? mask[b * steps + t]! : 1;
    out[g] = n === 0 ? 0 : 1 / (n * outputs);
  }
  return out;
}
