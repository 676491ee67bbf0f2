import { ElmanRNN } from '../../src/model/elman.ts';
import type { ElmanConfig } from '../../src/model/config.ts';
import { tensor, type Tensor } from '../../src/tensor.ts';
import { mulberry32, uniformArray, type Random } from '../../src/util/rng.ts';
import { activation, type Activation } from '../../src/rnn/activations.ts';
import {
  GATES,
  recurrentLayerSpec,
  type RecurrentLayerInputs,
  type RecurrentLayerOptions,
  type RecurrentLayerSpec,
  type RecurrentLayerWeights,
} from '../../src/rnn/spec.ts';

/** A seeded random model and input batch for GPU-versus-reference tests. */
export interface RandomCase {
  model: ElmanRNN;
  x: Tensor;
  h0?: Tensor;
}

export function randomCase(config: ElmanConfig, batch: number, steps: number, seed: number, withH0 = false): RandomCase {
  const model = new ElmanRNN(config, { seed });
  const rand = mulberry32(seed ^ 0x9e3779b9);
  const x = tensor(uniformArray(rand, batch * steps * config.inputSize, -1, 1), [batch, steps, config.inputSize]);
  const L = config.numLayers ?? 1;
  const h0 = withH0 ? tensor(uniformArray(rand, L * batch * config.hiddenSize, -0.5, 0.5), [L, batch, config.hiddenSize]) : undefined;
  return h0 ? { model, x, h0 } : { model, x };
}

/** A seeded random recurrent layer (spec, weights and one call's inputs) for GPU-versus-reference tests. */
export interface RandomLayerCase {
  spec: RecurrentLayerSpec;
  weights: RecurrentLayerWeights;
  inputs: RecurrentLayerInputs;
  /** One line naming every option, for test titles and failure messages. */
  name: string;
}

/** Options a random layer case may fix; the rest is drawn from the seed. */
export interface LayerCaseOptions extends Partial<RecurrentLayerOptions> {
  batch?: number;
  steps?: number;
  /** Per-sequence lengths: 'none', 'random' (0…T, with 0 and T always present when B ≥ 2). */
  lengths?: 'none' | 'random';
  initialStates?: boolean;
  bias?: boolean;
  peepholes?: boolean;
}

// Activations with parameters that keep a few dozen steps bounded and away from kinks that float32
// rounding could flip (ThresholdedRelu's jump is tested with its threshold far from the data).
const RANDOM_ACTIVATIONS: Array<(r: Random) => Activation> = [
  () => activation('Relu'),
  () => activation('Tanh'),
  () => activation('Sigmoid'),
  (r) => activation('Affine', 0.5 + 0.5 * r(), -0.1 + 0.2 * r()),
  (r) => activation('LeakyRelu', 0.01 + 0.3 * r()),
  () => activation('ThresholdedRelu', 50),
  (r) => activation('ScaledTanh', 0.5 + r(), 0.5 + r()),
  (r) => activation('HardSigmoid', 0.1 + 0.2 * r(), 0.4 + 0.2 * r()),
  (r) => activation('Elu', 0.5 + r()),
  () => activation('Softsign'),
  () => activation('Softplus'),
];

function pick<T>(r: Random, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)]!;
}

export function randomLayerCase(seed: number, o: LayerCaseOptions = {}): RandomLayerCase {
  const r = mulberry32(seed);
  const cell = o.cell ?? pick(r, ['rnn', 'gru', 'lstm'] as const);
  const direction = o.direction ?? pick(r, ['forward', 'reverse', 'bidirectional'] as const);
  const D = direction === 'bidirectional' ? 2 : 1;
  const inputSize = o.inputSize ?? 1 + Math.floor(r() * 5);
  const hiddenSize = o.hiddenSize ?? 1 + Math.floor(r() * 8);
  const B = o.batch ?? 1 + Math.floor(r() * 9);
  const T = o.steps ?? 1 + Math.floor(r() * 12);
  const perDirection = { rnn: 1, gru: 2, lstm: 3 }[cell];
  const activations = o.activations ?? (r() < 0.4 ? [] : Array.from({ length: perDirection * D }, () => pick(r, RANDOM_ACTIVATIONS)(r)));
  const spec = recurrentLayerSpec({
    cell,
    inputSize,
    hiddenSize,
    direction,
    activations,
    clip: o.clip !== undefined ? o.clip : r() < 0.3 ? 0.5 + 2 * r() : null,
    linearBeforeReset: o.linearBeforeReset ?? (cell === 'gru' && r() < 0.5),
    inputForget: o.inputForget ?? (cell === 'lstm' && r() < 0.3),
    layout: o.layout ?? (r() < 0.5 ? 0 : 1),
  });
  const G = GATES[cell];
  const scale = 1 / Math.sqrt(hiddenSize);
  const bias = o.bias ?? r() < 0.8;
  const peepholes = cell === 'lstm' && (o.peepholes ?? r() < 0.5);
  const weights: RecurrentLayerWeights = {
    W: uniformArray(r, D * G * hiddenSize * inputSize, -scale, scale),
    R: uniformArray(r, D * G * hiddenSize * hiddenSize, -scale, scale),
    B: bias ? uniformArray(r, D * 2 * G * hiddenSize, -scale, scale) : null,
    P: peepholes ? uniformArray(r, D * 3 * hiddenSize, -scale, scale) : null,
  };
  let sequenceLens: Int32Array | null = null;
  if ((o.lengths ?? (r() < 0.5 ? 'random' : 'none')) === 'random') {
    sequenceLens = Int32Array.from({ length: B }, () => Math.floor(r() * (T + 1)));
    if (B >= 2) {
      sequenceLens[0] = 0;
      sequenceLens[B - 1] = T;
    }
  }
  const states = o.initialStates ?? r() < 0.5;
  const inputs: RecurrentLayerInputs = {
    X: uniformArray(r, T * B * inputSize, -1, 1),
    batch: B,
    steps: T,
    sequenceLens,
    initialH: states ? uniformArray(r, D * B * hiddenSize, -0.5, 0.5) : null,
    initialC: states && cell === 'lstm' ? uniformArray(r, D * B * hiddenSize, -0.5, 0.5) : null,
  };
  const acts = spec.activations.map((a) => `${a.name}(${+a.alpha.toFixed(2)},${+a.beta.toFixed(2)})`).join(',');
  const name =
    `${cell} ${direction} layout=${spec.layout} B=${B} T=${T} I=${inputSize} H=${hiddenSize} [${acts}]` +
    `${spec.clip !== null ? ` clip=${spec.clip.toFixed(2)}` : ''}${spec.linearBeforeReset ? ' lbr' : ''}` +
    `${spec.inputForget ? ' input_forget' : ''}${bias ? '' : ' no-bias'}${peepholes ? ' peepholes' : ''}` +
    `${sequenceLens ? ' lens' : ''}${states ? ' h0' : ''}`;
  return { spec, weights, inputs, name };
}

/** `count` deterministic series of `length` points: a sine of its own frequency and phase plus a faster cosine (the training tests' data). */
export function sines(count: number, length: number): number[][] {
  return Array.from({ length: count }, (_, s) => Array.from({ length }, (_, t) => Math.sin(t / (2 + s) + s) + 0.1 * Math.cos(3 * t)));
}
