import source from '../../../shaders/linear_head.wgsl?raw';
import type { LinearHead } from '../../model/torch-lowering.ts';
import { workgroupGrid } from '../grid.ts';
import type { PipelineSpec } from '../pipelines.ts';

/** Descriptor of `shaders/linear_head.wgsl`: an nn.Linear applied at every row, one invocation per output. */

const WORKGROUP_SIZE = 64;

export function linearHeadPipeline(head: LinearHead): PipelineSpec {
  return {
    name: 'linear_head',
    code: source,
    constants: { WORKGROUP_SIZE, IN_FEATURES: head.inputSize, OUT_FEATURES: head.outputSize },
  };
}

/** weight `[O, F]` then bias `[O]` (zeros when the head has none). */
export function packHead(head: LinearHead): Float32Array {
  const packed = new Float32Array(head.outputSize * (head.inputSize + 1));
  packed.set(head.weight, 0);
  if (head.bias) packed.set(head.bias, head.outputSize * head.inputSize);
  return packed;
}

/**
 * The params uniform over `rows` rows; per-series models: groups of `rowsPerModel` rows, group m
 * using the head `weightStride` floats after group m − 1's.
 */
export function headParams(rows: number, rowsPerModel = rows, weightStride = 0): Uint32Array {
  return new Uint32Array([rows, rowsPerModel, weightStride, 0]);
}

export function headGrid(rows: number, head: LinearHead, maxPerDimension: number): [number, number] {
  return workgroupGrid(rows * head.outputSize, WORKGROUP_SIZE, maxPerDimension);
}
