import source from '../../../shaders/elman_forward.wgsl?raw';
import type { ResolvedElmanConfig } from '../../model/config.ts';
import type { ElmanStateDict } from '../../model/params.ts';
import type { PipelineSpec } from '../pipelines.ts';

/**
 * Descriptor of `shaders/elman_forward.wgsl`: which pipeline a configuration needs (built once and
 * cached), how its weights are packed, and how large a grid a batch needs (computed per call).
 */

/** Invocations per workgroup; one invocation runs one sequence. */
export const ELMAN_WORKGROUP_SIZE = 64;

/** The pipeline for a configuration: sizes and activation as override constants. */
export function elmanForwardPipeline(c: ResolvedElmanConfig): PipelineSpec {
  return {
    name: 'elman_forward',
    code: source,
    constants: {
      WORKGROUP_SIZE: ELMAN_WORKGROUP_SIZE,
      INPUT_SIZE: c.inputSize,
      HIDDEN_SIZE: c.hiddenSize,
      OUTPUT_SIZE: c.outputSize,
      NUM_LAYERS: c.numLayers,
      USE_RELU: c.nonlinearity === 'relu' ? 1 : 0,
    },
  };
}

/** Floats of {@link packElmanWeights}'s array, from the configuration alone (checked before packing). */
export function elmanPackedFloats(c: ResolvedElmanConfig): number {
  const H = c.hiddenSize;
  const layers = H * c.inputSize + H * H + H + (c.numLayers - 1) * (2 * H * H + H);
  return layers + c.outputSize * H + c.outputSize;
}

/** Multiply-adds of one step of one sequence: every layer's two products, then the readout. */
export function elmanMacsPerStep(c: ResolvedElmanConfig): number {
  const H = c.hiddenSize;
  return H * (c.inputSize + H) + (c.numLayers - 1) * 2 * H * H + c.outputSize * H;
}

/**
 * Packs the state dict into the kernel's weight layout: per layer W_ih, W_hh, (b_ih + b_hh); then
 * the readout's W_ho and b_o. The two biases are summed in float64 and rounded once.
 */
export function packElmanWeights(c: ResolvedElmanConfig, sd: ElmanStateDict): Float32Array {
  const H = c.hiddenSize;
  const parts: Float32Array[] = [];
  for (let k = 0; k < c.numLayers; k++) {
    const bih = sd.rnn[`bias_ih_l${k}`]!;
    const bhh = sd.rnn[`bias_hh_l${k}`]!;
    const bias = new Float32Array(H);
    for (let j = 0; j < H; j++) bias[j] = bih[j]! + bhh[j]!;
    parts.push(sd.rnn[`weight_ih_l${k}`]!, sd.rnn[`weight_hh_l${k}`]!, bias);
  }
  parts.push(sd.readout.weight, sd.readout.bias);
  const packed = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    packed.set(p, offset);
    offset += p.length;
  }
  return packed;
}

/** The params uniform for one call. */
export function elmanParams(batch: number, steps: number, lastOnly: boolean, hasH0: boolean): Uint32Array {
  return new Uint32Array([batch, steps, lastOnly ? 1 : 0, hasH0 ? 1 : 0]);
}
