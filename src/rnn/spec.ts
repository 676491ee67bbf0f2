import { ConfigError, ShapeError, WeightError } from '../errors.ts';
import { checkResultLength, type FloatArray } from '../tensor.ts';
import { checkFiniteInput, checkFloatArray, FLOAT32_MIN_NORMAL } from '../util/finite.ts';
import { activation, type Activation } from './activations.ts';

/**
 * One recurrent layer with the semantics of the ONNX RNN, GRU and LSTM operators (opset 14+): the
 * common form every model is lowered to. PyTorch modules become a stack of these (one per layer) at
 * load time, with their gates reordered; ONNX nodes map onto it one to one.
 *
 * Gate order is ONNX's everywhere inside webrnn:
 *   LSTM  i, o, f, c   (PyTorch: i, f, g, o)      GRU  z, r, h   (PyTorch: r, z, n)
 *
 * Tensors (D = 1, or 2 when bidirectional; G = 1, 3 or 4 gates):
 *   W [D, G·H, I]   R [D, G·H, H]   B [D, 2·G·H] (Wb then Rb)   P [D, 3·H] (peepholes i, o, f)
 *   X        layout 0: [T, B, I]        layout 1: [B, T, I]
 *   Y        layout 0: [T, D, B, H]     layout 1: [B, T, D, H]
 *   initialH, initialC, Y_h, Y_c: layout 0: [D, B, H], layout 1: [B, D, H]
 *   sequenceLens [B]: steps past a sequence's length give zeros in Y, and Y_h / Y_c hold the state at
 *   its own last step (the reverse direction starts at step len−1).
 */
export type CellType = 'rnn' | 'gru' | 'lstm';
export type Direction = 'forward' | 'reverse' | 'bidirectional';

export interface RecurrentLayerSpec {
  readonly cell: CellType;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly direction: Direction;
  /**
   * Per direction: RNN [f], GRU [f, g], LSTM [f, g, h]; forward's then reverse's when bidirectional.
   * Defaults: RNN [Tanh], GRU [Sigmoid, Tanh], LSTM [Sigmoid, Tanh, Tanh].
   */
  readonly activations: readonly Activation[];
  /** Cell clip threshold: gate pre-activations are clamped to [−clip, clip]; null for none. */
  readonly clip: number | null;
  /** GRU: apply the reset gate after the recurrent matmul (1, PyTorch's choice) or before (0). */
  readonly linearBeforeReset: boolean;
  /** LSTM: couple the input and forget gates (f = 1 − i). */
  readonly inputForget: boolean;
  /** 0: time-major tensors, 1: batch-major (see above). */
  readonly layout: 0 | 1;
}

/** What a spec may be built from; everything but cell and sizes has a default. */
export interface RecurrentLayerOptions {
  cell: CellType;
  inputSize: number;
  hiddenSize: number;
  direction?: Direction;
  activations?: readonly (Activation | string)[];
  clip?: number | null;
  linearBeforeReset?: boolean;
  inputForget?: boolean;
  layout?: 0 | 1;
}

/** The layer's parameters, float32, in the ONNX layouts above. B and P may be absent (zeros). */
export interface RecurrentLayerWeights {
  W: Float32Array;
  R: Float32Array;
  B: Float32Array | null;
  P: Float32Array | null;
}

/** One call's inputs. X and the states may be float32 or float64. */
export interface RecurrentLayerInputs {
  X: FloatArray;
  batch: number;
  steps: number;
  /** [B] steps per sequence, each in 0…T; null for all T. */
  sequenceLens: Int32Array | null;
  initialH: FloatArray | null;
  initialC: FloatArray | null;
}

/** One call's outputs, in the spec's layout. Y_c only for LSTM. */
export interface RecurrentLayerOutputs<D extends FloatArray = FloatArray> {
  Y: D;
  Y_h: D;
  Y_c: D | null;
}

export const GATES: Record<CellType, number> = { rnn: 1, gru: 3, lstm: 4 };
const ACTIVATIONS_PER_DIRECTION: Record<CellType, number> = { rnn: 1, gru: 2, lstm: 3 };
const DEFAULT_ACTIVATIONS: Record<CellType, string[]> = {
  rnn: ['Tanh'],
  gru: ['Sigmoid', 'Tanh'],
  lstm: ['Sigmoid', 'Tanh', 'Tanh'],
};

export function numDirections(spec: Pick<RecurrentLayerSpec, 'direction'>): number {
  return spec.direction === 'bidirectional' ? 2 : 1;
}

function positive(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ConfigError(`${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/** Fills defaults and validates; throws {@link ConfigError} naming the bad option. */
export function recurrentLayerSpec(o: RecurrentLayerOptions): RecurrentLayerSpec {
  if (o === null || typeof o !== 'object') throw new ConfigError('the layer options must be an object { cell, inputSize, hiddenSize, … }');
  if (!['rnn', 'gru', 'lstm'].includes(o.cell)) {
    throw new ConfigError(`unknown cell ${JSON.stringify(o.cell)}: expected rnn, gru or lstm`);
  }
  const direction = o.direction ?? 'forward';
  if (!['forward', 'reverse', 'bidirectional'].includes(direction)) {
    throw new ConfigError(`unknown direction ${JSON.stringify(direction)}: expected forward, reverse or bidirectional`);
  }
  const D = direction === 'bidirectional' ? 2 : 1;
  const per = ACTIVATIONS_PER_DIRECTION[o.cell];
  let names = o.activations ?? [];
  if (
    !Array.isArray(names) ||
    names.some((a) => typeof a !== 'string' && (a === null || typeof a !== 'object' || typeof a.name !== 'string'))
  ) {
    throw new ConfigError(`activations must be an array of names or { name, alpha, beta }, got ${JSON.stringify(names)}`);
  }
  if (names.length === 0) names = DEFAULT_ACTIVATIONS[o.cell];
  // ONNX allows one direction's list for a bidirectional node: reuse it for both.
  if (names.length === per && D === 2) names = [...names, ...names];
  if (names.length !== per * D) {
    throw new ConfigError(`${o.cell} takes ${per} activation(s) per direction (${per * D} here), got ${names.length}`);
  }
  const activations = names.map((a) => (typeof a === 'string' ? activation(a) : activation(a.name, a.alpha, a.beta)));
  const clip = o.clip ?? null;
  // The GPU holds clip in float32, where a value below the smallest normal may flush to 0 (no clip).
  if (clip !== null && !(typeof clip === 'number' && clip >= FLOAT32_MIN_NORMAL && Number.isFinite(clip))) {
    throw new ConfigError(`clip must be a finite number ≥ 2⁻¹²⁶ (float32's smallest normal), got ${String(clip)}`);
  }
  const layout = o.layout ?? 0;
  if (layout !== 0 && layout !== 1) throw new ConfigError(`layout must be 0 or 1, got ${String(layout)}`);
  if (o.inputForget && o.cell !== 'lstm') throw new ConfigError('inputForget applies to LSTM only');
  return {
    cell: o.cell,
    inputSize: positive('inputSize', o.inputSize),
    hiddenSize: positive('hiddenSize', o.hiddenSize),
    direction,
    activations,
    clip,
    linearBeforeReset: o.linearBeforeReset ?? false,
    inputForget: o.inputForget ?? false,
    layout,
  };
}

function checkTensor(name: string, a: Float32Array | null, want: number[], optional: boolean): void {
  if (a === null) {
    if (optional) return;
    throw new WeightError(`missing ${name} [${want.join(', ')}]`);
  }
  const n = want.reduce((x, y) => x * y, 1);
  if (!(a instanceof Float32Array)) throw new WeightError(`${name} must be a Float32Array`);
  if (a.length !== n) throw new WeightError(`${name} has ${a.length} values but shape [${want.join(', ')}] needs ${n}`);
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new WeightError(`${name} holds a non-finite value (${a[i]}) at index ${i}`);
  }
}

/** Checks the weights' lengths against the spec ({@link WeightError}). */
export function checkLayerWeights(s: RecurrentLayerSpec, w: RecurrentLayerWeights): void {
  const D = numDirections(s);
  const GH = GATES[s.cell] * s.hiddenSize;
  checkTensor('W', w.W, [D, GH, s.inputSize], false);
  checkTensor('R', w.R, [D, GH, s.hiddenSize], false);
  checkTensor('B', w.B, [D, 2 * GH], true);
  if (w.P !== null && s.cell !== 'lstm') throw new WeightError('peepholes P apply to LSTM only');
  checkTensor('P', w.P, [D, 3 * s.hiddenSize], true);
}

/**
 * Checks one call's inputs against the spec ({@link ShapeError}). `X` is left unchecked (and may be
 * null) only with `fedOnDevice`: a layer of a stack fed on the device by the one before it.
 */
export function checkLayerInputs(
  s: RecurrentLayerSpec,
  x: Omit<RecurrentLayerInputs, 'X'> & { X: FloatArray | null },
  fedOnDevice = false,
): void {
  const { batch: B, steps: T } = x;
  if (!fedOnDevice) checkFloatArray('X', x.X);
  if (x.initialH !== null) checkFloatArray('initial_h', x.initialH);
  if (x.initialC !== null) checkFloatArray('initial_c', x.initialC);
  if (x.sequenceLens !== null && !(x.sequenceLens instanceof Int32Array))
    throw new ShapeError('sequence_lens must be an Int32Array or null');
  if (!Number.isInteger(B) || B < 1) throw new ShapeError(`batch must be a positive integer, got ${B}`);
  if (!Number.isInteger(T) || T < 1) throw new ShapeError(`steps must be a positive integer, got ${T}`);
  const D = numDirections(s);
  const H = s.hiddenSize;
  const xShape = s.layout === 0 ? [T, B, s.inputSize] : [B, T, s.inputSize];
  if (x.X !== null && x.X.length !== T * B * s.inputSize) {
    throw new ShapeError(`X has ${x.X.length} values but shape [${xShape.join(', ')}] needs ${T * B * s.inputSize}`);
  }
  if (x.X !== null) checkFiniteInput('X', x.X, xShape);
  checkResultLength(T * D * B * H, 'Y');
  const stateShape = s.layout === 0 ? [D, B, H] : [B, D, H];
  for (const [name, v] of [
    ['initial_h', x.initialH],
    ['initial_c', x.initialC],
  ] as const) {
    if (v === null) continue;
    if (name === 'initial_c' && s.cell !== 'lstm') throw new ShapeError('initial_c applies to LSTM only');
    if (v.length !== D * B * H) {
      throw new ShapeError(`${name} has ${v.length} values but shape [${stateShape.join(', ')}] needs ${D * B * H}`);
    }
    checkFiniteInput(name, v, stateShape);
  }
  if (x.sequenceLens !== null) {
    if (x.sequenceLens.length !== B) {
      throw new ShapeError(`sequence_lens has ${x.sequenceLens.length} values but the batch is ${B}`);
    }
    for (let b = 0; b < B; b++) {
      const len = x.sequenceLens[b]!;
      if (len < 0 || len > T) throw new ShapeError(`sequence_lens[${b}] = ${len} is outside 0…${T}`);
    }
  }
}
