import { ConfigError, ShapeError } from '../errors.ts';
import { checkResultLength, type FloatArray, type Tensor } from '../tensor.ts';
import { checkFiniteInput } from '../util/finite.ts';
import type { ResolvedElmanConfig } from './config.ts';

/** Options of one forward pass. */
export interface ForwardOptions {
  /** Initial hidden state `[L, B, H]` (PyTorch's h_0, batch-first or not). Zeros when omitted. */
  h0?: Tensor;
  /** `'all'` (default): readout at every step, `[B, T, O]`. `'last'`: only the last step, `[B, O]`. */
  outputs?: 'all' | 'last';
}

/** Result of one forward pass. */
export interface ForwardResult<D extends FloatArray = FloatArray> {
  /** Readout `[B, T, O]`, or `[B, O]` with `outputs: 'last'`. */
  output: Tensor<D>;
  /** Hidden state after the last step, `[L, B, H]` (PyTorch's h_n). */
  hn: Tensor<D>;
}

/** A forward call after validation: sizes read off the input and options normalised. */
export interface ForwardArgs {
  readonly batch: number;
  readonly steps: number;
  readonly x: FloatArray;
  readonly h0: FloatArray | null;
  readonly lastOnly: boolean;
}

/** A shape as text, `[2, 3]`. */
export function describe(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** True for a `{ data: Float32Array | Float64Array, shape: number[] }`. */
export function isTensor(t: unknown): t is Tensor {
  return (
    t !== null &&
    typeof t === 'object' &&
    Array.isArray((t as Tensor).shape) &&
    ((t as Tensor).data instanceof Float32Array || (t as Tensor).data instanceof Float64Array)
  );
}

/**
 * Validates a forward call against the configuration: x must be `[B, T, I]` with B, T ≥ 1 and
 * data of matching length; h0, when given, `[L, B, H]`. Throws {@link ShapeError} saying what is wrong.
 */
export function checkForwardArgs(c: ResolvedElmanConfig, x: Tensor, options: ForwardOptions = {}): ForwardArgs {
  if (!isTensor(x)) throw new ShapeError('input must be a tensor { data: Float32Array | Float64Array, shape }');
  if (x.shape.length !== 3) {
    throw new ShapeError(`input must have shape [batch, steps, inputSize], got ${describe(x.shape)}`);
  }
  const [batch, steps, inputSize] = x.shape as [number, number, number];
  for (const [name, v] of [
    ['batch', batch],
    ['steps', steps],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ShapeError(`input ${name} must be a positive integer, got ${v}`);
  }
  if (inputSize !== c.inputSize) {
    throw new ShapeError(`input has ${inputSize} features per step but the model's inputSize is ${c.inputSize}`);
  }
  const expected = batch * steps * inputSize;
  if (x.data.length !== expected) {
    throw new ShapeError(`input data has ${x.data.length} values but shape ${describe(x.shape)} needs ${expected}`);
  }
  checkFiniteInput('input', x.data, x.shape);
  let h0: FloatArray | null = null;
  if (options.h0 !== undefined) {
    if (!isTensor(options.h0)) throw new ShapeError('h0 must be a tensor { data, shape }');
    const want = [c.numLayers, batch, c.hiddenSize];
    if (options.h0.shape.length !== 3 || options.h0.shape.some((d, i) => d !== want[i])) {
      throw new ShapeError(`h0 must have shape ${describe(want)} (layers, batch, hidden), got ${describe(options.h0.shape)}`);
    }
    if (options.h0.data.length !== c.numLayers * batch * c.hiddenSize) {
      throw new ShapeError(
        `h0 data has ${options.h0.data.length} values but shape ${describe(want)} needs ${c.numLayers * batch * c.hiddenSize}`,
      );
    }
    checkFiniteInput('h0', options.h0.data, want);
    h0 = options.h0.data;
  }
  const outputs = options.outputs ?? 'all';
  if (outputs !== 'all' && outputs !== 'last') {
    throw new ConfigError(`outputs must be 'all' or 'last', got ${JSON.stringify(outputs)}`);
  }
  checkResultLength(batch * (outputs === 'last' ? 1 : steps) * c.outputSize, 'the output');
  checkResultLength(c.numLayers * batch * c.hiddenSize, 'hn');
  return { batch, steps, x: x.data, h0, lastOnly: outputs === 'last' };
}
