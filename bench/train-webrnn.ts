import { WebGPUBackend } from '../src/backends/webgpu.ts';
import type { RecurrentNet } from '../src/model/recurrent.ts';
import type { FloatArray } from '../src/tensor.ts';
import { gatherSamples, type Samples } from '../src/train/data.ts';
import type { TrainEngine } from '../src/train/engine.ts';
import { optimizationSpec } from '../src/train/optim.ts';
import { unflattenParams } from '../src/train/params.ts';
import type { PeerSettings } from './peers/peer.ts';
import {
  checkEpochData,
  oneModelAtATime,
  seriesParts,
  stackWeights,
  type PreparedTraining,
  type TrainContender,
} from './train-contender.ts';
import { modelFromWeights, seriesOf, stepSamples, type StateDict, type TrainWorkload } from './train-workloads.ts';

/**
 * webrnn's training on WebGPU as a training-benchmark contender (`webrnn-webgpu`, the baseline of
 * the ratios): the WebGPU train engine (src/train/gpu-engine.ts) driven step by step on the epoch's
 * batches in order (the trainer's shuffling left out, so every contender sees the same batches).
 * Each step is one GPU program (forward, loss, backward, Adam update) with only the batch going up
 * and the loss coming back; the weights are read back after an epoch only when the harness reads
 * them (validation), not in timed epochs.
 *
 * Per-series workloads: one engine of S models (`models: S`), every step of all of them one program.
 * `oneByOne` (`webrnn-webgpu-1by1`): S engines of one model each, trained one after another, the
 * way a user without a per-series mode would write it (one program per model per step).
 */
export function webrnnTrainContender(options: { oneByOne?: boolean } = {}): TrainContender {
  let backend: WebGPUBackend | null = null;
  const settings: PeerSettings = {
    library: 'webrnn',
    backend: 'webgpu',
    api: options.oneByOne ? 'one TrainEngine per model, trained one after another' : 'TrainEngine.step (src/train/gpu-engine.ts)',
  };

  /** One engine over the workload's models (1, or S side by side). */
  const prepareEngine = async (w: TrainWorkload, initial: StateDict, data: Samples): Promise<PreparedTraining> => {
    if (!backend) throw new Error('webrnn-webgpu: available() was not called or failed');
    const model: RecurrentNet = modelFromWeights(w, initial);
    const stack = model.layers();
    const S = seriesOf(w);
    const engine: TrainEngine = await backend.createTrainEngine({
      stack,
      models: S,
      loss: w.loss.steps === 'all' ? w.loss : { kind: w.loss.kind, steps: 'all' },
      optimization: optimizationSpec({ optimizer: w.optimizer }),
    });
    // A loss over the last h steps goes to the engine as a mask, as the trainer does it.
    const last = w.loss.steps === 'all' ? null : w.loss.steps.last;
    const batches = Array.from({ length: w.stepsPerEpoch }, (_, k) => {
      const b = gatherSamples(data, stepSamples(w, k), S);
      return last === null
        ? b
        : { ...b, mask: Float32Array.from({ length: b.count * w.steps }, (_, i) => (i % w.steps >= w.steps - last ? 1 : 0)) };
    });
    return {
      async runEpoch(options) {
        const losses: number[] = [];
        for (const batch of batches) losses.push(...(await engine.step(batch, null)).loss);
        if (options?.weights === false) return { losses, weights: {} };
        const models = (await engine.params()).map((flat) => {
          const weights: Record<string, FloatArray> = {};
          for (const [name, t] of Object.entries(model.withLayers(unflattenParams(stack, flat)).stateDict())) weights[name] = t.data;
          return weights;
        });
        return { losses, weights: S > 1 ? stackWeights(models) : models[0]! };
      },
      dispose: () => engine.dispose(),
    };
  };

  return {
    name: options.oneByOne ? 'webrnn-webgpu-1by1' : 'webrnn-webgpu',
    ...(options.oneByOne ? { scalesLinearly: true } : {}),
    settings: () => settings,
    async available() {
      try {
        backend ??= await WebGPUBackend.create({ log: false });
        settings.adapter = `${backend.gpu.summary.vendor} ${backend.gpu.summary.architecture}`.trim();
        return true;
      } catch (e) {
        return `no WebGPU device: ${(e as Error).message}`;
      }
    },
    async prepare(w, initial, data) {
      checkEpochData(w, data, { perSeries: true });
      if (!options.oneByOne || seriesOf(w) === 1) return prepareEngine(w, initial, data);
      const { one, parts } = seriesParts(w, data);
      const models: PreparedTraining[] = [];
      try {
        for (const part of parts) models.push(await prepareEngine(one, initial, part));
      } catch (e) {
        for (const m of models) await m.dispose();
        throw e;
      }
      return oneModelAtATime(w, models);
    },
    dispose() {
      backend?.dispose();
      backend = null;
    },
  };
}
