import { elmanForwardReference } from '../reference/elman.ts';
import { recurrentLayerBackwardReference } from '../reference/recurrent-layer-backward.ts';
import { recurrentLayerReference } from '../reference/recurrent-layer.ts';
import { recurrentStackBackwardReference } from '../reference/recurrent-stack-backward.ts';
import { recurrentStackReference } from '../reference/recurrent-stack.ts';
import { checkLayerInputs, checkLayerWeights } from '../rnn/spec.ts';
import { checkStack } from '../rnn/stack.ts';
import { forecastReference } from '../reference/forecast.ts';
import { checkForecast } from '../rnn/forecast.ts';
import { CpuTrainEngine } from '../train/cpu-engine.ts';
import type { Backend } from './backend.ts';

/**
 * The float64 CPU reference behind the {@link Backend} interface. Results are Float64Array. Slow by
 * design: it exists to be obviously right.
 */
export const cpuBackend: Required<Backend> = {
  name: 'cpu',
  async elmanForward(config, weights, args) {
    return elmanForwardReference(config, weights, args);
  },
  async recurrentLayer(spec, weights, inputs) {
    checkLayerWeights(spec, weights);
    checkLayerInputs(spec, inputs);
    return recurrentLayerReference(spec, weights, inputs);
  },
  async recurrentStack(stack, inputs) {
    checkStack(stack, inputs);
    return recurrentStackReference(stack, inputs);
  },
  // The backward passes run the forward reference for the outputs, then the backward reference
  // (which replays the forward pass itself, keeping its tape).
  async recurrentLayerBackward(spec, weights, inputs, outGrads) {
    checkLayerWeights(spec, weights);
    checkLayerInputs(spec, inputs);
    return {
      outputs: recurrentLayerReference(spec, weights, inputs),
      grads: recurrentLayerBackwardReference(spec, weights, inputs, outGrads),
    };
  },
  async recurrentStackBackward(stack, inputs, dY, stateGrads) {
    checkStack(stack, inputs);
    const back = recurrentStackBackwardReference(stack, inputs, dY, stateGrads);
    return { outputs: recurrentStackReference(stack, inputs), ...back };
  },
  async recurrentForecast(stack, inputs) {
    checkForecast(stack, inputs);
    return forecastReference(stack, inputs);
  },
  async createTrainEngine(setup) {
    return new CpuTrainEngine(setup);
  },
  dispose() {},
};
