import type { ResolvedElmanConfig } from '../../model/config.ts';
import type { ForwardArgs, ForwardResult } from '../../model/forward.ts';
import type { ProgramExecutor } from '../executor.ts';
import { elmanDispatch, elmanPackedFloats } from '../kernels/forward/elman-forward.ts';
import type { Program } from '../program.ts';
import { asFloat32, BatchRows, batchSlice } from '../rows.ts';
import { WEIGHTS_ADVICE } from './stack.ts';

/** Throws before any packing or GPU work when the network's weights could not be bound. */
export function checkElmanWeights(executor: Pick<ProgramExecutor, 'checkFits'>, c: ResolvedElmanConfig): void {
  executor.checkFits('the weights buffer', 4 * elmanPackedFloats(c), WEIGHTS_ADVICE);
}

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

/** The network's outputs gathered from its chunks' programs ({@link elmanProgram}'s `y` and `hn`). */
export class ElmanOutputRows {
  private readonly y: BatchRows;
  private readonly hn: BatchRows;

  constructor(
    private readonly c: ResolvedElmanConfig,
    private readonly args: ForwardArgs,
  ) {
    const { batch: B, steps: T, lastOnly } = args;
    this.y = new BatchRows(B, lastOnly ? c.outputSize : T * c.outputSize, 'the output');
    this.hn = new BatchRows(B, c.hiddenSize, 'hn', c.numLayers);
  }

  /** The results of the program of sequences b0 … b1−1. */
  put(out: Record<string, Float32Array>, b0: number, b1: number): void {
    this.y.put(out.y!, b0, b1);
    this.hn.put(out.hn!, b0, b1);
  }

  /** The call's outputs, once every chunk has been put. */
  get result(): ForwardResult<Float32Array> {
    const { c } = this;
    const { batch: B, steps: T, lastOnly } = this.args;
    return {
      output: { data: this.y.result, shape: lastOnly ? [B, c.outputSize] : [B, T, c.outputSize] },
      hn: { data: this.hn.result, shape: [c.numLayers, B, c.hiddenSize] },
    };
  }
}
