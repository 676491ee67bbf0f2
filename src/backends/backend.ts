import type { RecurrentStackStateGrads } from '../reference/recurrent-stack-backward.ts';
import type { ResolvedElmanConfig } from '../model/config.ts';
import type { ForwardArgs, ForwardResult } from '../model/forward.ts';
import type { ElmanStateDict } from '../model/params.ts';
import type { RecurrentLayerGrads, RecurrentLayerOutputGrads, RecurrentStackGrads } from '../rnn/backward.ts';
import type { ForecastInputs } from '../rnn/forecast.ts';
import type { RecurrentStack, RecurrentStackInputs, RecurrentStackOutputs, StackModels } from '../rnn/stack.ts';
import type { RecurrentLayerInputs, RecurrentLayerOutputs, RecurrentLayerSpec, RecurrentLayerWeights } from '../rnn/spec.ts';
import type { FloatArray } from '../tensor.ts';
import type { BatchLimits } from '../train/batching.ts';
import type { EngineSetup, TrainEngine } from '../train/engine.ts';

/** A layer's forward outputs and the gradients of a loss with respect to its parameters and inputs. */
export interface RecurrentLayerBackwardResult<D extends FloatArray = FloatArray> {
  outputs: RecurrentLayerOutputs<D>;
  grads: RecurrentLayerGrads<D>;
}

/**
 * A stack's forward outputs and the gradients of a loss with respect to every parameter and input;
 * dX, dInitialH and dInitialC repeat the stack's own inputs' gradients out of `grads.layers` (as
 * src/reference/recurrent-stack-backward.ts returns them).
 */
export interface RecurrentStackBackwardResult<D extends FloatArray = FloatArray> {
  outputs: RecurrentStackOutputs<D>;
  grads: RecurrentStackGrads<D>;
  /** d loss / d X `[B, T, I]`. */
  dX: D;
  /** Per layer, d loss / d initialH `[B, D, H]`. */
  dInitialH: D[];
  /** Per layer, d loss / d initialC `[B, D, H]` for LSTM layers, else null. */
  dInitialC: (D | null)[];
}

export type { RecurrentStackStateGrads } from '../reference/recurrent-stack-backward.ts';

/**
 * Where a model runs. Two implementations share this interface: the float64 CPU reference (the
 * oracle) and WebGPU (the fast path). Each validates a call once, before any work, with the checks
 * both share (src/backends/validate.ts), so a bad call fails alike on either. The backward passes
 * are optional members (a backend may run inference only); both of these have them.
 */
export interface Backend {
  /** `'cpu'` or `'webgpu'`. */
  readonly name: string;
  /** Runs the Elman network over every sequence of the batch (arguments checked by ElmanRNN.forward). */
  elmanForward(config: ResolvedElmanConfig, weights: ElmanStateDict, args: ForwardArgs): Promise<ForwardResult>;
  /**
   * Runs one recurrent layer with ONNX RNN/GRU/LSTM semantics (see src/rnn/spec.ts) over every
   * sequence of the batch. Outputs are in the spec's layout.
   */
  recurrentLayer(spec: RecurrentLayerSpec, weights: RecurrentLayerWeights, inputs: RecurrentLayerInputs): Promise<RecurrentLayerOutputs>;
  /**
   * Runs a stack of batch-major layers and its optional head (see src/rnn/stack.ts) over every
   * sequence of the batch: layer k's output feeds layer k+1 where it lies (on the GPU: without
   * leaving the device), and only the final output and states come back. Per-series models (an
   * array of stacks of one architecture, {@link StackModels}): stack m runs the m-th group of
   * B / models consecutive sequences; on the GPU all of them in the same dispatches.
   */
  recurrentStack(models: StackModels, inputs: RecurrentStackInputs): Promise<RecurrentStackOutputs>;
  /**
   * Backpropagation through time of one layer (src/rnn/backward.ts): runs the forward pass, then
   * takes the gradients of a loss given its gradients with respect to Y, Y_h and Y_c (each may be
   * null: the loss does not read it) back to every parameter, the input and the initial states.
   */
  recurrentLayerBackward?(
    spec: RecurrentLayerSpec,
    weights: RecurrentLayerWeights,
    inputs: RecurrentLayerInputs,
    outGrads: RecurrentLayerOutputGrads,
  ): Promise<RecurrentLayerBackwardResult>;
  /**
   * The same for a stack and its head: `dY` is the gradient with respect to the stack's output Y
   * (the head's `[B, T, O]`, or the last layer's `[B, T, D·H]`). On the GPU the forward pass with
   * saving, the head's and every layer's backward pass and the reductions run as one program, and
   * only the outputs and gradients come back. `stateGrads`: gradients with respect to each layer's
   * final states, when the loss reads them.
   */
  recurrentStackBackward?(
    stack: RecurrentStack,
    inputs: RecurrentStackInputs,
    dY: FloatArray,
    stateGrads?: RecurrentStackStateGrads,
  ): Promise<RecurrentStackBackwardResult>;
  /**
   * Recursive multi-step forecasting (src/rnn/forecast.ts): the stack over each history, then
   * `horizon` steps each fed its own previous prediction; `[B, horizon, O]`. On the GPU the whole
   * horizon of every series runs in one submission. Per-series models as in {@link recurrentStack}.
   */
  recurrentForecast?(models: StackModels, inputs: ForecastInputs): Promise<FloatArray>;
  /**
   * A training engine on this backend (src/train/engine.ts) for the trainer; backends without one
   * train through the float64 CPU engine when they are the CPU reference, and cannot otherwise.
   */
  createTrainEngine?(setup: EngineSetup): Promise<TrainEngine>;
  /**
   * What bounds the windows per optimizer step when training `stack` on windows of `steps` steps
   * here, for src/train/batching.ts `autoBatchSize` (a backend without it: `batchLimits(null)`, the
   * base batch).
   */
  trainingBatchLimits?(stack: RecurrentStack, steps: number): BatchLimits;
  /** Whether the device runs its shaders on the CPU (src/gpu/device.ts isSoftwareAdapter); false for the CPU backend (no device). */
  readonly software?: boolean;
  /** Frees what the backend holds (GPU buffers, the device it created). */
  dispose(): void;
}
