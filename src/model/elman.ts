import type { Backend } from '../backends/backend.ts';
import { ConfigError } from '../errors.ts';
import type { RecurrentStack } from '../rnn/stack.ts';
import type { Tensor } from '../tensor.ts';
import { resolveElmanConfig, type ElmanConfig, type ResolvedElmanConfig } from './config.ts';
import { checkForwardArgs, type ForwardOptions, type ForwardResult } from './forward.ts';
import { checkElmanStateDict, elmanParamSpecs, initElmanStateDict, type ElmanStateDict, type ParamSpec } from './params.ts';
import { torchToLayers } from './torch-lowering.ts';

/** Options of {@link ElmanRNN.forward}: where to run, plus the per-call options. */
export interface RunOptions extends ForwardOptions {
  /** `cpuBackend` (the float64 reference) or a `WebGPUBackend`. */
  backend: Backend;
}

/**
 * An Elman network with a linear readout: PyTorch's `nn.RNN(..., batch_first=True)` followed by an
 * `nn.Linear` applied at every step. Weights use PyTorch's names and layouts.
 *
 * ```ts
 * const model = new ElmanRNN({ inputSize: 1, hiddenSize: 32, outputSize: 1, nonlinearity: 'relu' });
 * const gpu = await WebGPUBackend.create();
 * const { output, hn } = await model.forward(tensor(x, [B, T, 1]), { backend: gpu });
 * ```
 */
export class ElmanRNN {
  /** The configuration with defaults filled in. */
  readonly config: ResolvedElmanConfig;
  private weights: ElmanStateDict;

  /**
   * @param config sizes and activation; validated here ({@link ConfigError} when bad).
   * @param init weights to start from ({@link WeightError} when they do not fit), or a seed for
   *   PyTorch's default uniform initialisation (default seed 0).
   */
  constructor(config: ElmanConfig, init: ElmanStateDict | { seed: number } = { seed: 0 }) {
    this.config = resolveElmanConfig(config);
    try {
      if (init !== null && typeof init === 'object' && 'seed' in init) {
        if (!Number.isInteger(init.seed)) throw new ConfigError(`seed must be an integer, got ${init.seed}`);
        this.weights = initElmanStateDict(this.config, init.seed);
      } else {
        this.weights = checkElmanStateDict(this.config, init as ElmanStateDict);
      }
    } catch (err) {
      // Within MAX_PARAMETERS the engine may still lack the memory (a browser refuses large buffers).
      if (!(err instanceof RangeError)) throw err;
      const floats = elmanParamSpecs(this.config).reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
      throw new ConfigError(
        `the weights of this Elman network (${(4 * floats).toLocaleString('en-US')} bytes) could not be allocated: ${err.message}`,
      );
    }
  }

  /** Names and shapes of every parameter, in PyTorch's order. */
  parameterSpecs(): ParamSpec[] {
    return elmanParamSpecs(this.config);
  }

  /** A copy of the weights, as `{ rnn: nn.RNN.state_dict(), readout: nn.Linear.state_dict() }`. */
  stateDict(): ElmanStateDict {
    const rnn: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(this.weights.rnn)) rnn[k] = v.slice();
    return { rnn, readout: { weight: this.weights.readout.weight.slice(), bias: this.weights.readout.bias.slice() } };
  }

  /** Replaces every weight; checked first ({@link WeightError}), so a bad dict changes nothing. */
  loadStateDict(sd: ElmanStateDict): void {
    this.weights = checkElmanStateDict(this.config, sd);
  }

  /**
   * Runs every sequence of `input` (`[B, T, I]`, batch-first) through all T steps.
   * Validates shapes before any GPU work ({@link ShapeError}).
   */
  async forward(input: Tensor, options: RunOptions): Promise<ForwardResult> {
    const backend = options?.backend;
    if (!backend || typeof backend.elmanForward !== 'function') {
      throw new ConfigError('forward needs { backend }: cpuBackend or a WebGPUBackend');
    }
    const args = checkForwardArgs(this.config, input, options);
    return backend.elmanForward(this.config, this.weights, args);
  }
}

/**
 * The Elman network as the stack it is: `nn.RNN(num_layers=L)` lowered to L ONNX RNN layers
 * (batch-major, W = weight_ih, R = weight_hh, B = bias_ih ‖ bias_hh) and the readout as the stack's
 * nn.Linear head, through the same lowering as {@link RecurrentNet} (src/model/torch-lowering.ts).
 */
export function elmanStack(c: ResolvedElmanConfig, sd: ElmanStateDict): RecurrentStack {
  const params: Record<string, Float32Array> = { 'readout.weight': sd.readout.weight, 'readout.bias': sd.readout.bias };
  for (const [name, value] of Object.entries(sd.rnn)) params[`rnn.${name}`] = value;
  return torchToLayers(
    {
      cell: 'rnn',
      inputSize: c.inputSize,
      hiddenSize: c.hiddenSize,
      numLayers: c.numLayers,
      bidirectional: false,
      nonlinearity: c.nonlinearity,
      bias: true,
      batchFirst: true,
      outputSize: c.outputSize,
      headBias: true,
      prefix: 'rnn',
      headPrefix: 'readout',
    },
    params,
  );
}
