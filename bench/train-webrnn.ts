import { WebGPUBackend } from '../src/backends/webgpu.ts';
import type { RecurrentNet } from '../src/model/recurrent.ts';
import type { FloatArray } from '../src/tensor.ts';
import { gatherSamples, type Samples } from '../src/train/data.ts';
import type { TrainEngine } from '../src/train/engine.ts';
import { optimizationSpec } from '../src/train/optim.ts';
import { unflattenParams } from '../src/train/params.ts';
import type { PeerSettings } from './peers/peer.ts';
import { checkEpochData, type PreparedTraining, type TrainContender } from './train-contender.ts';
import { modelFromWeights, type StateDict, type TrainWorkload } from './train-workloads.ts';

/**
 * webrnn's training on WebGPU as a training-benchmark contender (`webrnn-webgpu`, the baseline of
 * the ratios): the WebGPU train engine (src/train/gpu-engine.ts) driven step by step on the epoch's
 * batches in order (the trainer's shuffling left out, so every contender sees the same batches).
 * Each step is one GPU program (forward, loss, backward, Adam update) with only the batch going up
 * and the loss coming back; the weights are read back once an epoch, for validation.
 */
export function webrnnTrainContender(): TrainContender {
  let backend: WebGPUBackend | null = null;
  const settings: PeerSettings = { library: 'webrnn', backend: 'webgpu', api: 'TrainEngine.step (src/train/gpu-engine.ts)' };
  return {
    name: 'webrnn-webgpu',
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
    async prepare(w: TrainWorkload, initial: StateDict, data: Samples): Promise<PreparedTraining> {
      checkEpochData(w, data);
      if (!backend) throw new Error('webrnn-webgpu: available() was not called or failed');
      const model: RecurrentNet = modelFromWeights(w, initial);
      const stack = model.layers();
      const engine: TrainEngine = await backend.createTrainEngine({
        stack,
        models: 1,
        loss: w.loss.steps === 'all' ? w.loss : { kind: w.loss.kind, steps: 'all' },
        optimization: optimizationSpec({ optimizer: w.optimizer }),
      });
      // A loss over the last h steps goes to the engine as a mask, as the trainer does it.
      const mask = w.loss.steps === 'all' ? null : Float32Array.from({ length: data.count * w.steps }, (_, i) => (i % w.steps >= w.steps - (w.loss.steps as { last: number }).last ? 1 : 0));
      const batches = Array.from({ length: w.stepsPerEpoch }, (_, k) => {
        const b = gatherSamples(data, Array.from({ length: w.batch }, (_, i) => k * w.batch + i));
        return mask ? { ...b, mask: mask.subarray(k * w.batch * w.steps, (k + 1) * w.batch * w.steps) } : b;
      });
      return {
        async runEpoch() {
          const losses: number[] = [];
          for (const batch of batches) losses.push((await engine.step(batch, null)).loss[0]!);
          const flat = (await engine.params())[0]!;
          const weights: Record<string, FloatArray> = {};
          for (const [name, t] of Object.entries(model.withLayers(unflattenParams(stack, flat)).stateDict())) weights[name] = t.data;
          return { losses, weights };
        },
        dispose: () => engine.dispose(),
      };
    },
    dispose() {
      backend?.dispose();
      backend = null;
    },
  };
}
