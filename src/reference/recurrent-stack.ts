import type { FloatArray } from '../tensor.ts';
import { applyLinearHead, type RecurrentStack, type RecurrentStackInputs, type RecurrentStackOutputs } from '../rnn/stack.ts';
import { recurrentLayerReference } from './recurrent-layer.ts';

/** The float64 reference of a layer stack: each layer's reference in turn, then the head in float64. */
export function recurrentStackReference(stack: RecurrentStack, inputs: RecurrentStackInputs): RecurrentStackOutputs<Float64Array> {
  const { batch: B, steps: T } = inputs;
  let x: FloatArray = inputs.X;
  const Yh: Float64Array[] = [];
  const Yc: Float64Array[] = [];
  stack.layers.forEach(({ spec, weights }, k) => {
    const out = recurrentLayerReference(spec, weights, {
      X: x,
      batch: B,
      steps: T,
      sequenceLens: inputs.sequenceLens,
      initialH: inputs.initialH[k]!,
      initialC: inputs.initialC[k]!,
    });
    Yh.push(out.Y_h);
    if (out.Y_c) Yc.push(out.Y_c);
    x = out.Y;
  });
  const Y = (stack.head ? applyLinearHead(stack.head, x, B * T) : x) as Float64Array;
  return { Y, Y_h: Yh, Y_c: Yc.length ? Yc : null };
}
