import { elmanForwardReference } from '../reference/elman.ts';
import { recurrentLayerBackwardReference } from '../reference/recurrent-layer-backward.ts';
import { recurrentLayerReference } from '../reference/recurrent-layer.ts';
import { recurrentStackBackwardReference } from '../reference/recurrent-stack-backward.ts';
import { recurrentStackReference } from '../reference/recurrent-stack.ts';
import { checkLayerInputs, checkLayerWeights } from '../rnn/spec.ts';
import { checkModels, checkStack, joinRows, joinStackOutputs, perModelRows, stackInputRows } from '../rnn/stack.ts';
import { forecastReference } from '../reference/forecast.ts';
import { checkForecastModels, forecastInputRows } from '../rnn/forecast.ts';
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
  // Per-series models run one after another, each on its own rows.
  async recurrentStack(models, inputs) {
    const stacks = checkModels(models, inputs.batch);
    for (const stack of stacks) checkStack(stack, inputs);
    if (stacks.length === 1) return recurrentStackReference(stacks[0]!, inputs);
    return joinStackOutputs(await perModelRows(stacks, inputs.batch, (stack, b0, b1) => recurrentStackReference(stack, stackInputRows(inputs, b0, b1))));
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
  async recurrentForecast(models, inputs) {
    const stacks = checkForecastModels(models, inputs);
    if (stacks.length === 1) return forecastReference(stacks[0]!, inputs);
    return joinRows(await perModelRows(stacks, inputs.batch, (stack, b0, b1) => forecastReference(stack, forecastInputRows(inputs, b0, b1))));
  },
  async createTrainEngine(setup) {
    return new CpuTrainEngine(setup);
  },
  dispose() {},
};
