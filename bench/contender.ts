import type { RecurrentNet } from '../src/model/recurrent.ts';
import type { FloatArray } from '../src/tensor.ts';
import type { Tolerance } from '../src/util/compare.ts';
import type { Workload } from './workloads.ts';

/**
 * One library the benchmark runs beside webrnn. `prepare` builds the workload's model in that
 * library from the same weights (`model.stateDict()`, PyTorch names and layouts) and uploads what it
 * can ahead of time; `run` then does one full forward pass on the input given to `prepare` —
 * upload, compute and readback of the whole output — and resolves to the outputs `[B, T, O]`
 * (batch-first) so the harness can validate them against the CPU reference before timing.
 */
export interface Contender {
  /** Stable id: `webrnn-webgpu`, `cpu-reference`, `onnxruntime-node-cpu`, `ort-web-wasm`, `ort-web-webgpu`, `tfjs-webgpu`, … */
  readonly name: string;
  /** Whether this contender can run here (package installed, backend available); a reason when not. */
  available(): Promise<true | string>;
  /**
   * The tolerance its outputs are validated with, when its arithmetic is documented to be coarser
   * than float32 (PyTorch with TF32 tensor-core math); default `FLOAT32_TOLERANCE`. A record
   * validated with another tolerance says so in `validatedAgainst`.
   */
  readonly tolerance?: Tolerance;
  prepare(w: Workload, model: RecurrentNet, x: Float32Array): Promise<PreparedRun>;
  /** Frees what the contender holds across workloads (devices, sessions). */
  dispose(): Promise<void> | void;
}

export interface PreparedRun {
  run(): Promise<FloatArray>;
  /**
   * Optional: `run()` that also says how long the run took by the contender's own clock. A contender
   * gives it when the harness's wall clock would count work its users never pay: `pytorch-cpu` runs
   * in a Python subprocess and reports `time.perf_counter()` around the forward, without the pipe.
   * The harness then times the cell with `ms` (and records `timing: 'in-process'`); without it, it
   * times `run()` itself (`'wall'`).
   */
  timedRun?(): Promise<TimedOutput>;
  /**
   * The GPU time of the last run (kernels only: timestamp queries where the adapter has them, else
   * submit-to-completion), recorded beside the cell's time, with `timedRun` too; webrnn's contender
   * has it, and PyTorch's on CUDA (the forward alone by CUDA events).
   */
  gpuTime?(): { ms: number; method: 'timestamp' | 'wall' } | null;
  dispose(): Promise<void> | void;
}

/** A run's output `[B, T, O]` and its duration in milliseconds as the contender measured it. */
export interface TimedOutput {
  output: FloatArray;
  ms: number;
}

/** Whose clock a cell's times come from: the harness's around `run()`, or the contender's own. */
export type Timing = 'wall' | 'in-process';
