import backwardCommon from '../../../shaders/recurrent_backward_common.wgsl?raw';
import tiled from '../../../shaders/recurrent_backward.wgsl?raw';
import sequential from '../../../shaders/recurrent_backward_sequential.wgsl?raw';
import { DeviceError } from '../../errors.ts';
import { GATES, numDirections, type RecurrentLayerSpec } from '../../rnn/spec.ts';
import { workgroupGrid } from '../grid.ts';
import type { PipelineSpec } from '../pipelines.ts';
import { ones, type Contraction } from './grad-contract.ts';
import {
  layerPipeline,
  planRecurrentLayer,
  RECURRENT_WORKGROUP_SIZE,
  type KernelLimits,
  type RecurrentKernelChoice,
  type RecurrentLayerPlan,
} from './recurrent-layer.ts';

/**
 * Descriptors of one recurrent layer's training kernels: the forward pass in training mode, the
 * reverse-time pass, and the reductions that turn its gate gradients into parameter gradients.
 *
 * - Forward with saving: the tiled and sequential forward kernels with the override SAVE = 1, which
 *   also write, per step, every gate's pre-activation, h_prev and (LSTM) c_prev, and GRU's
 *   R_h·h + Rb_h or r ⊙ h, after Y in Y's binding (layout: shaders/recurrent_common.wgsl,
 *   "Training"). With SAVE = 0 the branches fold away and inference binds what it always did.
 *   Why save rather than recompute from the saved Y: recomputing every pre-activation in the
 *   backward pass repeats the forward's W·x and R·h (the whole forward cost again, per layer), and
 *   LSTM's c cannot be recomputed backwards at all; saving costs SAVED_SLOTS·H stores per step
 *   beside G·H·(I + H) multiply-adds. Measured on SwiftShader (B = 1024, T = 64, one layer, tiled
 *   kernels, scratch/bptt/timing2.ts: process CPU time, median of 5, on a machine shared with other
 *   jobs), inference forward → forward with saving → + backward kernel → + every reduction:
 *   LSTM H=32 1.23 → 1.54 → 3.95 → 5.51 s, GRU H=24 I=4 0.87 → 0.99 → 2.25 → 3.97 s, Elman ReLU
 *   H=32 0.89 → 1.00 → 2.00 → 2.39 s. Saving costs 12–25 % of a forward pass; recomputing would
 *   cost about 100 %. With SAVE = 0 the forward kernels give bit-identical outputs in the same time
 *   as before these branches existed (A/B against 56be733, same constants and buffers).
 *   Pre-activations rather than gate values: f′ and clip's mask need the argument (ReLU,
 *   HardSigmoid, a clipped tanh are not invertible from their output).
 * - `recurrent_backward` (shaders/recurrent_backward.wgsl), whenever H fits a workgroup: the tiled
 *   kernel's transpose, a workgroup per direction and tile of 4·GROUPS sequences sharing Rᵀ·dA;
 *   `recurrent_backward_sequential` otherwise, one invocation per (direction, sequence).
 * - Parameter gradients and dX: shaders/grad_contract.wgsl over the rows of dg (see
 *   {@link layerGradContractions}).
 */

/** The tiled backward kernel aims at about this many invocations per workgroup (as the forward). */
const TILE_INVOCATIONS = 128;

/** Working-memory slots per (direction, sequence) and unit of the sequential backward kernel. */
const BACKWARD_STATE_SLOTS = 3;

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

/** Floats of the forward's binding 5 in training mode: Y, then the saved values, per sequence. */
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
  pipeline: PipelineSpec;
  grid: [number, number];
  /** Bytes of the sequential kernel's scratch binding (0 for the tiled kernel, which has none). */
  scratchBytes: number;
}

function largestPowerOfTwoAtMost(n: number): number {
  return 2 ** Math.floor(Math.log2(Math.max(1, n)));
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
  const constants = { PEEPHOLES: peepholes ? 1 : 0 };
  const maxInvocations = Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX);
  const groupBytes = 2 * G * H * 16;
  const tileFits = H <= maxInvocations && groupBytes <= limits.maxComputeWorkgroupStorageSize;
  if (choice === 'tile' && !tileFits) {
    throw new DeviceError(
      `the tiled backward kernel needs hidden_size ≤ ${maxInvocations} and ${groupBytes} bytes of workgroup memory; ` +
        `this device allows ${limits.maxComputeWorkgroupStorageSize}`,
    );
  }
  if (tileFits && choice !== 'sequential') {
    const perModel = batch / models;
    const groups = Math.min(
      largestPowerOfTwoAtMost(Math.min(TILE_INVOCATIONS, maxInvocations) / H),
      2 ** Math.ceil(Math.log2(Math.ceil(perModel / 4))),
      largestPowerOfTwoAtMost(limits.maxComputeWorkgroupStorageSize / groupBytes),
    );
    const daTile = 2 * G * groups * H;
    const rShared = (daTile + H * H) * 16 <= limits.maxComputeWorkgroupStorageSize;
    return {
      kernel: 'tile',
      pipeline: layerPipeline(s, 'recurrent_backward', `${backwardCommon}\n${tiled}`, {
        ...constants,
        GROUPS: groups,
        WORKGROUP_SIZE: groups * H,
        R_SHARED: rShared ? 1 : 0,
        DA_TILE: daTile,
        R_TILE: rShared ? H * H : 1,
      }),
      grid: workgroupGrid(D * models * Math.ceil(perModel / (4 * groups)), 1, limits.maxComputeWorkgroupsPerDimension),
      scratchBytes: 0,
    };
  }
  return {
    kernel: 'sequential',
    pipeline: layerPipeline(s, 'recurrent_backward_sequential', `${backwardCommon}\n${sequential}`, {
      ...constants,
      WORKGROUP_SIZE: RECURRENT_WORKGROUP_SIZE,
    }),
    grid: workgroupGrid(D * batch, RECURRENT_WORKGROUP_SIZE, limits.maxComputeWorkgroupsPerDimension),
    scratchBytes: 4 * BACKWARD_STATE_SLOTS * H * D * batch,
  };
}

/**
 * The first global step of time segment k (of `segments` of `segment` steps) per direction, in the
 * order a pass walks them: the forward pass runs the forward direction's segments first to last and
 * the reverse direction's last to first; the backward pass the other way round. A single reverse
 * direction is direction 0 and takes the reverse direction's offset.
 */
export function segmentOffsets(s: RecurrentLayerSpec, k: number, segments: number, segment: number, pass: 'forward' | 'backward'): [number, number] {
  const early = k * segment;
  const late = (segments - 1 - k) * segment;
  const [forward, reverse] = pass === 'forward' ? [early, late] : [late, early];
  return s.direction === 'reverse' ? [reverse, reverse] : [forward, reverse];
}

/** Buffer names one layer's gradient reductions read and write. */
export interface LayerGradBuffers {
  /** dg of the backward kernel: rows of {@link gradRowWidth}. */
  dg: string;
  /** The forward's binding 5 in training mode: Y then the saved values. */
  fwd: string;
  /** The layer's input X. */
  x: string;
  /** The packed W | R | B | P (src/gpu/kernels/recurrent-layer.ts packLayerWeights). */
  weights: string;
  /** Receives dW | dR | dB | dP, packed like the weights. */
  grads: string;
  /** Receives dX, X's shape. */
  dx: string;
}

/**
 * The contractions of one layer's gradients over `batch` sequences of `steps` rows (layout 1 rows
 * (b, t); layout 0 rows (t, b) hold the same sums): with dg = the gate gradients dA (and extras) per
 * row, x the input, h_prev and q = r ⊙ h_prev the saved recurrent inputs,
 *   dW[d]  = Σ_rows dA[d] ⊗ x             dR[d] = Σ_rows dA_R[d] ⊗ h_prev   (GRU lbr = 0: h gate ⊗ q)
 *   dWb[d] = Σ_rows dA[d]                 dRb[d] = Σ_rows dA_R[d]           dP[d] = Σ_rows extras[d]
 *   dX     = dA · W   (contracted over every direction's gate units)
 * where dA_R is dA except GRU's h gate with lbr = 1 (dA_h ⊙ r, kept as an extra). The first five are
 * row sums (`params`, for {@link rowReduction}); dX a contraction over the gate units. Per-series
 * models (`models.count` of batch / count sequences each, model m's W at m·`weightStride`): the row
 * sums are taken per model by rowReduction's `models`, and dX contracts each model's rows with its W.
 */
export function layerGradContractions(
  s: RecurrentLayerSpec,
  peepholes: boolean,
  batch: number,
  steps: number,
  names: LayerGradBuffers,
  models: { count: number; weightStride: number } = { count: 1, weightStride: 0 },
): { params: Omit<Contraction, 'rowsPerChunk'>[]; dx: Contraction } {
  const D = numDirections(s);
  const H = s.hiddenSize;
  const I = s.inputSize;
  const G = GATES[s.cell];
  const GH = G * H;
  const S = savedSlots(s);
  const X = extraSlots(s, peepholes);
  const width = gradRowWidth(s, peepholes);
  const rows = batch * steps;
  const rOffset = D * GH * I;
  const bOffset = rOffset + D * GH * H;
  const pOffset = bOffset + D * 2 * GH;
  const extras = D * GH; // first extra column
  const savedBase = rows * D * H; // the saved values follow Y in the forward's binding
  const hPrevSlot = G;
  const saved = (slot: number) => ({ buffer: names.fwd, offset: savedBase + slot * H, z: S * H, row: D * S * H, col: 1 });
  const dA = (gate: number) => ({ buffer: names.dg, offset: gate * H, z: GH, row: width, col: 1 });
  const extra = (e: number) => ({ buffer: names.dg, offset: extras + e * H, z: X * H, row: width, col: 1 });

  // Gate ranges [g0, g1) and what their recurrent side sees: A (dA or an extra) and the input slot.
  const recurrent: Array<{ g0: number; g1: number; a: Contraction['a']; slot: number }> = [];
  if (s.cell === 'gru') {
    recurrent.push({ g0: 0, g1: 2, a: dA(0), slot: hPrevSlot });
    recurrent.push(s.linearBeforeReset ? { g0: 2, g1: 3, a: extra(0), slot: hPrevSlot } : { g0: 2, g1: 3, a: dA(2), slot: 4 });
  } else {
    recurrent.push({ g0: 0, g1: G, a: dA(0), slot: hPrevSlot });
  }

  const params: Omit<Contraction, 'rowsPerChunk'>[] = [
    // dW [D·G·H, I]: both directions in one product, x being shared.
    { a: { buffer: names.dg, row: width, col: 1 }, b: { buffer: names.x, row: I, col: 1 }, out: { buffer: names.grads, p: I, q: 1 }, p: D * GH, q: I, rows },
    // dWb [d, 0 … GH)
    { a: dA(0), b: ones, out: { buffer: names.grads, offset: bOffset, z: 2 * GH, p: 1, q: 1 }, p: GH, q: 1, rows, zs: D },
  ];
  for (const { g0, g1, a, slot } of recurrent) {
    const p = (g1 - g0) * H;
    params.push(
      { a, b: saved(slot), out: { buffer: names.grads, offset: rOffset + g0 * H * H, z: GH * H, p: H, q: 1 }, p, q: H, rows, zs: D },
      { a, b: ones, out: { buffer: names.grads, offset: bOffset + GH + g0 * H, z: 2 * GH, p: 1, q: 1 }, p, q: 1, rows, zs: D },
    );
  }
  if (s.cell === 'lstm' && peepholes) {
    params.push({ a: extra(0), b: ones, out: { buffer: names.grads, offset: pOffset, z: 3 * H, p: 1, q: 1 }, p: 3 * H, q: 1, rows, zs: D });
  }
  // dX[row, i] = Σ_{d,k,j} dA[row, d, k, j]·W[d, k, j, i]: the gate units are the summed index, and
  // per-series models are chunks of it (model m's rows against model m's W).
  const modelRows = rows / models.count;
  const dx: Contraction = {
    a: { buffer: names.dg, chunk: modelRows * width, row: 1, col: width },
    b: { buffer: names.weights, chunk: models.weightStride, row: I, col: 1 },
    out: { buffer: names.dx, chunk: modelRows * I, p: I, q: 1 },
    p: modelRows,
    q: I,
    rows: models.count * D * GH,
    rowsPerChunk: D * GH,
  };
  return { params, dx };
}
