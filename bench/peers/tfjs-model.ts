import type * as tfc from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { RecurrentNet } from '../../src/model/recurrent.ts';
import { torchHeadNames, torchLayerNames } from '../../src/model/torch-modules.ts';
import { GATES, type CellType } from '../../src/rnn/spec.ts';
import type { Tensor } from '../../src/tensor.ts';

/**
 * A RecurrentNet as a TensorFlow.js Layers model (Keras semantics) with the same weights:
 *
 *   tf.sequential([ simpleRNN | lstm | rnn(TorchGRUCell), … one per layer, returnSequences: true,
 *                   dense(O) on the 3-D output (the head at every step) ])
 *
 * Keras keeps a layer's weights transposed from PyTorch's and sums the two biases:
 *
 *   kernel [I, G·H] = weight_ih_lkᵀ     recurrent_kernel [H, G·H] = weight_hh_lkᵀ
 *   bias [G·H] = bias_ih_lk + bias_hh_lk            dense: kernel [H, O] = head.weightᵀ, bias [O]
 *
 * with the gate blocks in Keras's order: LSTM i, f, c, o is PyTorch's i, f, g, o (unchanged); GRU
 * z, r, h is PyTorch's r, z, n reordered. TF.js's LSTM and GRU default to a hard sigmoid for the
 * gates, so `recurrentActivation: 'sigmoid'` is set explicitly.
 *
 * PyTorch's GRU applies the reset gate after the recurrent product, n = tanh(W_in x + b_in +
 * r ⊙ (W_hn h + b_hn)), which needs separate input and recurrent biases: Keras's `reset_after=True`
 * (bias [2, 3H]). TF.js's GRUCell throws on `resetAfter: true` (only reset-before exists there), so
 * GRU runs as `tf.layers.rnn` over {@link TorchGRUCell}, a cell written like TF.js's own GRUCell
 * (same ops per step, one matMul for the three recurrent gates) with Keras's reset-after semantics.
 */

/** The two TF.js packages the model needs: the core (ops, engine, backends) and Layers. */
export interface Tfjs {
  core: typeof tfc;
  tfl: typeof tfl;
}

/** A weight as a Keras layer holds it: row-major float32 with its shape. */
export type KerasWeight = Tensor<Float32Array>;

/** One Keras layer's weights, in `layer.getWeights()` order: kernel, recurrent kernel (recurrent layers), bias. */
export interface KerasLayerWeights {
  kind: CellType | 'dense';
  weights: KerasWeight[];
}

/** Keras gate block g comes from PyTorch gate block KERAS_GATE_SOURCE[cell][g]. */
const KERAS_GATE_SOURCE: Record<CellType, readonly number[]> = {
  rnn: [0],
  lstm: [0, 1, 2, 3], // i, f, c, o ← i, f, g, o
  gru: [1, 0, 2], // z, r, h ← r, z, n
};

/**
 * PyTorch's `[G·H, cols]` gate-stacked matrix as Keras's `[cols, G·H]`: transposed, with the gate
 * blocks of H rows moved to Keras's order.
 */
function kerasKernel(w: Float32Array, cell: CellType, H: number, cols: number): KerasWeight {
  const order = KERAS_GATE_SOURCE[cell];
  const GH = order.length * H;
  const out = new Float32Array(cols * GH);
  order.forEach((from, g) => {
    for (let j = 0; j < H; j++) {
      const row = (from * H + j) * cols;
      for (let c = 0; c < cols; c++) out[c * GH + g * H + j] = w[row + c]!;
    }
  });
  return { data: out, shape: [cols, GH] };
}

/** A `[G·H]` bias with its gate blocks in Keras's order. */
function kerasBias(b: Float32Array, cell: CellType, H: number): Float32Array {
  const out = new Float32Array(b.length);
  KERAS_GATE_SOURCE[cell].forEach((from, g) => out.set(b.subarray(from * H, (from + 1) * H), g * H));
  return out;
}

/** Throws for what the TF.js model does not build: bidirectional modules and time-major input. */
function checkSupported(model: RecurrentNet): void {
  if (model.config.bidirectional) throw new Error('the TF.js peer builds unidirectional modules only');
  if (!model.config.batchFirst) throw new Error('the TF.js peer takes batch-first input only');
}

/**
 * The Keras weights of every layer (recurrent layers, then the head's dense layer), converted from
 * `model.stateDict()`. A GRU's bias is `[2, 3H]`: the input bias, then the recurrent bias.
 */
export function kerasWeights(model: RecurrentNet): KerasLayerWeights[] {
  checkSupported(model);
  const c = model.config;
  const sd = model.stateDict();
  const H = c.hiddenSize;
  const layers: KerasLayerWeights[] = [];
  for (let k = 0; k < c.numLayers; k++) {
    const names = torchLayerNames(c.prefix, k, 0);
    const I = k === 0 ? c.inputSize : H;
    const weights = [kerasKernel(sd[names.ih]!.data, c.cell, H, I), kerasKernel(sd[names.hh]!.data, c.cell, H, H)];
    if (c.bias) {
      const bih = kerasBias(sd[names.bih]!.data, c.cell, H);
      const bhh = kerasBias(sd[names.bhh]!.data, c.cell, H);
      const GH = GATES[c.cell] * H;
      weights.push(
        c.cell === 'gru'
          ? { data: Float32Array.from([...bih, ...bhh]), shape: [2, GH] }
          : { data: bih.map((v, i) => v + bhh[i]!), shape: [GH] },
      );
    }
    layers.push({ kind: c.cell, weights });
  }
  if (c.outputSize !== null && c.headPrefix !== null) {
    const names = torchHeadNames(c.headPrefix);
    // nn.Linear's weight [O, H] is a single block of O rows: Keras's kernel is its transpose [H, O].
    const weights = [kerasKernel(sd[names.weight]!.data, 'rnn', c.outputSize, H)];
    if (c.headBias) weights.push({ data: sd[names.bias]!.data, shape: [c.outputSize] });
    layers.push({ kind: 'dense', weights });
  }
  return layers;
}

/** One TorchGRUCell class per TF.js Layers module (the base class comes from the module loaded at run time). */
const gruCellClasses = new WeakMap<object, new (units: number, useBias: boolean) => tfl.layers.RNNCell>();

/**
 * A GRU cell with PyTorch's (and Keras's `reset_after=True`) semantics, for `tf.layers.rnn`:
 *
 *   [x_z, x_r, x_h] = x·kernel + bias[0]      [h_z, h_r, h_h] = h·recurrent_kernel + bias[1]
 *   z = σ(x_z + h_z)   r = σ(x_r + h_r)   n = tanh(x_h + r ⊙ h_h)   h' = n + z ⊙ (h − n)
 */
function torchGruCell(tf: Tfjs): new (units: number, useBias: boolean) => tfl.layers.RNNCell {
  const known = gruCellClasses.get(tf.tfl);
  if (known) return known;
  const { core } = tf;
  class TorchGRUCell extends tf.tfl.layers.RNNCell {
    static readonly className = 'TorchGRUCell';
    readonly stateSize: number;
    private kernel: tfl.LayerVariable | null = null;
    private recurrentKernel: tfl.LayerVariable | null = null;
    private bias: tfl.LayerVariable | null = null;

    constructor(
      readonly units: number,
      readonly useBias: boolean,
    ) {
      super({});
      this.stateSize = units;
    }

    override build(inputShape: tfl.Shape | tfl.Shape[]): void {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
      const inputDim = shape[shape.length - 1]!;
      const weight = (name: string, shape: number[]) => this.addWeight(name, shape, 'float32', tf.tfl.initializers.zeros());
      this.kernel = weight('kernel', [inputDim, 3 * this.units]);
      this.recurrentKernel = weight('recurrent_kernel', [this.units, 3 * this.units]);
      this.bias = this.useBias ? weight('bias', [2, 3 * this.units]) : null;
      this.built = true;
    }

    override call(inputs: tfc.Tensor | tfc.Tensor[]): tfc.Tensor[] {
      return core.tidy(() => {
        const [x, h] = inputs as [tfc.Tensor2D, tfc.Tensor2D];
        let fromX = core.matMul(x, this.kernel!.read() as tfc.Tensor2D);
        let fromH = core.matMul(h, this.recurrentKernel!.read() as tfc.Tensor2D);
        if (this.bias) {
          const [bx, bh] = core.unstack(this.bias.read());
          fromX = core.add(fromX, bx!);
          fromH = core.add(fromH, bh!);
        }
        const [xz, xr, xh] = core.split(fromX, 3, 1);
        const [hz, hr, hh] = core.split(fromH, 3, 1);
        const z = core.sigmoid(core.add(xz!, hz!));
        const r = core.sigmoid(core.add(xr!, hr!));
        const n = core.tanh(core.add(xh!, core.mul(r, hh!)));
        const next = core.add(n, core.mul(z, core.sub(h, n)));
        return [next, next];
      });
    }
  }
  gruCellClasses.set(tf.tfl, TorchGRUCell);
  return TorchGRUCell;
}

/** The empty recurrent layer for one PyTorch layer (weights are set afterwards). */
function recurrentLayer(tf: Tfjs, model: RecurrentNet, k: number): tfl.layers.Layer {
  const c = model.config;
  const common = {
    units: c.hiddenSize,
    useBias: c.bias,
    returnSequences: true,
    ...(k === 0 ? { inputShape: [null, c.inputSize] } : {}),
  };
  // Zeros: the weights are overwritten, and the default orthogonal initializer is slow for large H.
  const init = { kernelInitializer: 'zeros', recurrentInitializer: 'zeros' } as const;
  switch (c.cell) {
    case 'rnn':
      return tf.tfl.layers.simpleRNN({ ...common, ...init, activation: c.nonlinearity });
    case 'lstm':
      return tf.tfl.layers.lstm({ ...common, ...init, activation: 'tanh', recurrentActivation: 'sigmoid', unitForgetBias: false });
    case 'gru': {
      const Cell = torchGruCell(tf);
      const { units, useBias, ...rnnArgs } = common;
      return tf.tfl.layers.rnn({ ...rnnArgs, cell: new Cell(units, useBias) });
    }
  }
}

/**
 * Builds `model` as a TF.js Sequential on the current backend and sets its weights
 * ({@link kerasWeights}). It maps `[B, T, I]` to `[B, T, O]`; the caller disposes it.
 */
export function buildTfjsModel(tf: Tfjs, model: RecurrentNet): tfl.Sequential {
  const weights = kerasWeights(model);
  const c = model.config;
  const layers: tfl.layers.Layer[] = [];
  for (let k = 0; k < c.numLayers; k++) layers.push(recurrentLayer(tf, model, k));
  if (c.outputSize !== null) layers.push(tf.tfl.layers.dense({ units: c.outputSize, useBias: c.headBias, kernelInitializer: 'zeros' }));
  const seq = tf.tfl.sequential({ layers });
  tf.core.tidy(() => {
    layers.forEach((layer, i) => layer.setWeights(weights[i]!.weights.map((w) => tf.core.tensor(w.data, [...w.shape], 'float32'))));
  });
  return seq;
}
