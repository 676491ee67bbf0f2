import source from '../../../../shaders/head/linear_head.wgsl?raw';
import type { LinearHead } from '../../../rnn/stack.ts';
import { workgroupGrid } from '../../grid.ts';
import { defineKernel } from '../../kernel.ts';
import { dispatch, type Dispatch } from '../../program.ts';

/** `linear_head` (shaders/head/linear_head.wgsl): an nn.Linear applied at every row, one invocation per output. */
export const linearHead = defineKernel('linear_head', source, ['y', 'weights', 'out']);

const WORKGROUP_SIZE = 64;

/** weight `[O, F]` then bias `[O]` (zeros when the head has none). */
export function packHead(head: LinearHead): Float32Array {
  const packed = new Float32Array(head.outputSize * (head.inputSize + 1));
  packed.set(head.weight, 0);
  if (head.bias) packed.set(head.bias, head.outputSize * head.inputSize);
  return packed;
}

/**
 * The head over `rows` rows of `names.y` into `names.out`; per-series models: groups of
 * `rowsPerModel` rows, group m using the head `weightStride` floats after group m − 1's.
 */
export function headDispatch(
  head: LinearHead,
  names: { y: string; weights: string; out: string },
  rows: number,
  maxPerDimension: number,
  rowsPerModel = rows,
  weightStride = 0,
): Dispatch {
  return dispatch(linearHead, {
    constants: { WORKGROUP_SIZE, IN_FEATURES: head.inputSize, OUT_FEATURES: head.outputSize },
    uniforms: { rows, rows_per_model: rowsPerModel, weight_stride: weightStride },
    bind: names,
    grid: workgroupGrid(rows * head.outputSize, WORKGROUP_SIZE, maxPerDimension),
  });
}
