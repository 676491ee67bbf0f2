import type { FloatArray } from '../src/tensor.ts';
import { gatherSamples, type Samples } from '../src/train/data.ts';
import type { Tolerance } from '../src/util/compare.ts';
import type { PeerSettings } from './peers/peer.ts';
import { samplesPerEpoch, seriesOf, type StateDict, type TrainWorkload } from './train-workloads.ts';

/**
 * One library the training benchmark runs (bench/train-harness.ts). `prepare` builds the workload's
 * model in that library from `initial` (PyTorch names and layouts, e.g. `RecurrentNet.stateDict()`),
 * a fresh optimizer as the workload says, and uploads `data` (`batch × stepsPerEpoch` samples,
 * no mask). Each `runEpoch` then continues training where the last one stopped: `stepsPerEpoch`
 * optimizer steps, step k on samples k·batch … (k+1)·batch − 1, each one forward, loss, backward
 * and update.
 *
 * webrnn's trainer plugs in as one more TrainContender (named `webrnn-webgpu`, the baseline of the
 * ratios).
 *
 * Per-series workloads (`w.series` = S > 1) train S models side by side from the same `initial`:
 * step k feeds group s of `stepSamples(w, k)` to model s. Only contenders that say so take them
 * ({@link checkEpochData}'s `perSeries`); their losses are then step-major (step k's S losses, in
 * model order) and each weight is the S models' tensors stacked, `[S, ...shape]`.
 */
export interface TrainContender {
  /** Stable id: `cpu-reference`, `pytorch-cpu`, `tfjs-wasm`, …, `webrnn-webgpu`. */
  readonly name: string;
  /** Whether it can run here; the reason when not. */
  available(): Promise<true | string>;
  /** How it runs (library version, backend, threads, API), for the record. */
  settings?(): PeerSettings;
  /**
   * The tolerance its losses and weights are validated with, when its arithmetic is documented to be
   * coarser than float32 (PyTorch with TF32 tensor-core math); default FLOAT32_TOLERANCE. The
   * record's `validatedAgainst` names any other.
   */
  readonly tolerance?: Tolerance;
  /**
   * Its epoch's time grows in proportion to the samples (one model at a time): the harness then
   * takes the validation run's time, scaled, as its estimate instead of measuring a full-size step.
   */
  readonly scalesLinearly?: boolean;
  prepare(w: TrainWorkload, initial: StateDict, data: Samples): Promise<PreparedTraining>;
  /** Frees what it holds across workloads (processes, devices). */
  dispose(): Promise<void> | void;
}

export interface PreparedTraining {
  /**
   * One epoch. `weights: false`: the caller will not read the weights (a timed epoch), so the
   * contender may leave them out (`{}`) instead of reading them back, which on a GPU is a transfer
   * its users would not make every epoch.
   */
  runEpoch(options?: { weights?: boolean }): Promise<EpochResult>;
  dispose(): Promise<void> | void;
}

export interface EpochResult {
  /** Each step's loss, computed by its forward pass before its update (what a training loop logs). */
  losses: number[];
  /** The weights after the epoch's last step, by PyTorch name (every tensor of `initial`). */
  weights: Record<string, FloatArray>;
  /**
   * The epoch's duration by the contender's own clock, when it keeps one (a subprocess peer's time
   * without the pipe); the harness then times with it and records `timing: 'in-process'`. Without
   * it the harness's wall clock around `runEpoch()` is the time.
   */
  ms?: number;
}

/** A contender that cannot train what it was given: the message says what. */
export class TrainSetupError extends Error {
  override readonly name = 'TrainSetupError';
}

/**
 * Checks that `data` is one epoch of the workload (sizes, no mask, its series); throws
 * {@link TrainSetupError}. A contender that trains per-series workloads says so with `perSeries`.
 */
export function checkEpochData(w: TrainWorkload, data: Samples, options: { perSeries?: boolean } = {}): void {
  const n = samplesPerEpoch(w);
  const S = seriesOf(w);
  if (data.count !== n)
    throw new TrainSetupError(
      `an epoch of ${w.name} reads ${w.batch} × ${w.stepsPerEpoch}${S > 1 ? ` × ${S} series` : ''} = ${n} samples, got ${data.count}`,
    );
  if (data.steps !== w.steps || data.inputSize !== w.inputSize || data.outputSize !== w.outputSize) {
    throw new TrainSetupError(
      `data of [${data.count}, ${data.steps}, ${data.inputSize}] → [${data.outputSize}] does not fit ${w.name} ([N, ${w.steps}, ${w.inputSize}] → [${w.outputSize}])`,
    );
  }
  if (data.mask) throw new TrainSetupError('the training benchmark has no masked steps; a mask was given');
  if (seriesOf(w) > 1 && !options.perSeries)
    throw new TrainSetupError(`this contender trains one global model, not ${seriesOf(w)} per-series models`);
  if (data.series !== seriesOf(w))
    throw new TrainSetupError(`the data has ${data.series} series groups, the workload trains ${seriesOf(w)} model(s)`);
}

/** Each model's tensors by name, stacked model-major into one `[S, ...shape]` array per name. */
export function stackWeights(models: readonly Record<string, FloatArray>[]): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const name of Object.keys(models[0] ?? {})) {
    const size = models[0]![name]!.length;
    const stacked = new Float32Array(models.length * size);
    models.forEach((m, s) => stacked.set(m[name]!, s * size));
    out[name] = stacked;
  }
  return out;
}

/** A per-series workload's single-model workload and each series' samples (group s of `data`), in order. */
export function seriesParts(w: TrainWorkload, data: Samples): { one: TrainWorkload; parts: Samples[] } {
  const per = w.batch * w.stepsPerEpoch;
  const parts = Array.from({ length: seriesOf(w) }, (_, s) =>
    gatherSamples(
      data,
      Array.from({ length: per }, (_, i) => s * per + i),
      1,
    ),
  );
  return { one: { ...w, series: 1 }, parts };
}

/**
 * A per-series workload trained one model at a time: `models` are the S single-model trainings of
 * {@link seriesParts}, run one after another each epoch (what a library without a per-series mode
 * leaves its user to write). Their epochs are merged as a per-series contender's are: losses
 * step-major, weights stacked; the time is the sum of their own clocks when every one keeps one.
 */
export function oneModelAtATime(w: TrainWorkload, models: readonly PreparedTraining[]): PreparedTraining {
  const S = models.length;
  return {
    async runEpoch(options) {
      const results: EpochResult[] = [];
      for (const m of models) results.push(await m.runEpoch(options));
      const losses = Array.from({ length: w.stepsPerEpoch * S }, (_, i) => results[i % S]!.losses[Math.floor(i / S)]!);
      const ms = results.every((r) => r.ms !== undefined) ? results.reduce((a, r) => a + r.ms!, 0) : undefined;
      const weights = options?.weights === false ? {} : stackWeights(results.map((r) => r.weights));
      return { losses, weights, ...(ms === undefined ? {} : { ms }) };
    },
    async dispose() {
      for (const m of models) await m.dispose();
    },
  };
}
