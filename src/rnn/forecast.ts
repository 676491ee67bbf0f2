import { ShapeError } from '../errors.ts';
import type { FloatArray } from '../tensor.ts';
import { checkFiniteInput, checkFloatArray } from '../util/finite.ts';
import { numDirections } from './spec.ts';
import { batchRows, checkModels, checkStack, type RecurrentStack, type StackModels } from './stack.ts';

/**
 * Autoregressive (recursive) forecasting with a stack and its head: read each sequence's history,
 * then for `horizon` steps feed each prediction back as the next input. The input features are
 * `[fed back, exogenous]`: the head's O outputs become the first O input features of the next step,
 * and the remaining I − O come from `futureExog` (known future covariates, e.g. calendar features).
 *
 *   history  [B, T, I]            futureExog  [B, horizon, I − O] (null when I = O)
 *   output   [B, horizon, O]      prediction k (0-based) is of time T + k; the first is the head's
 *                                 output at the history's last step
 *
 * Row k of futureExog holds the covariates of time T + k: with prediction k they make the input that
 * gives prediction k + 1 (so the last row is not read). The states run on from the end of the history. One direction only: a reverse layer would need the future it is
 * asked to predict.
 */
export interface ForecastInputs {
  history: FloatArray;
  batch: number;
  steps: number;
  horizon: number;
  futureExog: FloatArray | null;
}

/** The longest horizon a forecast call takes (2²⁰ steps). */
export const MAX_HORIZON = 1 << 20;
/** The most values one forecast call returns (2³⁰: 4 GiB of float32), checked before anything is allocated. */
const MAX_FORECAST_VALUES = 2 ** 30;

/** Checks a forecast call against the stack ({@link ShapeError}). */
export function checkForecast(stack: RecurrentStack, x: ForecastInputs): void {
  const { batch: B, steps: T, horizon: H } = x;
  if (!stack.head) throw new ShapeError('recursive forecasting needs a head: its outputs are fed back as inputs');
  if (!Number.isInteger(H) || H < 1 || H > MAX_HORIZON)
    throw new ShapeError(`the horizon must be a positive integer up to ${MAX_HORIZON}, got ${H}`);
  checkFloatArray('history', x.history);
  checkStack(stack, {
    X: x.history,
    batch: B,
    steps: T,
    sequenceLens: null,
    initialH: stack.layers.map(() => null),
    initialC: stack.layers.map(() => null),
  });
  if (stack.layers.some(({ spec }) => numDirections(spec) !== 1 || spec.direction === 'reverse')) {
    throw new ShapeError('recursive forecasting needs forward layers (a reverse direction reads the future)');
  }
  const I = stack.layers[0]!.spec.inputSize;
  const O = stack.head.outputSize;
  if (O > I) throw new ShapeError(`the head gives ${O} outputs but the input has only ${I} features to feed them into`);
  if (B * H * O > MAX_FORECAST_VALUES) {
    throw new ShapeError(
      `a forecast of ${B} sequences × ${H} steps × ${O} outputs holds more than ${MAX_FORECAST_VALUES} values: forecast fewer sequences at a time`,
    );
  }
  const exog = I - O;
  if (x.futureExog != null) checkFloatArray('futureExog', x.futureExog);
  if (exog === 0 && x.futureExog) throw new ShapeError('futureExog given but every input feature is fed back');
  if (exog > 0) {
    const want = B * H * exog;
    if (!x.futureExog) throw new ShapeError(`the input has ${exog} exogenous feature(s): futureExog [${B}, ${H}, ${exog}] is needed`);
    if (x.futureExog.length !== want)
      throw new ShapeError(`futureExog has ${x.futureExog.length} values but shape [${B}, ${H}, ${exog}] needs ${want}`);
    checkFiniteInput('futureExog', x.futureExog, [B, H, exog]);
  }
}

/** Checks a forecast call against one stack or per-series models (see checkModels); returns the stacks. */
export function checkForecastModels(models: StackModels, x: ForecastInputs): readonly RecurrentStack[] {
  const stacks = checkModels(models, x.batch);
  checkForecast(stacks[0]!, x);
  for (const s of stacks.slice(1))
    checkStack(s, {
      X: x.history,
      batch: x.batch,
      steps: x.steps,
      sequenceLens: null,
      initialH: s.layers.map(() => null),
      initialC: s.layers.map(() => null),
    });
  return stacks;
}

/** Sequences [b0, b1) of a forecast call's inputs. */
export function forecastInputRows(x: ForecastInputs, b0: number, b1: number): ForecastInputs {
  return {
    ...x,
    history: batchRows(x.history, x.batch, b0, b1),
    futureExog: x.futureExog && batchRows(x.futureExog, x.batch, b0, b1),
    batch: b1 - b0,
  };
}
