import type { ForecastInputs } from '../../rnn/forecast.ts';
import type { RecurrentStack } from '../../rnn/stack.ts';
import { feedbackDispatch } from '../kernels/forecast/forecast-feedback.ts';
import type { Copy, Dispatch, Program, ProgramBuffer } from '../program.ts';
import { asFloat32 } from '../rows.ts';
import { modelSlice, stackPass, type ForwardContext, type PackedModels } from './stack.ts';

/**
 * Recursive forecasting (src/rnn/forecast.ts) as one program per batch chunk: the stack over the
 * histories, then for each of the horizon's steps the feedback kernel (prediction k into the
 * forecast and into the next one-step input, with the covariates) and the stack over that one step
 * from the states the last pass left (copied from `final{k}` into `init{k}`); one readback, the
 * forecast `[n, horizon, O]`.
 */
export function forecastProgram(
  ctx: ForwardContext,
  stack: RecurrentStack,
  weights: PackedModels,
  inputs: ForecastInputs,
  b0: number,
  b1: number,
): Program {
  const { batch: B, steps: T, horizon: H } = inputs;
  const n = b1 - b0;
  const L = stack.layers.length;
  const I = stack.layers[0]!.spec.inputSize;
  const O = stack.head!.outputSize;
  const E = I - O;
  const none = stack.layers.map(() => null);
  const own = modelSlice(weights, b0, b1, B);
  const history = stackPass(ctx, stack, own, n, T, { x: 'x', tag: '', init: none, hasLens: false });
  const step = stackPass(ctx, stack, own, n, 1, { x: 'xstep', tag: ' step', init: none, hasLens: false, continued: true });
  const carry = stack.layers.map((_, k): Copy => [`final${k}`, `init${k}`]);
  const buffers: Record<string, ProgramBuffer> = {
    ...step.buffers,
    ...history.buffers,
    x: { data: asFloat32(inputs.history.subarray(b0 * T * I, b1 * T * I)) },
    lens: { data: null },
    exog: { data: E > 0 ? asFloat32(inputs.futureExog!.subarray(b0 * H * E, b1 * H * E)) : null },
    xstep: { bytes: 4 * n * I },
    forecast: { bytes: 4 * n * H * O, read: true },
  };
  const shape = { batch: n, horizon: H, inputs: I, outputs: O };
  const feedback = (k: number, src: string, stride: number, offset: number): Dispatch => ({
    ...feedbackDispatch({ src, exog: 'exog', xstep: 'xstep', forecast: 'forecast' }, shape, k, stride, offset, ctx.maxGrid),
    copies: carry,
  });
  const dispatches = [...history.dispatches, feedback(0, history.out, T * O, (T - 1) * O)];
  for (let k = 1; k < H; k++) dispatches.push(...step.dispatches, feedback(k, step.out, O, 0));
  return { what: `a ${H}-step forecast of the ${L}-layer ${stack.layers[0]!.spec.cell.toUpperCase()} stack`, buffers, dispatches };
}
