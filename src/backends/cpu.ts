import { elmanForwardReference } from '../reference/elman.ts';
import { recurrentLayerReference } from '../reference/recurrent-layer.ts';
import { recurrentStackReference } from '../reference/recurrent-stack.ts';
import { checkLayerInputs, checkLayerWeights } from '../rnn/spec.ts';
import { checkStack } from '../rnn/stack.ts';
import type { Backend } from './backend.ts';

/**
 * The float64 CPU reference behind the {@link Backend} interface. Results are Float64Array. Slow by
 * design: it exists to be obviously right.
 */
export const cpuBackend: Backend = {
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
  dispose() {},
};
