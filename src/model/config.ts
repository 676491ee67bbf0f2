import { ConfigError } from '../errors.ts';

/** Activation of the Elman cell, PyTorch's `nonlinearity`. */
export type Nonlinearity = 'tanh' | 'relu';

/**
 * Configuration of an Elman network with a linear readout: PyTorch's
 * `nn.RNN(input_size, hidden_size, num_layers, nonlinearity, batch_first=True)` followed by
 * `nn.Linear(hidden_size, output_size)` applied at every step.
 */
export interface ElmanConfig {
  /** Features per step of the input, I ≥ 1. */
  inputSize: number;
  /** Hidden units per layer, H ≥ 1. */
  hiddenSize: number;
  /** Values the readout predicts per step, O ≥ 1. */
  outputSize: number;
  /** Stacked layers, L ≥ 1 (default 1). Layer k > 0 reads layer k-1's hidden state. */
  numLayers?: number;
  /** `'tanh'` (default, as in PyTorch) or `'relu'`. */
  nonlinearity?: Nonlinearity;
}

/** An {@link ElmanConfig} with every default filled in and every value checked. */
export interface ResolvedElmanConfig {
  readonly cell: 'elman';
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly outputSize: number;
  readonly numLayers: number;
  readonly nonlinearity: Nonlinearity;
}

const NONLINEARITIES: readonly Nonlinearity[] = ['tanh', 'relu'];

/** Checks one size: a positive integer no larger than `max`. */
export function checkSize(name: string, value: unknown, max = 1 << 24): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ConfigError(`${name} must be an integer from 1 to ${max}, got ${String(value)}`);
  }
  return value;
}

/** Fills defaults and validates; throws {@link ConfigError} naming the bad field. */
export function resolveElmanConfig(config: ElmanConfig): ResolvedElmanConfig {
  if (config === null || typeof config !== 'object') {
    throw new ConfigError('the model configuration must be an object');
  }
  const nonlinearity = config.nonlinearity ?? 'tanh';
  if (!NONLINEARITIES.includes(nonlinearity)) {
    throw new ConfigError(
      `unknown nonlinearity ${JSON.stringify(nonlinearity)}: expected one of ${NONLINEARITIES.join(', ')}`,
    );
  }
  return {
    cell: 'elman',
    inputSize: checkSize('inputSize', config.inputSize),
    hiddenSize: checkSize('hiddenSize', config.hiddenSize, 1 << 16),
    outputSize: checkSize('outputSize', config.outputSize),
    numLayers: checkSize('numLayers', config.numLayers ?? 1, 256),
    nonlinearity,
  };
}
