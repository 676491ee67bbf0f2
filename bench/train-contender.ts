import type { FloatArray } from '../src/tensor.ts';
import type { Samples } from '../src/train/data.ts';
import type { PeerSettings } from './peers/peer.ts';
import { samplesPerEpoch, type StateDict, type TrainWorkload } from './train-workloads.ts';

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
 */
export interface TrainContender {
  /** Stable id: `cpu-reference`, `pytorch-cpu`, `tfjs-wasm`, …, `webrnn-webgpu`. */
  readonly name: string;
  /** Whether it can run here; the reason when not. */
  available(): Promise<true | string>;
  /** How it runs (library version, backend, threads, API), for the record. */
  settings?(): PeerSettings;
  prepare(w: TrainWorkload, initial: StateDict, data: Samples): Promise<PreparedTraining>;
  /** Frees what it holds across workloads (processes, devices). */
  dispose(): Promise<void> | void;
}

export interface PreparedTraining {
  runEpoch(): Promise<EpochResult>;
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

/** Checks that `data` is one epoch of the workload (sizes, no mask); throws {@link TrainSetupError}. */
export function checkEpochData(w: TrainWorkload, data: Samples): void {
  const n = samplesPerEpoch(w);
  if (data.count !== n) throw new TrainSetupError(`an epoch of ${w.name} reads ${w.batch} × ${w.stepsPerEpoch} = ${n} samples, got ${data.count}`);
  if (data.steps !== w.steps || data.inputSize !== w.inputSize || data.outputSize !== w.outputSize) {
    throw new TrainSetupError(
      `data of [${data.count}, ${data.steps}, ${data.inputSize}] → [${data.outputSize}] does not fit ${w.name} ([N, ${w.steps}, ${w.inputSize}] → [${w.outputSize}])`,
    );
  }
  if (data.mask) throw new TrainSetupError('the training benchmark has no masked steps; a mask was given');
  if (data.series !== 1) throw new TrainSetupError('the training benchmark trains one global model (series = 1)');
}
