import { ShapeError } from '../errors.ts';
import type { RecurrentLayerOutputGrads } from '../rnn/backward.ts';
import { checkForecastModels, type ForecastInputs } from '../rnn/forecast.ts';
import {
  checkLayerInputs,
  checkLayerWeights,
  numDirections,
  type RecurrentLayerInputs,
  type RecurrentLayerSpec,
  type RecurrentLayerWeights,
} from '../rnn/spec.ts';
import { checkModels, checkStack, type RecurrentStack, type RecurrentStackInputs, type StackModels } from '../rnn/stack.ts';
import type { FloatArray } from '../tensor.ts';
import type { RecurrentStackStateGrads } from './backend.ts';

/**
 * The checks of every {@link Backend} call, shared by both backends: each call is validated here
 * once, before any work, with the same typed errors and messages whichever backend runs it. A
 * backend adds only what is its own (the GPU: whether the weights fit the device's bindings).
 */

/** One layer call: its weights and inputs against the spec. */
export function checkLayerCall(spec: RecurrentLayerSpec, weights: RecurrentLayerWeights, inputs: RecurrentLayerInputs): void {
  checkLayerWeights(spec, weights);
  checkLayerInputs(spec, inputs);
}

/** A stack call on one model or per-series models: the stacks, each checked against the inputs. */
export function checkStackCall(models: StackModels, inputs: RecurrentStackInputs): readonly RecurrentStack[] {
  const stacks = checkModels(models, inputs.batch);
  for (const stack of stacks) checkStack(stack, inputs);
  return stacks;
}

/** A forecast call: the stacks, checked against the inputs (src/rnn/forecast.ts). */
export function checkForecastCall(models: StackModels, inputs: ForecastInputs): readonly RecurrentStack[] {
  return checkForecastModels(models, inputs);
}

/** A layer's backward call: the layer call, and each output gradient given against its tensor. */
export function checkLayerBackwardCall(
  spec: RecurrentLayerSpec,
  weights: RecurrentLayerWeights,
  inputs: RecurrentLayerInputs,
  outGrads: RecurrentLayerOutputGrads,
): void {
  checkLayerCall(spec, weights, inputs);
  const stateFloats = numDirections(spec) * inputs.batch * spec.hiddenSize;
  const expected = { dY: inputs.steps * stateFloats, dY_h: stateFloats, dY_c: stateFloats };
  for (const [name, length] of Object.entries(expected) as [keyof RecurrentLayerOutputGrads, number][]) {
    const g = outGrads[name];
    if (g === null) continue;
    if (name === 'dY_c' && spec.cell !== 'lstm') throw new ShapeError('dY_c applies to LSTM only');
    if (g.length !== length) throw new ShapeError(`${name} has ${g.length} values but its tensor has ${length}`);
  }
}

/** A stack's backward call: the stack, dY against its output, the state gradients per layer. */
export function checkStackBackwardCall(
  stack: RecurrentStack,
  inputs: RecurrentStackInputs,
  dY: FloatArray,
  stateGrads: RecurrentStackStateGrads,
): void {
  checkStack(stack, inputs);
  const L = stack.layers.length;
  const last = stack.layers[L - 1]!.spec;
  const outFeatures = stack.head ? stack.head.outputSize : numDirections(last) * last.hiddenSize;
  const want = inputs.batch * inputs.steps * outFeatures;
  if (dY.length !== want) {
    throw new ShapeError(`dY has ${dY.length} values but the output [${inputs.batch}, ${inputs.steps}, ${outFeatures}] has ${want}`);
  }
  for (const [name, list] of [
    ['dY_h', stateGrads.dY_h],
    ['dY_c', stateGrads.dY_c],
  ] as const) {
    if (list === undefined) continue;
    if (list.length !== L) throw new ShapeError(`${name} must be given per layer (${L}), got ${list.length}`);
    list.forEach((g, k) => {
      const { spec } = stack.layers[k]!;
      const n = inputs.batch * numDirections(spec) * spec.hiddenSize;
      if (g && name === 'dY_c' && spec.cell !== 'lstm') throw new ShapeError('dY_c applies to LSTM only');
      if (g && g.length !== n) throw new ShapeError(`${name}[${k}] has ${g.length} values but layer ${k}'s state has ${n}`);
    });
  }
}
