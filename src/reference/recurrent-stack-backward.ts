import { ShapeError } from '../errors.ts';
import type { LinearHeadGrads, RecurrentLayerGrads, RecurrentStackGrads } from '../rnn/backward.ts';
import type { LinearHead, RecurrentStack, RecurrentStackInputs } from '../rnn/stack.ts';
import type { FloatArray } from '../tensor.ts';
import { recurrentLayerBackwardReference } from './recurrent-layer-backward.ts';
import { recurrentLayerReference } from './recurrent-layer.ts';

/** Gradients of a loss with respect to a stack's final states, per layer (`[B, D, H]` each, null where unread). */
export interface RecurrentStackStateGrads {
  dY_h?: readonly (FloatArray | null)[];
  dY_c?: readonly (FloatArray | null)[];
}

/**
 * What {@link recurrentStackBackwardReference} returns: every parameter's gradient, and for
 * convenience the gradients of the stack's own inputs (the same arrays as in `grads.layers`).
 */
export interface RecurrentStackBackward {
  grads: RecurrentStackGrads<Float64Array>;
  /** d loss / d X `[B, T, I]` (= grads.layers[0].dX). */
  dX: Float64Array;
  /** Per layer, d loss / d initialH `[B, D, H]` (zeros where no initial state was given). */
  dInitialH: Float64Array[];
  /** Per layer, d loss / d initialC `[B, D, H]` for LSTM layers, else null. */
  dInitialC: (Float64Array | null)[];
}

/**
 * The float64 backward pass of a layer stack (src/rnn/stack.ts) with its optional nn.Linear head:
 * given dY = d loss / d Y (Y the head's output `[B, T, O]`, or the last layer's `[B, T, D·H]`
 * without a head) and optionally d loss / d (each layer's Y_h, Y_c), it replays the forward pass
 * layer by layer and goes back through the head and then every layer from the top:
 *
 *   head   out[r] = weight · y[r] + bias at every position r = (b, t):
 *          dWeight = Σ_r dOut[r] y[r]ᵀ     dBias = Σ_r dOut[r]     dy[r] = weightᵀ dOut[r]
 *   layer k's Y is layer k+1's X, so layer k's dY is layer k+1's dX
 *   (src/reference/recurrent-layer-backward.ts for each layer).
 *
 * Positions past a sequence's length are run through the head too (the padded output is 0, so the
 * head gives its bias there, as PyTorch does): their dOut reaches the bias but not the layers.
 * Like the forward reference it reads the weights as numbers without checking them (callers check a
 * stack with checkStack); each layer's inputs are checked, and a dY or state gradient of the wrong
 * size throws {@link ShapeError}.
 */
export function recurrentStackBackwardReference(
  stack: RecurrentStack,
  inputs: RecurrentStackInputs,
  dY: FloatArray,
  stateGrads: RecurrentStackStateGrads = {},
): RecurrentStackBackward {
  const { batch: B, steps: T } = inputs;
  const L = stack.layers.length;
  const perLayer: Array<[string, readonly unknown[] | undefined]> = [
    ['initialH', inputs.initialH],
    ['initialC', inputs.initialC],
    ['dY_h', stateGrads.dY_h],
    ['dY_c', stateGrads.dY_c],
  ];
  for (const [name, list] of perLayer) {
    if (list !== undefined && list.length !== L) throw new ShapeError(`${name} must be given per layer (${L}), got ${list.length}`);
  }

  // Forward, keeping every layer's input: layer k reads xs[k], layer k's Y is xs[k + 1].
  const xs: FloatArray[] = [inputs.X];
  stack.layers.forEach(({ spec, weights }, k) => {
    const out = recurrentLayerReference(spec, weights, layerInputs(inputs, xs[k]!, k));
    xs.push(out.Y);
  });

  const top = xs[L]!;
  let head: LinearHeadGrads<Float64Array> | null = null;
  let dTop: FloatArray = dY;
  if (stack.head) {
    checkLength('dY', dY, B * T * stack.head.outputSize);
    ({ head, dIn: dTop } = linearHeadBackward(stack.head, top, dY, B * T));
  } else {
    checkLength('dY', dY, top.length);
  }

  const layers: RecurrentLayerGrads<Float64Array>[] = new Array(L);
  for (let k = L - 1; k >= 0; k--) {
    const { spec, weights } = stack.layers[k]!;
    layers[k] = recurrentLayerBackwardReference(spec, weights, layerInputs(inputs, xs[k]!, k), {
      dY: dTop,
      dY_h: stateGrads.dY_h?.[k] ?? null,
      dY_c: stateGrads.dY_c?.[k] ?? null,
    });
    dTop = layers[k]!.dX;
  }
  return {
    grads: { layers, head },
    dX: layers[0]!.dX,
    dInitialH: layers.map((g) => g.dInitialH),
    dInitialC: layers.map((g) => g.dInitialC),
  };
}

function layerInputs(inputs: RecurrentStackInputs, X: FloatArray, k: number) {
  return {
    X,
    batch: inputs.batch,
    steps: inputs.steps,
    sequenceLens: inputs.sequenceLens,
    initialH: inputs.initialH[k]!,
    initialC: inputs.initialC[k]!,
  };
}

function checkLength(name: string, a: FloatArray, n: number): void {
  if (a.length !== n) throw new ShapeError(`${name} has ${a.length} values but the stack's output has ${n}`);
}

/**
 * The head's backward pass over `rows` positions: y `[rows, F]`, dOut `[rows, O]`; returns the
 * parameter gradients and dIn = d loss / d y `[rows, F]`.
 */
function linearHeadBackward(
  head: LinearHead,
  y: FloatArray,
  dOut: FloatArray,
  rows: number,
): { head: LinearHeadGrads<Float64Array>; dIn: Float64Array } {
  const { inputSize: F, outputSize: O, weight } = head;
  const dWeight = new Float64Array(O * F);
  const dBias = head.bias ? new Float64Array(O) : null;
  const dIn = new Float64Array(rows * F);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < O; o++) {
      const g = dOut[r * O + o]!;
      if (dBias) dBias[o]! += g;
      for (let j = 0; j < F; j++) {
        dWeight[o * F + j]! += g * y[r * F + j]!;
        dIn[r * F + j]! += weight[o * F + j]! * g;
      }
    }
  }
  return { head: { dWeight, dBias }, dIn };
}
