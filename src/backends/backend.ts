import type { ResolvedElmanConfig } from '../model/config.ts';
import type { ForwardArgs, ForwardResult } from '../model/forward.ts';
import type { ElmanStateDict } from '../model/params.ts';
import type { RecurrentStack, RecurrentStackInputs, RecurrentStackOutputs } from '../rnn/stack.ts';
import type { RecurrentLayerInputs, RecurrentLayerOutputs, RecurrentLayerSpec, RecurrentLayerWeights } from '../rnn/spec.ts';

/**
 * Where a model runs. Two implementations share this interface: the float64 CPU reference (the
 * oracle) and WebGPU (the fast path). Both receive arguments that were already validated.
 */
export interface Backend {
  /** `'cpu'` or `'webgpu'`. */
  readonly name: string;
  /** Runs the Elman network over every sequence of the batch. */
  elmanForward(config: ResolvedElmanConfig, weights: ElmanStateDict, args: ForwardArgs): Promise<ForwardResult>;
  /**
   * Runs one recurrent layer with ONNX RNN/GRU/LSTM semantics (see src/rnn/spec.ts) over every
   * sequence of the batch. Outputs are in the spec's layout.
   */
  recurrentLayer(spec: RecurrentLayerSpec, weights: RecurrentLayerWeights, inputs: RecurrentLayerInputs): Promise<RecurrentLayerOutputs>;
  /**
   * Runs a stack of batch-major layers and its optional head (see src/rnn/stack.ts) over every
   * sequence of the batch: layer k's output feeds layer k+1 where it lies (on the GPU: without
   * leaving the device), and only the final output and states come back.
   */
  recurrentStack(stack: RecurrentStack, inputs: RecurrentStackInputs): Promise<RecurrentStackOutputs>;
  /** Frees what the backend holds (GPU buffers, the device it created). */
  dispose(): void;
}
