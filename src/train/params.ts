import { ShapeError } from '../errors.ts';
import type { RecurrentStackGrads } from '../rnn/backward.ts';
import type { RecurrentStack } from '../rnn/stack.ts';
import type { FloatArray } from '../tensor.ts';

/**
 * A stack's trainable tensors in one fixed order, so that parameters, gradients and optimizer
 * buffers can live in one flat array (what the optimizer kernels and the reference step work on):
 *
 *   layer k: W, R, then B and P where the stack has them;  head: weight, then bias where it has one
 *
 * named `layers.k.W`, …, `head.weight`, `head.bias`. Tensors a stack lacks (a module built with
 * bias=False has no B) are not parameters: nothing trains them.
 */
export interface ParamSlot {
  name: string;
  offset: number;
  length: number;
}

export function paramSlots(stack: RecurrentStack): ParamSlot[] {
  const slots: ParamSlot[] = [];
  let offset = 0;
  const add = (name: string, a: FloatArray | null) => {
    if (!a) return;
    slots.push({ name, offset, length: a.length });
    offset += a.length;
  };
  stack.layers.forEach(({ weights }, k) => {
    add(`layers.${k}.W`, weights.W);
    add(`layers.${k}.R`, weights.R);
    add(`layers.${k}.B`, weights.B);
    add(`layers.${k}.P`, weights.P);
  });
  if (stack.head) {
    add('head.weight', stack.head.weight);
    add('head.bias', stack.head.bias);
  }
  return slots;
}

/** The number of trainable values of a stack. */
export function paramCount(stack: RecurrentStack): number {
  return paramSlots(stack).reduce((n, s) => n + s.length, 0);
}

/** The stack's tensors, each as it lies, in {@link paramSlots} order. */
function tensorsOf<D extends FloatArray>(stack: RecurrentStack, grads: RecurrentStackGrads<D> | null): Array<FloatArray | null> {
  const out: Array<FloatArray | null> = [];
  stack.layers.forEach(({ weights }, k) => {
    const g = grads?.layers[k];
    out.push(g ? g.dW : weights.W, g ? g.dR : weights.R);
    if (weights.B) out.push(g ? g.dB : weights.B);
    if (weights.P) out.push(g ? g.dP : weights.P);
  });
  if (stack.head) {
    out.push(grads ? grads.head!.dWeight : stack.head.weight);
    if (stack.head.bias) out.push(grads ? grads.head!.dBias : stack.head.bias);
  }
  return out;
}

function flatten<A extends Float32Array | Float64Array>(stack: RecurrentStack, parts: Array<FloatArray | null>, out: A): A {
  const slots = paramSlots(stack);
  slots.forEach((slot, i) => {
    const part = parts[i];
    if (!part || part.length !== slot.length)
      throw new ShapeError(`${slot.name} needs ${slot.length} values, got ${part?.length ?? 'none'}`);
    out.set(part, slot.offset);
  });
  return out;
}

/** The stack's parameters as one float64 array in {@link paramSlots} order. */
export function flattenParams(stack: RecurrentStack): Float64Array {
  return flatten(stack, tensorsOf(stack, null), new Float64Array(paramCount(stack)));
}

/** A stack's gradients (shaped like `stack`) as one float64 array in {@link paramSlots} order. */
export function flattenGrads(stack: RecurrentStack, grads: RecurrentStackGrads): Float64Array {
  return flatten(stack, tensorsOf(stack, grads), new Float64Array(paramCount(stack)));
}

/**
 * A copy of `stack` with its parameters taken from `flat` ({@link paramSlots} order), as float32, or
 * as float64 with `Float64Array` (for the float64 references, which read weights as plain numbers;
 * the result is then typed as a stack but holds Float64Arrays).
 */
export function unflattenParams(
  stack: RecurrentStack,
  flat: FloatArray,
  array: typeof Float32Array | typeof Float64Array = Float32Array,
): RecurrentStack {
  const n = paramCount(stack);
  if (flat.length !== n) throw new ShapeError(`the stack has ${n} parameters, got ${flat.length} values`);
  const slots = new Map(paramSlots(stack).map((s) => [s.name, s]));
  const take = (name: string, a: Float32Array | null) => {
    if (!a) return null;
    const s = slots.get(name)!;
    return array.from(flat.subarray(s.offset, s.offset + s.length)) as Float32Array;
  };
  return {
    layers: stack.layers.map(({ spec, weights }, k) => ({
      spec,
      weights: {
        W: take(`layers.${k}.W`, weights.W)!,
        R: take(`layers.${k}.R`, weights.R)!,
        B: take(`layers.${k}.B`, weights.B),
        P: take(`layers.${k}.P`, weights.P),
      },
    })),
    head: stack.head && { ...stack.head, weight: take('head.weight', stack.head.weight)!, bias: take('head.bias', stack.head.bias) },
  };
}
