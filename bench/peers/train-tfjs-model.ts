import type * as tfc from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { RecurrentNet } from '../../src/model/recurrent.ts';
import { torchLayerNames } from '../../src/model/torch-modules.ts';
import { GATES } from '../../src/rnn/spec.ts';
import type { Tensor } from '../../src/tensor.ts';
import { buildTfjsModel, kerasWeights, type KerasLayerWeights, type Tfjs } from './tfjs-model.ts';

/**
 * A RecurrentNet as a TensorFlow.js Layers model to train, with one trainable tensor for every
 * PyTorch parameter, so that Adam (which updates each element on its own) takes the same steps as
 * torch.optim.Adam.
 *
 * Inference (tfjs-model.ts) may use Keras's SimpleRNN and LSTM, which keep ONE bias, the sum
 * bias_ih + bias_hh. For training that is a different model: PyTorch's two biases receive the same
 * gradient and each takes an Adam step, so their sum moves twice as far as Keras's single bias would.
 * So RNN and LSTM layers train here as `tf.layers.rnn` over {@link TorchTwoBiasCell}, which keeps
 * bias `[2, G·H]` (bias_ih, then bias_hh) like the GRU cell of tfjs-model.ts (whose reset-after
 * semantics already need both). GRU models are tfjs-model.ts's own. Kernels and gate orders come from
 * `kerasWeights`; Keras's gate order for RNN and LSTM is PyTorch's (i, f, c, o = i, f, g, o), so their
 * biases are stacked as they are.
 */

/** The trainable weights of every layer, in `layer.getWeights()` order: kernels from kerasWeights, biases `[2, G·H]`. */
export function trainKerasWeights(model: RecurrentNet): KerasLayerWeights[] {
  const layers = kerasWeights(model);
  const c = model.config;
  if (c.cell === 'gru' || !c.bias) return layers;
  const sd = model.stateDict();
  const GH = GATES[c.cell] * c.hiddenSize;
  for (let k = 0; k < c.numLayers; k++) {
    const names = torchLayerNames(c.prefix, k, 0);
    const data = new Float32Array(2 * GH);
    data.set(sd[names.bih]!.data, 0);
    data.set(sd[names.bhh]!.data, GH);
    layers[k]!.weights[2] = { data, shape: [2, GH] };
  }
  return layers;
}

/** One cell class per TF.js Layers module (the base class comes from the module loaded at run time). */
const cellClasses = new WeakMap<object, TwoBiasCellClass>();

type TwoBiasCellClass = new (kind: 'rnn' | 'lstm', units: number, useBias: boolean, activation: 'relu' | 'tanh') => tfl.layers.RNNCell;

/**
 * PyTorch's RNN and LSTM cells with both biases, for `tf.layers.rnn` (gates in Keras's order, which
 * is PyTorch's):
 *
 *   z = x·kernel + h·recurrent_kernel + bias[0] + bias[1]
 *   RNN   h' = act(z)
 *   LSTM  [i, f, g, o] = z;  c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g);  h' = σ(o) ⊙ tanh(c')
 */
function twoBiasCell(tf: Tfjs): TwoBiasCellClass {
  const known = cellClasses.get(tf.tfl);
  if (known) return known;
  const { core } = tf;
  class TorchTwoBiasCell extends tf.tfl.layers.RNNCell {
    static readonly className = 'TorchTwoBiasCell';
    readonly stateSize: number | number[];
    private kernel: tfl.LayerVariable | null = null;
    private recurrentKernel: tfl.LayerVariable | null = null;
    private bias: tfl.LayerVariable | null = null;

    constructor(
      readonly kind: 'rnn' | 'lstm',
      readonly units: number,
      readonly useBias: boolean,
      readonly nonlinearity: 'relu' | 'tanh',
    ) {
      super({});
      this.stateSize = kind === 'lstm' ? [units, units] : units;
    }

    override build(inputShape: tfl.Shape | tfl.Shape[]): void {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
      const GH = GATES[this.kind] * this.units;
      const weight = (name: string, shape: number[]) => this.addWeight(name, shape, 'float32', tf.tfl.initializers.zeros());
      this.kernel = weight('kernel', [shape[shape.length - 1]!, GH]);
      this.recurrentKernel = weight('recurrent_kernel', [this.units, GH]);
      this.bias = this.useBias ? weight('bias', [2, GH]) : null;
      this.built = true;
    }

    override call(inputs: tfc.Tensor | tfc.Tensor[]): tfc.Tensor[] {
      return core.tidy(() => {
        const [x, h, c] = inputs as tfc.Tensor2D[];
        let z = core.add(
          core.matMul(x!, this.kernel!.read() as tfc.Tensor2D),
          core.matMul(h!, this.recurrentKernel!.read() as tfc.Tensor2D),
        );
        if (this.bias) {
          const [bx, bh] = core.unstack(this.bias.read());
          z = core.add(core.add(z, bx!), bh!);
        }
        if (this.kind === 'rnn') {
          const next = this.nonlinearity === 'relu' ? core.relu(z) : core.tanh(z);
          return [next, next];
        }
        const [i, f, g, o] = core.split(z, 4, 1);
        const cNext = core.add(core.mul(core.sigmoid(f!), c!), core.mul(core.sigmoid(i!), core.tanh(g!)));
        const hNext = core.mul(core.sigmoid(o!), core.tanh(cNext));
        return [hNext, hNext, cNext];
      });
    }
  }
  cellClasses.set(tf.tfl, TorchTwoBiasCell);
  return TorchTwoBiasCell;
}

/**
 * Builds `model` as a TF.js Sequential to train (see the module comment) on the current backend, its
 * weights set from {@link trainKerasWeights}. It maps `[B, T, I]` to `[B, T, O]`; the caller disposes it.
 */
export function buildTfjsTrainModel(tf: Tfjs, model: RecurrentNet): tfl.Sequential {
  const c = model.config;
  if (c.cell === 'gru') return buildTfjsModel(tf, model);
  if (c.bidirectional || !c.batchFirst) throw new Error('the TF.js training peer builds unidirectional, batch-first modules only');
  const Cell = twoBiasCell(tf);
  const layers: tfl.layers.Layer[] = [];
  for (let k = 0; k < c.numLayers; k++) {
    const cell = new Cell(c.cell, c.hiddenSize, c.bias, c.nonlinearity);
    layers.push(tf.tfl.layers.rnn({ cell, returnSequences: true, ...(k === 0 ? { inputShape: [null, c.inputSize] } : {}) }));
  }
  if (c.outputSize !== null) layers.push(tf.tfl.layers.dense({ units: c.outputSize, useBias: c.headBias, kernelInitializer: 'zeros' }));
  const seq = tf.tfl.sequential({ layers });
  const weights = trainKerasWeights(model);
  tf.core.tidy(() => {
    layers.forEach((layer, i) => layer.setWeights(weights[i]!.weights.map((w) => tf.core.tensor(w.data, [...w.shape], 'float32'))));
  });
  return seq;
}

/**
 * Reads a trained model's weights back by PyTorch name. The inverse of {@link trainKerasWeights} is
 * found by running it on element numbers: a RecurrentNet whose state dict holds 0, 1, 2, … gives, for
 * every Keras element, the number of the PyTorch element it came from (exact in float32 below 2²⁴).
 */
export function torchWeightsReader(model: RecurrentNet): (layers: readonly Float32Array[][]) => Record<string, Float32Array> {
  const sd = model.stateDict();
  let next = 0;
  const numbered: Record<string, Tensor> = {};
  const offsets: Record<string, number> = {};
  for (const [name, t] of Object.entries(sd)) {
    offsets[name] = next;
    numbered[name] = { data: Float32Array.from(t.data, () => next++), shape: t.shape };
  }
  if (next > 2 ** 24) throw new RangeError(`the TF.js training peer maps at most 2^24 parameters, the model has ${next}`);
  const c = model.config;
  const options = { cell: c.cell, inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers, outputSize: c.outputSize };
  const numberedModel = RecurrentNet.fromStateDict(numbered, c.cell === 'rnn' ? { ...options, nonlinearity: c.nonlinearity } : options);
  const sources = trainKerasWeights(numberedModel).map((l) => l.weights.map((w) => w.data));
  return (layers) => {
    const flat = new Float32Array(next);
    sources.forEach((layer, i) =>
      layer.forEach((from, j) => {
        const values = layers[i]?.[j];
        if (!values || values.length !== from.length)
          throw new Error(`TF.js layer ${i} weight ${j} has ${values?.length ?? 0} values, expected ${from.length}`);
        from.forEach((n, e) => (flat[n] = values[e]!));
      }),
    );
    return Object.fromEntries(Object.entries(sd).map(([name, t]) => [name, flat.slice(offsets[name]!, offsets[name]! + t.data.length)]));
  };
}
