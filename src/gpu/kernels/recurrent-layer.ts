import source from '../../../shaders/recurrent_layer.wgsl?raw';
import { activationCode } from '../../rnn/activations.ts';
import { GATES, numDirections, type RecurrentLayerSpec, type RecurrentLayerWeights } from '../../rnn/spec.ts';
import type { PipelineSpec } from '../pipelines.ts';

/**
 * Descriptor of `shaders/recurrent_layer.wgsl`: one ONNX-style RNN/GRU/LSTM layer, one invocation
 * per (direction, sequence) pair running every step.
 */

export const RECURRENT_WORKGROUP_SIZE = 64;

/** Bytes of the `Params` uniform (five u32, padded to 32 as uniform structs round up to 16). */
export const RECURRENT_PARAMS_BYTES = 32;

/** Working-memory slots per (direction, sequence) and unit: h twice, c, z, r·h. */
export const RECURRENT_STATE_SLOTS = 5;

/** The pipeline for a layer spec; everything but batch and steps is an override constant. */
export function recurrentLayerPipeline(s: RecurrentLayerSpec): PipelineSpec {
  const D = numDirections(s);
  const per = s.activations.length / D;
  const constants: Record<string, number> = {
    WORKGROUP_SIZE: RECURRENT_WORKGROUP_SIZE,
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
  return { name: 'recurrent_layer', code: source, constants };
}

/** Packs W | R | B | P (absent B and P as zeros) into the kernel's single weight buffer. */
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

/** The params uniform for one call. */
export function recurrentParams(batch: number, steps: number, hasH0: boolean, hasC0: boolean, hasLens: boolean): Uint32Array {
  const p = new Uint32Array(RECURRENT_PARAMS_BYTES / 4);
  p.set([batch, steps, hasH0 ? 1 : 0, hasC0 ? 1 : 0, hasLens ? 1 : 0]);
  return p;
}
