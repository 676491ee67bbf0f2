import { ShapeError } from '../errors.ts';
import type { FloatArray } from '../tensor.ts';
import { checkLayerInputs, checkLayerWeights, numDirections, type RecurrentLayerSpec, type RecurrentLayerWeights } from './spec.ts';

/**
 * A stack of recurrent layers, layer k's output feeding layer k+1, with an optional linear head at
 * every step: what a PyTorch `nn.RNN/LSTM/GRU(num_layers=L)` + `nn.Linear` lowers to. Every layer is
 * batch-major (layout 1), so layer k's Y `[B, T, D, H]` is layer k+1's X `[B, T, D·H]` as it lies.
 */
export interface StackLayer {
  readonly spec: RecurrentLayerSpec;
  readonly weights: RecurrentLayerWeights;
}

/** The nn.Linear head: weight `[O, F]` row-major, bias `[O]` or null. */
export interface LinearHead {
  readonly weight: Float32Array;
  readonly bias: Float32Array | null;
  readonly outputSize: number;
  readonly inputSize: number;
}

export interface RecurrentStack {
  readonly layers: readonly StackLayer[];
  readonly head: LinearHead | null;
}

/** One call's inputs: X `[B, T, I]`; per layer an initial state `[B, D, H]` or null. */
export interface RecurrentStackInputs {
  X: FloatArray;
  batch: number;
  steps: number;
  sequenceLens: Int32Array | null;
  initialH: readonly (FloatArray | null)[];
  initialC: readonly (FloatArray | null)[];
}

/** Y: the head's output `[B, T, O]`, or the last layer's `[B, T, D·H]`; per layer Y_h / Y_c `[B, D, H]`. */
export interface RecurrentStackOutputs<D extends FloatArray = FloatArray> {
  Y: D;
  Y_h: D[];
  Y_c: D[] | null;
}

/** Checks that the layers chain (layout 1, sizes) and every layer's weights and inputs ({@link ShapeError}). */
export function checkStack(stack: RecurrentStack, inputs: RecurrentStackInputs): void {
  const L = stack.layers.length;
  if (L === 0) throw new ShapeError('a recurrent stack needs at least one layer');
  if (inputs.initialH.length !== L || inputs.initialC.length !== L) {
    throw new ShapeError(`initial states must be given per layer (${L}), got ${inputs.initialH.length} and ${inputs.initialC.length}`);
  }
  stack.layers.forEach(({ spec, weights }, k) => {
    if (spec.layout !== 1) throw new ShapeError(`layer ${k} of a stack must be batch-major (layout 1)`);
    if (k > 0) {
      const prev = stack.layers[k - 1]!.spec;
      const width = numDirections(prev) * prev.hiddenSize;
      if (spec.inputSize !== width) throw new ShapeError(`layer ${k} reads ${spec.inputSize} features but layer ${k - 1} gives ${width}`);
    }
    checkLayerWeights(spec, weights);
    checkLayerInputs(spec, {
      X: k === 0 ? inputs.X : null,
      batch: inputs.batch,
      steps: inputs.steps,
      sequenceLens: inputs.sequenceLens,
      initialH: inputs.initialH[k]!,
      initialC: inputs.initialC[k]!,
    });
  });
  const head = stack.head;
  if (head) {
    const last = stack.layers[L - 1]!.spec;
    const width = numDirections(last) * last.hiddenSize;
    if (head.inputSize !== width) throw new ShapeError(`the head reads ${head.inputSize} features but the last layer gives ${width}`);
  }
}

/**
 * The head at every one of `rows` positions: `out[r, o] = Σ_j weight[o, j]·y[r, j] + bias[o]`, summed in
 * float64; Float64Array for float64 input (the CPU reference), else Float32Array.
 */
export function applyLinearHead(head: LinearHead, y: FloatArray, rows: number): FloatArray {
  const { inputSize: F, outputSize: O, weight, bias } = head;
  const out = y instanceof Float64Array ? new Float64Array(rows * O) : new Float32Array(rows * O);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < O; o++) {
      let v = bias ? bias[o]! : 0;
      for (let j = 0; j < F; j++) v += weight[o * F + j]! * y[r * F + j]!;
      out[r * O + o] = v;
    }
  }
  return out;
}
