import source from '../../../../shaders/forecast/forecast_feedback.wgsl?raw';
import { workgroupGrid } from '../../grid.ts';
import { defineKernel } from '../../kernel.ts';
import { dispatch, type Dispatch } from '../../program.ts';

/** `forecast_feedback` (shaders/forecast/forecast_feedback.wgsl): one invocation per sequence. */
export const forecastFeedback = defineKernel('forecast_feedback', source, ['src', 'exog', 'xstep', 'forecast']);

const WORKGROUP_SIZE = 64;

/**
 * Step k of a `horizon`-step forecast of `batch` sequences with `inputs` input features, `outputs`
 * fed back: prediction k of sequence b is at `b·srcStride + srcOffset` of `names.src`.
 */
export function feedbackDispatch(
  names: { src: string; exog: string; xstep: string; forecast: string },
  shape: { batch: number; horizon: number; inputs: number; outputs: number },
  k: number,
  srcStride: number,
  srcOffset: number,
  maxPerDimension: number,
): Dispatch {
  return dispatch(forecastFeedback, {
    constants: { WORKGROUP_SIZE, INPUTS: shape.inputs, OUTPUTS: shape.outputs },
    uniforms: { batch: shape.batch, horizon: shape.horizon, k, src_stride: srcStride, src_offset: srcOffset },
    bind: names,
    grid: workgroupGrid(shape.batch, WORKGROUP_SIZE, maxPerDimension),
  });
}
