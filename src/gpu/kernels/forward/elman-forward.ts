import source from '../../../../shaders/forward/elman_forward.wgsl?raw';
import type { ResolvedElmanConfig } from '../../../model/config.ts';
import type { ElmanStateDict } from '../../../model/params.ts';
import { workgroupGrid } from '../../grid.ts';
import { defineKernel } from '../../kernel.ts';
import { dispatch, type Dispatch } from '../../program.ts';

/**
 * `elman_forward` (shaders/forward/elman_forward.wgsl): `ElmanRNN`'s own kernel, one invocation per
 * sequence running every layer and the readout through all T steps. The general stack (nn.RNN
 * layers on the recurrent kernels, the readout as their head: src/model/elman.ts elmanStack) is
 * faster for H ≤ 4 and for one layer of H = 32–64, but slower for two layers and for H = 8 at
 * large B on a software adapter, so ElmanRNN keeps this kernel until the stack is not slower for
 * its shapes: `node scripts/vite-run.mjs bench/elman-paths.ts` (bench/RESULTS.md, "ElmanRNN: its
 * own kernel against the general stack").
 */
export const elmanForward = defineKernel('elman_forward', source, ['x', 'weights', 'h0', 'y', 'hn', 'state']);

/** Invocations per workgroup; one invocation runs one sequence. */
const WORKGROUP_SIZE = 64;

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

/** The kernel over `batch` sequences of `steps` steps: y every step or the last only, from h0 or zeros. */
export function elmanDispatch(
  c: ResolvedElmanConfig,
  batch: number,
  steps: number,
  lastOnly: boolean,
  hasH0: boolean,
  maxPerDimension: number,
): Dispatch {
  return dispatch(elmanForward, {
    constants: {
      WORKGROUP_SIZE,
      INPUT_SIZE: c.inputSize,
      HIDDEN_SIZE: c.hiddenSize,
      OUTPUT_SIZE: c.outputSize,
      NUM_LAYERS: c.numLayers,
      USE_RELU: c.nonlinearity === 'relu' ? 1 : 0,
    },
    uniforms: { batch, steps, last_only: lastOnly ? 1 : 0, has_h0: hasH0 ? 1 : 0 },
    bind: { x: 'x', weights: 'weights', h0: 'h0', y: 'y', hn: 'hn', state: 'state' },
    grid: workgroupGrid(batch, WORKGROUP_SIZE, maxPerDimension),
  });
}
