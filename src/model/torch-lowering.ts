import type { LinearHead, RecurrentStack, StackLayer } from '../rnn/stack.ts';
import { GATES, recurrentLayerSpec, type CellType, type RecurrentLayerSpec } from '../rnn/spec.ts';
import { torchDirections, torchHeadNames, torchLayerNames, type TorchRecurrentConfig } from './torch-modules.ts';

/**
 * Lowering a PyTorch recurrent module to webrnn's ONNX-semantics layers (src/rnn/spec.ts), and back.
 * Layer k of `nn.RNN/LSTM/GRU(num_layers=L)` becomes one layer spec, batch-major (layout 1), so
 * layer k's Y `[B, T, D, H]` is layer k+1's X `[B, T, D·H]` without a copy. Per direction d:
 *
 *   W[d] = weight_ih_l{k}[_reverse]   R[d] = weight_hh_l{k}[_reverse]   B[d] = bias_ih ‖ bias_hh
 *
 * with the gate blocks (H rows each) reordered from PyTorch's order to ONNX's:
 *
 *   LSTM  PyTorch i, f, g, o   →  ONNX i, o, f, c      GRU  PyTorch r, z, n  →  ONNX z, r, h
 *
 * PyTorch's GRU applies the reset gate after the recurrent product (ONNX linear_before_reset = 1);
 * nn.RNN's nonlinearity becomes the activation Tanh or Relu; LSTM and GRU keep ONNX's defaults
 * (Sigmoid, Tanh[, Tanh]), which are PyTorch's.
 */

/** One lowered layer, the whole module, and its head: see src/rnn/stack.ts. */
export type { LinearHead } from '../rnn/stack.ts';
export type LoweredLayer = StackLayer;
export type LoweredModule = RecurrentStack;

/** For each ONNX gate position, the PyTorch gate block it takes: ONNX block g = PyTorch block ORDER[g]. */
export const TORCH_GATE_OF_ONNX: Record<CellType, readonly number[]> = {
  rnn: [0],
  lstm: [0, 3, 1, 2], // i ← i, o ← o, f ← f, c ← g
  gru: [1, 0, 2], // z ← z, r ← r, h ← n
};

/** The inverse permutation: PyTorch block p = ONNX block ONNX_GATE_OF_TORCH[p]. */
export const ONNX_GATE_OF_TORCH: Record<CellType, readonly number[]> = {
  rnn: invert(TORCH_GATE_OF_ONNX.rnn),
  lstm: invert(TORCH_GATE_OF_ONNX.lstm),
  gru: invert(TORCH_GATE_OF_ONNX.gru),
};

function invert(order: readonly number[]): number[] {
  const inverse = new Array<number>(order.length);
  order.forEach((from, to) => (inverse[from] = to));
  return inverse;
}

/**
 * Copies the gate blocks of one direction, `H` rows of `cols` values each, from `src` (starting at
 * `srcAt`) to `dst` (starting at `dstAt`): block g of dst is block order[g] of src.
 */
function permuteGates(
  src: Float32Array,
  srcAt: number,
  dst: Float32Array,
  dstAt: number,
  order: readonly number[],
  H: number,
  cols: number,
): void {
  const block = H * cols;
  for (let g = 0; g < order.length; g++) {
    const from = srcAt + order[g]! * block;
    dst.set(src.subarray(from, from + block), dstAt + g * block);
  }
}

/** Layer k's spec: input size I for k = 0 and D·H above, batch-major. */
export function torchLayerSpec(c: TorchRecurrentConfig, k: number): RecurrentLayerSpec {
  return recurrentLayerSpec({
    cell: c.cell,
    inputSize: k === 0 ? c.inputSize : torchDirections(c) * c.hiddenSize,
    hiddenSize: c.hiddenSize,
    direction: c.bidirectional ? 'bidirectional' : 'forward',
    activations: c.cell === 'rnn' ? [c.nonlinearity === 'relu' ? 'Relu' : 'Tanh'] : [],
    linearBeforeReset: c.cell === 'gru',
    layout: 1,
  });
}

/** Lowers checked float32 tensors (by PyTorch name, see checkTorchStateDict) to layers and head. */
export function torchToLayers(c: TorchRecurrentConfig, params: Record<string, Float32Array>): LoweredModule {
  const D = torchDirections(c);
  const H = c.hiddenSize;
  const GH = GATES[c.cell] * H;
  const order = TORCH_GATE_OF_ONNX[c.cell];
  const layers: LoweredLayer[] = [];
  for (let k = 0; k < c.numLayers; k++) {
    const spec = torchLayerSpec(c, k);
    const I = spec.inputSize;
    const W = new Float32Array(D * GH * I);
    const R = new Float32Array(D * GH * H);
    const B = c.bias ? new Float32Array(D * 2 * GH) : null;
    for (let d = 0; d < D; d++) {
      const names = torchLayerNames(c.prefix, k, d);
      permuteGates(params[names.ih]!, 0, W, d * GH * I, order, H, I);
      permuteGates(params[names.hh]!, 0, R, d * GH * H, order, H, H);
      if (B) {
        permuteGates(params[names.bih]!, 0, B, d * 2 * GH, order, H, 1);
        permuteGates(params[names.bhh]!, 0, B, d * 2 * GH + GH, order, H, 1);
      }
    }
    layers.push({ spec, weights: { W, R, B, P: null } });
  }
  let head: LinearHead | null = null;
  if (c.outputSize !== null && c.headPrefix !== null) {
    const names = torchHeadNames(c.headPrefix);
    head = {
      weight: params[names.weight]!.slice(),
      bias: c.headBias ? params[names.bias]!.slice() : null,
      outputSize: c.outputSize,
      inputSize: D * H,
    };
  }
  return { layers, head };
}

/** The inverse of {@link torchToLayers}: PyTorch-named float32 tensors, gate blocks back in PyTorch's order. */
export function layersToTorch(c: TorchRecurrentConfig, lowered: LoweredModule): Record<string, Float32Array> {
  const D = torchDirections(c);
  const H = c.hiddenSize;
  const GH = GATES[c.cell] * H;
  const order = ONNX_GATE_OF_TORCH[c.cell];
  const out: Record<string, Float32Array> = {};
  // One direction's gate blocks of `cols` columns, starting at `at`, back in PyTorch's order.
  const torchBlocks = (src: Float32Array, at: number, cols: number) => {
    const dst = new Float32Array(GH * cols);
    permuteGates(src, at, dst, 0, order, H, cols);
    return dst;
  };
  lowered.layers.forEach(({ spec, weights }, k) => {
    const I = spec.inputSize;
    for (let d = 0; d < D; d++) {
      const names = torchLayerNames(c.prefix, k, d);
      out[names.ih] = torchBlocks(weights.W, d * GH * I, I);
      out[names.hh] = torchBlocks(weights.R, d * GH * H, H);
      if (weights.B) {
        out[names.bih] = torchBlocks(weights.B, d * 2 * GH, 1);
        out[names.bhh] = torchBlocks(weights.B, d * 2 * GH + GH, 1);
      }
    }
  });
  if (lowered.head && c.headPrefix !== null) {
    const names = torchHeadNames(c.headPrefix);
    out[names.weight] = lowered.head.weight.slice();
    if (lowered.head.bias) out[names.bias] = lowered.head.bias.slice();
  }
  return out;
}
