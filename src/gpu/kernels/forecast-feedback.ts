import source from '../../../shaders/forecast_feedback.wgsl?raw';
import { workgroupGrid } from '../grid.ts';
import type { PipelineSpec } from '../pipelines.ts';

/** Descriptor of shaders/forecast_feedback.wgsl: one invocation per sequence. */
const WORKGROUP_SIZE = 64;

export function feedbackPipeline(inputs: number, outputs: number): PipelineSpec {
  return { name: 'forecast_feedback', code: source, constants: { WORKGROUP_SIZE, INPUTS: inputs, OUTPUTS: outputs } };
}

/** Params of step k: prediction k of sequence b is at `b·srcStride + srcOffset` of the source. */
export function feedbackParams(batch: number, horizon: number, k: number, srcStride: number, srcOffset: number): Uint32Array {
  return new Uint32Array([batch, horizon, k, srcStride, srcOffset, 0, 0, 0]);
}

export function feedbackGrid(batch: number, maxPerDimension: number): [number, number] {
  return workgroupGrid(batch, WORKGROUP_SIZE, maxPerDimension);
}
