import { ConfigError } from '../errors.ts';
import { elmanParamSpecs } from './params.ts';

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

/**
 * The most parameters one model may have: 2^32. webrnn keeps parameters in typed arrays and puts a
 * model's together in one (packed for WebGPU, flattened for training and per-series models); V8, in
 * Node 20 and Chromium, holds at most 2^32 values in one typed array (a larger request is an
 * untyped RangeError), and the WebGPU kernels index their bindings with 32-bit integers. A model
 * below this can still be too large for a device: WebGPUBackend refuses weights beyond its binding
 * limit with a DeviceError before any GPU work.
 */
export const MAX_PARAMETERS = 2 ** 32;

/** A parameter tensor's name and shape, as far as {@link checkParameterCount} needs them. */
export interface NamedShape {
  readonly name: string;
  readonly shape: readonly number[];
}

/**
 * Throws a {@link ConfigError} when the parameters of `model` (the tensors `shapes`) number more
 * than {@link MAX_PARAMETERS}, naming the largest tensor: before anything is allocated.
 */
export function checkParameterCount(model: string, shapes: readonly NamedShape[]): void {
  let total = 0;
  let largest: NamedShape | null = null;
  let largestCount = 0;
  for (const s of shapes) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    total += n;
    if (n > largestCount) [largest, largestCount] = [s, n];
  }
  if (total <= MAX_PARAMETERS) return;
  throw new ConfigError(
    `${model} would have ${total.toLocaleString('en-US')} parameters (${largest!.name} [${largest!.shape.join(', ')}] alone ` +
      `${largestCount.toLocaleString('en-US')}), more than webrnn holds: at most ${MAX_PARAMETERS.toLocaleString('en-US')} (2^32), ` +
      'the most values one typed array holds; use smaller sizes',
  );
}

/** Fills defaults and validates; throws {@link ConfigError} naming the bad field. */
export function resolveElmanConfig(config: ElmanConfig): ResolvedElmanConfig {
  if (config === null || typeof config !== 'object') {
    throw new ConfigError('the model configuration must be an object');
  }
  const nonlinearity = config.nonlinearity ?? 'tanh';
  if (!NONLINEARITIES.includes(nonlinearity)) {
    throw new ConfigError(`unknown nonlinearity ${JSON.stringify(nonlinearity)}: expected one of ${NONLINEARITIES.join(', ')}`);
  }
  const resolved: ResolvedElmanConfig = {
    cell: 'elman',
    inputSize: checkSize('inputSize', config.inputSize),
    hiddenSize: checkSize('hiddenSize', config.hiddenSize, 1 << 16),
    outputSize: checkSize('outputSize', config.outputSize),
    numLayers: checkSize('numLayers', config.numLayers ?? 1, 256),
    nonlinearity,
  };
  const { inputSize: I, hiddenSize: H, outputSize: O, numLayers: L } = resolved;
  checkParameterCount(
    `an Elman network (inputSize ${I}, hiddenSize ${H}, outputSize ${O}, numLayers ${L})`,
    elmanParamSpecs(resolved).map((p) => ({ name: `${p.group}.${p.name}`, shape: p.shape })),
  );
  return resolved;
}
