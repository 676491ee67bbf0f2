import common from '../../../../shaders/backward/recurrent_backward_common.wgsl?raw';
import sequential from '../../../../shaders/backward/recurrent_backward_sequential.wgsl?raw';
import { defineKernel } from '../../kernel.ts';
import { recurrentSource } from '../forward/recurrent-common.ts';

/**
 * `recurrent_backward_sequential` (shaders/backward/recurrent_backward_sequential.wgsl): one
 * invocation per (direction, sequence), its carries in the storage scratch buffer `scratch`; the
 * fallback for hidden sizes beyond a workgroup.
 */
export const recurrentBackwardSequential = defineKernel('recurrent_backward_sequential', recurrentSource(common, sequential), [
  'fwd',
  'weights',
  'lens',
  'dstate_in',
  'dg',
  'dstate_out',
  'dy',
  'scratch',
]);

/** Working-memory slots per (direction, sequence) and unit: dh, dc and the step's direct term. */
const BACKWARD_STATE_SLOTS = 3;

/** Bytes of the scratch binding for `pairs` (direction, sequence) pairs. */
export function backwardScratchBytes(H: number, pairs: number): number {
  return 4 * BACKWARD_STATE_SLOTS * H * pairs;
}
