import { layersToTorch, type LoweredModule } from '../src/model/torch-lowering.ts';
import type { TorchRecurrentConfig } from '../src/model/torch-modules.ts';
import { optimizerStepReference } from '../src/reference/optim.ts';
import { recurrentStackBackwardReference } from '../src/reference/recurrent-stack-backward.ts';
import { recurrentStackReference } from '../src/reference/recurrent-stack.ts';
import type { RecurrentStackGrads } from '../src/rnn/backward.ts';
import type { RecurrentStack, RecurrentStackInputs } from '../src/rnn/stack.ts';
import type { Samples } from '../src/train/data.ts';
import { lossReference } from '../src/train/loss.ts';
import { createOptimizerState, optimizationSpec } from '../src/train/optim.ts';
import { checkEpochData, oneModelAtATime, seriesParts, type PreparedTraining, type TrainContender } from './train-contender.ts';
import { modelFromWeights, seriesOf, type StateDict, type TrainWorkload } from './train-workloads.ts';

/**
 * The float64 reference of a training epoch, the oracle of the training benchmark and one of its
 * contenders (`cpu-reference`). Each step, in float64 with plain loops:
 *
 *   Y = stack(X_batch)                                   src/reference/recurrent-stack.ts
 *   loss, dY = lossReference(Y, target_batch)            src/train/loss.ts
 *   grads = recurrentStackBackwardReference(dY)          src/reference/recurrent-stack-backward.ts
 *   Adam step on every parameter by its PyTorch name     src/reference/optim.ts (torch.optim.Adam's update)
 *
 * The stack's tensors are ONNX-lowered (gate blocks reordered, both biases in one B); the optimizer
 * works on PyTorch's tensors, so parameters and gradients move between the two layouts through
 * {@link TorchLayout}, built from src/model/torch-lowering.ts's `layersToTorch`. Parameters stay
 * float64 from step to step (no rounding to float32 between steps).
 */

/** Element numbers above this do not survive float32 (2²⁴): the layout is built from float32 arrays. */
const MAX_ELEMENTS = 2 ** 24;

/** The lowered tensors of a stack, in a fixed order: per layer W, R, B (when present), then the head's weight and bias. */
function loweredTensors<T>(m: {
  layers: readonly { weights: { W: T; R: T; B: T | null } }[];
  head: { weight: T; bias: T | null } | null;
}): T[] {
  const out: T[] = [];
  for (const { weights } of m.layers) {
    out.push(weights.W, weights.R);
    if (weights.B) out.push(weights.B);
  }
  if (m.head) {
    out.push(m.head.weight);
    if (m.head.bias) out.push(m.head.bias);
  }
  return out;
}

/** The gradients of a stack in the order of {@link loweredTensors}. */
function gradientTensors(g: RecurrentStackGrads<Float64Array>, stack: RecurrentStack): Float64Array[] {
  const out: Float64Array[] = [];
  g.layers.forEach((layer, k) => {
    out.push(layer.dW, layer.dR);
    if (stack.layers[k]!.weights.B) out.push(layer.dB);
  });
  if (g.head) {
    out.push(g.head.dWeight);
    if (g.head.dBias) out.push(g.head.dBias);
  }
  return out;
}

/**
 * Where each element of each PyTorch tensor lives in the lowered stack, flattened in
 * {@link loweredTensors} order. Built by lowering element numbers: `layersToTorch` applied to a
 * stack whose tensors hold 0, 1, 2, … returns, for every PyTorch element, the number of the lowered
 * element it comes from. Gathering by those numbers maps values to PyTorch names, scattering maps
 * them back, in float64, with the gate orders written down once (in torch-lowering.ts).
 */
export class TorchLayout {
  readonly size: number;
  private readonly sources: Record<string, Float32Array>;

  constructor(config: TorchRecurrentConfig, lowered: LoweredModule) {
    let next = 0;
    const numbered = (a: Float32Array) => Float32Array.from(a, () => next++);
    const numberedModule: LoweredModule = {
      layers: lowered.layers.map(({ spec, weights }) => ({
        spec,
        weights: { W: numbered(weights.W), R: numbered(weights.R), B: weights.B && numbered(weights.B), P: null },
      })),
      head: lowered.head && {
        ...lowered.head,
        weight: numbered(lowered.head.weight),
        bias: lowered.head.bias && numbered(lowered.head.bias),
      },
    };
    if (next > MAX_ELEMENTS)
      throw new RangeError(`the reference's layout numbers at most ${MAX_ELEMENTS} parameters, the model has ${next}`);
    if (lowered.layers.some((l) => l.weights.P))
      throw new RangeError('the training reference does not train LSTM peepholes (PyTorch has none)');
    this.size = next;
    this.sources = layersToTorch(config, numberedModule);
  }

  /** Lowered values (flat, {@link loweredTensors} order) as PyTorch tensors by name. */
  toTorch(flat: Float64Array): Record<string, Float64Array> {
    const out: Record<string, Float64Array> = {};
    for (const [name, from] of Object.entries(this.sources)) out[name] = Float64Array.from(from, (i) => flat[i]!);
    return out;
  }

  /** PyTorch tensors by name written into the lowered flat array. */
  fromTorch(tensors: Record<string, Float64Array>, flat: Float64Array): void {
    for (const [name, from] of Object.entries(this.sources)) {
      const values = tensors[name]!;
      from.forEach((i, k) => (flat[i] = values[k]!));
    }
  }
}

/** Concatenates arrays into one Float64Array. */
function concat(arrays: readonly ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/**
 * The stack with its tensors as float64 views of `flat`. The references read weights as plain
 * numbers, so float64 arrays keep them in float64; the cast only satisfies the Float32Array type of
 * a stack's weights.
 */
function float64Stack(lowered: LoweredModule, flat: Float64Array): RecurrentStack {
  let at = 0;
  const view = (a: Float32Array) => {
    const v = flat.subarray(at, at + a.length);
    at += a.length;
    return v as unknown as Float32Array;
  };
  const layers = lowered.layers.map(({ spec, weights }) => ({
    spec,
    weights: { W: view(weights.W), R: view(weights.R), B: weights.B && view(weights.B), P: null },
  }));
  const head = lowered.head && { ...lowered.head, weight: view(lowered.head.weight), bias: lowered.head.bias && view(lowered.head.bias) };
  return { layers, head };
}

/**
 * Training in float64 from `initial`: see the module comment. Each `runEpoch` continues from the
 * last. Per-series workloads train their models one after another (they are independent), see
 * bench/train-contender.ts's oneModelAtATime.
 */
export function referenceTraining(w: TrainWorkload, initial: StateDict, data: Samples): PreparedTraining {
  checkEpochData(w, data, { perSeries: true });
  if (seriesOf(w) > 1) {
    const { one, parts } = seriesParts(w, data);
    return oneModelAtATime(
      w,
      parts.map((part) => referenceTraining(one, initial, part)),
    );
  }
  const model = modelFromWeights(w, initial);
  const lowered = model.layers();
  const layout = new TorchLayout(model.config, lowered);
  const flat = concat(loweredTensors(lowered));
  const stack = float64Stack(lowered, flat);
  const params = layout.toTorch(flat);
  const spec = optimizationSpec({ optimizer: w.optimizer });
  const sizes = Object.fromEntries(Object.entries(params).map(([name, p]) => [name, p.length]));
  const state = createOptimizerState(spec.optimizer, sizes, Float64Array);
  const { batch: B, steps: T, inputSize: I, outputSize: O } = w;
  const L = lowered.layers.length;

  const step = (k: number): number => {
    const inputs: RecurrentStackInputs = {
      X: data.x.subarray(k * B * T * I, (k + 1) * B * T * I),
      batch: B,
      steps: T,
      sequenceLens: null,
      initialH: new Array(L).fill(null),
      initialC: new Array(L).fill(null),
    };
    const { Y } = recurrentStackReference(stack, inputs);
    const target = data.y.subarray(k * B * T * O, (k + 1) * B * T * O);
    const { loss, dY } = lossReference(w.loss, { Y, target, mask: null, batch: B, steps: T, outputSize: O });
    const { grads } = recurrentStackBackwardReference(stack, inputs, dY);
    optimizerStepReference(spec, params, layout.toTorch(concat(gradientTensors(grads, stack))), state);
    layout.fromTorch(params, flat); // the stack's views see the updated parameters
    return loss;
  };

  return {
    async runEpoch() {
      const losses = Array.from({ length: w.stepsPerEpoch }, (_, k) => step(k));
      return { losses, weights: layout.toTorch(flat) };
    },
    dispose() {},
  };
}

/** `cpu-reference`: the float64 reference as a contender (validates the others, and is timed like them). */
export function trainReferenceContender(): TrainContender {
  return {
    name: 'cpu-reference',
    available: async () => true,
    settings: () => ({ library: 'webrnn float64 reference (src/reference, plain loops)', threads: 1 }),
    prepare: async (w, initial, data) => referenceTraining(w, initial, data),
    dispose() {},
  };
}
