import type { ForecastInputs } from '../rnn/forecast.ts';
import type { RecurrentStack } from '../rnn/stack.ts';
import type { FloatArray } from '../tensor.ts';
import { recurrentStackReference } from './recurrent-stack.ts';

/**
 * The float64 reference of recursive forecasting (src/rnn/forecast.ts): the stack over the history,
 * then one step at a time, each prediction written into the next step's first O input features.
 */
export function forecastReference(stack: RecurrentStack, x: ForecastInputs): Float64Array {
  const { batch: B, steps: T, horizon: H } = x;
  const I = stack.layers[0]!.spec.inputSize;
  const O = stack.head!.outputSize;
  const exog = I - O;
  const L = stack.layers.length;
  const out = new Float64Array(B * H * O);

  const run = (X: FloatArray, steps: number, h: (FloatArray | null)[], c: (FloatArray | null)[]) =>
    recurrentStackReference(stack, { X, batch: B, steps, sequenceLens: null, initialH: h, initialC: c });
  let r = run(x.history, T, Array(L).fill(null), Array(L).fill(null));
  // The prediction after the history: the head's output at its last step.
  let last = new Float64Array(B * O);
  for (let b = 0; b < B; b++) for (let o = 0; o < O; o++) last[b * O + o] = r.Y[(b * T + T - 1) * O + o]!;

  for (let k = 0; k < H; k++) {
    for (let b = 0; b < B; b++) for (let o = 0; o < O; o++) out[(b * H + k) * O + o] = last[b * O + o]!;
    if (k === H - 1) break;
    // The input that gives prediction k+1: prediction k (of time T+k) and the covariates of time T+k.
    const input = new Float64Array(B * I);
    for (let b = 0; b < B; b++) {
      for (let o = 0; o < O; o++) input[b * I + o] = last[b * O + o]!;
      for (let e = 0; e < exog; e++) input[b * I + O + e] = x.futureExog![(b * H + k) * exog + e]!;
    }
    r = run(input, 1, r.Y_h, r.Y_c ?? Array(L).fill(null));
    last = Float64Array.from(r.Y);
  }
  return out;
}
