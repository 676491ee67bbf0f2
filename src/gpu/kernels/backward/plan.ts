import { GATES, numDirections, type RecurrentLayerSpec } from '../../../rnn/spec.ts';
import { workgroupGrid } from '../../grid.ts';
import { layerConstants, RECURRENT_WORKGROUP_SIZE } from '../forward/recurrent-common.ts';
import {
  planRecurrentLayer,
  type KernelLimits,
  type PlannedKernel,
  type RecurrentKernelChoice,
  type RecurrentLayerPlan,
} from '../forward/plan.ts';
import { tileError, tileFits, tileShape } from '../tile.ts';
import { backwardScratchBytes, recurrentBackwardSequential } from './recurrent-backward-sequential.ts';
import { backwardTile, backwardTileConstants, recurrentBackwardTile } from './recurrent-backward-tile.ts';

/**
 * The kernels of one recurrent layer's training: the forward pass in training mode, the reverse-time
 * pass, and (src/gpu/kernels/backward/layer-gradients.ts) the reductions that turn its gate
 * gradients into parameter gradients.
 *
 * - Forward with saving: the tiled and sequential forward kernels with the override SAVE = 1, which
 *   also write, per step, every gate's pre-activation, h_prev and (LSTM) c_prev, and GRU's
 *   R_h·h + Rb_h or r ⊙ h, after Y in Y's binding (layout: shaders/forward/recurrent_common.wgsl,
 *   "Training"). With SAVE = 0 the branches fold away and inference binds what it always did.
 *   Saving rather than recomputing from the saved Y: recomputing every pre-activation in the
 *   backward pass repeats the forward's W·x and R·h (the whole forward cost again, per layer), and
 *   LSTM's c cannot be recomputed backwards at all; saving costs SAVED_SLOTS·H stores per step
 *   beside G·H·(I + H) multiply-adds. Pre-activations rather than gate values: f′ and clip's mask
 *   need the argument (ReLU, HardSigmoid, a clipped tanh are not invertible from their output).
 *   What a training step costs against the forward pass: `npm run bench:train -- --quick` beside
 *   `npm run bench -- --quick` (bench/RESULTS.md, "Training").
 * - `recurrent_backward_tile` (shaders/backward/recurrent_backward_tile.wgsl), whenever H fits a
 *   workgroup: the tiled kernel's transpose, a workgroup per direction and tile of 4·GROUPS
 *   sequences sharing Rᵀ·dA (tile shape: src/gpu/kernels/tile.ts, as the forward's);
 *   `recurrent_backward_sequential` otherwise, one invocation per (direction, sequence).
 */

/** Values saved per row, direction and unit (recurrent_common.wgsl SAVED_SLOTS). */
export function savedSlots(s: RecurrentLayerSpec): number {
  return { rnn: 2, gru: 5, lstm: 6 }[s.cell];
}

/** Extra gradient slots per row, direction and unit (recurrent_backward_common.wgsl EXTRA). */
export function extraSlots(s: RecurrentLayerSpec, peepholes: boolean): number {
  if (s.cell === 'gru' && s.linearBeforeReset) return 1;
  return s.cell === 'lstm' && peepholes ? 3 : 0;
}

/** Floats per row of the gate-gradient buffer dg: [D, G, H] then [D, EXTRA, H]. */
export function gradRowWidth(s: RecurrentLayerSpec, peepholes: boolean): number {
  return numDirections(s) * (GATES[s.cell] + extraSlots(s, peepholes)) * s.hiddenSize;
}

/** Floats of the forward's `y` binding in training mode: Y, then the saved values, per sequence. */
export function trainingOutputFloatsPerSequence(s: RecurrentLayerSpec, steps: number): number {
  return steps * numDirections(s) * s.hiddenSize * (1 + savedSlots(s));
}

/**
 * The forward kernel in training mode: the tiled or sequential plan (the register kernel for tiny H
 * has no training mode; the tiled one takes those sizes), with SAVE on. `models`: per-series models
 * of batch / models sequences each (see planRecurrentLayer).
 */
export function planTrainingForward(
  s: RecurrentLayerSpec,
  batch: number,
  limits: KernelLimits,
  choice: RecurrentKernelChoice = 'auto',
  models = 1,
): RecurrentLayerPlan {
  let plan = planRecurrentLayer(s, batch, limits, choice === 'tile' || choice === 'sequential' ? choice : 'auto', 0, models);
  if (plan.kernel !== 'tile' && plan.kernel !== 'sequential') plan = planRecurrentLayer(s, batch, limits, 'tile', 0, models);
  return { ...plan, pipeline: { ...plan.pipeline, constants: { ...plan.pipeline.constants, SAVE: 1 } } };
}

/** What one layer's backward pass dispatches. */
export interface RecurrentBackwardPlan {
  kernel: 'tile' | 'sequential';
  pipeline: PlannedKernel;
  /** Bytes of the sequential kernel's scratch binding (0 for the tiled kernel, which has none). */
  scratchBytes: number;
}

/**
 * Picks the backward kernel and its shape: the tiled one while H fits a workgroup and the gate tile
 * (two parities × G gates × H units of vec4) fits workgroup memory; Rᵀ staged beside it when it fits.
 * `models`: per-series models of batch / models sequences each, tiles never mixing two.
 */
export function planRecurrentBackward(
  s: RecurrentLayerSpec,
  peepholes: boolean,
  batch: number,
  limits: KernelLimits,
  choice: RecurrentKernelChoice = 'auto',
  models = 1,
): RecurrentBackwardPlan {
  const D = numDirections(s);
  const H = s.hiddenSize;
  const G = GATES[s.cell];
  const spec = { PEEPHOLES: peepholes ? 1 : 0, ...layerConstants(s) };
  const tile = backwardTile(H, G);
  const fits = tileFits(tile, limits);
  if (choice === 'tile' && !fits) throw tileError('the tiled backward kernel', tile, limits);
  if (fits && choice !== 'sequential') {
    const shape = tileShape(tile, batch, D, models, limits);
    return {
      kernel: 'tile',
      pipeline: { kernel: recurrentBackwardTile, constants: { ...backwardTileConstants(H, G, shape), ...spec }, grid: shape.grid },
      scratchBytes: 0,
    };
  }
  return {
    kernel: 'sequential',
    pipeline: {
      kernel: recurrentBackwardSequential,
      constants: { WORKGROUP_SIZE: RECURRENT_WORKGROUP_SIZE, ...spec },
      grid: workgroupGrid(D * batch, RECURRENT_WORKGROUP_SIZE, limits.maxComputeWorkgroupsPerDimension),
    },
    scratchBytes: backwardScratchBytes(H, D * batch),
  };
}
