import { ShapeError } from '../errors.ts';
import { checkFloatArray } from '../util/finite.ts';
import { checkResultLength, type FloatArray } from '../tensor.ts';
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
  checkFloatArray('X', inputs.X);
  if (!Array.isArray(inputs.initialH) || !Array.isArray(inputs.initialC))
    throw new ShapeError(`initial states must be arrays, one entry (or null) per layer (${L})`);
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
    checkLayerInputs(
      spec,
      {
        X: k === 0 ? inputs.X : null,
        batch: inputs.batch,
        steps: inputs.steps,
        sequenceLens: inputs.sequenceLens,
        initialH: inputs.initialH[k]!,
        initialC: inputs.initialC[k]!,
      },
      k > 0,
    );
  });
  const head = stack.head;
  if (head) {
    const last = stack.layers[L - 1]!.spec;
    const width = numDirections(last) * last.hiddenSize;
    if (head.inputSize !== width) throw new ShapeError(`the head reads ${head.inputSize} features but the last layer gives ${width}`);
    checkResultLength(inputs.batch * inputs.steps * head.outputSize, 'the output');
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

/**
 * The stack of every sequence of a call: one for all of them, or **per-series models**, `stacks[m]`
 * running the m-th of `stacks.length` groups of B / stacks.length consecutive sequences; the
 * stacks share one architecture (layer specs and head sizes) and have weights of their own.
 */
export type StackModels = RecurrentStack | readonly RecurrentStack[];

/** The stacks of `models`, one or many. */
export function stackList(models: StackModels): readonly RecurrentStack[] {
  return 'layers' in models ? [models as RecurrentStack] : (models as readonly RecurrentStack[]);
}

/** What must be equal for two stacks to be one architecture: the layer specs, the head's sizes, which biases exist. */
function architecture(stack: RecurrentStack): string {
  const layers = stack.layers.map(({ spec, weights }) => ({ spec, bias: weights.B !== null, peepholes: weights.P !== null }));
  const head = stack.head && { in: stack.head.inputSize, out: stack.head.outputSize, bias: stack.head.bias !== null };
  return JSON.stringify({ layers, head });
}

/**
 * Checks per-series models against a batch of `batch` sequences: at least one stack, all of one
 * architecture, and a batch that splits into equal groups ({@link ShapeError}). Returns the stacks.
 */
export function checkModels(models: StackModels, batch: number): readonly RecurrentStack[] {
  if (models === null || typeof models !== 'object') throw new ShapeError('models must be a stack { layers, head } or an array of stacks');
  const stacks = stackList(models);
  if (stacks.length === 0) throw new ShapeError('per-series models: give at least one stack');
  const first = architecture(stacks[0]!);
  const other = stacks.findIndex((s) => architecture(s) !== first);
  if (other >= 0) throw new ShapeError(`per-series models must share one architecture; model ${other} differs from model 0`);
  if (batch % stacks.length !== 0) throw new ShapeError(`a batch of ${batch} sequences does not split into ${stacks.length} models`);
  return stacks;
}

/**
 * Runs `run` once per model on its rows [b0, b1) of the batch and joins the results row-wise: what a
 * backend without per-series kernels (the CPU reference) does with {@link StackModels}.
 */
export async function perModelRows<R>(
  stacks: readonly RecurrentStack[],
  batch: number,
  run: (stack: RecurrentStack, b0: number, b1: number) => Promise<R> | R,
): Promise<R[]> {
  const per = batch / stacks.length;
  const out: R[] = [];
  for (const [m, stack] of stacks.entries()) out.push(await run(stack, m * per, (m + 1) * per));
  return out;
}

/** The rows [b0, b1) of a batch-first array of `batch` rows. */
export function batchRows<A extends FloatArray>(a: A, batch: number, b0: number, b1: number): A {
  const per = a.length / batch;
  return a.subarray(b0 * per, b1 * per) as A;
}

/** Row blocks joined in order (the inverse of splitting with {@link batchRows}). */
export function joinRows(parts: readonly FloatArray[]): Float64Array | Float32Array {
  const all = parts.some((p) => p instanceof Float64Array)
    ? new Float64Array(parts.reduce((n, p) => n + p.length, 0))
    : new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
  return all;
}

/** Sequences [b0, b1) of a stack call's inputs. */
export function stackInputRows(x: RecurrentStackInputs, b0: number, b1: number): RecurrentStackInputs {
  const B = x.batch;
  return {
    X: batchRows(x.X, B, b0, b1),
    batch: b1 - b0,
    steps: x.steps,
    sequenceLens: x.sequenceLens && x.sequenceLens.subarray(b0, b1),
    initialH: x.initialH.map((a) => a && batchRows(a, B, b0, b1)),
    initialC: x.initialC.map((a) => a && batchRows(a, B, b0, b1)),
  };
}

/** Per-model outputs of a stack call joined in model order. */
export function joinStackOutputs(parts: readonly RecurrentStackOutputs[]): RecurrentStackOutputs {
  const layers = parts[0]!.Y_h.length;
  const each = (pick: (p: RecurrentStackOutputs) => FloatArray[] | null) =>
    Array.from({ length: layers }, (_, k) => joinRows(parts.map((p) => pick(p)![k]!)));
  return { Y: joinRows(parts.map((p) => p.Y)), Y_h: each((p) => p.Y_h), Y_c: parts[0]!.Y_c ? each((p) => p.Y_c) : null };
}
