import type { FloatArray } from '../../src/tensor.ts';
import { checkEpochData, type PreparedTraining, type TrainContender } from '../train-contender.ts';
import { modelFromWeights, seriesOf } from '../train-workloads.ts';
import { LazySetup } from './peer.ts';
import {
  cudnnAlgoOf,
  startTorch,
  stateDictTensors,
  TF32_TOLERANCE,
  TORCH_CPU,
  torchContenderName,
  torchModuleOf,
  TorchPeerError,
  type TorchDevice,
} from './pytorch.ts';

/**
 * How PyTorch trains a per-series workload's S models (bench/peers/torch_peer.py, PerSeriesTraining):
 * `batched`, one stacked model of [S, …] parameters run with batched matmuls; `vmap`, torch.func's
 * model-ensembling recipe (vmap of grad over the stacked parameters); `loop`, S nn modules (cuDNN on
 * CUDA) trained one after another.
 */
export type TorchPerSeriesMode = 'batched' | 'vmap' | 'loop';

/**
 * PyTorch as a training peer, in a long-lived Python process like the forward peer's
 * (bench/peers/torch_peer.py, `train.prepare` and `train.epoch`): the workload's nn.RNN / nn.LSTM /
 * nn.GRU + nn.Linear from the initial state dict, torch.optim.Adam over their parameters, and per
 * step `zero_grad`, forward, `mse_loss` (or `l1_loss`) over the workload's steps, `backward`, `step`,
 * `loss.item()`. On the CPU by default (`pytorch-cpu`), or on CUDA with TF32 off or on
 * (`pytorch-cuda-fp32`, `pytorch-cuda-tf32`; bench/peers/pytorch.ts), where model, optimizer and the
 * epoch's data stay on the GPU. The epoch's time is the process's own: time.perf_counter, or CUDA
 * events, around the loop. With TF32 on, its losses and weights are validated within
 * TF32_TOLERANCE (the record says so).
 *
 * `perSeries`: the contender trains per-series workloads ({@link TorchPerSeriesMode}), named
 * `pytorch-cuda-fp32-batched` and so on; it takes one-model workloads too (S = 1).
 */
export function pytorchTrainPeer(d: TorchDevice = TORCH_CPU, options: { perSeries?: TorchPerSeriesMode } = {}): TrainContender {
  const lazy = new LazySetup(() => startTorch(d));
  const clock = d.device === 'cpu' ? 'time.perf_counter()' : 'CUDA events (the data already on the GPU)';
  const mode = options.perSeries;
  // The cuDNN algorithms PyTorch is expected to pick for the workload prepared last.
  let cudnnAlgo: string | null = null;
  return {
    name: mode ? `${torchContenderName(d)}-${mode}` : torchContenderName(d),
    ...(d.tf32 ? { tolerance: TF32_TOLERANCE } : {}),
    ...(mode === 'loop' ? { scalesLinearly: true } : {}),
    settings: () => ({
      ...lazy.settings(),
      ...(cudnnAlgo ? { cudnnAlgo } : {}),
      ...(mode ? { perSeries: mode } : {}),
      timing: `in-process: ${clock} around the epoch loop in Python, without the pipe to Node`,
    }),
    available: () => lazy.available(),
    async prepare(w, initial, data): Promise<PreparedTraining> {
      checkEpochData(w, data, { perSeries: mode !== undefined });
      const { process: proc } = await lazy.load();
      const module = torchModuleOf(modelFromWeights(w, initial));
      const handle = proc.nextHandle();
      const { params, tensors } = stateDictTensors(initial);
      const { count: N, steps: T, inputSize: I, outputSize: O } = data;
      const ready = await proc.request(
        'train.prepare',
        {
          handle,
          module,
          params,
          batch: w.batch,
          stepsPerEpoch: w.stepsPerEpoch,
          loss: w.loss,
          optimizer: w.optimizer,
          ...(mode ? { perSeries: { series: seriesOf(w), mode } } : {}),
        },
        [...tensors, { name: 'x', shape: [N, T, I], data: data.x }, { name: 'y', shape: [N, T, O], data: data.y }],
      );
      cudnnAlgo = cudnnAlgoOf(ready.header);
      return {
        async runEpoch(options) {
          const wanted = options?.weights !== false;
          const reply = await proc.request('train.epoch', { handle, weights: wanted });
          const weights: Record<string, FloatArray> = {};
          for (const name of wanted ? params : []) {
            const t = reply.tensors.get(name);
            if (!t) throw new TorchPeerError(`train.epoch replied without ${name}`);
            weights[name] = t;
          }
          return { losses: reply.header.losses as number[], weights, ms: Number(reply.header.ms) };
        },
        dispose: async () => {
          if (proc.alive) await proc.request('release', { handle });
        },
      };
    },
    async dispose() {
      (await lazy.reset())?.process.close();
    },
  };
}
