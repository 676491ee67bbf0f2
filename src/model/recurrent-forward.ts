import { ShapeError } from '../errors.ts';
import type { FloatArray, Tensor } from '../tensor.ts';
import { checkFiniteInput } from '../util/finite.ts';
import { describe, isTensor } from './forward.ts';
import { torchDirections, type TorchRecurrentConfig } from './torch-modules.ts';

/** Per-call options of {@link RecurrentNet.forward}, as PyTorch's module call takes them. */
export interface RecurrentForwardOptions {
  /** Initial hidden state `[L·D, B, H]` (PyTorch's h_0: layer-major, then direction). Zeros when omitted. */
  h0?: Tensor;
  /** Initial cell state `[L·D, B, H]`, LSTM only (PyTorch's c_0). Zeros when omitted. */
  c0?: Tensor;
  /**
   * Steps per sequence, each in 0…T (what `pack_padded_sequence` takes, in any order). Steps past a
   * sequence's length output zeros (then the head, if any, as PyTorch applies it to the padded output),
   * and h_n / c_n hold the state after the sequence's own last step (h_0 / c_0 when the length is 0).
   */
  lengths?: Int32Array | readonly number[];
}

/** What one forward pass returns, PyTorch's `output, h_n` (and `c_n` for LSTM). */
export interface RecurrentForwardResult<D extends FloatArray = FloatArray> {
  /** `[B, T, D·H]` (`[T, B, D·H]` when not batch-first), or `[B, T, O]` through the head. */
  output: Tensor<D>;
  /** `[L·D, B, H]`, the hidden state after each sequence's last step. */
  hn: Tensor<D>;
  /** `[L·D, B, H]` for LSTM, else null. */
  cn: Tensor<D> | null;
}

/** A forward call after validation; `x` is batch-major `[B, T, I]` whatever the caller's layout. */
export interface RecurrentForwardArgs {
  readonly batch: number;
  readonly steps: number;
  readonly x: FloatArray;
  readonly h0: FloatArray | null;
  readonly c0: FloatArray | null;
  readonly lengths: Int32Array | null;
}

/**
 * Swaps the two leading axes of a row-major `[n0, n1, inner]` array: returns `[n1, n0, inner]`, of
 * the same element type. Converts time-major to batch-major and back, and PyTorch's `[D, B, H]`
 * state slices to ONNX's batch-major `[B, D, H]` and back.
 */
export function swapLeadingAxes<D extends FloatArray>(a: D, n0: number, n1: number, inner: number): D {
  const out = new (a.constructor as new (n: number) => D)(a.length);
  for (let i = 0; i < n0; i++) {
    for (let j = 0; j < n1; j++) {
      out.set(a.subarray((i * n1 + j) * inner, (i * n1 + j + 1) * inner), (j * n0 + i) * inner);
    }
  }
  return out;
}

function checkState(name: string, t: unknown, want: number[]): FloatArray {
  if (!isTensor(t)) throw new ShapeError(`${name} must be a tensor { data: Float32Array | Float64Array, shape }`);
  if (t.shape.length !== 3 || t.shape.some((d, i) => d !== want[i])) {
    throw new ShapeError(`${name} must have shape ${describe(want)} (layers × directions, batch, hidden), got ${describe(t.shape)}`);
  }
  const n = want[0]! * want[1]! * want[2]!;
  if (t.data.length !== n) throw new ShapeError(`${name} data has ${t.data.length} values but shape ${describe(want)} needs ${n}`);
  checkFiniteInput(name, t.data, want);
  return t.data;
}

function checkLengths(lengths: unknown, batch: number, steps: number): Int32Array {
  if (!(lengths instanceof Int32Array || Array.isArray(lengths))) {
    throw new ShapeError('lengths must be an Int32Array or an array of numbers, one per sequence');
  }
  if (lengths.length !== batch) throw new ShapeError(`lengths has ${lengths.length} values but the batch is ${batch}`);
  const out = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    const len: unknown = lengths[b];
    if (typeof len !== 'number' || !Number.isInteger(len) || len < 0 || len > steps) {
      throw new ShapeError(`lengths[${b}] = ${String(len)} must be an integer in 0…${steps} (the input's steps)`);
    }
    out[b] = len;
  }
  return out;
}

/**
 * Validates a forward call against the module: input `[B, T, I]` (`[T, B, I]` when not batch-first)
 * with B, T ≥ 1, h0 / c0 `[L·D, B, H]` (c0 for LSTM only), lengths one per sequence in 0…T. Throws
 * {@link ShapeError} saying what is wrong; returns the input batch-major.
 */
export function checkRecurrentForwardArgs(
  c: TorchRecurrentConfig,
  input: Tensor,
  options: RecurrentForwardOptions = {},
): RecurrentForwardArgs {
  const layout = c.batchFirst ? '[batch, steps, inputSize]' : '[steps, batch, inputSize] (batchFirst is false)';
  if (!isTensor(input)) throw new ShapeError('input must be a tensor { data: Float32Array | Float64Array, shape }');
  if (input.shape.length !== 3) throw new ShapeError(`input must have shape ${layout}, got ${describe(input.shape)}`);
  const [d0, d1, inputSize] = input.shape as [number, number, number];
  const [batch, steps] = c.batchFirst ? [d0, d1] : [d1, d0];
  for (const [name, v] of [
    ['batch', batch],
    ['steps', steps],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new ShapeError(`input ${name} must be a positive integer, got ${v} (shape ${describe(input.shape)}, ${layout})`);
  }
  if (inputSize !== c.inputSize) {
    throw new ShapeError(`input has ${inputSize} features per step but the module's input_size is ${c.inputSize}`);
  }
  if (input.data.length !== batch * steps * inputSize) {
    throw new ShapeError(
      `input data has ${input.data.length} values but shape ${describe(input.shape)} needs ${batch * steps * inputSize}`,
    );
  }
  checkFiniteInput('input', input.data, input.shape);
  const stateShape = [c.numLayers * torchDirections(c), batch, c.hiddenSize];
  const h0 = options.h0 === undefined ? null : checkState('h0', options.h0, stateShape);
  if (options.c0 !== undefined && c.cell !== 'lstm') throw new ShapeError(`c0 applies to nn.LSTM only, not this ${c.cell.toUpperCase()}`);
  const c0 = options.c0 === undefined ? null : checkState('c0', options.c0, stateShape);
  const lengths = options.lengths === undefined ? null : checkLengths(options.lengths, batch, steps);
  const x = c.batchFirst ? input.data : swapLeadingAxes(input.data, steps, batch, inputSize);
  return { batch, steps, x, h0, c0, lengths };
}
