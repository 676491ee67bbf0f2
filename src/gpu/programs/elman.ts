import type { ResolvedElmanConfig } from '../../model/config.ts';
import type { ForwardArgs } from '../../model/forward.ts';
import { elmanDispatch } from '../kernels/forward/elman-forward.ts';
import type { Program } from '../program.ts';
import { asFloat32, batchSlice } from '../rows.ts';

/**
 * `ElmanRNN`'s forward pass over sequences b0 … b1−1 (src/gpu/kernels/forward/elman-forward.ts):
 * x and y are batch-first, h0 and hn `[L, B, H]`, the kernel's state `[L, 2, H, n]`; reads back y
 * and hn. `weights`: the packed weights.
 */
export function elmanProgram(
  c: ResolvedElmanConfig,
  weights: Float32Array,
  args: ForwardArgs,
  b0: number,
  b1: number,
  maxGrid: number,
): Program {
  const { batch: B, steps: T, lastOnly } = args;
  const { inputSize: I, hiddenSize: H, outputSize: O, numLayers: L } = c;
  const n = b1 - b0;
  const h0 = args.h0 && (n === B ? asFloat32(args.h0) : batchSlice(args.h0, L, B, H, b0, b1));
  return {
    what: 'the Elman forward pass',
    buffers: {
      x: { data: asFloat32(args.x.subarray(b0 * T * I, b1 * T * I)) },
      weights: { data: weights },
      h0: { data: h0 },
      y: { bytes: 4 * n * (lastOnly ? O : T * O), read: true },
      hn: { bytes: 4 * L * n * H, read: true },
      state: { bytes: 4 * L * 2 * H * n },
    },
    dispatches: [elmanDispatch(c, n, T, lastOnly, h0 !== null, maxGrid)],
  };
}
