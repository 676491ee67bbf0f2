import { elmanForwardReference } from '../reference/elman.ts';
import { recurrentLayerBackwardReference } from '../reference/recurrent-layer-backward.ts';
import { recurrentLayerReference } from '../reference/recurrent-layer.ts';
import { recurrentStackBackwardReference } from '../reference/recurrent-stack-backward.ts';
import { recurrentStackReference } from '../reference/recurrent-stack.ts';
import { joinRows, joinStackOutputs, perModelRows, stackInputRows } from '../rnn/stack.ts';
import { forecastReference } from '../reference/forecast.ts';
import { forecastInputRows } from '../rnn/forecast.ts';
import { batchLimits } from '../train/batching.ts';
import { CpuTrainEngine } from '../train/cpu-engine.ts';
import { checkedOutputs as checked } from '../util/finite.ts';
import type { Backend } from './backend.ts';
import { checkForecastCall, checkLayerBackwardCall, checkLayerCall, checkStackBackwardCall, checkStackCall } from './validate.ts';

/**
 * The float64 CPU reference behind the {@link Backend} interface. Results are Float64Array. Slow by
 * design: it exists to be obviously right. Results that float32 cannot hold are refused as the GPU
 * refuses them (NumericError), so the two backends agree on what they return.
 */
export const cpuBackend: Required<Backend> = {
  name: 'cpu',
  async elmanForward(config, weights, args) {
    return checked('the Elman network', elmanForwardReference(config, weights, args));
  },
  async recurrentLayer(spec, weights, inputs) {
    checkLayerCall(spec, weights, inputs);
    return checked(`the ${spec.cell.toUpperCase()} layer`, recurrentLayerReference(spec, weights, inputs));
  },
  // Per-series models run one after another, each on its own rows.
  async recurrentStack(models, inputs) {
    const stacks = checkStackCall(models, inputs);
    const outputs =
      stacks.length === 1
        ? recurrentStackReference(stacks[0]!, inputs)
        : joinStackOutputs(
            await perModelRows(stacks, inputs.batch, (stack, b0, b1) => recurrentStackReference(stack, stackInputRows(inputs, b0, b1))),
          );
    return checked('the stack', outputs);
  },
  // The backward passes run the forward reference for the outputs, then the backward reference
  // (which replays the forward pass itself, keeping its tape).
  async recurrentLayerBackward(spec, weights, inputs, outGrads) {
    checkLayerBackwardCall(spec, weights, inputs, outGrads);
    return checked(`the ${spec.cell.toUpperCase()} layer's backward pass`, {
      outputs: recurrentLayerReference(spec, weights, inputs),
      grads: recurrentLayerBackwardReference(spec, weights, inputs, outGrads),
    });
  },
  async recurrentStackBackward(stack, inputs, dY, stateGrads = {}) {
    checkStackBackwardCall(stack, inputs, dY, stateGrads);
    const back = recurrentStackBackwardReference(stack, inputs, dY, stateGrads);
    return checked("the stack's backward pass", { outputs: recurrentStackReference(stack, inputs), ...back });
  },
  async recurrentForecast(models, inputs) {
    const stacks = checkForecastCall(models, inputs);
    const forecast =
      stacks.length === 1
        ? forecastReference(stacks[0]!, inputs)
        : joinRows(
            await perModelRows(stacks, inputs.batch, (stack, b0, b1) => forecastReference(stack, forecastInputRows(inputs, b0, b1))),
          );
    return checked('the forecast', forecast);
  },
  async createTrainEngine(setup) {
    return new CpuTrainEngine(setup);
  },
  /** The float64 reference gains nothing from large batches: the base batch (src/train/batching.ts). */
  trainingBatchLimits() {
    return batchLimits(null);
  },
  software: false,
  dispose() {},
};
