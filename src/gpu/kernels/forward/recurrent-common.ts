import common from '../../../../shaders/forward/recurrent_common.wgsl?raw';
import storageF16 from '../../../../shaders/forward/storage_f16.wgsl?raw';
import storageF32 from '../../../../shaders/forward/storage_f32.wgsl?raw';
import { activationCode } from '../../../rnn/activations.ts';
import { GATES, numDirections, type RecurrentLayerSpec, type RecurrentLayerWeights } from '../../../rnn/spec.ts';

/**
 * What every recurrent-layer kernel shares (shaders/forward/recurrent_common.wgsl, prepended to each
 * forward and backward kernel): the layer's override constants, the uniform struct `Params`, and the
 * packed weight layout W | R | B | P.
 */

/**
 * How x, the weights and y are stored: `'f32'`, or `'f16'`, two halves per 32-bit word
 * (shaders/forward/storage_f16.wgsl; the backend's `storage` option says what it costs and gains).
 */
export type Storage = 'f32' | 'f16';

/** A kernel's source with f32 storage: the storage accessors, the shared declarations, then its own body. */
export function recurrentSource(...bodies: string[]): string {
  return storedRecurrentSource('f32', ...bodies);
}

/** A kernel's source with x, weights and y in `storage` (shaders/forward/storage_{storage}.wgsl). */
export function storedRecurrentSource(storage: Storage, ...bodies: string[]): string {
  return [storage === 'f16' ? storageF16 : storageF32, common, ...bodies].join('\n');
}

/** The bindings every recurrent-layer kernel has (recurrent_common.wgsl's 1–6), by WGSL name. */
export const LAYER_BINDINGS = ['x', 'weights', 'lens', 'init', 'y', 'final_state'] as const;

/** Invocations per workgroup of the kernels that run one invocation per (direction, sequence). */
export const RECURRENT_WORKGROUP_SIZE = 64;

/** A layer spec as override constants: everything but batch and steps (those are uniforms). */
export function layerConstants(s: RecurrentLayerSpec): Record<string, number> {
  const D = numDirections(s);
  const per = s.activations.length / D;
  const constants: Record<string, number> = {
    INPUT_SIZE: s.inputSize,
    HIDDEN_SIZE: s.hiddenSize,
    CELL: { rnn: 0, gru: 1, lstm: 2 }[s.cell],
    NUM_DIRECTIONS: D,
    REVERSE: s.direction === 'reverse' ? 1 : 0,
    LAYOUT: s.layout,
    CLIP: s.clip ?? 0,
    LINEAR_BEFORE_RESET: s.linearBeforeReset ? 1 : 0,
    INPUT_FORGET: s.inputForget ? 1 : 0,
  };
  const roles = ['F', 'G', 'H'];
  for (let d = 0; d < D; d++) {
    for (let k = 0; k < per; k++) {
      const a = s.activations[d * per + k]!;
      constants[`ACT_${roles[k]}${d}`] = activationCode(a.name);
      constants[`ALPHA_${roles[k]}${d}`] = a.alpha;
      constants[`BETA_${roles[k]}${d}`] = a.beta;
    }
  }
  return constants;
}

/** What one dispatch's `Params` holds (shaders/forward/recurrent_common.wgsl). */
export interface RecurrentUniforms {
  batch: number;
  /** Steps of this dispatch's time segment. */
  steps: number;
  /** Steps of the whole sequence (the layout's stride). */
  totalSteps: number;
  hasH0: boolean;
  hasC0: boolean;
  hasLens: boolean;
  /** First global step of the segment, per direction (forward's, reverse's). */
  offsets: [number, number];
  /** Per-series models: sequences per model (default: the batch, one model). */
  modelBatch?: number;
  /** Per-series models: floats from one model's packed weights to the next's. */
  weightStride?: number;
  /** The step-wise kernel's local step and flags (shaders/forward/recurrent_step.wgsl; default 0). */
  step?: number;
  stepFlags?: number;
}

/** `Params` by field name. */
export function recurrentUniforms(p: RecurrentUniforms): Record<string, number> {
  return {
    batch: p.batch,
    steps: p.steps,
    has_h0: p.hasH0 ? 1 : 0,
    has_c0: p.hasC0 ? 1 : 0,
    has_lens: p.hasLens ? 1 : 0,
    total_steps: p.totalSteps,
    t_offset0: p.offsets[0],
    t_offset1: p.offsets[1],
    model_batch: p.modelBatch ?? p.batch,
    weight_stride: p.weightStride ?? 0,
    step: p.step ?? 0,
    step_flags: p.stepFlags ?? 0,
  };
}

/** Floats of a layer's packed W | R | B | P ({@link packLayerWeights}). */
export function packedFloats(spec: RecurrentLayerSpec): number {
  const D = numDirections(spec);
  const GH = GATES[spec.cell] * spec.hiddenSize;
  return D * GH * (spec.inputSize + spec.hiddenSize + 2) + D * 3 * spec.hiddenSize;
}

/** Packs W | R | B | P (absent B and P as zeros) into the kernels' single weight buffer. */
export function packLayerWeights(s: RecurrentLayerSpec, w: RecurrentLayerWeights): Float32Array {
  const D = numDirections(s);
  const GH = GATES[s.cell] * s.hiddenSize;
  const sizes = [w.W.length, w.R.length, D * 2 * GH, D * 3 * s.hiddenSize];
  const packed = new Float32Array(sizes.reduce((a, b) => a + b, 0));
  packed.set(w.W, 0);
  packed.set(w.R, sizes[0]!);
  if (w.B) packed.set(w.B, sizes[0]! + sizes[1]!);
  if (w.P) packed.set(w.P, sizes[0]! + sizes[1]! + sizes[2]!);
  return packed;
}
