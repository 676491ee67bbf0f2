import { RecurrentNet } from '../src/model/recurrent.ts';
import type { Tensor } from '../src/tensor.ts';
import { gatherSamples, samples, type Samples } from '../src/train/data.ts';
import { lossSpec, type LossSpec, type LossSteps } from '../src/train/loss.ts';
import { optimizerSpec, type OptimizerSpec } from '../src/train/optim.ts';
import { mulberry32 } from '../src/util/rng.ts';
import { forwardFlops, MODELS, type Workload } from './workloads.ts';

/**
 * The training benchmark's workloads (`npm run bench:train`): the forward benchmark's models
 * (bench/workloads.ts) trained with mini-batches of `batch` windows of `steps` steps on a seeded
 * forecasting task, the loss (MSE over every step, or over the last h) minimised by Adam. An epoch is
 * a fixed number of optimizer steps: step k reads samples k·batch … (k+1)·batch − 1 of the epoch's
 * data, in order, so every contender sees the same batches.
 */
export interface TrainWorkload extends Workload {
  /** Optimizer steps per epoch; the epoch's data holds batch × stepsPerEpoch samples. */
  stepsPerEpoch: number;
  loss: LossSpec;
  /** Adam (PyTorch's torch.optim.Adam; TF.js's tf.train.adam has the same update), or AdamW. */
  optimizer: AdamSpec;
  /**
   * Per-series training: this many independent models (one per series, each with its own weights
   * and optimizer state, all starting from the same weights) trained side by side; `batch` is then
   * windows per series and step. Absent: one global model.
   */
  series?: number;
}

/** Adam or AdamW with every option filled in (src/train/optim.ts). */
export type AdamSpec = Extract<OptimizerSpec, { kind: 'adam' | 'adamw' }>;

/** A model's weights by PyTorch name, as `RecurrentNet.stateDict()` gives them. */
export type StateDict = Record<string, Tensor<Float32Array>>;

/** Adam with lr 1e-3 and PyTorch's defaults (betas 0.9, 0.999; eps 1e-8; no weight decay). */
export const ADAM = optimizerSpec({ kind: 'adam', lr: 1e-3 }) as AdamSpec;

/** Batches of 256 windows of 64 steps, 4 optimizer steps an epoch: the 1,024 × 64 values of the forward benchmark. */
export const TRAIN_BATCH = 256;
export const TRAIN_STEPS = 64;
export const STEPS_PER_EPOCH = 4;

/** One model of bench/workloads.ts as a training workload. */
export function trainWorkload(
  model: string,
  options: { batch?: number; steps?: number; stepsPerEpoch?: number; loss?: LossSteps } = {},
): TrainWorkload {
  const m = MODELS[model];
  if (!m) throw new Error(`unknown model ${model}; one of ${Object.keys(MODELS).join(', ')}`);
  return {
    name: model,
    ...m,
    batch: options.batch ?? TRAIN_BATCH,
    steps: options.steps ?? TRAIN_STEPS,
    stepsPerEpoch: options.stepsPerEpoch ?? STEPS_PER_EPOCH,
    loss: lossSpec({ kind: 'mse', steps: options.loss ?? 'all' }),
    optimizer: ADAM,
  };
}

/** Every model at the standard sizes, MSE over all steps (or over the last `last` with it). */
export function trainStandard(loss: LossSteps = 'all'): TrainWorkload[] {
  return Object.keys(MODELS).map((m) => trainWorkload(m, { loss }));
}

/**
 * `lstm-h32 B=256 T=64 ×4 mse(last 8)`: how training workloads are named in tables, logs and
 * `--only`; per-series ones add the number of models, `lstm-h8 S=1000 B=16 T=24 ×4 mse`.
 */
export function trainWorkloadLabel(w: Pick<TrainWorkload, 'name' | 'batch' | 'steps' | 'stepsPerEpoch' | 'loss' | 'series'>): string {
  return `${w.name}${seriesOf(w) > 1 ? ` S=${seriesOf(w)}` : ''} B=${w.batch} T=${w.steps} ×${w.stepsPerEpoch} ${describeLoss(w.loss)}`;
}

/** The number of models a workload trains side by side (1: one global model). */
export function seriesOf(w: Pick<TrainWorkload, 'series'>): number {
  return w.series ?? 1;
}

/**
 * A one-layer model of `cell` (1 input, 1 output, tanh for the Elman cell) trained with MSE over
 * every step and Adam as {@link ADAM}, named like the forward benchmark's models (`lstm-h32`,
 * `elman-tanh-h16`); with `series`, that many per-series models (`batch` windows of each a step).
 */
export function cellWorkload(
  cell: 'rnn' | 'lstm' | 'gru',
  hiddenSize: number,
  options: { batch: number; steps: number; stepsPerEpoch: number; series?: number },
): TrainWorkload {
  return {
    name: `${cell === 'rnn' ? 'elman-tanh' : cell}-h${hiddenSize}`,
    cell,
    ...(cell === 'rnn' ? { nonlinearity: 'tanh' as const } : {}),
    inputSize: 1,
    hiddenSize,
    outputSize: 1,
    numLayers: 1,
    batch: options.batch,
    steps: options.steps,
    stepsPerEpoch: options.stepsPerEpoch,
    loss: lossSpec({ kind: 'mse', steps: 'all' }),
    optimizer: ADAM,
    ...(options.series ? { series: options.series } : {}),
  };
}

/** `mse` or `mse(last 8)`. */
export function describeLoss(loss: LossSpec): string {
  return loss.steps === 'all' ? loss.kind : `${loss.kind}(last ${loss.steps.last})`;
}

/** `adam(lr=0.001, betas=(0.9, 0.999), eps=1e-8)`. */
export function describeOptimizer(o: TrainWorkload['optimizer']): string {
  const decay = o.weightDecay ? `, weight_decay=${o.weightDecay}` : '';
  return `${o.kind}(lr=${o.lr}, betas=(${o.betas.join(', ')}), eps=${o.eps}${decay})`;
}

/** Samples one epoch reads (of every series). */
export function samplesPerEpoch(w: Pick<TrainWorkload, 'batch' | 'stepsPerEpoch' | 'series'>): number {
  return w.batch * w.stepsPerEpoch * seriesOf(w);
}

/**
 * The samples optimizer step k reads, in order: samples k·batch … (k+1)·batch − 1 of one global
 * model's epoch; per-series, the same `batch` positions of every series' group (group s holds
 * `batch × stepsPerEpoch` consecutive samples), so group s of the step feeds model s.
 */
export function stepSamples(w: Pick<TrainWorkload, 'batch' | 'stepsPerEpoch' | 'series'>, k: number): Uint32Array {
  const S = seriesOf(w);
  const per = w.batch * w.stepsPerEpoch;
  const out = new Uint32Array(S * w.batch);
  for (let s = 0; s < S; s++) for (let i = 0; i < w.batch; i++) out[s * w.batch + i] = s * per + k * w.batch + i;
  return out;
}

/**
 * Floating-point operations of one epoch, by the usual count for backpropagation: the forward pass
 * (bench/workloads.ts's forwardFlops) and twice as much again for the backward pass (the gradients
 * of the inputs and of the weights are one matrix product each). Elementwise work and the optimizer
 * are not counted.
 */
export function trainFlops(w: TrainWorkload): number {
  return 3 * forwardFlops(w) * w.stepsPerEpoch * seriesOf(w);
}

/** The workload's model with its initial weights: PyTorch's default initialisation from `seed` (as bench/harness.ts's buildModel). */
export function initialModel(w: TrainWorkload, seed = 1): RecurrentNet {
  const { cell, inputSize, hiddenSize, outputSize, numLayers } = w;
  return RecurrentNet.create(
    { cell, inputSize, hiddenSize, outputSize, numLayers, ...(cell === 'rnn' ? { nonlinearity: w.nonlinearity } : {}) },
    { seed },
  );
}

/**
 * The model a contender trains: the workload's module with `weights` (PyTorch names), every tensor
 * checked against the workload (a WeightError names what does not fit).
 */
export function modelFromWeights(w: TrainWorkload, weights: StateDict): RecurrentNet {
  const { cell, inputSize, hiddenSize, outputSize, numLayers } = w;
  return RecurrentNet.fromStateDict(weights, {
    cell,
    inputSize,
    hiddenSize,
    outputSize,
    numLayers,
    ...(cell === 'rnn' ? { nonlinearity: w.nonlinearity ?? 'tanh' } : {}),
  });
}

/**
 * One epoch's data, seeded: `batch × stepsPerEpoch` windows of independent noisy series
 *
 *   s(t) = a₁ sin(2π t / p₁ + φ₁) + a₂ sin(2π t / p₂ + φ₂) + 0.1 ε_t      a ∈ [0.2, 1), p ∈ [4, 32), ε uniform in [−1, 1)
 *
 * Input feature i at step t is s(t − i) (the value and I − 1 lags), target o is s(t + 1 + o): the
 * next values, a forecasting task every model here can learn. Samples are independent, so the order
 * of the batches is the order of the samples; per-series, each model's group is `batch ×
 * stepsPerEpoch` consecutive samples ({@link stepSamples}).
 */
export function trainData(w: TrainWorkload, seed = 2): Samples {
  const { steps: T, inputSize: I, outputSize: O } = w;
  const N = samplesPerEpoch(w);
  const rand = mulberry32(seed);
  const between = (lo: number, hi: number) => lo + (hi - lo) * rand();
  const x = new Float32Array(N * T * I);
  const y = new Float32Array(N * T * O);
  const length = I - 1 + T + O; // lags before step 0, the window, the targets after it
  for (let n = 0; n < N; n++) {
    const [a1, a2, p1, p2, f1, f2] = [
      between(0.2, 1),
      between(0.2, 1),
      between(4, 32),
      between(4, 32),
      between(0, 2 * Math.PI),
      between(0, 2 * Math.PI),
    ];
    const s = Float64Array.from(
      { length },
      (_, u) => a1 * Math.sin((2 * Math.PI * u) / p1 + f1) + a2 * Math.sin((2 * Math.PI * u) / p2 + f2) + 0.1 * between(-1, 1),
    );
    for (let t = 0; t < T; t++) {
      const u = t + I - 1; // s(t) in the series' own indexing
      for (let i = 0; i < I; i++) x[(n * T + t) * I + i] = s[u - i]!;
      for (let o = 0; o < O; o++) y[(n * T + t) * O + o] = s[u + 1 + o]!;
    }
  }
  return samples({ x, y, count: N, steps: T, inputSize: I, outputSize: O, series: seriesOf(w) });
}

/**
 * The data of a validation run `v` (fewer steps, a smaller batch, fewer series) cut from the data of
 * `w`: per series kept, the samples its first `v.stepsPerEpoch` steps read (the validation run's
 * batches are the first ones of the epoch). One global model: the first samples.
 */
export function validationSamples(d: Samples, w: TrainWorkload, v: TrainWorkload): Samples {
  if (seriesOf(w) === 1) return firstSamples(d, samplesPerEpoch(v));
  if (v.batch !== w.batch) throw new RangeError('a per-series validation run keeps the batch per series (it cuts series and steps)');
  const per = w.batch * w.stepsPerEpoch;
  const keep = v.batch * v.stepsPerEpoch;
  const indices = Array.from({ length: seriesOf(v) * keep }, (_, i) => Math.floor(i / keep) * per + (i % keep));
  return gatherSamples(d, indices, seriesOf(v));
}

/** The first `count` samples (a validation run's data: its batches are the first ones of the epoch, smaller). */
export function firstSamples(d: Samples, count: number): Samples {
  const { steps: T, inputSize: I, outputSize: O } = d;
  return {
    ...d,
    x: d.x.slice(0, count * T * I),
    y: d.y.slice(0, count * T * O),
    mask: d.mask && d.mask.slice(0, count * T),
    count,
  };
}
