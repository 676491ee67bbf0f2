import type * as tfc from '@tensorflow/tfjs-core';
import type { LossSpec } from '../../src/train/loss.ts';
import { checkEpochData, TrainSetupError, type PreparedTraining, type TrainContender } from '../train-contender.ts';
import { modelFromWeights } from '../train-workloads.ts';
import type { PeerSettings } from './peer.ts';
import type { Tfjs } from './tfjs-model.ts';
import { tfjsPeer, type TfjsBackend } from './tfjs.ts';
import { buildTfjsTrainModel, torchWeightsReader } from './train-tfjs-model.ts';

/**
 * TensorFlow.js as a training peer: the workload's model as a tf.layers Sequential with one trainable
 * tensor per PyTorch parameter (train-tfjs-model.ts), compiled with `tf.train.adam(lr, beta1, beta2,
 * eps)` (its update is torch.optim.Adam's: both bias-correct m and v, eps added to √v̂) and the
 * workload's loss, and per epoch one `model.fit(x, y, { batchSize, epochs: 1, shuffle: false })`
 * over the epoch's samples, which makes exactly `stepsPerEpoch` steps in order. Each step's loss
 * comes from fit's `onBatchEnd` logs; the weights are read back after the epoch.
 *
 * The backend (`tfjs-wasm`, `tfjs-cpu`, `tfjs-webgpu` on Dawn in Node) is set up as the forward peer
 * sets it up (bench/peers/tfjs.ts), and switched back to before every epoch if another contender
 * changed TF.js's global backend.
 */

/** The workload's loss as a Keras loss function: the mean over the selected steps, as PyTorch's mse_loss / l1_loss. */
function kerasLoss(core: Tfjs['core'], loss: LossSpec, steps: number): (yTrue: tfc.Tensor, yPred: tfc.Tensor) => tfc.Tensor {
  const first = loss.steps === 'all' ? 0 : steps - loss.steps.last;
  return (yTrue, yPred) =>
    core.tidy(() => {
      const select = (t: tfc.Tensor) => (first === 0 ? t : core.slice(t, [0, first, 0], [-1, -1, -1]));
      const diff = core.sub(select(yPred), select(yTrue));
      return core.mean(loss.kind === 'mse' ? core.square(diff) : core.abs(diff));
    });
}

async function loadTfjs(): Promise<Tfjs> {
  const [core, tfl] = await Promise.all([import('@tensorflow/tfjs-core'), import('@tensorflow/tfjs-layers')]);
  return { core, tfl };
}

/** `tfjs-wasm`, `tfjs-cpu` or `tfjs-webgpu` training with `model.fit`. */
export function tfjsTrainPeer(backend: TfjsBackend): TrainContender & { settings(): PeerSettings } {
  // The forward peer's setup: imports the backend, registers tfjs-webgpu on Dawn in Node, sets it.
  const setup = tfjsPeer(backend);
  const useBackend = async (core: Tfjs['core']) => {
    if (core.getBackend() !== backend && !(await core.setBackend(backend)))
      throw new TrainSetupError(`TF.js could not switch to its ${backend} backend`);
  };
  return {
    name: `tfjs-${backend}`,
    settings: () => ({ ...setup.settings(), api: 'tf.LayersModel.fit (one epoch, shuffle off) with tf.train.adam' }),
    available: () => setup.available(),
    async prepare(w, initial, data): Promise<PreparedTraining> {
      checkEpochData(w, data);
      const ready = await setup.available();
      if (ready !== true) throw new TrainSetupError(ready);
      const tf = await loadTfjs();
      const { core } = tf;
      await useBackend(core);
      const o = w.optimizer;
      if (o.weightDecay !== 0)
        throw new TrainSetupError(`tf.train.adam has no weight decay; the workload's ${o.kind} asks for ${o.weightDecay}`);
      const model = modelFromWeights(w, initial);
      const readWeights = torchWeightsReader(model);
      const net = buildTfjsTrainModel(tf, model);
      const optimizer = core.train.adam(o.lr, o.betas[0], o.betas[1], o.eps);
      net.compile({ optimizer, loss: kerasLoss(core, w.loss, w.steps) });
      const x = core.tensor3d(data.x, [data.count, w.steps, w.inputSize]);
      const y = core.tensor3d(data.y, [data.count, w.steps, w.outputSize]);
      return {
        async runEpoch() {
          await useBackend(core);
          const losses: number[] = [];
          await net.fit(x, y, {
            batchSize: w.batch,
            epochs: 1,
            shuffle: false,
            verbose: 0,
            callbacks: { onBatchEnd: async (_batch, logs) => void losses.push(Number(logs?.loss)) },
          });
          if (losses.length !== w.stepsPerEpoch) throw new TrainSetupError(`fit made ${losses.length} steps, expected ${w.stepsPerEpoch}`);
          const withWeights = net.layers.filter((layer) => layer.weights.length > 0);
          const layers = await Promise.all(
            withWeights.map((layer) => Promise.all(layer.getWeights().map(async (t) => (await t.data()) as Float32Array))),
          );
          return { losses, weights: readWeights(layers) };
        },
        dispose() {
          x.dispose();
          y.dispose();
          optimizer.dispose();
          net.dispose();
        },
      };
    },
    dispose: () => setup.dispose(),
  };
}
