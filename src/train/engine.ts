import type { RecurrentStack } from '../rnn/stack.ts';
import type { FloatArray } from '../tensor.ts';
import type { Samples } from './data.ts';
import type { LossSpec } from './loss.ts';
import type { OptimizationSpec, OptimizerState } from './optim.ts';

/**
 * What the trainer (src/train/trainer.ts) drives: one backend's way of running a training step.
 * An engine holds `models` copies of one stack's parameters (1 global model, or one per series),
 * each with its own optimizer state, as flat arrays in src/train/params.ts order. The float64 CPU
 * engine (src/train/cpu-engine.ts) is the oracle; the WebGPU engine keeps everything on the device.
 */
export interface TrainEngine {
  /** Models trained side by side (per-series mode: the number of series). */
  readonly models: number;
  /**
   * One optimizer step per model on `batch` (group s of its samples feeds model s): forward, loss,
   * backward, clip, update. `states`: the initial states per layer to start from (truncated BPTT
   * carries them between windows; null: zeros). Resolves to each model's loss before the update,
   * the learning rate used, and the final states per layer.
   */
  step(batch: Samples, states: StackStates | null): Promise<StepResult>;
  /** The forward pass only, from `states`: the final states (truncated BPTT's windows without loss). */
  advance(batch: Samples, states: StackStates | null): Promise<StackStates>;
  /** Each model's loss on `samples` (no update), for validation. */
  evaluate(samples: Samples): Promise<Float64Array>;
  /** Each model's parameters, flat. */
  params(): Promise<FloatArray[]>;
  /** Replaces each model's parameters (early stopping's best weights). */
  setParams(params: readonly FloatArray[]): Promise<void>;
  /** Each model's optimizer state: the step count and its buffers under the name `params`, flat. */
  optimizerState(): Promise<OptimizerState[]>;
  /** Frees what the engine holds on its backend. */
  dispose(): void;
  /**
   * Optional, for engines where waiting for each step's loss costs more than the step (a GPU):
   * {@link step} without the wait. The step (from zero states, no final states kept) is queued on
   * the device and its loss stays there until {@link takeLosses}. Resolves to the learning rate
   * used. At most {@link maxQueuedSteps} steps between two takeLosses.
   */
  queueStep?(batch: Samples): Promise<number>;
  /**
   * The losses of the steps queued since the last call, one array of each model's loss per step, in
   * order, with the same values {@link step} would have returned. The steps queued after this call
   * are not in it, so the caller can queue the next steps while it resolves (at most one pending).
   * Rejects with the first device error of those steps.
   */
  takeLosses?(): Promise<Float64Array[]>;
  /** Steps {@link queueStep} holds before {@link takeLosses} must be called. */
  readonly maxQueuedSteps?: number;
}

/** Per layer, the hidden (and LSTM cell) states `[B, D, H]` of a batch, or null for zeros. */
export interface StackStates {
  h: (FloatArray | null)[];
  c: (FloatArray | null)[];
}

export interface StepResult {
  loss: Float64Array;
  lr: number;
  states: StackStates;
}

/** What every engine is built from. */
export interface EngineSetup {
  /** The stack whose parameters the models start from (every model starts equal). */
  stack: RecurrentStack;
  /** Per model, when they start from different parameters (flat, src/train/params.ts order). */
  initial?: readonly FloatArray[];
  models: number;
  loss: LossSpec;
  optimization: OptimizationSpec;
  /** Per model, a saved optimizer state to resume from. */
  optimizerState?: readonly OptimizerState[];
}
