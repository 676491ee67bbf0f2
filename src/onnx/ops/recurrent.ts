import { ConfigError, ModelError, ShapeError, WeightError } from '../../errors.ts';
import { activation, type Activation, type ActivationName } from '../../rnn/activations.ts';
import {
  checkLayerInputs,
  checkLayerWeights,
  GATES,
  numDirections,
  recurrentLayerSpec,
  type CellType,
  type Direction,
  type RecurrentLayerSpec,
} from '../../rnn/spec.ts';
import type { FloatArray } from '../../tensor.ts';
import { formatDims, toIndices, type OnnxTensor } from '../tensor.ts';
import { expectType, input, optionalInput, type OpContext, type OpDef } from './op.ts';

/**
 * The ONNX RNN, GRU and LSTM operators, each node one call of `backend.recurrentLayer` (the GPU
 * kernel or the float64 reference). Inputs in the operator's order:
 *   X, W, R, B?, sequence_lens?, initial_h?  and for LSTM  initial_c?, P?
 * Outputs Y, Y_h (and LSTM's Y_c), each only when the node names it. Tensor layouts: src/rnn/spec.ts.
 */

/** Activations that read alpha / beta: activation_alpha and activation_beta are handed out in list order to these only (as onnxruntime does). */
const USES_ALPHA = new Set<ActivationName>(['Affine', 'LeakyRelu', 'ThresholdedRelu', 'ScaledTanh', 'HardSigmoid', 'Elu']);
const USES_BETA = new Set<ActivationName>(['Affine', 'ScaledTanh', 'HardSigmoid']);

/** The activations attribute resolved with its alphas and betas; null for the cell's defaults. */
function activationsOf(ctx: OpContext): Activation[] | null {
  const names = ctx.attrs.strings('activations');
  const alphas = ctx.attrs.floats('activation_alpha') ?? [];
  const betas = ctx.attrs.floats('activation_beta') ?? [];
  if (!names) {
    if (alphas.length || betas.length) throw ctx.attrs.error('activation_alpha', 'is given without activations');
    return null;
  }
  return names.map((n) => {
    const { name } = activation(n);
    return activation(name, USES_ALPHA.has(name) ? alphas.shift() : undefined, USES_BETA.has(name) ? betas.shift() : undefined);
  });
}

const DIRECTIONS: readonly Direction[] = ['forward', 'reverse', 'bidirectional'];

/** The layer spec from the node's attributes and W's shape [D, G·H, I]. */
function specOf(ctx: OpContext, cell: CellType, W: OnnxTensor): RecurrentLayerSpec {
  const G = GATES[cell];
  const direction = ctx.attrs.string('direction', 'forward') as Direction;
  if (!DIRECTIONS.includes(direction)) {
    throw ctx.attrs.error('direction', `is ${JSON.stringify(direction)}: expected ${DIRECTIONS.join(', ')}`);
  }
  const D = direction === 'bidirectional' ? 2 : 1;
  if (W.dims.length !== 3 || W.dims[0] !== D || W.dims[1]! % G !== 0 || W.dims[1] === 0) {
    throw new WeightError(`${ctx.label}: W ${formatDims(W.dims)} must be [${D}, ${G}·hidden_size, input_size] (direction ${direction})`);
  }
  const hiddenSize = W.dims[1]! / G;
  const declared = ctx.attrs.int('hidden_size', null);
  if (declared !== null && declared !== hiddenSize) {
    throw ctx.attrs.error('hidden_size', `is ${declared} but W ${formatDims(W.dims)} holds ${hiddenSize} per gate`);
  }
  try {
    return recurrentLayerSpec({
      cell,
      inputSize: W.dims[2]!,
      hiddenSize,
      direction,
      activations: activationsOf(ctx) ?? undefined,
      clip: ctx.attrs.float('clip', null),
      layout: ctx.attrs.int('layout', 0) as 0 | 1,
      linearBeforeReset: ctx.attrs.flag('linear_before_reset', false),
      inputForget: ctx.attrs.flag('input_forget', false),
    });
  } catch (err) {
    // The spec's messages name the attribute (direction, clip, layout, activation).
    if (err instanceof ConfigError) throw new ModelError(`${ctx.label}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** A float32 parameter tensor of exactly `dims`, or null when the node omits it. */
function parameter(ctx: OpContext, t: OnnxTensor | null, name: string, dims: number[]): Float32Array | null {
  if (!t) return null;
  if (t.type !== 'float32') throw new ModelError(`${ctx.label}: ${name} must be float32, got ${t.type}`);
  if (formatDims(t.dims) !== formatDims(dims)) {
    throw new WeightError(`${ctx.label}: ${name} is ${formatDims(t.dims)}, expected ${formatDims(dims)}`);
  }
  return t.data as Float32Array;
}

/** A float input (X, initial_h, initial_c) of exactly `dims`, or null when omitted. */
function floatInput(ctx: OpContext, t: OnnxTensor | null, name: string, dims: number[]): FloatArray | null {
  if (!t) return null;
  expectType(ctx, t, name, ['float32', 'float64']);
  if (formatDims(t.dims) !== formatDims(dims)) {
    throw new ShapeError(`${ctx.label}: ${name} is ${formatDims(t.dims)}, expected ${formatDims(dims)}`);
  }
  return t.data as FloatArray;
}

async function runRecurrent(ctx: OpContext, cell: CellType): Promise<(OnnxTensor | null)[]> {
  const X = input(ctx, 0, 'X');
  const W = input(ctx, 1, 'W');
  if (W.type !== 'float32') throw new ModelError(`${ctx.label}: W must be float32, got ${W.type}`);
  const spec = specOf(ctx, cell, W);
  const { hiddenSize: H, inputSize: I, layout } = spec;
  const D = numDirections(spec);
  const GH = GATES[cell] * H;
  if (X.dims.length !== 3 || X.dims[2] !== I) {
    throw new ShapeError(`${ctx.label}: X is ${formatDims(X.dims)}, expected ${layout === 0 ? '[T, B' : '[B, T'}, ${I}]`);
  }
  const [T, B] = layout === 0 ? [X.dims[0]!, X.dims[1]!] : [X.dims[1]!, X.dims[0]!];
  const stateDims = layout === 0 ? [D, B, H] : [B, D, H];
  const lens = optionalInput(ctx, 4);
  if (lens && formatDims(lens.dims) !== formatDims([B])) {
    throw new ShapeError(`${ctx.label}: sequence_lens is ${formatDims(lens.dims)}, expected [${B}]`);
  }
  const lstm = cell === 'lstm';

  const weights = {
    W: W.data as Float32Array,
    R: parameter(ctx, input(ctx, 2, 'R'), 'R', [D, GH, H])!,
    B: parameter(ctx, optionalInput(ctx, 3), 'B', [D, 2 * GH]),
    P: lstm ? parameter(ctx, optionalInput(ctx, 7), 'P', [D, 3 * H]) : null,
  };
  const inputs = {
    X: floatInput(ctx, X, 'X', [...X.dims])!,
    batch: B,
    steps: T,
    sequenceLens: lens && Int32Array.from(toIndices(lens, `${ctx.label} sequence_lens`)),
    initialH: floatInput(ctx, optionalInput(ctx, 5), 'initial_h', stateDims),
    initialC: lstm ? floatInput(ctx, optionalInput(ctx, 6), 'initial_c', stateDims) : null,
  };
  checkLayerWeights(spec, weights);
  checkLayerInputs(spec, inputs);

  const r = await ctx.backend.recurrentLayer(spec, weights, inputs);
  const wanted = (i: number) => (ctx.outputs[i] ?? '') !== '';
  const out = (data: FloatArray | null, dims: number[], i: number): OnnxTensor | null =>
    data && wanted(i) ? { type: 'float32', dims, data: data instanceof Float32Array ? data : Float32Array.from(data) } : null;
  return [out(r.Y, layout === 0 ? [T, D, B, H] : [B, T, D, H], 0), out(r.Y_h, stateDims, 1), out(r.Y_c, stateDims, 2)];
}

const COMMON = ['activation_alpha', 'activation_beta', 'activations', 'clip', 'direction', 'hidden_size', 'layout'];

export const RECURRENT_OPS: Record<string, OpDef> = {
  RNN: { attributes: COMMON, run: (ctx) => runRecurrent(ctx, 'rnn') },
  GRU: { attributes: [...COMMON, 'linear_before_reset'], run: (ctx) => runRecurrent(ctx, 'gru') },
  LSTM: { attributes: [...COMMON, 'input_forget'], run: (ctx) => runRecurrent(ctx, 'lstm') },
};
